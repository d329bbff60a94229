//! [`Core`]: the domain services bundle handed to the web layer. Holds the ports, the
//! configuration and the per-process cache of loaded tenants (no global state: one `Core` per
//! server, passed explicitly).

use crate::extend::Extensibility;
use crate::logs::TenantLog;
use crate::ports::{Clock, FreshKeys, KeySource, Mailer, ScriptChecker, ScriptRunner, Store};
use crate::tenant::CachedTenant;
use sluice_crypto::password::{Argon2Params, PasswordHasher};
use sluice_crypto::secretbox::SecretBox;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{Mutex, RwLock};

/// Configuration the domain needs, validated by the binary before it gets here.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// The public base URL of the default tenant, without a trailing slash
    /// (`http://127.0.0.1:3000`). Issuers and audiences are derived from it.
    pub public_url: String,
    /// Tenants other than the default are served at `NAME.<base_domain>`.
    pub base_domain: String,
    pub default_tenant: String,
    pub argon2: Argon2Params,
    /// When connections' circuit breakers open, and for how long (`crate::breaker`).
    pub breaker: crate::breaker::BreakerPolicy,
    /// Script runs per second one connection may make on this node (0: no limit).
    pub legacy_calls_per_second: u32,
}

pub struct Core {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub sealer: SecretBox,
    pub hasher: PasswordHasher,
    pub scripts: Arc<dyn ScriptChecker>,
    /// Runs action scripts (the flows of custom database connections).
    pub runner: Arc<dyn ScriptRunner>,
    pub mailer: Arc<dyn Mailer>,
    /// Writes tenant log events.
    pub(crate) log: TenantLog,
    /// Rules, Hooks and Actions: their Management API operations and their runs.
    pub extend: Arc<Extensibility>,
    /// Where new signing keys come from ([`FreshKeys`] unless [`Core::with_key_source`]).
    pub(crate) keys: Arc<dyn KeySource>,
    pub config: CoreConfig,
    /// A hash of no one's password: unknown users are checked against it so that they take
    /// as long as known ones.
    pub(crate) dummy_hash: String,
    /// One slot per core for argon2id computations: each needs its memory cost (19 MiB by
    /// default), so unbounded concurrency only queues work on the cores and multiplies memory.
    pub(crate) hash_slots: std::sync::Arc<tokio::sync::Semaphore>,
    pub(crate) tenants: RwLock<HashMap<String, CachedTenant>>,
    /// Held while a tenant is read into the cache: one load at a time, while requests holding
    /// a stale copy keep using it.
    pub(crate) tenant_reload: Mutex<()>,
    /// This node's circuit breakers of connections' user stores.
    pub(crate) breakers: crate::breaker::Breakers,
    /// This node's rate limits of connections' calls to their user stores.
    pub(crate) rate_limits: crate::breaker::RateLimits,
}

impl Core {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        sealer: SecretBox,
        scripts: Arc<dyn ScriptChecker>,
        runner: Arc<dyn ScriptRunner>,
        mailer: Arc<dyn Mailer>,
        config: CoreConfig,
    ) -> Result<Self, crate::CoreError> {
        let hasher = PasswordHasher::new(config.argon2)?;
        let dummy_hash = hasher.hash(&sluice_crypto::random::random_token(16))?;
        hasher.release_scratch();
        let breakers = crate::breaker::Breakers::new(config.breaker);
        let rate_limits = crate::breaker::RateLimits::new(config.legacy_calls_per_second);
        let log = TenantLog::new(store.clone(), clock.clone());
        let extend = Arc::new(Extensibility::new(
            store.clone(),
            clock.clone(),
            sealer.clone(),
            scripts.clone(),
            runner.clone(),
            log.clone(),
        ));
        Ok(Core {
            store,
            clock,
            sealer,
            hasher,
            scripts,
            runner,
            mailer,
            log,
            extend,
            keys: Arc::new(FreshKeys),
            config,
            dummy_hash,
            hash_slots: std::sync::Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(2),
            )),
            tenants: RwLock::new(HashMap::new()),
            tenant_reload: Mutex::new(()),
            breakers,
            rate_limits,
        })
    }

    /// The same core taking its new signing keys from `keys`.
    pub fn with_key_source(mut self, keys: Arc<dyn KeySource>) -> Self {
        self.keys = keys;
        self
    }

    /// Runs an argon2id computation on the blocking pool, at most one per core at a time.
    pub(crate) async fn with_hash_slot<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, crate::CoreError> {
        let _slot = self
            .hash_slots
            .acquire()
            .await
            .map_err(|e| crate::CoreError::internal(format!("hash slots: {e}")))?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| crate::CoreError::internal(format!("hash task: {e}")))
    }

    /// Unix seconds from the clock port.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// RFC 3339 timestamp with milliseconds, as Auth0 writes `created_at`.
    pub fn now_rfc3339(&self) -> String {
        rfc3339(self.now())
    }
}

/// Formats unix seconds as `2026-11-27T09:00:00.000Z`.
pub fn rfc3339(unix: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].000Z");
    t.format(&f).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_formats_utc_with_millis() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(super::rfc3339(1_700_000_000), "2023-11-14T22:13:20.000Z");
    }
}
