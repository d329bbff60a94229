//! Tenants at run time: [`TenantCtx`] (id, name, URLs, parsed signing keys) and the per-process
//! cache of them, routing a request's Host header to its tenant, and creating a tenant with its
//! current and next signing keys.

use crate::error::CoreError;
use crate::ids;
use crate::model::{KeyState, TenantRecord};
use crate::service::Core;
use sluice_crypto::keys::{JwkSet, SigningKey, VerifyingKey};
use std::sync::Arc;

/// How long (seconds) a loaded tenant is served from the per-process cache before it is read
/// again, so that a key rotation or revocation done on another node reaches this one.
///
/// Stale keys are safe for rotation: the key a rotation promotes was published as the next key
/// long before (it is in every node's JWKS and verifying keys), so tokens it signs verify on
/// every node at once; and the key it replaces stays published for 30 days, so tokens a node
/// still signs with it during this window verify everywhere too.
pub const TENANT_CACHE_SECONDS: i64 = 60;

/// A cached tenant and when it was loaded (clock seconds).
pub(crate) struct CachedTenant {
    ctx: Arc<TenantCtx>,
    loaded_at: i64,
}

impl CachedTenant {
    fn fresh(&self, now: i64) -> bool {
        // A clock that went backwards counts as stale too.
        (now - self.loaded_at).abs() < TENANT_CACHE_SECONDS
    }
}

/// A loaded tenant: everything a request needs, keys parsed once.
pub struct TenantCtx {
    pub id: String,
    pub name: String,
    /// `scheme://host[:port]` without a trailing slash.
    pub base_url: String,
    /// `base_url + "/"`, the `iss` of every token.
    pub issuer: String,
    /// `base_url + "/api/v2/"`.
    pub mgmt_audience: String,
    /// The current key: signs every token.
    pub signing: Arc<SigningKey>,
    /// The published keys (current, next, unexpired previous): a token signed by any verifies.
    pub verifying: Vec<VerifyingKey>,
    /// The published keys, current first.
    pub jwks: JwkSet,
}

impl std::fmt::Debug for TenantCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantCtx")
            .field("id", &self.id)
            .field("name", &self.name)
            .finish()
    }
}

/// A tenant name is one DNS label: lower-case letters, digits and inner dashes, 1–63 chars.
pub fn validate_tenant_name(name: &str) -> Result<(), CoreError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(CoreError::bad_request(format!(
            "Invalid tenant name '{name}': use 1-63 lower-case letters, digits and inner dashes"
        )))
    }
}

impl Core {
    /// Every tenant, in the store's order.
    pub async fn tenants_all(&self) -> Result<Vec<TenantRecord>, CoreError> {
        Ok(self.store.tenant_list().await?)
    }

    /// Whether the store answers (the readiness check).
    pub async fn ready(&self) -> Result<(), CoreError> {
        Ok(self.store.ping().await?)
    }

    /// The base URL of tenant `name`: the public URL for the default tenant, otherwise the same
    /// scheme and port at `name.<base_domain>`.
    pub fn tenant_base_url(&self, name: &str) -> String {
        let public = self.config.public_url.trim_end_matches('/').to_string();
        if name == self.config.default_tenant {
            return public;
        }
        match url::Url::parse(&public) {
            Ok(u) => {
                let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
                format!(
                    "{}://{}.{}{}",
                    u.scheme(),
                    name,
                    self.config.base_domain,
                    port
                )
            }
            Err(_) => public,
        }
    }

    /// Which tenant a Host header addresses: `NAME.<base_domain>` is tenant NAME (404 if there
    /// is none); any other host is the default tenant. Host names are case-insensitive and may
    /// end with the root's dot (`ACME.Example.COM.` is tenant `acme`).
    pub fn tenant_name_for_host(&self, host: Option<&str>) -> String {
        let Some(host) = host else {
            return self.config.default_tenant.clone();
        };
        let hostname = strip_port(host).trim_end_matches('.').to_ascii_lowercase();
        let base = self
            .config
            .base_domain
            .trim_end_matches('.')
            .to_ascii_lowercase();
        if !base.is_empty()
            && let Some(prefix) = hostname.strip_suffix(base.as_str())
            && let Some(label) = prefix.strip_suffix('.')
            && !label.is_empty()
            && !label.contains('.')
        {
            return label.to_string();
        }
        self.config.default_tenant.clone()
    }

    /// A loaded tenant: from the per-process cache while it is younger than
    /// [`TENANT_CACHE_SECONDS`], otherwise read again. One request at a time (re)loads tenants;
    /// meanwhile requests with a stale copy keep using it. If reading fails (the database is
    /// away), the stale copy is kept for another period.
    pub async fn tenant(&self, name: &str) -> Result<Arc<TenantCtx>, CoreError> {
        let stale = match self.tenant_cached(name).await {
            Some((ctx, true)) => return Ok(ctx),
            Some((ctx, false)) => Some(ctx),
            None => None,
        };
        let _loading = match (&stale, self.tenant_reload.try_lock()) {
            (_, Ok(guard)) => guard,
            (Some(stale), Err(_)) => return Ok(stale.clone()),
            (None, Err(_)) => self.tenant_reload.lock().await,
        };
        // Another request may have loaded it just before this one took the lock.
        if let Some((ctx, true)) = self.tenant_cached(name).await {
            return Ok(ctx);
        }
        match (self.tenant_load(name).await, stale) {
            (Ok(ctx), _) => Ok(ctx),
            (Err(e @ CoreError::NotFound { .. }), _) => {
                self.tenants.write().await.remove(name);
                Err(e)
            }
            (Err(e), Some(stale)) => {
                tracing::warn!(tenant = name, error = %e, "tenant reload failed; keeping the loaded keys");
                if let Some(c) = self.tenants.write().await.get_mut(name) {
                    c.loaded_at = self.now();
                }
                Ok(stale)
            }
            (Err(e), None) => Err(e),
        }
    }

    /// Reads tenant `name` again now, replacing the cached copy: after a key change, this node
    /// uses the new keys at once. Waits for a load in progress, so that an older read cannot
    /// replace this one.
    pub async fn tenant_refresh(&self, name: &str) -> Result<Arc<TenantCtx>, CoreError> {
        let _loading = self.tenant_reload.lock().await;
        self.tenant_load(name).await
    }

    /// Drops cached tenants — the one with this id, or all — so that the next request reads
    /// its keys again (another node rotated or revoked a key). Waits for a load in progress,
    /// so that a read made before the change cannot be cached after this.
    pub async fn tenant_forget(&self, tenant_id: Option<&str>) {
        let _loading = self.tenant_reload.lock().await;
        let mut cache = self.tenants.write().await;
        match tenant_id {
            Some(id) => cache.retain(|_, c| c.ctx.id != id),
            None => cache.clear(),
        }
    }

    /// The cached copy of tenant `name` and whether it is fresh.
    async fn tenant_cached(&self, name: &str) -> Option<(Arc<TenantCtx>, bool)> {
        let now = self.now();
        let cache = self.tenants.read().await;
        cache.get(name).map(|c| (c.ctx.clone(), c.fresh(now)))
    }

    /// Reads tenant `name` from the store (creating its next signing key if it has none) and
    /// caches it. The caller holds `tenant_reload`.
    async fn tenant_load(&self, name: &str) -> Result<Arc<TenantCtx>, CoreError> {
        let loaded_at = self.now();
        let record = self
            .store
            .tenant_fetch_by_name(name)
            .await?
            .ok_or_else(|| CoreError::NotFound {
                code: "inexistent_tenant",
                message: "Unknown tenant.".into(),
            })?;
        let ctx = Arc::new(self.tenant_ctx(&record).await?);
        self.tenants.write().await.insert(
            name.to_string(),
            CachedTenant {
                ctx: ctx.clone(),
                loaded_at,
            },
        );
        Ok(ctx)
    }

    /// The tenant a request's Host header addresses.
    pub async fn tenant_for_host(&self, host: Option<&str>) -> Result<Arc<TenantCtx>, CoreError> {
        let name = self.tenant_name_for_host(host);
        self.tenant(&name).await
    }

    async fn tenant_ctx(&self, record: &TenantRecord) -> Result<TenantCtx, CoreError> {
        let keys = self.published_keys(&record.id).await?;
        let base_url = self.tenant_base_url(&record.name);
        Ok(TenantCtx {
            id: record.id.clone(),
            name: record.name.clone(),
            issuer: format!("{base_url}/"),
            mgmt_audience: format!("{base_url}/api/v2/"),
            base_url,
            signing: keys.signing,
            verifying: keys.verifying,
            jwks: keys.jwks,
        })
    }

    /// Creates tenant `name` with fresh RS256 current and next signing keys unless it exists;
    /// returns whether it was created. Safe to race with another node doing the same.
    pub async fn tenant_ensure(&self, name: &str) -> Result<bool, CoreError> {
        validate_tenant_name(name)?;
        if self.store.tenant_fetch_by_name(name).await?.is_some() {
            return Ok(false);
        }
        let record = TenantRecord {
            id: ids::tenant_id(),
            name: name.to_string(),
            created_at: self.now(),
            settings: serde_json::json!({}),
        };
        match self.store.tenant_insert(&record).await {
            Ok(()) => {}
            Err(crate::ports::StoreError::Conflict(_)) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        for state in [KeyState::Current, KeyState::Next] {
            let key = self.key_new(&record.id, state).await?;
            self.store.key_insert(&key).await?;
        }
        Ok(true)
    }
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split(']').next().map(|h| &h[1..]).unwrap_or(host);
    }
    match host.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_names_are_dns_labels() {
        assert!(validate_tenant_name("acme").is_ok());
        assert!(validate_tenant_name("acme-2").is_ok());
        for bad in ["", "-acme", "acme-", "Acme", "a.b", "a_b", &"x".repeat(64)] {
            assert!(validate_tenant_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cached_tenants_go_stale_after_a_minute_or_when_the_clock_goes_back() {
        let key = SigningKey::generate("k".into()).unwrap();
        let cached = CachedTenant {
            ctx: Arc::new(TenantCtx {
                id: "t".into(),
                name: "t".into(),
                base_url: "http://x".into(),
                issuer: "http://x/".into(),
                mgmt_audience: "http://x/api/v2/".into(),
                verifying: vec![key.verifying_key()],
                jwks: JwkSet {
                    keys: vec![key.jwk()],
                },
                signing: Arc::new(key),
            }),
            loaded_at: 1_000,
        };
        assert!(cached.fresh(1_000));
        assert!(cached.fresh(1_000 + TENANT_CACHE_SECONDS - 1));
        assert!(!cached.fresh(1_000 + TENANT_CACHE_SECONDS));
        assert!(cached.fresh(1_000 - TENANT_CACHE_SECONDS + 1));
        assert!(!cached.fresh(1_000 - TENANT_CACHE_SECONDS));
    }

    #[test]
    fn strip_port_handles_ipv6_and_names() {
        assert_eq!(strip_port("acme.localhost:3000"), "acme.localhost");
        assert_eq!(strip_port("[::1]:3000"), "::1");
        assert_eq!(strip_port("example.com"), "example.com");
    }
}
