//! Refresh tokens: issued with `offline_access`, stored under the SHA-256 of the token, and
//! redeemed by [`super::grants::refresh_token`]. With rotation (the default; a client may set
//! `refresh_token.rotation_type: "non-rotating"`) every use returns a new token in the same
//! family, and presenting a used token again revokes the whole family (reuse detection).

use crate::Oidc;
use crate::client_auth::ClientAuth;
use serde::{Deserialize, Serialize};
use sluice_core::clients::StoredClient;
use sluice_core::error::CoreError;
use sluice_core::error::OAuthErrorKind;
use sluice_core::ports::{Artifact, ArtifactKind};
use sluice_core::tenant::TenantCtx;
use sluice_crypto::{ct, random};

/// Auth0's defaults for rotating tokens: absolute 30 days, idle 15 days.
const ROTATING_LIFETIME: i64 = 30 * 86_400;
const ROTATING_IDLE: i64 = 15 * 86_400;
/// Non-rotating, non-expiring tokens still get an expiry so that storage is bounded.
const NON_EXPIRING: i64 = 10 * 365 * 86_400;

/// What a refresh token carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshBody {
    pub scope: String,
    pub audience: Option<String>,
    pub connection: String,
    pub auth_time: Option<i64>,
    pub session_id: Option<String>,
}

/// A family continued by a rotation: its id and absolute expiry.
#[derive(Debug, Clone)]
pub struct RefreshGrantState {
    pub family: String,
    /// `None`: starts now, per the client's policy.
    pub absolute_expiry: Option<i64>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct Stored {
    #[serde(flatten)]
    pub(crate) body: RefreshBody,
    pub(crate) absolute_expiry: i64,
}

pub(crate) fn invalid_refresh() -> CoreError {
    CoreError::oauth(
        OAuthErrorKind::InvalidGrant,
        "Unknown or invalid refresh token.",
    )
}

/// The client's refresh-token settings: (rotating, absolute lifetime, idle lifetime).
pub(crate) fn policy(client: &StoredClient) -> (bool, i64, i64) {
    let rt = client.body.refresh_token.as_ref();
    let get = |k: &str| rt.and_then(|v| v.get(k));
    let rotating = get("rotation_type").and_then(|v| v.as_str()) != Some("non-rotating");
    let infinite = |k: &str| get(k).and_then(|v| v.as_bool()).unwrap_or(!rotating);
    let life = if infinite("infinite_token_lifetime") {
        NON_EXPIRING
    } else {
        get("token_lifetime")
            .and_then(|v| v.as_i64())
            .unwrap_or(ROTATING_LIFETIME)
    };
    let idle = if infinite("infinite_idle_token_lifetime") {
        NON_EXPIRING
    } else {
        get("idle_token_lifetime")
            .and_then(|v| v.as_i64())
            .unwrap_or(ROTATING_IDLE)
    };
    (rotating, life, idle)
}

/// The SHA-256 under which a presented secret is stored.
pub(crate) fn artifact_key(secret: &str) -> String {
    ct::sha256_hex(secret.as_bytes())
}

/// The `jti` of an access token issued in `family`: the family, then a random part. `/userinfo`
/// reads the family back to refuse tokens of a revoked family.
pub(crate) fn family_jti(family: &str) -> String {
    format!("{family}.{}", random::random_hex(8))
}

/// The family an access token's `jti` names, if it was issued in one.
pub(crate) fn jti_family(jti: &str) -> Option<&str> {
    jti.split_once('.')
        .map(|(f, _)| f)
        .filter(|f| !f.is_empty())
}

impl Oidc {
    /// Revokes everything a family issued: its refresh tokens and unredeemed code are deleted,
    /// and a marker makes `/userinfo` refuse its access tokens until they would have expired
    /// (RFC 6749 §4.1.2 and §10.4, RFC 7009 §2.1). Returns how many artifacts were deleted.
    pub(crate) async fn family_revoke(
        &self,
        t: &TenantCtx,
        family: &str,
    ) -> Result<u64, CoreError> {
        let until = self.core.now() + sluice_core::resource_servers::MAX_TOKEN_LIFETIME + 60;
        Ok(self
            .core
            .store
            .artifact_revoke_family(&t.id, family, until)
            .await?)
    }

    /// Whether an access token's family was revoked.
    pub(crate) async fn family_revoked(&self, t: &TenantCtx, jti: &str) -> Result<bool, CoreError> {
        let Some(family) = jti_family(jti) else {
            return Ok(false);
        };
        Ok(self
            .core
            .store
            .artifact_family_revoked(&t.id, family)
            .await?)
    }

    /// Stores a new refresh token for `user_id` and returns it.
    pub(crate) async fn refresh_token_store(
        &self,
        t: &TenantCtx,
        client: &StoredClient,
        user_id: &str,
        body: &RefreshBody,
        family: Option<RefreshGrantState>,
    ) -> Result<String, CoreError> {
        let (_, life, idle) = policy(client);
        let now = self.core.now();
        let state = family.unwrap_or_else(|| RefreshGrantState {
            family: random::random_hex(24),
            absolute_expiry: None,
        });
        let absolute_expiry = state.absolute_expiry.unwrap_or(now + life);
        let token = random::random_token(32);
        let stored = Stored {
            body: body.clone(),
            absolute_expiry,
        };
        let stored = self
            .core
            .store
            .artifact_insert_in_family(&Artifact {
                tenant_id: t.id.clone(),
                kind: ArtifactKind::Refresh,
                key: artifact_key(&token),
                family: state.family,
                user_id: Some(user_id.to_string()),
                client_id: Some(client.client_id.clone()),
                body: sluice_core::model::to_body(&stored)?,
                created_at: now,
                expires_at: absolute_expiry.min(now + idle),
                used_at: None,
            })
            .await?;
        if !stored {
            // The family was revoked while these tokens were being made: none is issued.
            return Err(invalid_refresh());
        }
        Ok(token)
    }

    /// Revokes a refresh token and everything issued with it (`POST /oauth/revoke`). Unknown
    /// tokens are not an error (RFC 7009); a token of another client is.
    pub async fn refresh_token_revoke(
        &self,
        t: &TenantCtx,
        auth: &ClientAuth,
        token: &str,
    ) -> Result<(), CoreError> {
        let client = self.client_authenticate(t, auth).await?;
        let key = artifact_key(token);
        let found = self
            .core
            .store
            .artifact_fetch(&t.id, ArtifactKind::Refresh, &key, self.core.now())
            .await?;
        if let Some(a) = found {
            if a.client_id.as_deref() != Some(client.client_id.as_str()) {
                return Err(CoreError::oauth(
                    OAuthErrorKind::RefusedRequest,
                    "The refresh token does not belong to this client.",
                ));
            }
            self.family_revoke(t, &a.family).await?;
        }
        Ok(())
    }
}
