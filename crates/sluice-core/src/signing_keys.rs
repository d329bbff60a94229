//! Signing keys and their rotation, Auth0's model: each tenant has a `current` key (signs), a
//! `next` key (already published in the JWKS, so relying parties have it before it signs) and
//! `previous` keys (published until the tokens they signed have expired, or until revoked).
//!
//! - Rotation (`POST /api/v2/keys/signing/rotate`): next → current, current → previous, and a
//!   new next key is generated — one store transaction.
//! - Revocation (`PUT /api/v2/keys/signing/{kid}/revoke`): only a previous key; it leaves the
//!   JWKS and no longer verifies.
//! - Publication ([`is_published`]): current and next keys always; a previous key for
//!   [`PREVIOUS_KEY_RETENTION`] after it stopped signing (the longest token lifetime), then it
//!   drops out of the JWKS (the row stays, and the Management API still lists it).
//!
//! Keys only ever move forward (next → current → previous → revoked), which keeps concurrent
//! changes from several nodes simple. A tenant loaded without a next key gets one
//! ([`Core::published_keys`]); two nodes racing to do that leave two next keys, which is
//! harmless: rotation promotes the oldest.

use crate::authz::Actor;
use crate::error::CoreError;
use crate::ids;
use crate::management::Management;
use crate::model::{KeyRecord, KeyState};
use crate::service::{Core, rfc3339};
use crate::tenant::TenantCtx;
use sluice_crypto::keys::{JwkSet, SigningKey, VerifyingKey};
use std::sync::Arc;

/// How long a previous key stays published after it stopped signing: 30 days, Auth0's (and
/// Sluice's) longest access-token lifetime; ID tokens live at most 10 hours and refresh tokens
/// are not JWTs.
pub const PREVIOUS_KEY_RETENTION: i64 = 30 * 86_400;

/// The keys a loaded tenant signs and verifies with.
pub(crate) struct PublishedKeys {
    pub signing: Arc<SigningKey>,
    /// Every published key: a token signed by any of them verifies.
    pub verifying: Vec<VerifyingKey>,
    /// The same keys as a JWK Set: current first (clients that take the first key get the one
    /// that signs), then next, then previous keys, newest first.
    pub jwks: JwkSet,
}

/// Whether a key is in the tenant's JWKS (and verifies tokens) at `now`.
pub fn is_published(k: &KeyRecord, now: i64) -> bool {
    match k.state {
        KeyState::Current | KeyState::Next => true,
        // A previous key without a recorded end (not written by Sluice) stays published.
        KeyState::Previous => k
            .current_until
            .is_none_or(|until| now < until.saturating_add(PREVIOUS_KEY_RETENTION)),
        KeyState::Revoked => false,
    }
}

/// Sort key of the JWKS order: current (latest first), next (oldest first, the one the next
/// rotation promotes), previous (most recently retired first).
fn publish_order(k: &KeyRecord) -> (u8, i64) {
    match k.state {
        KeyState::Current => (0, -k.current_since.unwrap_or(k.created_at)),
        KeyState::Next => (1, k.created_at),
        KeyState::Previous => (2, -k.current_until.unwrap_or(k.created_at)),
        KeyState::Revoked => (3, k.created_at),
    }
}

fn key_aad(tenant_id: &str, kid: &str) -> Vec<u8> {
    format!("signing-key:{tenant_id}:{kid}").into_bytes()
}

fn not_found() -> CoreError {
    CoreError::NotFound {
        code: "inexistent_signing_key",
        message: "Signing key not found".into(),
    }
}

/// Upper-case hex of `bytes`, pairs joined by `sep`.
fn hex(bytes: &[u8], sep: &str) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(sep)
}

impl Core {
    /// Generates and seals a new RSA key for `tenant_id` in `state` (off the async workers:
    /// RSA key generation takes a while).
    pub(crate) async fn key_new(
        &self,
        tenant_id: &str,
        state: KeyState,
    ) -> Result<KeyRecord, CoreError> {
        let kid = ids::key_id();
        let k = kid.clone();
        let keys = self.keys.clone();
        let key = tokio::task::spawn_blocking(move || keys.generate(k))
            .await
            .map_err(|e| CoreError::internal(format!("key generation task: {e}")))??;
        let now = self.now();
        Ok(KeyRecord {
            tenant_id: tenant_id.to_string(),
            sealed_pkcs8: self.sealer.seal(&key.to_pkcs8(), &key_aad(tenant_id, &kid)),
            kid,
            created_at: now,
            state,
            current_since: (state == KeyState::Current).then_some(now),
            current_until: None,
            revoked_at: None,
        })
    }

    /// Unseals and parses a stored key.
    fn key_open(&self, k: &KeyRecord) -> Result<SigningKey, CoreError> {
        let der = self
            .sealer
            .open(&k.sealed_pkcs8, &key_aad(&k.tenant_id, &k.kid))
            .map_err(|e| CoreError::internal(format!("tenant key {} unreadable: {e}", k.kid)))?;
        Ok(SigningKey::from_pkcs8(k.kid.clone(), &der)?)
    }

    /// The keys tenant `tenant_id` signs and verifies with now; creates its next key first if
    /// it has none (tenants created before rotation existed).
    pub(crate) async fn published_keys(&self, tenant_id: &str) -> Result<PublishedKeys, CoreError> {
        let mut records = self.store.key_list(tenant_id).await?;
        if !records.iter().any(|k| k.state == KeyState::Next) {
            let next = self.key_new(tenant_id, KeyState::Next).await?;
            self.store.key_insert(&next).await?;
            tracing::info!(tenant_id, kid = %next.kid, "created the next signing key");
            records.push(next);
        }
        let now = self.now();
        let mut published: Vec<&KeyRecord> =
            records.iter().filter(|k| is_published(k, now)).collect();
        published.sort_by_key(|k| publish_order(k));
        let mut signing = None;
        let mut verifying = Vec::with_capacity(published.len());
        let mut jwks = Vec::with_capacity(published.len());
        for k in published {
            let key = self.key_open(k)?;
            verifying.push(key.verifying_key());
            jwks.push(key.jwk());
            if k.state == KeyState::Current && signing.is_none() {
                signing = Some(Arc::new(key));
            }
        }
        let signing = signing.ok_or_else(|| {
            CoreError::internal(format!("tenant {tenant_id} has no current signing key"))
        })?;
        Ok(PublishedKeys {
            signing,
            verifying,
            jwks: JwkSet { keys: jwks },
        })
    }

    /// A stored key in the Management API's shape.
    fn key_view(&self, k: &KeyRecord) -> Result<sluice_types::SigningKey, CoreError> {
        let digest = self.key_open(k)?.jwk().thumbprint_sha256();
        Ok(sluice_types::SigningKey {
            kid: k.kid.clone(),
            cert: None,
            fingerprint: hex(&digest, ":"),
            thumbprint: hex(&digest, ""),
            current: k.state == KeyState::Current,
            next: k.state == KeyState::Next,
            previous: matches!(k.state, KeyState::Previous | KeyState::Revoked),
            current_since: k.current_since.map(rfc3339),
            current_until: k.current_until.map(rfc3339),
            revoked: k.state == KeyState::Revoked,
            revoked_at: k.revoked_at.map(rfc3339),
        })
    }
}

impl Management {
    /// `GET /api/v2/keys/signing`: every key of the tenant, oldest first.
    pub async fn signing_key_list(
        &self,
        t: &TenantCtx,
        actor: &Actor,
    ) -> Result<Vec<sluice_types::SigningKey>, CoreError> {
        actor.require("read:signing_keys")?;
        let records = self.core.store.key_list(&t.id).await?;
        records.iter().map(|k| self.core.key_view(k)).collect()
    }

    /// `GET /api/v2/keys/signing/{kid}`.
    pub async fn signing_key_get(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        kid: &str,
    ) -> Result<sluice_types::SigningKey, CoreError> {
        actor.require("read:signing_keys")?;
        let records = self.core.store.key_list(&t.id).await?;
        let k = records
            .iter()
            .find(|k| k.kid == kid)
            .ok_or_else(not_found)?;
        self.core.key_view(k)
    }

    /// `POST /api/v2/keys/signing/rotate`: the next key starts signing, the current one becomes
    /// a previous key, and a new next key is generated and published. Returns the new next key,
    /// as Auth0 does. This node signs with the promoted key at once; other nodes within
    /// [`crate::tenant::TENANT_CACHE_SECONDS`] (see there why that is safe).
    pub async fn signing_key_rotate(
        &self,
        t: &TenantCtx,
        actor: &Actor,
    ) -> Result<sluice_types::SigningKeyRef, CoreError> {
        actor.require("create:signing_keys")?;
        let next = self.core.key_new(&t.id, KeyState::Next).await?;
        let kid = match self
            .core
            .store
            .key_rotate(&t.id, &next, self.core.now())
            .await?
        {
            Some(promoted) => {
                tracing::info!(tenant = %t.name, %promoted, next = %next.kid, "rotated signing keys");
                next.kid
            }
            None => {
                // No next key: only when someone deleted it from the database (loading the
                // tenant creates one). Promote the new key at once (it signs without having
                // been published first; relying parties refetch the JWKS for an unknown kid).
                self.core.store.key_insert(&next).await?;
                let after = self.core.key_new(&t.id, KeyState::Next).await?;
                self.core
                    .store
                    .key_rotate(&t.id, &after, self.core.now())
                    .await?
                    .ok_or_else(|| CoreError::internal("signing key rotation found no next key"))?;
                after.kid
            }
        };
        self.core.tenant_refresh(&t.name).await?;
        Ok(sluice_types::SigningKeyRef { cert: None, kid })
    }

    /// `PUT /api/v2/keys/signing/{kid}/revoke`: a previous key leaves the JWKS and no longer
    /// verifies. The current and the next key cannot be revoked (rotate first); revoking a
    /// revoked key again succeeds.
    pub async fn signing_key_revoke(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        kid: &str,
    ) -> Result<sluice_types::SigningKeyRef, CoreError> {
        actor.require("update:signing_keys")?;
        let records = self.core.store.key_list(&t.id).await?;
        let k = records
            .iter()
            .find(|k| k.kid == kid)
            .ok_or_else(not_found)?;
        match k.state {
            KeyState::Current | KeyState::Next => {
                return Err(CoreError::BadRequest {
                    code: "operation_not_supported",
                    message: format!(
                        "Only a previous signing key can be revoked; '{kid}' is the {} key. \
                         Rotate the signing keys first.",
                        k.state.as_str()
                    ),
                });
            }
            KeyState::Revoked => {}
            KeyState::Previous => {
                // False only when a concurrent call revoked it first: keys never move back.
                if self
                    .core
                    .store
                    .key_revoke(&t.id, kid, self.core.now())
                    .await?
                {
                    tracing::info!(tenant = %t.name, kid, "revoked signing key");
                }
            }
        }
        // TODO-security: other nodes stop accepting the key within TENANT_CACHE_SECONDS.
        self.core.tenant_refresh(&t.name).await?;
        Ok(sluice_types::SigningKeyRef {
            cert: None,
            kid: kid.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    fn key(
        kid: &str,
        state: KeyState,
        created: i64,
        since: Option<i64>,
        until: Option<i64>,
    ) -> KeyRecord {
        KeyRecord {
            tenant_id: "t".into(),
            kid: kid.into(),
            sealed_pkcs8: String::new(),
            created_at: created,
            state,
            current_since: since,
            current_until: until,
            revoked_at: None,
        }
    }

    #[test]
    fn previous_keys_stay_published_for_the_longest_token_lifetime() {
        let retired = 1_000 * DAY;
        let prev = key("p", KeyState::Previous, 0, Some(0), Some(retired));
        assert!(is_published(&prev, retired));
        assert!(is_published(&prev, retired + 30 * DAY - 1));
        assert!(!is_published(&prev, retired + 30 * DAY));
        let never = 10_000 * DAY;
        assert!(is_published(
            &key("c", KeyState::Current, 0, Some(0), None),
            never
        ));
        assert!(is_published(
            &key("n", KeyState::Next, 0, None, None),
            never
        ));
        assert!(is_published(
            &key("old", KeyState::Previous, 0, None, None),
            never
        ));
        let mut revoked = prev.clone();
        revoked.state = KeyState::Revoked;
        assert!(!is_published(&revoked, retired));
    }

    #[test]
    fn jwks_order_is_current_next_then_newest_previous() {
        let mut keys = [
            key("p1", KeyState::Previous, 1, Some(1), Some(10)),
            key("n2", KeyState::Next, 30, None, None),
            key("p2", KeyState::Previous, 2, Some(10), Some(20)),
            key("n1", KeyState::Next, 25, None, None),
            key("c", KeyState::Current, 3, Some(20), None),
        ];
        keys.sort_by_key(publish_order);
        let kids: Vec<&str> = keys.iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(kids, ["c", "n1", "n2", "p2", "p1"]);
    }

    #[test]
    fn fingerprint_and_thumbprint_are_hex_forms_of_one_digest() {
        assert_eq!(hex(&[0xab, 0x01, 0xff], ":"), "AB:01:FF");
        assert_eq!(hex(&[0xab, 0x01, 0xff], ""), "AB01FF");
    }
}
