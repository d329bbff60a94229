//! What Rules, Hooks and Actions hand back, read once at the script boundary into typed values.
//! Script output is untrusted data. Each reader takes the fields of the expected shape and
//! ignores anything else, as Auth0 does: a `deny` that is not an object denies nothing, and
//! metadata that is not an object sets nothing. The flows in [`super::run`] then work only with
//! these types.

use serde_json::Value;
use sluice_types::JsonMap;

/// `api.access.deny(...)` as an Action recorded it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Denial {
    pub reason: Option<String>,
    /// The error code a credentials-exchange Action asked for.
    pub code: Option<String>,
}

impl Denial {
    fn read(v: &Value) -> Option<Denial> {
        let d = v.as_object()?;
        Some(Denial {
            reason: d.get("reason").and_then(Value::as_str).map(str::to_string),
            code: d.get("code").and_then(Value::as_str).map(str::to_string),
        })
    }
}

fn object(v: &Value) -> Option<JsonMap> {
    v.as_object().cloned()
}

fn non_empty_object(v: &Value) -> Option<JsonMap> {
    v.as_object().filter(|m| !m.is_empty()).cloned()
}

/// Whether a flag a script set counts as set (anything but `null` and `false`).
fn is_set(v: &Value) -> bool {
    !matches!(v, Value::Null | Value::Bool(false))
}

/// A list of scopes as extensibility code writes it: an array of strings or one string.
pub(crate) fn scope_list(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::Array(a) => Some(
            a.iter()
                .filter_map(|x| x.as_str())
                .flat_map(|x| x.split_whitespace())
                .map(str::to_string)
                .collect(),
        ),
        Value::String(s) => Some(s.split_whitespace().map(str::to_string).collect()),
        _ => None,
    }
}

/// A Rule's `callback(null, user, context)`, with what `auth0.users.update*Metadata` persisted.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RuleResult {
    /// A feature the rule asked for that Sluice does not support (its description).
    pub unsupported: Option<&'static str>,
    /// The user as the rule left it, when it passed one back.
    pub user: Option<Value>,
    /// The context as the rule left it, when it passed one back.
    pub context: Option<Value>,
    pub persist_app_metadata: Option<JsonMap>,
    pub persist_user_metadata: Option<JsonMap>,
}

impl RuleResult {
    pub fn read(v: &Value) -> RuleResult {
        let unsupported = [
            (
                "multifactor",
                "multi-factor authentication (context.multifactor)",
            ),
            ("redirect", "a redirect (context.redirect)"),
        ]
        .into_iter()
        .find(|(field, _)| is_set(&v["context"][*field]))
        .map(|(_, what)| what);
        RuleResult {
            unsupported,
            user: v["user"].is_object().then(|| v["user"].clone()),
            context: v["context"].is_object().then(|| v["context"].clone()),
            persist_app_metadata: object(&v["persist"]["app_metadata"]),
            persist_user_metadata: object(&v["persist"]["user_metadata"]),
        }
    }
}

/// What a post-login Action asked for through its `api`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct PostLoginAction {
    pub deny: Option<Denial>,
    /// The first unsupported `api` feature the Action used.
    pub unsupported: Option<String>,
    pub scopes_added: Vec<String>,
    pub scopes_removed: Vec<String>,
    pub id_token_claims: Option<JsonMap>,
    pub access_token_claims: Option<JsonMap>,
    pub app_metadata: Option<JsonMap>,
    pub user_metadata: Option<JsonMap>,
}

impl PostLoginAction {
    pub fn read(v: &Value) -> PostLoginAction {
        PostLoginAction {
            deny: Denial::read(&v["deny"]),
            unsupported: v["unsupported"]
                .as_array()
                .and_then(|a| a.first())
                .map(|w| w.as_str().unwrap_or("an unsupported feature").to_string()),
            scopes_added: scope_list(&v["scopes_added"]).unwrap_or_default(),
            scopes_removed: scope_list(&v["scopes_removed"]).unwrap_or_default(),
            id_token_claims: object(&v["id_token"]),
            access_token_claims: object(&v["access_token"]),
            app_metadata: non_empty_object(&v["app_metadata"]),
            user_metadata: non_empty_object(&v["user_metadata"]),
        }
    }
}

/// A credentials-exchange Hook's answer: claims for the access token, and perhaps its scope.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct CredentialsHook {
    pub claims: JsonMap,
    /// The scope the hook set (an array of scopes or one space-separated string).
    pub scope: Option<Vec<String>>,
}

impl CredentialsHook {
    pub fn read(v: &Value) -> Option<CredentialsHook> {
        let mut claims = v.as_object()?.clone();
        let scope = claims.remove("scope").map(|s| match s {
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            Value::String(s) => s.split_whitespace().map(str::to_string).collect(),
            _ => Vec::new(),
        });
        Some(CredentialsHook { claims, scope })
    }
}

/// What a credentials-exchange Action asked for.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct CredentialsAction {
    pub deny: Option<Denial>,
    pub access_token_claims: Option<JsonMap>,
}

impl CredentialsAction {
    pub fn read(v: &Value) -> CredentialsAction {
        CredentialsAction {
            deny: Denial::read(&v["deny"]),
            access_token_claims: object(&v["access_token"]),
        }
    }
}

/// Metadata a pre-user-registration Hook or Action gives the new user, or its denial.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Registration {
    pub deny: Option<Denial>,
    pub user_metadata: Option<JsonMap>,
    pub app_metadata: Option<JsonMap>,
}

impl Registration {
    /// A Hook answers `callback(null, {user: {user_metadata, app_metadata}})`.
    pub fn read_hook(v: &Value) -> Registration {
        Registration {
            deny: None,
            user_metadata: object(&v["user"]["user_metadata"]),
            app_metadata: object(&v["user"]["app_metadata"]),
        }
    }

    /// An Action records `api.user.set*Metadata` and `api.access.deny`.
    pub fn read_action(v: &Value) -> Registration {
        Registration {
            deny: Denial::read(&v["deny"]),
            user_metadata: object(&v["user_metadata"]),
            app_metadata: object(&v["app_metadata"]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ill_typed_fields_are_ignored_not_obeyed() {
        let a = PostLoginAction::read(&json!({
            "deny": "yes", "app_metadata": {}, "user_metadata": [1], "id_token": "x",
            "scopes_added": ["read:a write:b", 7], "unsupported": [],
        }));
        assert_eq!(a.deny, None);
        assert_eq!(
            (a.app_metadata, a.user_metadata, a.id_token_claims),
            (None, None, None)
        );
        assert_eq!(a.scopes_added, vec!["read:a", "write:b"]);
        assert_eq!(a.unsupported, None);
        let r = RuleResult::read(&json!({"user": "x", "context": {"redirect": {"url": "u"}}}));
        assert_eq!(r.user, None);
        assert_eq!(r.unsupported, Some("a redirect (context.redirect)"));
        assert_eq!(CredentialsHook::read(&json!("claims")), None);
    }

    #[test]
    fn well_typed_fields_are_read() {
        let d =
            CredentialsAction::read(&json!({"deny": {"reason": "no", "code": "invalid_scope"}}));
        assert_eq!(
            d.deny,
            Some(Denial {
                reason: Some("no".into()),
                code: Some("invalid_scope".into())
            })
        );
        let h = CredentialsHook::read(&json!({"https://x.test/a": 1, "scope": "read:a read:b"}))
            .unwrap();
        assert_eq!(h.scope, Some(vec!["read:a".into(), "read:b".into()]));
        assert!(h.claims.contains_key("https://x.test/a") && !h.claims.contains_key("scope"));
        let reg = Registration::read_hook(&json!({"user": {"app_metadata": {"plan": "gold"}}}));
        assert_eq!(reg.app_metadata.unwrap()["plan"], "gold");
    }
}
