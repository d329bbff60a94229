//! Ports: the traits the core needs from the outside world. `sluice-store` implements the
//! stores, `sluice-scripts` the script checker, the binary the clock.

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
    async fn key_insert(&self, key: &KeyRecord) -> StoreResult<()>;
    async fn key_list(&self, tenant_id: &str) -> StoreResult<Vec<KeyRecord>>;
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
    /// Replaces the record (same tenant and user_id); false when it does not exist.
    async fn user_update(&self, user: &UserRecord) -> StoreResult<bool>;
    async fn user_delete(&self, tenant_id: &str, user_id: &str) -> StoreResult<bool>;
}

/// Everything the core persists.
#[async_trait]
pub trait Store: TenantStore + DocStore + UserStore {
    /// Cheap round trip to prove the database answers (readiness).
    async fn ping(&self) -> StoreResult<()>;
}

/// The only source of "now" in the core (tests use a fixed clock).
pub trait Clock: Send + Sync {
    /// Unix time in seconds.
    fn now(&self) -> i64;
}

/// A syntax error found when a stored script was compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptSyntaxError {
    pub message: String,
    /// 1-based line in the script text, when the engine reports one.
    pub line: Option<u32>,
}

/// Compiles a script without running it (implemented by the script runtime).
pub trait ScriptChecker: Send + Sync {
    fn check(&self, script_name: &str, source: &str) -> Result<(), ScriptSyntaxError>;
}
