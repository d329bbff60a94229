//! `grant_type=authorization_code`: a code redeemed once, by the client it was issued to, with
//! the same redirect URI and, when the request had a PKCE challenge, the verifier. A code
//! presented twice revokes what it produced.

use crate::Oidc;
use crate::authorize::pkce_verifies;
use crate::client_auth::ClientAuth;
use crate::code::{Stored, invalid_code};
use crate::issue::UserTokens;
use crate::refresh::{RefreshGrantState, artifact_key};
use sluice_core::error::CoreError;
use sluice_core::error::OAuthErrorKind;
use sluice_core::ports::{ArtifactKind, Take};
use sluice_core::tenant::TenantCtx;
use sluice_types::TokenResponse;

impl Oidc {
    /// `grant_type=authorization_code`.
    pub async fn grant_authorization_code(
        &self,
        t: &TenantCtx,
        auth: &ClientAuth,
        code: &str,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
    ) -> Result<TokenResponse, CoreError> {
        let client = self.client_authenticate(t, auth).await?;
        if !client.allows_grant("authorization_code") {
            return Err(CoreError::oauth(
                OAuthErrorKind::UnauthorizedClient,
                "Grant type 'authorization_code' not allowed for the client.",
            ));
        }
        if code.is_empty() {
            return Err(CoreError::oauth(
                OAuthErrorKind::InvalidRequest,
                "Missing required parameter: code",
            ));
        }
        let a = match self
            .core
            .store
            .artifact_take(
                &t.id,
                ArtifactKind::Code,
                &artifact_key(code),
                self.core.now(),
            )
            .await?
        {
            Take::Taken(a) => a,
            Take::AlreadyUsed(a) => {
                let n = self.family_revoke(t, &a.family).await?;
                tracing::warn!(tenant = %t.name, revoked = n, "authorization code reused: what it issued is revoked");
                return Err(invalid_code());
            }
            Take::Missing => return Err(invalid_code()),
        };
        let stored: Stored = sluice_core::model::from_body(a.body.clone())?;
        let req = &stored.request;
        if req.client_id != client.client_id {
            return Err(invalid_code());
        }
        if redirect_uri != Some(req.redirect_uri.as_str()) {
            return Err(CoreError::oauth(
                OAuthErrorKind::InvalidGrant,
                "The redirect_uri does not match the one of the authorization request",
            ));
        }
        match (&req.code_challenge, code_verifier) {
            (Some(ch), Some(v)) if pkce_verifies(v, ch) => {}
            (Some(_), _) => {
                return Err(CoreError::oauth(
                    OAuthErrorKind::InvalidGrant,
                    "Failed to verify code verifier",
                ));
            }
            (None, Some(_)) => {
                return Err(CoreError::oauth(
                    OAuthErrorKind::InvalidGrant,
                    "A code_verifier was sent but the authorization request had no code_challenge",
                ));
            }
            (None, None) => {}
        }
        let user = self
            .core
            .store
            .user_fetch(&t.id, a.user_id.as_deref().unwrap_or_default())
            .await?
            .filter(|u| !u.profile.blocked.unwrap_or(false))
            .ok_or_else(invalid_code)?;
        let api = self.user_token_api(t, req.audience.as_deref()).await?;
        self.issue_user_tokens(
            t,
            UserTokens {
                client: &client,
                user: &user.profile,
                api: api.as_ref(),
                scope: &req.scope,
                gty: None,
                nonce: req.nonce.as_deref(),
                auth_time: Some(stored.auth_time),
                session_id: stored.session_id.as_deref(),
                connection: &stored.connection,
                // Tokens from this code share its family: a replayed code revokes them.
                family: Some(RefreshGrantState {
                    family: a.family.clone(),
                    absolute_expiry: None,
                }),
                extras: Some(&stored.extras),
                new_refresh_token: true,
            },
        )
        .await
    }
}
