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

/// A connection's password strength level (`options.passwordPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordPolicy {
    None,
    Low,
    Fair,
    Good,
    Excellent,
}

impl PasswordPolicy {
    /// Every level, by its name in the Management API.
    pub const NAMES: &'static [&'static str] = &["none", "low", "fair", "good", "excellent"];

    /// The level with this name; `None` for a name that is none of [`Self::NAMES`].
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "none" => PasswordPolicy::None,
            "low" => PasswordPolicy::Low,
            "fair" => PasswordPolicy::Fair,
            "good" => PasswordPolicy::Good,
            "excellent" => PasswordPolicy::Excellent,
            _ => return Option::None,
        })
    }

    /// The level a connection's option names; a connection without one has no policy (`none`,
    /// as in Auth0; new connections are given `good` when created).
    pub fn from_option(name: Option<&str>) -> Self {
        name.and_then(Self::parse).unwrap_or(PasswordPolicy::None)
    }

    /// Accepts a password of this level, or says why not (Auth0's `PasswordStrengthError`).
    pub fn check(self, password: &str) -> Result<(), CoreError> {
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
        let ok = match self {
            PasswordPolicy::None => len >= 1,
            PasswordPolicy::Low => len >= 6,
            PasswordPolicy::Fair => len >= 8 && lower && upper && digit,
            PasswordPolicy::Good => len >= 8 && kinds >= 3,
            PasswordPolicy::Excellent => len >= 10 && kinds >= 3 && !has_triple(password),
        };
        if ok {
            Ok(())
        } else {
            Err(CoreError::PasswordTooWeak)
        }
    }

    /// The rule of this level in words, for the signup and reset pages.
    pub fn describe(self) -> &'static str {
        match self {
            PasswordPolicy::None => "At least 1 character.",
            PasswordPolicy::Low => "At least 6 characters.",
            PasswordPolicy::Fair => {
                "At least 8 characters, with lower-case letters, upper-case letters and digits."
            }
            PasswordPolicy::Good => {
                "At least 8 characters, with 3 of: lower-case letters, upper-case letters, digits, special characters."
            }
            PasswordPolicy::Excellent => {
                "At least 10 characters, with 3 of: lower-case letters, upper-case letters, digits, special characters; no character more than twice in a row."
            }
        }
    }
}

fn has_triple(s: &str) -> bool {
    let c: Vec<char> = s.chars().collect();
    c.windows(3).any(|w| w[0] == w[1] && w[1] == w[2])
}

#[cfg(test)]
mod tests {
    use super::PasswordPolicy;

    fn check(level: &str, password: &str) -> Result<(), crate::CoreError> {
        PasswordPolicy::parse(level).unwrap().check(password)
    }

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

    #[test]
    fn a_connection_without_a_policy_has_none_and_names_round_trip() {
        assert_eq!(PasswordPolicy::from_option(None), PasswordPolicy::None);
        assert_eq!(
            PasswordPolicy::from_option(Some("bogus")),
            PasswordPolicy::None
        );
        for name in PasswordPolicy::NAMES {
            assert!(PasswordPolicy::parse(name).is_some(), "{name}");
        }
    }
}
