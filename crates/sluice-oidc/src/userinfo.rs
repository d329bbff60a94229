//! `/userinfo` (the claims of the access token's user, by its scopes) and logout (where the
//! browser may be sent afterwards: only to a URL the client or the tenant allows).

use crate::Oidc;
use crate::issue::id_token_claims;
use sluice_core::error::CoreError;
use sluice_core::error::OAuthErrorKind;
use sluice_core::tenant::TenantCtx;
use sluice_crypto::jwt;
use sluice_types::JsonMap;

fn invalid_token() -> CoreError {
    CoreError::Unauthorized {
        message: "Invalid token".into(),
    }
}

impl Oidc {
    /// The claims `/userinfo` returns for an access token whose audience includes it.
    pub async fn userinfo(&self, t: &TenantCtx, token: &str) -> Result<JsonMap, CoreError> {
        let audience = format!("{}userinfo", t.issuer);
        let v = jwt::Validation {
            issuer: &t.issuer,
            audience: &audience,
            now: self.core.now(),
            leeway: 30,
        };
        let claims = jwt::verify(token, &t.verifying, &v).map_err(|e| {
            tracing::debug!(error = %e, "userinfo token rejected");
            invalid_token()
        })?;
        let sub = claims
            .get("sub")
            .and_then(|v| v.as_str())
            .ok_or_else(invalid_token)?;
        let scopes: Vec<&str> = claims
            .get("scope")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        if !scopes.contains(&"openid") {
            return Err(invalid_token());
        }
        // A token of a revoked family (a replayed code, a reused refresh token, a revoked
        // refresh token) or of a user who is gone or blocked no longer answers.
        if let Some(jti) = claims.get("jti").and_then(|v| v.as_str())
            && self.family_revoked(t, jti).await?
        {
            return Err(invalid_token());
        }
        let user = self
            .core
            .store
            .user_fetch(&t.id, sub)
            .await?
            .filter(|u| u.profile.blocked != Some(true))
            .ok_or_else(invalid_token)?;
        let mut out = JsonMap::new();
        out.insert("sub".into(), sub.into());
        out.extend(id_token_claims(&user.profile, &scopes));
        Ok(out)
    }

    /// Whether the browser may go to `url` after logout: one of the client's
    /// `allowed_logout_urls` when a client is named, else one of the tenant's.
    pub async fn logout_url_allowed(
        &self,
        t: &TenantCtx,
        client_id: Option<&str>,
        url: &str,
    ) -> Result<bool, CoreError> {
        let allowed: Vec<String> = match client_id.filter(|c| !c.is_empty()) {
            Some(c) => match self.core.client_fetch(t, c).await? {
                Some(client) => client.body.allowed_logout_urls.unwrap_or_default(),
                None => return Ok(false),
            },
            None => self
                .core
                .tenant_settings(t)
                .await?
                .get("allowed_logout_urls")
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        };
        Ok(allowed.iter().any(|a| a == url))
    }

    /// The client an ID token was issued to (`/oidc/logout`'s `id_token_hint`): signature and
    /// issuer are checked; expiry is not (a hint may be old).
    pub fn id_token_hint_client(&self, t: &TenantCtx, hint: &str) -> Result<String, CoreError> {
        let (_, claims) = jwt::decode_unverified(hint).map_err(|_| invalid_hint())?;
        let aud = claims
            .get("aud")
            .and_then(|v| v.as_str())
            .ok_or_else(invalid_hint)?
            .to_string();
        let v = jwt::Validation {
            issuer: &t.issuer,
            audience: &aud,
            now: 0,
            leeway: 0,
        };
        jwt::verify(hint, &t.verifying, &v).map_err(|_| invalid_hint())?;
        Ok(aud)
    }
}

fn invalid_hint() -> CoreError {
    CoreError::oauth(
        OAuthErrorKind::InvalidRequest,
        "The id_token_hint is not valid",
    )
}
