//! `grant_type=client_credentials` (Auth0's rules: a client grant for the audience is required,
//! and the scopes are the requested ones intersected with the granted ones; credentials-exchange
//! Hooks and Actions may add claims or deny).

use crate::Oidc;
use crate::client_auth::ClientAuth;
use sluice_core::error::{CoreError, OAuthErrorKind};
use sluice_core::resource_servers::DEFAULT_TOKEN_LIFETIME;
use sluice_core::tenant::TenantCtx;
use sluice_types::{JsonMap, TokenResponse};

impl Oidc {
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
            None => self.core.default_audience(t).await?.ok_or_else(|| {
                CoreError::oauth(
                    OAuthErrorKind::AccessDenied,
                    "No audience parameter was provided, and no default audience has been configured",
                )
            })?,
        };
        let audience = audience.as_str();
        let api = self
            .core
            .resource_server_by_identifier(t, audience)
            .await?
            .ok_or_else(|| {
                CoreError::oauth(
                    OAuthErrorKind::AccessDenied,
                    format!("Service not found: {audience}"),
                )
            })?;
        let grant = self.core.client_grant_find(t, &client.client_id, audience).await?.ok_or_else(|| {
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
            self.extend
                .credentials_exchange(t, &client, audience, &granted)
                .await?
        };
        let scope = match new_scope {
            // A hook may narrow a Management API token, never widen it past the client grant.
            Some(s) if api.is_system => s.into_iter().filter(|x| grant.scope.contains(x)).collect(),
            Some(s) => s,
            None => granted,
        }
        .join(" ");
        let now = self.core.now();
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
}
