//! Profiles returned by `login` and `get_user` scripts are untrusted data: this module checks
//! their types and sizes and normalises them the way Auth0 does — `user_id` or `id` (string or
//! number) becomes the identity's raw id and the root `user_id` `auth0|<id>`; `metadata` is
//! accepted as `app_metadata`; `access_token`/`refresh_token` move into the identity.

use crate::error::CoreError;
use serde_json::{Map, Value};
use sluice_types::{Identity, JsonMap, User};

const MAX_ID: usize = 255;
const MAX_STRING: usize = 1024;
const MAX_METADATA_BYTES: usize = 16 * 1024;

/// A validated profile from a script.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptProfile {
    /// The raw id, without `auth0|`.
    pub raw_id: String,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub username: Option<String>,
    pub name: Option<String>,
    pub nickname: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub picture: Option<String>,
    pub phone_number: Option<String>,
    pub user_metadata: Option<JsonMap>,
    pub app_metadata: Option<JsonMap>,
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
}

fn bad(msg: impl Into<String>) -> CoreError {
    CoreError::Internal {
        internal: format!("the script returned an invalid profile: {}", msg.into()),
    }
}

fn opt_string(o: &Map<String, Value>, key: &str) -> Result<Option<String>, CoreError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.len() <= MAX_STRING => Ok(Some(s.clone())),
        Some(Value::String(_)) => Err(bad(format!("{key} is longer than {MAX_STRING} bytes"))),
        Some(_) => Err(bad(format!("{key} must be a string"))),
    }
}

fn opt_object(o: &Map<String, Value>, key: &str) -> Result<Option<JsonMap>, CoreError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => {
            if serde_json::to_string(m)
                .map(|s| s.len())
                .unwrap_or(usize::MAX)
                > MAX_METADATA_BYTES
            {
                return Err(bad(format!(
                    "{key} is larger than {MAX_METADATA_BYTES} bytes"
                )));
            }
            Ok(Some(m.clone()))
        }
        Some(_) => Err(bad(format!("{key} must be an object"))),
    }
}

/// Validates a script's profile. `None` when the script returned nothing (null/undefined).
pub fn parse(v: &Value) -> Result<Option<ScriptProfile>, CoreError> {
    let o = match v {
        Value::Null => return Ok(None),
        Value::Object(o) => o,
        _ => return Err(bad("expected an object")),
    };
    let id = o
        .get("user_id")
        .filter(|v| !v.is_null())
        .or_else(|| o.get("id").filter(|v| !v.is_null()));
    let raw_id = match id {
        Some(Value::String(s)) => s.strip_prefix("auth0|").unwrap_or(s).to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err(bad("user_id must be a string or a number")),
        None => return Err(bad("user_id (or id) is required")),
    };
    if raw_id.is_empty() || raw_id.len() > MAX_ID {
        return Err(bad(format!("user_id must be 1 to {MAX_ID} characters")));
    }
    let email_verified = match o.get("email_verified") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) if s == "true" || s == "false" => Some(s == "true"),
        Some(_) => return Err(bad("email_verified must be a boolean")),
    };
    let app_metadata = match opt_object(o, "app_metadata")? {
        Some(m) => Some(m),
        None => opt_object(o, "metadata")?,
    };
    Ok(Some(ScriptProfile {
        raw_id,
        email: opt_string(o, "email")?.map(|e| e.to_lowercase()),
        email_verified,
        username: opt_string(o, "username")?,
        name: opt_string(o, "name")?,
        nickname: opt_string(o, "nickname")?,
        given_name: opt_string(o, "given_name")?,
        family_name: opt_string(o, "family_name")?,
        picture: opt_string(o, "picture")?,
        phone_number: opt_string(o, "phone_number")?,
        user_metadata: opt_object(o, "user_metadata")?,
        app_metadata,
        access_token: opt_string(o, "access_token")?,
        refresh_token: opt_string(o, "refresh_token")?,
    }))
}

/// Which root attributes a login refreshes (`options.set_user_root_attributes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootAttributes {
    OnEachLogin,
    OnFirstLogin,
    NeverOnLogin,
}

impl RootAttributes {
    pub fn from_option(v: Option<&str>) -> Self {
        match v {
            Some("on_first_login") => RootAttributes::OnFirstLogin,
            Some("never_on_login") => RootAttributes::NeverOnLogin,
            _ => RootAttributes::OnEachLogin,
        }
    }
}

impl ScriptProfile {
    /// A new local profile for this identity.
    pub fn to_user(&self, connection: &str, now: &str) -> User {
        let mut u = User {
            user_id: format!("auth0|{}", self.raw_id),
            email: None,
            email_verified: false,
            username: None,
            phone_number: None,
            phone_verified: None,
            name: None,
            nickname: None,
            given_name: None,
            family_name: None,
            picture: None,
            created_at: now.to_string(),
            updated_at: now.to_string(),
            identities: vec![Identity {
                connection: connection.to_string(),
                user_id: self.raw_id.clone(),
                provider: "auth0".into(),
                is_social: false,
                access_token: None,
                refresh_token: None,
                migration: None,
            }],
            user_metadata: JsonMap::new(),
            app_metadata: JsonMap::new(),
            last_login: None,
            last_ip: None,
            logins_count: 0,
            blocked: None,
            last_password_reset: None,
        };
        self.apply(&mut u, RootAttributes::OnEachLogin, true);
        u
    }

    /// Refreshes a cached profile from this one. Email, verification, username and tokens always
    /// come from the script; name/nickname/given_name/family_name/picture follow `mode`;
    /// metadata returned by the script is merged in.
    pub fn apply(&self, u: &mut User, mode: RootAttributes, first: bool) {
        u.email = self.email.clone().or(u.email.take());
        u.email_verified = self.email_verified.unwrap_or(u.email_verified);
        u.username = self.username.clone().or(u.username.take());
        u.phone_number = self.phone_number.clone().or(u.phone_number.take());
        let roots = match mode {
            RootAttributes::OnEachLogin => true,
            RootAttributes::OnFirstLogin => first,
            RootAttributes::NeverOnLogin => first,
        };
        if roots {
            u.name = self
                .name
                .clone()
                .or_else(|| self.email.clone())
                .or(u.name.take());
            u.nickname = self
                .nickname
                .clone()
                .or_else(|| {
                    self.email
                        .as_deref()
                        .and_then(|e| e.split('@').next())
                        .map(str::to_string)
                })
                .or(u.nickname.take());
            u.given_name = self.given_name.clone().or(u.given_name.take());
            u.family_name = self.family_name.clone().or(u.family_name.take());
            u.picture = self.picture.clone().or(u.picture.take());
        }
        if let Some(m) = &self.user_metadata {
            u.user_metadata.extend(m.clone());
        }
        if let Some(m) = &self.app_metadata {
            u.app_metadata.extend(m.clone());
        }
        if let Some(id) = u.identities.first_mut() {
            id.access_token = self.access_token.clone().or(id.access_token.take());
            id.refresh_token = self.refresh_token.clone().or(id.refresh_token.take());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn id_or_user_id_string_or_number_and_prefix() {
        assert_eq!(parse(&json!({"id": 42})).unwrap().unwrap().raw_id, "42");
        assert_eq!(
            parse(&json!({"user_id": "abc"})).unwrap().unwrap().raw_id,
            "abc"
        );
        assert_eq!(
            parse(&json!({"user_id": "auth0|abc"}))
                .unwrap()
                .unwrap()
                .raw_id,
            "abc"
        );
        let u = parse(&json!({"user_id": "abc", "email": "A@B.C"}))
            .unwrap()
            .unwrap()
            .to_user("db", "now");
        assert_eq!(u.user_id, "auth0|abc");
        assert_eq!(u.identities[0].user_id, "abc");
        assert_eq!(u.identities[0].connection, "db");
        assert_eq!(u.email.as_deref(), Some("a@b.c"));
    }

    #[test]
    fn null_is_no_profile_and_bad_shapes_are_rejected() {
        assert_eq!(parse(&Value::Null).unwrap(), None);
        for v in [
            json!("x"),
            json!({}),
            json!({"user_id": true}),
            json!({"user_id": ""}),
            json!({"user_id": "a", "email": 5}),
            json!({"user_id": "a", "app_metadata": []}),
            json!({"user_id": "x".repeat(256)}),
            json!({"user_id": "a", "user_metadata": {"big": "y".repeat(20_000)}}),
        ] {
            assert!(parse(&v).is_err(), "{v}");
        }
    }

    #[test]
    fn metadata_alias_and_tokens_move_into_the_identity() {
        let p = parse(&json!({"user_id": "a", "metadata": {"plan": "gold"}, "access_token": "at"}))
            .unwrap()
            .unwrap();
        let u = p.to_user("db", "now");
        assert_eq!(u.app_metadata["plan"], "gold");
        assert_eq!(u.identities[0].access_token.as_deref(), Some("at"));
    }

    #[test]
    fn root_attributes_follow_the_connection_option() {
        let first = parse(&json!({"user_id": "a", "name": "First"}))
            .unwrap()
            .unwrap();
        let mut u = first.to_user("db", "now");
        let later = parse(&json!({"user_id": "a", "name": "Later"}))
            .unwrap()
            .unwrap();
        later.apply(&mut u, RootAttributes::NeverOnLogin, false);
        assert_eq!(u.name.as_deref(), Some("First"));
        later.apply(&mut u, RootAttributes::OnEachLogin, false);
        assert_eq!(u.name.as_deref(), Some("Later"));
    }
}
