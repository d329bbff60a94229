//! Validation shared by the Management API operations on rules, hooks and actions: names,
//! script sizes and syntax, secret names and values, and in-memory paging of the (small) lists.

use super::Extensibility;
use crate::error::CoreError;
use crate::paging::{Listed, PageQuery};

/// Auth0's pattern for rule and hook names (Sluice also accepts `_`, as Auth0's own examples do).
pub(crate) const NAME_PATTERN: &str = r"^[a-zA-Z0-9]([ \-a-zA-Z0-9]*[a-zA-Z0-9])?$";
pub(crate) const MAX_NAME: usize = 255;
/// The largest script or action code accepted.
pub(crate) const MAX_SCRIPT: usize = 100 * 1024;
pub(crate) const MAX_SECRET_NAME: usize = 128;
pub(crate) const MAX_SECRET_VALUE: usize = 16 * 1024;

/// An Auth0 "Payload validation error" about one property.
pub(crate) fn property_error(message: impl std::fmt::Display, property: &str) -> CoreError {
    CoreError::bad_request(format!(
        "Payload validation error: '{message}' on property {property}."
    ))
}

/// Checks a rule or hook name against [`NAME_PATTERN`].
pub(crate) fn check_name(name: &str, what: &str) -> Result<(), CoreError> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name.chars().all(|c| word(c) || c == ' ' || c == '-')
        && name.chars().next().is_some_and(word)
        && name.chars().last().is_some_and(word);
    if ok {
        Ok(())
    } else {
        Err(property_error(
            format!("String does not match pattern {NAME_PATTERN}: {name}"),
            &format!("name (Name of this {what})"),
        ))
    }
}

/// Checks that a script is present and not too large.
pub(crate) fn check_script_size(source: &str, property: &str) -> Result<(), CoreError> {
    if source.trim().is_empty() {
        return Err(property_error(
            "String is too short (0 chars), minimum 1",
            property,
        ));
    }
    if source.len() > MAX_SCRIPT {
        return Err(property_error(
            format!(
                "String is too long ({} chars), maximum {MAX_SCRIPT}",
                source.len()
            ),
            property,
        ));
    }
    Ok(())
}

/// Checks a secret (or configuration) name and value.
pub(crate) fn check_secret(name: &str, value: &str) -> Result<(), CoreError> {
    if name.is_empty()
        || name.len() > MAX_SECRET_NAME
        || name.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(CoreError::bad_request(format!(
            "Invalid secret name '{name}': 1-{MAX_SECRET_NAME} characters without spaces"
        )));
    }
    if value.len() > MAX_SECRET_VALUE {
        return Err(CoreError::bad_request(format!(
            "The value of secret '{name}' is longer than {MAX_SECRET_VALUE} bytes"
        )));
    }
    Ok(())
}

impl Extensibility {
    /// Compiles `source` as the script `script_name` (`rule`, `hook:<trigger>`,
    /// `action:<trigger>`) and reports a syntax error with its line.
    pub(crate) fn check_syntax(
        &self,
        property: &str,
        script_name: &str,
        source: &str,
    ) -> Result<(), CoreError> {
        self.scripts.check(script_name, source).map_err(|e| {
            let at = e.line.map(|l| format!(" (line {l})")).unwrap_or_default();
            CoreError::bad_request(format!("{property}: {}{at}", e.message))
        })
    }
}

/// One page of an in-memory list.
pub(crate) fn page_of<T>(items: Vec<T>, q: PageQuery) -> Result<Listed<T>, CoreError> {
    let page = q.to_page()?;
    let total = items.len() as i64;
    let items = items
        .into_iter()
        .skip(page.offset as usize)
        .take(page.limit as usize)
        .collect();
    Ok(Listed {
        items,
        start: page.offset,
        limit: page.limit,
        total,
        include_totals: q.include_totals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_auth0_pattern() {
        for ok in ["a", "my rule", "rule_1", "add-roles 2"] {
            assert!(check_name(ok, "rule").is_ok(), "{ok}");
        }
        for bad in ["", " a", "a ", "-a", "a!", "tab\there", &"x".repeat(256)] {
            assert!(check_name(bad, "rule").is_err(), "{bad}");
        }
        let Err(CoreError::BadRequest { message, .. }) = check_name("a!", "hook") else {
            panic!()
        };
        assert!(
            message.starts_with("Payload validation error: 'String does not match pattern")
                && message.ends_with("on property name (Name of this hook)."),
            "{message}"
        );
    }

    #[test]
    fn scripts_must_be_present_and_bounded() {
        assert!(check_script_size("function(){}", "script").is_ok());
        assert!(check_script_size("  ", "script").is_err());
        assert!(check_script_size(&"x".repeat(MAX_SCRIPT + 1), "script").is_err());
    }

    #[test]
    fn secrets_have_sane_names_and_bounded_values() {
        assert!(check_secret("API_KEY", "v").is_ok());
        assert!(check_secret("", "v").is_err());
        assert!(check_secret("a b", "v").is_err());
        assert!(check_secret("k", &"v".repeat(MAX_SECRET_VALUE + 1)).is_err());
    }

    #[test]
    fn in_memory_paging_counts_everything() {
        let q = PageQuery {
            page: Some(1),
            per_page: Some(2),
            include_totals: true,
            offset: None,
        };
        let l = page_of(vec![1, 2, 3, 4, 5], q).unwrap();
        assert_eq!(l.items, vec![3, 4]);
        assert_eq!((l.start, l.limit, l.total), (2, 2, 5));
    }
}
