//! The subset of Auth0's user-search query syntax (`q`, search engine v3) Sluice supports:
//! `field:value` or `field:"value"` terms joined by whitespace or `AND`, over `email`,
//! `user_id`, `username`, `connection` / `identities.connection`.

use crate::error::CoreError;
use crate::ports::UserFilter;

pub fn parse(q: &str) -> Result<UserFilter, CoreError> {
    let mut f = UserFilter::default();
    let mut rest = q.trim();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("AND ") {
            rest = r.trim_start();
            continue;
        }
        let (field, after) = rest.split_once(':').ok_or_else(|| {
            CoreError::bad_query(format!("Invalid query: expected field:value near '{rest}'"))
        })?;
        let field = field.trim();
        let (value, after) = if let Some(a) = after.strip_prefix('"') {
            let end = a
                .find('"')
                .ok_or_else(|| CoreError::bad_query("Invalid query: unterminated quote"))?;
            (a[..end].to_string(), &a[end + 1..])
        } else {
            let end = after.find(char::is_whitespace).unwrap_or(after.len());
            (after[..end].to_string(), &after[end..])
        };
        let slot = match field {
            "email" => &mut f.email,
            "user_id" => &mut f.user_id,
            "username" => &mut f.username,
            "connection" | "identities.connection" => &mut f.connection,
            other => {
                return Err(CoreError::bad_query(format!(
                    "Unsupported query field '{other}'; Sluice supports email, user_id, username, identities.connection"
                )));
            }
        };
        *slot = Some(value);
        rest = after.trim_start();
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_and_bare_terms_joined_by_and() {
        let f = parse(r#"email:"Alice@Example.com" AND identities.connection:db1"#).unwrap();
        assert_eq!(f.email.as_deref(), Some("Alice@Example.com"));
        assert_eq!(f.connection.as_deref(), Some("db1"));
    }

    #[test]
    fn unknown_field_is_a_clear_error() {
        assert!(parse("logins_count:3").is_err());
        assert!(parse("email:\"x").is_err());
        assert!(parse("justtext").is_err());
    }
}
