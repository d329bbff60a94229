//! The store ports: everything the core persists — tenants and their keys, Management API
//! documents, users, tenant logs, brute-force attempts, protocol artifacts — and the one
//! [`Store`] that bundles them. `sluice-store` implements them for SQLite and PostgreSQL.

use crate::model::{Doc, DocKind, KeyRecord, TenantRecord, UserRecord};
use async_trait::async_trait;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness constraint was violated; the string names what (e.g. "user").
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database could not be reached.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The database cannot take a value of the request (e.g. a NUL character in text).
    #[error("invalid value: {0}")]
    Invalid(String),
    /// A conditional write found the record changed since it was read.
    #[error("stale: {0} changed concurrently")]
    Stale(String),
    #[error("store error: {0}")]
    Other(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A page request: zero-based offset and a limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Page {
    pub offset: i64,
    pub limit: i64,
}

#[async_trait]
pub trait TenantStore: Send + Sync {
    async fn tenant_insert(&self, tenant: &TenantRecord) -> StoreResult<()>;
    async fn tenant_fetch_by_name(&self, name: &str) -> StoreResult<Option<TenantRecord>>;
    async fn tenant_list(&self) -> StoreResult<Vec<TenantRecord>>;
    /// Replaces a tenant's settings object; false when the tenant does not exist.
    async fn tenant_update_settings(
        &self,
        tenant_id: &str,
        settings: &serde_json::Value,
    ) -> StoreResult<bool>;
    async fn key_insert(&self, key: &KeyRecord) -> StoreResult<()>;
    /// Every key of a tenant, revoked ones included, oldest first.
    async fn key_list(&self, tenant_id: &str) -> StoreResult<Vec<KeyRecord>>;
    /// Rotates a tenant's keys in one transaction, serialised against other rotations of the
    /// same tenant: the oldest `next` key becomes `current` (since `now`), the current key
    /// `previous` (until `now`), and `new_next` is inserted. Returns the promoted kid, or `None`
    /// (nothing changed) when the tenant has no next key.
    async fn key_rotate(
        &self,
        tenant_id: &str,
        new_next: &KeyRecord,
        now: i64,
    ) -> StoreResult<Option<String>>;
    /// Marks a `previous` key revoked at `now`; false when `kid` is no previous key of the
    /// tenant (nothing changed).
    async fn key_revoke(&self, tenant_id: &str, kid: &str, now: i64) -> StoreResult<bool>;
}

/// Management API resources stored as JSON documents.
#[async_trait]
pub trait DocStore: Send + Sync {
    /// Fails with `Conflict` when the id or the key is taken.
    async fn doc_insert(&self, tenant_id: &str, kind: DocKind, doc: &Doc) -> StoreResult<()>;
    async fn doc_fetch(&self, tenant_id: &str, kind: DocKind, id: &str)
    -> StoreResult<Option<Doc>>;
    async fn doc_fetch_by_key(
        &self,
        tenant_id: &str,
        kind: DocKind,
        key: &str,
    ) -> StoreResult<Option<Doc>>;
    /// Documents ordered by creation, optionally only those whose `ref_id` equals `ref_id`;
    /// returns the page and the total count.
    async fn doc_list(
        &self,
        tenant_id: &str,
        kind: DocKind,
        ref_id: Option<&str>,
        page: Page,
    ) -> StoreResult<(Vec<Doc>, i64)>;
    /// Replaces body, key and ref of an existing document; false when it does not exist.
    async fn doc_update(&self, tenant_id: &str, kind: DocKind, doc: &Doc) -> StoreResult<bool>;
    async fn doc_delete(&self, tenant_id: &str, kind: DocKind, id: &str) -> StoreResult<bool>;
    /// Deletes every document of `kind` whose `ref_id` is `ref_id`; returns how many.
    async fn doc_delete_by_ref(
        &self,
        tenant_id: &str,
        kind: DocKind,
        ref_id: &str,
    ) -> StoreResult<u64>;
}

/// A user search: every given field must match (emails and usernames case-insensitively).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserFilter {
    pub email: Option<String>,
    pub connection: Option<String>,
    pub user_id: Option<String>,
    pub username: Option<String>,
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Fails with `Conflict("user")` when the id, or the email/username within the connection,
    /// is taken.
    async fn user_insert(&self, user: &UserRecord) -> StoreResult<()>;
    async fn user_fetch(&self, tenant_id: &str, user_id: &str) -> StoreResult<Option<UserRecord>>;
    /// Users ordered by creation; returns the page and the total count.
    async fn user_search(
        &self,
        tenant_id: &str,
        filter: &UserFilter,
        page: Page,
    ) -> StoreResult<(Vec<UserRecord>, i64)>;
    /// Replaces the record (same tenant and user_id) if it is still at `user.version`, and
    /// bumps the version (also in `user`). False when it does not exist; `Stale` when another
    /// write came first. Never writes what a login owns (see [`UserStore::user_record_login`]).
    async fn user_update(&self, user: &mut UserRecord) -> StoreResult<bool>;
    /// A successful login's own targeted write: one more login, its time and IP (kept when
    /// `ip` is None), only if the record is still at `user.version` (so neither its password nor
    /// its `blocked` flag changed since the login checked them). Returns the record as it now
    /// is, or None when it is gone or changed (read it again to know which).
    /// In the same transaction, when given, clears the brute-force failures of the login's
    /// (connection, identifier, IP) (as [`AttemptStore::attempt_reset`]).
    async fn user_record_login(
        &self,
        user: &UserRecord,
        at: &str,
        ip: Option<&str>,
        clear_attempts: Option<&AttemptKey>,
    ) -> StoreResult<Option<UserRecord>>;
    async fn user_delete(&self, tenant_id: &str, user_id: &str) -> StoreResult<bool>;
    /// The users of connection `connection` (its name) counted by how they came to be here.
    async fn user_origin_counts(
        &self,
        tenant_id: &str,
        connection: &str,
    ) -> StoreResult<OriginCounts>;
}

/// How many users of one connection are in Sluice's store, by origin
/// ([`UserOrigin`](crate::model::UserOrigin)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OriginCounts {
    /// Created here (signup or the Management API).
    pub local: i64,
    /// Migrated from the legacy store by their first login (import mode).
    pub migrated: i64,
    /// Profiles cached from the legacy store in legacy mode, without a password.
    pub legacy_cached: i64,
}

/// One tenant log event as stored: `body` is the Auth0-shaped event.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    pub tenant_id: String,
    /// Sortable by time (newest last).
    pub log_id: String,
    /// Unix milliseconds.
    pub date: i64,
    pub log_type: String,
    pub user_id: Option<String>,
    pub body: serde_json::Value,
}

/// A log search: every given field must match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogFilter {
    pub log_type: Option<String>,
    pub user_id: Option<String>,
}

#[async_trait]
pub trait LogStore: Send + Sync {
    async fn log_insert(&self, log: &LogRecord) -> StoreResult<()>;
    /// Newest first; returns the page and the total count.
    async fn log_search(
        &self,
        tenant_id: &str,
        filter: &LogFilter,
        page: Page,
    ) -> StoreResult<(Vec<LogRecord>, i64)>;
    async fn log_fetch(&self, tenant_id: &str, log_id: &str) -> StoreResult<Option<LogRecord>>;
    /// Deletes events older than `before` (unix ms), all tenants; returns how many.
    async fn log_prune(&self, before: i64) -> StoreResult<u64>;
}

/// What brute-force protection counts attempts of: (connection, lower-cased identifier, IP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptKey {
    pub connection: String,
    pub identifier: String,
    pub ip: String,
}

/// Brute-force protection: consecutive failed logins per (connection, user, IP).
#[async_trait]
pub trait AttemptStore: Send + Sync {
    /// Reserves one attempt for the pair before its password is checked, atomically across
    /// every node: counted as a failure until [`AttemptStore::attempt_reset`] (success) or
    /// [`AttemptStore::attempt_release`] (no verdict) says otherwise. False, reserving nothing,
    /// when `limit` attempts are already counted or the pair is blocked.
    async fn attempt_reserve(
        &self,
        tenant_id: &str,
        connection: &str,
        identifier: &str,
        ip: &str,
        limit: i64,
        now: i64,
    ) -> StoreResult<bool>;
    /// Gives back a reserved attempt that ended without a verdict on the password.
    async fn attempt_release(
        &self,
        tenant_id: &str,
        connection: &str,
        identifier: &str,
        ip: &str,
    ) -> StoreResult<()>;
    /// A reserved attempt failed: it stays counted, and the pair is blocked once `limit`
    /// failures are counted. Returns whether it is blocked.
    async fn attempt_fail(
        &self,
        tenant_id: &str,
        connection: &str,
        identifier: &str,
        ip: &str,
        limit: i64,
        now: i64,
    ) -> StoreResult<bool>;
    /// The pair's state: `None` without recorded failures, else whether it is blocked.
    async fn attempt_state(
        &self,
        tenant_id: &str,
        connection: &str,
        identifier: &str,
        ip: &str,
    ) -> StoreResult<Option<bool>>;
    /// Clears the failures of one pair (a successful login).
    async fn attempt_reset(
        &self,
        tenant_id: &str,
        connection: &str,
        identifier: &str,
        ip: &str,
    ) -> StoreResult<()>;
    /// The IPs blocked for an identifier (any connection).
    async fn attempt_blocks(
        &self,
        tenant_id: &str,
        identifier: &str,
    ) -> StoreResult<Vec<(String, String)>>;
    /// Unblocks every IP of an identifier; returns how many pairs were cleared.
    async fn attempt_unblock(&self, tenant_id: &str, identifier: &str) -> StoreResult<u64>;
}

/// What an [`Artifact`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactKind {
    /// An authorization code (one use).
    Code,
    /// A refresh token (one use when rotating).
    Refresh,
    /// A browser's single-sign-on session.
    Session,
    /// A login transaction: a validated `/authorize` request waiting for the user.
    Transaction,
}

impl ArtifactKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Code => "code",
            ArtifactKind::Refresh => "refresh",
            ArtifactKind::Session => "session",
            ArtifactKind::Transaction => "txn",
        }
    }
}

/// A short- or long-lived protocol artifact, stored under the SHA-256 of its secret (`key`) so
/// that a database read never yields a usable code, token or cookie.
#[derive(Debug, Clone, PartialEq)]
pub struct Artifact {
    pub tenant_id: String,
    pub kind: ArtifactKind,
    pub key: String,
    /// What was issued together (a code and the tokens it produced; a refresh-token chain):
    /// revoked as a whole when a one-use artifact is presented twice.
    pub family: String,
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    pub body: serde_json::Value,
    pub created_at: i64,
    pub expires_at: i64,
    /// When it was used (one-use artifacts); `None` while unused.
    pub used_at: Option<i64>,
}

/// The result of [`ArtifactStore::artifact_take`].
#[derive(Debug, Clone, PartialEq)]
pub enum Take {
    /// Unused and unexpired: now marked used by this caller (and no one else).
    Taken(Artifact),
    /// Presented before: a replay.
    AlreadyUsed(Artifact),
    /// Unknown or expired.
    Missing,
}

/// Authorization codes, refresh tokens, sessions and login transactions.
#[async_trait]
pub trait ArtifactStore: Send + Sync {
    async fn artifact_insert(&self, a: &Artifact) -> StoreResult<()>;
    /// An unexpired artifact (used or not).
    async fn artifact_fetch(
        &self,
        tenant_id: &str,
        kind: ArtifactKind,
        key: &str,
        now: i64,
    ) -> StoreResult<Option<Artifact>>;
    /// Marks an artifact used, atomically: of concurrent callers exactly one gets `Taken`.
    async fn artifact_take(
        &self,
        tenant_id: &str,
        kind: ArtifactKind,
        key: &str,
        now: i64,
    ) -> StoreResult<Take>;
    /// Replaces the body and expiry of an artifact; false when it does not exist.
    async fn artifact_update(&self, a: &Artifact) -> StoreResult<bool>;
    async fn artifact_delete(
        &self,
        tenant_id: &str,
        kind: ArtifactKind,
        key: &str,
    ) -> StoreResult<bool>;
    /// Inserts an artifact into its family unless the family was revoked (false then). Takes
    /// turns with [`ArtifactStore::artifact_revoke_family`] on the family, so a revocation
    /// either sees the new artifact (and deletes it) or makes this insert fail: no interleaving
    /// leaves a live artifact in a revoked family.
    async fn artifact_insert_in_family(&self, a: &Artifact) -> StoreResult<bool>;
    /// Revokes a family: marks it revoked (remembered at least until `remember_until`) and
    /// deletes its artifacts, in one transaction; returns how many were deleted.
    async fn artifact_revoke_family(
        &self,
        tenant_id: &str,
        family: &str,
        remember_until: i64,
    ) -> StoreResult<u64>;
    /// Whether a family was revoked (and is still remembered).
    async fn artifact_family_revoked(&self, tenant_id: &str, family: &str) -> StoreResult<bool>;
    /// Deletes every artifact of a user of `kind`s (e.g. refresh tokens of a deleted user).
    async fn artifact_delete_user(
        &self,
        tenant_id: &str,
        user_id: &str,
        kinds: &[ArtifactKind],
    ) -> StoreResult<u64>;
    /// Deletes artifacts and family records that expired before `now` (all tenants); returns
    /// how many artifacts.
    async fn artifact_prune(&self, now: i64) -> StoreResult<u64>;
}

/// Everything the core persists.
#[async_trait]
pub trait Store:
    TenantStore + DocStore + UserStore + LogStore + AttemptStore + ArtifactStore
{
    /// Cheap round trip to prove the database answers (readiness).
    async fn ping(&self) -> StoreResult<()>;
}
