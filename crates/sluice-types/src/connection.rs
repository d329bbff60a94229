//! Management API `connections`: database connections and their custom-database options
//! (`enabledDatabaseCustomization`, `import_mode`, `customScripts`, `configuration`, ...).

use crate::JsonMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The action-script keys Auth0 stores in `options.customScripts`.
pub const SCRIPT_NAMES: [&str; 7] = [
    "login",
    "get_user",
    "create",
    "verify",
    "change_password",
    "delete",
    "change_email",
];

/// `options` of a database connection. Options Sluice acts on are typed; any other key is kept
/// as given (Auth0's options object is open-ended per strategy).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnectionOptions {
    /// "Use my own database".
    #[serde(
        rename = "enabledDatabaseCustomization",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub enabled_database_customization: Option<bool>,
    /// "Import users to Auth0" (trickle migration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_mode: Option<bool>,
    #[serde(
        rename = "customScripts",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub custom_scripts: Option<BTreeMap<String, String>>,
    /// Script configuration: plaintext on input; sealed (encrypted) tokens when stored/returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_script_context: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_username: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_signup: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brute_force_protection: Option<bool>,
    /// `none`, `low`, `fair`, `good`, `excellent`.
    #[serde(
        rename = "passwordPolicy",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub password_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_complexity_options: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_history: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_no_personal_info: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_dictionary: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<Value>,
    /// `on_each_login` (default), `on_first_login`, `never_on_login`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_user_root_attributes: Option<String>,
    #[serde(flatten)]
    pub other: JsonMap,
}

/// Writable fields of a connection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<ConnectionOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled_clients: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realms: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_domain_connection: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_as_button: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
}

/// A connection as the Management API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    pub id: String,
    #[serde(flatten)]
    pub body: ConnectionBody,
}
