//! A database connection as the domain reads it: [`DbSettings`], parsed in one place from the
//! stored document (`sluice_types::Connection`, the Management API's wire shape) with one set of
//! defaults — where its users live ([`StoreMode`]), its password policy, username rules,
//! signup, brute-force protection, script context, and how a script's profile updates root
//! attributes. Flows and pages ask these settings, never the raw options.

use crate::flows::profile::RootAttributes;
use crate::password_policy::PasswordPolicy;
use crate::ports::ScriptKind;
use sluice_types::{Connection, ConnectionOptions};

/// Where a database connection's users live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    /// In Sluice's own store; no script runs.
    Local,
    /// In the customer's store: every operation goes through the action scripts.
    Legacy,
    /// Trickle migration: an unknown user is authenticated by the `login` script once and then
    /// lives in Sluice's store.
    Import,
}

impl StoreMode {
    pub fn of(c: &Connection) -> StoreMode {
        StoreMode::of_options(c.body.options.as_ref())
    }

    /// The mode that connection options set (e.g. before they are saved).
    pub fn of_options(o: Option<&ConnectionOptions>) -> StoreMode {
        let custom = o
            .and_then(|o| o.enabled_database_customization)
            .unwrap_or(false);
        let import = o.and_then(|o| o.import_mode).unwrap_or(false);
        match (custom, import) {
            (false, _) => StoreMode::Local,
            (true, false) => StoreMode::Legacy,
            (true, true) => StoreMode::Import,
        }
    }

    /// Whether the connection has action scripts ("use my own database").
    pub fn scripted(self) -> bool {
        self != StoreMode::Local
    }
}

/// A database connection's settings, with Auth0's defaults for what its options leave out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbSettings {
    pub name: String,
    pub mode: StoreMode,
    pub password_policy: PasswordPolicy,
    /// Users have a username besides their email (`requires_username`).
    pub requires_username: bool,
    /// Username length bounds (`validation.username.min`/`max`; Auth0: 1 and 15).
    pub username_min: usize,
    pub username_max: usize,
    /// Public signup is allowed (not `disable_signup`).
    pub signup_allowed: bool,
    /// Brute-force protection (default on).
    pub brute_force_protection: bool,
    /// Scripts get a `context` argument (`enable_script_context`).
    pub script_context: bool,
    /// How a login script's profile updates the local user's root attributes.
    pub root_attributes: RootAttributes,
}

impl DbSettings {
    pub fn of(c: &Connection) -> DbSettings {
        let o = c.body.options.as_ref();
        let length = |bound: &str, default: usize| {
            o.and_then(|o| o.validation.as_ref())
                .and_then(|v| v.get("username")?.get(bound)?.as_u64())
                .map_or(default, |n| n as usize)
        };
        DbSettings {
            name: c.body.name.clone().unwrap_or_default(),
            mode: StoreMode::of(c),
            password_policy: PasswordPolicy::from_option(
                o.and_then(|o| o.password_policy.as_deref()),
            ),
            requires_username: o.and_then(|o| o.requires_username).unwrap_or(false),
            username_min: length("min", 1),
            username_max: length("max", 15),
            signup_allowed: !o.and_then(|o| o.disable_signup).unwrap_or(false),
            brute_force_protection: o.and_then(|o| o.brute_force_protection).unwrap_or(true),
            script_context: o.and_then(|o| o.enable_script_context).unwrap_or(false),
            root_attributes: RootAttributes::from_option(
                o.and_then(|o| o.set_user_root_attributes.as_deref()),
            ),
        }
    }
}

/// The connection's action script of this kind, if it has one.
pub fn script(c: &Connection, kind: ScriptKind) -> Option<&str> {
    c.body
        .options
        .as_ref()
        .and_then(|o| o.custom_scripts.as_ref())
        .and_then(|s| s.get(kind.key()))
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn conn(options: serde_json::Value) -> Connection {
        serde_json::from_value(
            json!({"id": "con_1", "name": "db", "strategy": "auth0", "options": options}),
        )
        .unwrap()
    }

    #[test]
    fn defaults_are_auth0s() {
        let s = DbSettings::of(&conn(json!({})));
        assert_eq!(s.mode, StoreMode::Local);
        assert_eq!(s.password_policy, PasswordPolicy::None);
        assert!(!s.requires_username && s.signup_allowed && s.brute_force_protection);
        assert_eq!((s.username_min, s.username_max), (1, 15));
        assert_eq!(s.root_attributes, RootAttributes::OnEachLogin);
    }

    #[test]
    fn options_are_read_once_into_the_settings() {
        let c = conn(json!({
            "enabledDatabaseCustomization": true, "import_mode": true, "passwordPolicy": "fair",
            "requires_username": true, "validation": {"username": {"min": 3, "max": 20}},
            "disable_signup": true, "brute_force_protection": false,
            "set_user_root_attributes": "never_on_login",
            "customScripts": {"login": "function login() {}"}
        }));
        let s = DbSettings::of(&c);
        assert_eq!(s.mode, StoreMode::Import);
        assert!(s.mode.scripted());
        assert_eq!(s.password_policy, PasswordPolicy::Fair);
        assert!(s.requires_username && !s.signup_allowed && !s.brute_force_protection);
        assert_eq!((s.username_min, s.username_max), (3, 20));
        assert_eq!(s.root_attributes, RootAttributes::NeverOnLogin);
        assert_eq!(script(&c, ScriptKind::Login), Some("function login() {}"));
        assert_eq!(script(&c, ScriptKind::GetUser), None);
        let legacy = conn(json!({"enabledDatabaseCustomization": true}));
        assert_eq!(StoreMode::of(&legacy), StoreMode::Legacy);
    }
}
