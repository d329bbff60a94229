//! Stored records: what the store ports read and write. Management resources are stored as their
//! Auth0 JSON shape ([`Doc`]), users as [`UserRecord`] with indexed lookup keys beside the body.

use crate::error::CoreError;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sluice_types::User;

#[derive(Debug, Clone, PartialEq)]
pub struct TenantRecord {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    /// Tenant settings (friendly name, logo, colours, ...), a JSON object.
    pub settings: serde_json::Value,
}

/// A tenant signing key; the PKCS#8 DER is sealed with the encryption key.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRecord {
    pub tenant_id: String,
    pub kid: String,
    pub sealed_pkcs8: String,
    pub created_at: i64,
    pub state: KeyState,
    /// When the key started signing (unix seconds).
    pub current_since: Option<i64>,
    /// When the key stopped signing (unix seconds).
    pub current_until: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Where a signing key is in its life: `Next` (published, not yet signing) → `Current` (signs)
/// → `Previous` (published until its tokens expire) → optionally `Revoked` (gone at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Next,
    Current,
    Previous,
    Revoked,
}

impl KeyState {
    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Next => "next",
            KeyState::Current => "current",
            KeyState::Previous => "previous",
            KeyState::Revoked => "revoked",
        }
    }

    /// Parses a stored value.
    pub fn parse(s: &str) -> Option<KeyState> {
        Some(match s {
            "next" => KeyState::Next,
            "current" => KeyState::Current,
            "previous" => KeyState::Previous,
            "revoked" => KeyState::Revoked,
            _ => return None,
        })
    }
}

/// The kinds of Management API resources kept as documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocKind {
    Client,
    Connection,
    ResourceServer,
    ClientGrant,
    /// One-time password-reset tickets (keyed by the SHA-256 of the token).
    Ticket,
    /// Rules (keyed by name).
    Rule,
    /// Rules configuration values, sealed (keyed by the configuration key).
    RulesConfig,
    /// Hooks (keyed by name).
    Hook,
    /// Actions (keyed by name).
    Action,
    /// The ordered action bindings of one trigger (keyed by the trigger id).
    TriggerBindings,
}

impl DocKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Client => "client",
            DocKind::Connection => "connection",
            DocKind::ResourceServer => "resource_server",
            DocKind::ClientGrant => "client_grant",
            DocKind::Ticket => "ticket",
            DocKind::Rule => "rule",
            DocKind::RulesConfig => "rules_config",
            DocKind::Hook => "hook",
            DocKind::Action => "action",
            DocKind::TriggerBindings => "trigger_bindings",
        }
    }
    /// The noun used in conflict messages.
    pub fn noun(self) -> &'static str {
        match self {
            DocKind::Client => "client",
            DocKind::Connection => "connection",
            DocKind::ResourceServer => "resource server",
            DocKind::ClientGrant => "client grant",
            DocKind::Ticket => "ticket",
            DocKind::Rule => "rule",
            DocKind::RulesConfig => "rules config",
            DocKind::Hook => "hook",
            DocKind::Action => "action",
            DocKind::TriggerBindings => "trigger bindings",
        }
    }
}

/// One stored resource: `key` is unique per tenant and kind (a connection's name, an API's
/// identifier, a grant's client+audience); `ref_id` is a secondary lookup (a grant's client).
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    pub id: String,
    pub key: String,
    pub ref_id: Option<String>,
    pub body: serde_json::Value,
    pub created_at: i64,
    pub updated_at: i64,
}

/// How a user came to be in Sluice's store (migration bookkeeping).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UserOrigin {
    /// Created here (signup or Management API) in a Sluice-managed connection.
    Local,
    /// Migrated from a custom database in import mode.
    Migrated { at: String, connection: String },
    /// A profile cached from a legacy custom database (no password kept).
    LegacyCached,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    pub tenant_id: String,
    /// The profile as returned by the Management API (`user_id` is the primary key).
    pub profile: User,
    pub connection: String,
    /// Lower-cased email, the unique lookup key within a connection.
    pub email_key: Option<String>,
    /// Lower-cased username, unique within a connection.
    pub username_key: Option<String>,
    /// argon2id PHC string; never leaves the core.
    pub password_hash: Option<String>,
    pub origin: UserOrigin,
    /// Bumped by every whole-record write; a write made from an older version is refused
    /// (`StoreError::Stale`), so that no concurrent change is silently lost. 0 for a new record.
    pub version: i64,
}

/// Parses a stored document body; a body that does not parse is corrupt data (internal error).
pub fn from_body<T: DeserializeOwned>(body: serde_json::Value) -> Result<T, CoreError> {
    serde_json::from_value(body).map_err(|e| CoreError::internal(format!("stored document: {e}")))
}

/// Serialises a value as a document body.
pub fn to_body<T: Serialize>(value: &T) -> Result<serde_json::Value, CoreError> {
    serde_json::to_value(value).map_err(|e| CoreError::internal(format!("document encoding: {e}")))
}

/// A page holding every document of a kind (the lists read whole are small: a tenant's
/// connections, clients, rules, hooks, actions).
pub(crate) const ALL: crate::ports::Page = crate::ports::Page {
    offset: 0,
    limit: 10_000,
};

/// Every document of `kind` in tenant `t`, decoded.
pub(crate) async fn docs_all<T: serde::de::DeserializeOwned>(
    store: &dyn crate::ports::Store,
    t: &crate::tenant::TenantCtx,
    kind: DocKind,
) -> Result<Vec<T>, crate::error::CoreError> {
    let (docs, _) = store.doc_list(&t.id, kind, None, ALL).await?;
    docs.into_iter().map(|d| from_body(d.body)).collect()
}
