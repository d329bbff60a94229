//! Legacy user stores for the connection-flow tests: the customer's own database that a custom
//! database connection reaches through its seven action scripts, in PostgreSQL or MariaDB
//! ([`LegacyKind`]). Both kinds have the same `users` table, the same seven scripts (each in the
//! style of Auth0's template for that database) and a `script_runs` table that every script
//! counts its own run in first, so a test can assert exactly which scripts ran — and that none
//! did. The same scenario runs over both kinds (`tests/legacy_flows.rs`).
//!
//! Servers come from `SLUICE_TEST_PG_URL` and `SLUICE_TEST_MYSQL_URL` (defaults: the loopback
//! services of the development machine). Each store is a schema or database of its own, dropped
//! when the store is dropped.

pub mod mariadb;
pub mod postgres;

use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Which database the legacy store is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyKind {
    Postgres,
    MariaDb,
}

/// Every kind, for tests that run over all of them.
pub const LEGACY_KINDS: [LegacyKind; 2] = [LegacyKind::Postgres, LegacyKind::MariaDb];

/// One row of the legacy `users` table.
#[derive(Debug, Clone, PartialEq)]
pub struct LegacyUser {
    pub id: i64,
    pub email: String,
    pub nickname: Option<String>,
    pub email_verified: bool,
    pub password_hash: String,
}

impl LegacyUser {
    pub fn password_is(&self, password: &str) -> bool {
        sluice_scripts::modules::bcrypt::verify(password, &self.password_hash)
    }
}

/// `{script: runs}` from pairs, to compare with [`LegacyStore::runs`].
pub fn runs(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

enum Backend {
    Postgres(postgres::Store),
    MariaDb(mariadb::Store),
}

/// A legacy user store of one kind, dropped on drop.
pub struct LegacyStore {
    backend: Backend,
}

impl LegacyStore {
    /// A store holding `(email, password, nickname)` users (ids 1, 2, ... in that order).
    pub async fn new(kind: LegacyKind, users: &[(&str, &str, &str)]) -> LegacyStore {
        let backend = match kind {
            LegacyKind::Postgres => Backend::Postgres(postgres::Store::new(users).await),
            LegacyKind::MariaDb => Backend::MariaDb(mariadb::Store::new(users).await),
        };
        LegacyStore { backend }
    }

    pub fn kind(&self) -> LegacyKind {
        match self.backend {
            Backend::Postgres(_) => LegacyKind::Postgres,
            Backend::MariaDb(_) => LegacyKind::MariaDb,
        }
    }

    /// The id the scripts give the legacy user with row id `n` (`pg-1`, `my-1`): the
    /// identity's `user_id`; Sluice's is `auth0|` and this.
    pub fn id(&self, n: i64) -> String {
        match self.kind() {
            LegacyKind::Postgres => format!("pg-{n}"),
            LegacyKind::MariaDb => format!("my-{n}"),
        }
    }

    /// The `app_metadata.plan` the login script returns.
    pub fn plan(&self) -> &'static str {
        match self.kind() {
            LegacyKind::Postgres => "postgres",
            LegacyKind::MariaDb => "mariadb",
        }
    }

    /// The configuration the scripts read.
    pub fn configuration(&self) -> Value {
        match &self.backend {
            Backend::Postgres(s) => s.configuration(),
            Backend::MariaDb(s) => s.configuration(),
        }
    }

    /// The seven scripts by name.
    pub fn scripts(&self) -> Vec<(&'static str, &'static str)> {
        match self.kind() {
            LegacyKind::Postgres => postgres::scripts(),
            LegacyKind::MariaDb => mariadb::scripts(),
        }
    }

    /// Connection options: import mode gets `login` and `get_user` (all Auth0 allows there),
    /// legacy mode all seven scripts.
    pub fn options(&self, import: bool) -> Value {
        let scripts: serde_json::Map<String, Value> = self
            .scripts()
            .into_iter()
            .filter(|(name, _)| !import || ["login", "get_user"].contains(name))
            .map(|(name, source)| (name.to_string(), json!(source)))
            .collect();
        json!({"enabledDatabaseCustomization": true, "import_mode": import,
               "customScripts": scripts, "configuration": self.configuration(),
               "passwordPolicy": "none"})
    }

    /// How many times each script ran (scripts that never ran are absent).
    pub async fn runs(&self) -> BTreeMap<String, i64> {
        match &self.backend {
            Backend::Postgres(s) => s.runs().await,
            Backend::MariaDb(s) => s.runs().await,
        }
    }

    /// Forgets the runs so far.
    pub async fn reset_runs(&self) {
        match &self.backend {
            Backend::Postgres(s) => s.reset_runs().await,
            Backend::MariaDb(s) => s.reset_runs().await,
        }
    }

    /// The legacy row of `email`.
    pub async fn user(&self, email: &str) -> Option<LegacyUser> {
        match &self.backend {
            Backend::Postgres(s) => s.user(email).await,
            Backend::MariaDb(s) => s.user(email).await,
        }
    }

    /// How many users the store holds.
    pub async fn count(&self) -> i64 {
        match &self.backend {
            Backend::Postgres(s) => s.count().await,
            Backend::MariaDb(s) => s.count().await,
        }
    }
}

impl Drop for LegacyStore {
    fn drop(&mut self) {
        match &self.backend {
            Backend::Postgres(s) => s.drop_now(),
            Backend::MariaDb(s) => s.drop_now(),
        }
    }
}

/// A name no other store of any test process has.
fn random_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Runs `f` to completion on a runtime of its own thread (drops may happen inside a runtime).
fn off_runtime(f: impl std::future::Future<Output = ()> + Send + 'static) {
    let _ = std::thread::spawn(move || {
        if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            rt.block_on(f);
        }
    })
    .join();
}
