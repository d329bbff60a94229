//! Token issuance and checking: client authentication at the token endpoint, the
//! client-credentials grant (Auth0's rules: a client grant for the audience is required, scopes
//! are the requested ones intersected with the granted ones), and verification of Management
//! API bearer tokens into an [`Actor`].

use crate::authz::Actor;
use crate::clients::StoredClient;
use crate::error::CoreError;
use crate::error::OAuthErrorKind;
use crate::resource_servers::DEFAULT_TOKEN_LIFETIME;
use crate::service::Core;
use crate::tenant::TenantCtx;
use sluice_crypto::jwt;
use sluice_types::{JsonMap, TokenResponse};

/// Client credentials as presented at the token endpoint (post body or HTTP Basic).
#[derive(Clone, PartialEq)]
pub struct ClientAuth {
    pub client_id: String,
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientAuth")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

fn invalid_client() -> CoreError {
    CoreError::oauth(OAuthErrorKind::Unauthenticated, "Unauthorized")
}

impl Core {
    /// Authenticates a client. Confidential clients must present their secret; a public client
    /// (`token_endpoint_auth_method: none`) must present none.
    pub async fn client_authenticate(
        &self,
        t: &TenantCtx,
        auth: &ClientAuth,
    ) -> Result<StoredClient, CoreError> {
        let client = self.client_fetch(t, &auth.client_id).await?;
        let Some(client) = client else {
            // Spend comparable time on unknown ids as on known ones.
            let _ = sluice_crypto::ct::sha256_hex(
                auth.client_secret.as_deref().unwrap_or("").as_bytes(),
            );
            return Err(invalid_client());
        };
        match (&auth.client_secret, client.is_public()) {
            (Some(s), false) if client.secret_matches(s) => Ok(client),
            (None, true) => Ok(client),
            _ => Err(invalid_client()),
        }
    }

    /// Signs a compact RS256 JWT with the tenant's current key.
    pub fn sign_jwt(&self, t: &TenantCtx, claims: &JsonMap) -> Result<String, CoreError> {
        Ok(jwt::sign(&t.signing, claims)?)
    }

    /// `grant_type=client_credentials`.
    ///
    /// Its store reads (client, API, grant, credentials-exchange hooks and bindings) are
    /// served by the store's document cache after the first request; see bench/run.
    pub async fn grant_client_credentials(
        &self,
        t: &TenantCtx,
        auth: &ClientAuth,
        audience: Option<&str>,
        scope: Option<&str>,
    ) -> Result<TokenResponse, CoreError> {
        let client = self.client_authenticate(t, auth).await?;
        if client.is_public() {
            return Err(CoreError::oauth(
                OAuthErrorKind::InvalidClient,
                "Public clients cannot use the client_credentials grant",
            ));
        }
        if !client.allows_grant("client_credentials") {
            return Err(CoreError::oauth(
                OAuthErrorKind::UnauthorizedClient,
                "Grant type 'client_credentials' not allowed for the client.",
            ));
        }
        // The tenant's settings are read only when the request names no API.
        let audience = match audience.filter(|a| !a.is_empty()) {
            Some(a) => a.to_string(),
            None => self.default_audience(t).await?.ok_or_else(|| {
                CoreError::oauth(
                    OAuthErrorKind::AccessDenied,
                    "No audience parameter was provided, and no default audience has been configured",
                )
            })?,
        };
        let audience = audience.as_str();
        let api = self
            .resource_server_by_identifier(t, audience)
            .await?
            .ok_or_else(|| {
                CoreError::oauth(
                    OAuthErrorKind::AccessDenied,
                    format!("Service not found: {audience}"),
                )
            })?;
        let grant = self.client_grant_find(t, &client.client_id, audience).await?.ok_or_else(|| {
            CoreError::oauth(
                OAuthErrorKind::AccessDenied,
                format!(
                    "Client is not authorized to access \"{audience}\". You need to create a \"client-grant\" associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants"
                ),
            )
        })?;
        let granted: Vec<&str> = match scope {
            Some(s) if !s.trim().is_empty() => s
                .split_whitespace()
                .filter(|r| grant.scope.iter().any(|g| g == r))
                .collect(),
            _ => grant.scope.iter().map(String::as_str).collect(),
        };
        let granted: Vec<String> = granted.iter().map(|s| s.to_string()).collect();
        // Credentials-exchange Hooks and Actions: extra claims, a replacement scope, or denial.
        // The bootstrap client's Management API tokens do not depend on them: whatever a hook
        // or action does, the administrators keep a way in to fix it.
        let (extra, new_scope) = if client.bootstrap && api.is_system {
            (JsonMap::new(), None)
        } else {
            self.credentials_exchange(t, &client, audience, &granted)
                .await?
        };
        let scope = match new_scope {
            // A hook may narrow a Management API token, never widen it past the client grant.
            Some(s) if api.is_system => s.into_iter().filter(|x| grant.scope.contains(x)).collect(),
            Some(s) => s,
            None => granted,
        }
        .join(" ");
        let now = self.now();
        let lifetime = api.body.token_lifetime.unwrap_or(DEFAULT_TOKEN_LIFETIME);
        let mut claims = JsonMap::new();
        claims.insert("iss".into(), t.issuer.clone().into());
        claims.insert("sub".into(), format!("{}@clients", client.client_id).into());
        claims.insert("aud".into(), audience.into());
        claims.insert("iat".into(), now.into());
        claims.insert("exp".into(), (now + lifetime).into());
        claims.insert("scope".into(), scope.clone().into());
        claims.insert("gty".into(), "client-credentials".into());
        claims.insert("azp".into(), client.client_id.clone().into());
        for (k, v) in extra {
            claims.entry(k).or_insert(v);
        }
        let access_token = self.sign_jwt(t, &claims)?;
        Ok(TokenResponse {
            access_token,
            id_token: None,
            refresh_token: None,
            scope: Some(scope),
            expires_in: lifetime,
            token_type: "Bearer".into(),
        })
    }

    /// Verifies a Management API bearer token of tenant `t` (signature by one of its keys,
    /// issuer, audience, expiry) and returns who is calling with which scopes.
    pub fn mgmt_actor(&self, t: &TenantCtx, token: &str) -> Result<Actor, CoreError> {
        let v = jwt::Validation {
            issuer: &t.issuer,
            audience: &t.mgmt_audience,
            now: self.now(),
            leeway: 30,
        };
        let claims = jwt::verify(token, &t.verifying, &v).map_err(|e| {
            tracing::debug!(error = %e, "management token rejected");
            CoreError::Unauthorized {
                message: "Invalid token".into(),
            }
        })?;
        let str_claim = |k: &str| claims.get(k).and_then(|v| v.as_str()).unwrap_or_default();
        let (sub, azp, scope) = (str_claim("sub"), str_claim("azp"), str_claim("scope"));
        // Only the client-credentials grant writes `gty: client-credentials` (extensibility
        // code cannot set it) and its subject is `<client_id>@clients`. Anything else is a
        // user's token, which holds at most the current-user scopes.
        let app_token = str_claim("gty") == "client-credentials"
            && !azp.is_empty()
            && sub.strip_suffix("@clients") == Some(azp);
        if app_token {
            Ok(Actor::new(&t.id, azp, scope))
        } else if sub.is_empty() {
            Err(CoreError::Unauthorized {
                message: "Invalid token".into(),
            })
        } else {
            Ok(Actor::for_user(&t.id, azp, sub, scope))
        }
    }
}
