//! Auth0's password strength levels for database connections.
//!
//! | level | rule |
//! |---|---|
//! | none | at least 1 character |
//! | low | at least 6 characters |
//! | fair | at least 8, with lower-case, upper-case and digits |
//! | good | at least 8, with 3 of: lower-case, upper-case, digits, special characters |
//! | excellent | at least 10, 3 of the 4 kinds, no character more than 2 times in a row |

use crate::error::CoreError;

/// Maximum password length accepted anywhere (Auth0: 72 bytes for bcrypt; argon2 has none, but
/// an unbounded input is a denial-of-service lever).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Why a password failed, as Auth0's `PasswordStrengthError` describes it.
pub fn check(policy: &str, password: &str) -> Result<(), CoreError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(CoreError::bad_request("Password is too long"));
    }
    let len = password.chars().count();
    let lower = password.chars().any(|c| c.is_lowercase());
    let upper = password.chars().any(|c| c.is_uppercase());
    let digit = password.chars().any(|c| c.is_ascii_digit());
    let special = password.chars().any(|c| !c.is_alphanumeric());
    let kinds = [lower, upper, digit, special]
        .iter()
        .filter(|b| **b)
        .count();
    let ok = match policy {
        "low" => len >= 6,
        "fair" => len >= 8 && lower && upper && digit,
        "good" => len >= 8 && kinds >= 3,
        "excellent" => len >= 10 && kinds >= 3 && !has_triple(password),
        _ => len >= 1,
    };
    if ok {
        Ok(())
    } else {
        Err(CoreError::PasswordTooWeak)
    }
}

/// The rule of a level in words, for the signup and reset pages.
pub fn describe(policy: &str) -> &'static str {
    match policy {
        "low" => "At least 6 characters.",
        "fair" => "At least 8 characters, with lower-case letters, upper-case letters and digits.",
        "good" => {
            "At least 8 characters, with 3 of: lower-case letters, upper-case letters, digits, special characters."
        }
        "excellent" => {
            "At least 10 characters, with 3 of: lower-case letters, upper-case letters, digits, special characters; no character more than twice in a row."
        }
        _ => "At least 1 character.",
    }
}

fn has_triple(s: &str) -> bool {
    let c: Vec<char> = s.chars().collect();
    c.windows(3).any(|w| w[0] == w[1] && w[1] == w[2])
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn each_level_accepts_and_rejects() {
        assert!(check("none", "a").is_ok());
        assert!(check("none", "").is_err());
        assert!(check("low", "abcdef").is_ok());
        assert!(check("low", "abcde").is_err());
        assert!(check("fair", "Abcdefg1").is_ok());
        assert!(check("fair", "abcdefg1").is_err());
        assert!(check("good", "abcdef1!").is_ok());
        assert!(check("good", "abcdefg1").is_err());
        assert!(check("excellent", "Abcdefgh1!").is_ok());
        assert!(check("excellent", "Aaaabcdefg1!").is_err());
        assert!(check("excellent", "Abcdefg1!").is_err());
    }

    #[test]
    fn overlong_password_is_rejected() {
        assert!(check("none", &"a".repeat(1025)).is_err());
    }
}
