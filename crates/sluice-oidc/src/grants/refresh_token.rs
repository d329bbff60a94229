//! `grant_type=refresh_token`: a refresh token redeemed by its client, with rotation (a new
//! token in the same family; a used token presented again revokes the family) unless the
//! client is non-rotating, and a scope that may narrow but never widen.

use crate::Oidc;
use crate::client_auth::ClientAuth;
use crate::issue::UserTokens;
use crate::refresh::{RefreshGrantState, Stored, artifact_key, invalid_refresh, policy};
use sluice_core::error::CoreError;
use sluice_core::error::OAuthErrorKind;
use sluice_core::ports::{ArtifactKind, Take};
use sluice_core::tenant::TenantCtx;
use sluice_types::TokenResponse;

impl Oidc {
    /// `grant_type=refresh_token`: new tokens for the same user, scopes (or fewer) and API.
    pub async fn grant_refresh_token(
        &self,
        t: &TenantCtx,
        auth: &ClientAuth,
        refresh_token: &str,
        scope: Option<&str>,
    ) -> Result<TokenResponse, CoreError> {
        let client = self.client_authenticate(t, auth).await?;
        if !client.allows_grant("refresh_token") {
            return Err(CoreError::oauth(
                OAuthErrorKind::UnauthorizedClient,
                "Grant type 'refresh_token' not allowed for the client.",
            ));
        }
        if refresh_token.is_empty() {
            return Err(CoreError::oauth(
                OAuthErrorKind::InvalidRequest,
                "Missing required parameter: refresh_token",
            ));
        }
        let (rotating, _, _) = policy(&client);
        let key = artifact_key(refresh_token);
        let now = self.core.now();
        let artifact = if rotating {
            // A request this token cannot satisfy (another client's token, a wider scope)
            // is refused before the token is spent, so a bad request costs the user nothing.
            if let Some(a) = self
                .core
                .store
                .artifact_fetch(&t.id, ArtifactKind::Refresh, &key, now)
                .await?
            {
                if a.client_id.as_deref() != Some(client.client_id.as_str()) {
                    return Err(invalid_refresh());
                }
                let stored: Stored = sluice_core::model::from_body(a.body)?;
                narrowed_scope(&stored.body.scope, scope)?;
            }
            match self
                .core
                .store
                .artifact_take(&t.id, ArtifactKind::Refresh, &key, now)
                .await?
            {
                Take::Taken(a) => a,
                Take::AlreadyUsed(a) => {
                    // A rotated token came back: someone holds a copy. Revoke the family.
                    let n = self.family_revoke(t, &a.family).await?;
                    tracing::warn!(
                        tenant = %t.name,
                        client_id = %client.client_id,
                        revoked = n,
                        "refresh token reuse detected: family revoked"
                    );
                    return Err(invalid_refresh());
                }
                Take::Missing => return Err(invalid_refresh()),
            }
        } else {
            self.core
                .store
                .artifact_fetch(&t.id, ArtifactKind::Refresh, &key, now)
                .await?
                .ok_or_else(invalid_refresh)?
        };
        if artifact.client_id.as_deref() != Some(client.client_id.as_str()) {
            return Err(invalid_refresh());
        }
        let stored: Stored = sluice_core::model::from_body(artifact.body.clone())?;
        let user_id = artifact.user_id.clone().unwrap_or_default();
        let user = match self.core.store.user_fetch(&t.id, &user_id).await? {
            Some(u) if !u.profile.blocked.unwrap_or(false) => u,
            _ => {
                self.family_revoke(t, &artifact.family).await?;
                return Err(invalid_refresh());
            }
        };
        let scope = narrowed_scope(&stored.body.scope, scope)?;
        let api = match &stored.body.audience {
            Some(a) => Some(
                self.core
                    .resource_server_by_identifier(t, a)
                    .await?
                    .ok_or_else(invalid_refresh)?,
            ),
            None => None,
        };
        let mut user = user;
        let extras = self
            .core
            .post_login(
                t,
                &mut user,
                sluice_core::extend::run::PostLogin {
                    client: &client,
                    connection: &stored.body.connection,
                    protocol: "oauth2-refresh-token",
                    ip: None,
                    user_agent: None,
                    query: Default::default(),
                    scope: &scope,
                    audience: stored.body.audience.as_deref(),
                    session_id: stored.body.session_id.as_deref(),
                },
            )
            .await?;
        let tokens = self
            .issue_user_tokens(
                t,
                UserTokens {
                    client: &client,
                    user: &user.profile,
                    api: api.as_ref(),
                    scope: &scope,
                    gty: None,
                    nonce: None,
                    auth_time: stored.body.auth_time,
                    session_id: stored.body.session_id.as_deref(),
                    connection: &stored.body.connection,
                    family: if rotating {
                        Some(RefreshGrantState {
                            family: artifact.family.clone(),
                            absolute_expiry: Some(stored.absolute_expiry),
                        })
                    } else {
                        None
                    },
                    extras: Some(&extras),
                    new_refresh_token: rotating,
                },
            )
            .await?;
        Ok(tokens)
    }
}

/// The scope a refresh asks for: a narrower one than the token's may be asked for, never a
/// wider one; none asked means the token's own.
fn narrowed_scope(had: &str, asked: Option<&str>) -> Result<String, CoreError> {
    match asked.filter(|s| !s.trim().is_empty()) {
        Some(s) => {
            let had: Vec<&str> = had.split_whitespace().collect();
            if let Some(extra) = s.split_whitespace().find(|x| !had.contains(x)) {
                return Err(CoreError::oauth(
                    OAuthErrorKind::InvalidScope,
                    format!("The scope '{extra}' was not granted to this refresh token."),
                ));
            }
            Ok(s.to_string())
        }
        None => Ok(had.to_string()),
    }
}
