//! Tenants at run time: [`TenantCtx`] (id, name, URLs, parsed signing keys), routing a request's
//! Host header to its tenant, and creating a tenant with its first signing key.

use crate::error::CoreError;
use crate::ids;
use crate::model::{KeyRecord, TenantRecord};
use crate::service::Core;
use sluice_crypto::keys::{JwkSet, SigningKey, VerifyingKey};
use std::sync::Arc;

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
    pub signing: Arc<SigningKey>,
    pub verifying: Vec<VerifyingKey>,
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

fn key_aad(tenant_id: &str, kid: &str) -> Vec<u8> {
    format!("signing-key:{tenant_id}:{kid}").into_bytes()
}

impl Core {
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
    /// is none); any other host is the default tenant.
    pub fn tenant_name_for_host<'a>(&'a self, host: Option<&'a str>) -> &'a str {
        let Some(host) = host else {
            return &self.config.default_tenant;
        };
        let hostname = strip_port(host);
        let base = &self.config.base_domain;
        if !base.is_empty()
            && let Some(prefix) = hostname.strip_suffix(base.as_str())
            && let Some(label) = prefix.strip_suffix('.')
            && !label.is_empty()
            && !label.contains('.')
        {
            return label;
        }
        &self.config.default_tenant
    }

    /// Loads a tenant (cached after the first load).
    pub async fn tenant(&self, name: &str) -> Result<Arc<TenantCtx>, CoreError> {
        if let Some(t) = self.tenants.read().await.get(name) {
            return Ok(t.clone());
        }
        let record = self
            .store
            .tenant_fetch_by_name(name)
            .await?
            .ok_or_else(|| CoreError::NotFound {
                code: "inexistent_tenant",
                message: "Unknown tenant.".into(),
            })?;
        let ctx = Arc::new(self.tenant_ctx(&record).await?);
        self.tenants
            .write()
            .await
            .insert(name.to_string(), ctx.clone());
        Ok(ctx)
    }

    /// The tenant a request's Host header addresses.
    pub async fn tenant_for_host(&self, host: Option<&str>) -> Result<Arc<TenantCtx>, CoreError> {
        let name = self.tenant_name_for_host(host).to_string();
        self.tenant(&name).await
    }

    async fn tenant_ctx(&self, record: &TenantRecord) -> Result<TenantCtx, CoreError> {
        let keys = self.store.key_list(&record.id).await?;
        let mut signing = None;
        let mut verifying = Vec::new();
        let mut jwks = Vec::new();
        for k in keys {
            let der = self
                .sealer
                .open(&k.sealed_pkcs8, &key_aad(&record.id, &k.kid))
                .map_err(|e| {
                    CoreError::internal(format!("tenant key {} unreadable: {e}", k.kid))
                })?;
            let key = SigningKey::from_pkcs8(k.kid.clone(), &der)?;
            verifying.push(key.verifying_key());
            jwks.push(key.jwk());
            if k.state == "current" {
                signing = Some(Arc::new(key));
            }
        }
        let signing = signing.ok_or_else(|| {
            CoreError::internal(format!("tenant {} has no current key", record.name))
        })?;
        let base_url = self.tenant_base_url(&record.name);
        Ok(TenantCtx {
            id: record.id.clone(),
            name: record.name.clone(),
            issuer: format!("{base_url}/"),
            mgmt_audience: format!("{base_url}/api/v2/"),
            base_url,
            signing,
            verifying,
            jwks: JwkSet { keys: jwks },
        })
    }

    /// Creates tenant `name` with a fresh RS256 signing key unless it exists; returns whether
    /// it was created. Safe to race with another node doing the same.
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
        let kid = ids::key_id();
        let key = SigningKey::generate(kid.clone())?;
        let sealed = self
            .sealer
            .seal(&key.to_pkcs8(), &key_aad(&record.id, &kid));
        self.store
            .key_insert(&KeyRecord {
                tenant_id: record.id.clone(),
                kid,
                sealed_pkcs8: sealed,
                created_at: self.now(),
                state: "current".into(),
            })
            .await?;
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
    fn strip_port_handles_ipv6_and_names() {
        assert_eq!(strip_port("acme.localhost:3000"), "acme.localhost");
        assert_eq!(strip_port("[::1]:3000"), "::1");
        assert_eq!(strip_port("example.com"), "example.com");
    }
}
