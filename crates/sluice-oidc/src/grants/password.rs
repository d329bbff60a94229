//! `grant_type=password` (the tenant's default directory) and
//! `http://auth0.com/oauth/grant-type/password-realm` (a named connection). Both authenticate
//! the client, check it may use the grant and the connection, run the login flow, and issue an
//! RS256 access token (for the requested API, or for `/userinfo`) and, with `openid`, an ID token.

use crate::Oidc;
use crate::client_auth::ClientAuth;
use crate::issue::UserTokens;
use sluice_core::clients::StoredClient;
use sluice_core::error::CoreError;
use sluice_core::error::OAuthErrorKind;
use sluice_core::extend::run::PostLogin;
use sluice_core::flows::login::LoginRequest;
use sluice_core::tenant::TenantCtx;
use sluice_types::{Connection, TokenResponse};

pub const PASSWORD_REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";

/// A `password` or `password-realm` token request.
pub struct PasswordGrant<'a> {
    pub client: &'a ClientAuth,
    /// `None` for the plain `password` grant (the tenant's default directory).
    pub realm: Option<&'a str>,
    pub username: &'a str,
    pub password: &'a str,
    pub audience: Option<&'a str>,
    pub scope: Option<&'a str>,
    /// The peer address of the request.
    pub ip: Option<&'a str>,
    /// The `auth0-forwarded-for` header: the end user's IP, trusted only as
    /// [`end_user_ip`] says.
    pub forwarded_for: Option<&'a str>,
}

impl Oidc {
    pub async fn grant_password(
        &self,
        t: &TenantCtx,
        g: PasswordGrant<'_>,
    ) -> Result<TokenResponse, CoreError> {
        let client = self.client_authenticate(t, g.client).await?;
        let grant_type = if g.realm.is_some() {
            PASSWORD_REALM
        } else {
            "password"
        };
        if !client.allows_grant(grant_type) || client.body.is_first_party == Some(false) {
            // Third-party applications never get a user's password (Auth0 refuses them too).
            return Err(CoreError::oauth(
                OAuthErrorKind::UnauthorizedClient,
                format!("Grant type '{grant_type}' not allowed for the client."),
            ));
        }
        if g.username.is_empty() || g.password.is_empty() {
            return Err(CoreError::oauth(
                OAuthErrorKind::InvalidRequest,
                "Missing required parameter: username or password",
            ));
        }
        let realm = match g.realm {
            Some(r) => r.to_string(),
            None => {
                let settings = self.core.tenant_settings(t).await?;
                settings
                    .get("default_directory")
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
                    .ok_or_else(|| {
                        CoreError::oauth(
                            OAuthErrorKind::ServerError,
                            "Authorization server not configured with default connection.",
                        )
                    })?
            }
        };
        let conn = self.connection_for_client(t, &client, &realm).await?;
        // The API, before spending a password check.
        let api = self.user_token_api(t, g.audience).await?;
        let ip = end_user_ip(&client, g.client, g.ip, g.forwarded_for);
        let outcome = self
            .core
            .login(
                t,
                LoginRequest {
                    connection: &conn,
                    identifier: g.username,
                    password: g.password,
                    ip: ip.as_deref(),
                    client_id: Some(&client.client_id),
                },
            )
            .await?;
        let mut rec = outcome.user;
        let extras = self
            .core
            .post_login(
                t,
                &mut rec,
                PostLogin {
                    client: &client,
                    connection: conn.body.name.as_deref().unwrap_or(&realm),
                    protocol: "oauth2-password",
                    ip: ip.as_deref(),
                    user_agent: None,
                    query: Default::default(),
                    scope: g.scope.unwrap_or(""),
                    audience: g.audience,
                    session_id: None,
                },
            )
            .await?;
        self.issue_user_tokens(
            t,
            UserTokens {
                client: &client,
                user: &rec.profile,
                api: api.as_ref(),
                scope: g.scope.unwrap_or(""),
                gty: Some("password"),
                nonce: None,
                auth_time: Some(self.core.now()),
                session_id: None,
                connection: conn.body.name.as_deref().unwrap_or(&realm),
                family: None,
                extras: Some(&extras),
                new_refresh_token: true,
            },
        )
        .await
    }
}

/// The address brute-force protection and the logs attribute a login to: the
/// `auth0-forwarded-for` header only from a client with Auth0's
/// `is_token_endpoint_ip_header_trusted: true` that authenticated with its secret, and only
/// when it is an IP address; otherwise the peer address of the request. Anyone else could name
/// a fresh address on every attempt and never be blocked.
pub fn end_user_ip(
    client: &StoredClient,
    auth: &ClientAuth,
    peer: Option<&str>,
    forwarded_for: Option<&str>,
) -> Option<String> {
    let trusted = client.body.is_token_endpoint_ip_header_trusted == Some(true)
        && !client.is_public()
        && auth.client_secret.is_some();
    let forwarded = forwarded_for
        .map(str::trim)
        .filter(|_| trusted)
        .and_then(|f| f.parse::<std::net::IpAddr>().ok());
    match forwarded {
        Some(ip) => Some(ip.to_string()),
        None => peer.map(str::to_string),
    }
}

impl Oidc {
    /// Connection `name`, which must be enabled for `client` (Auth0's `unauthorized_client`
    /// otherwise).
    pub async fn connection_for_client(
        &self,
        t: &TenantCtx,
        client: &StoredClient,
        name: &str,
    ) -> Result<Connection, CoreError> {
        let conn = self
            .core
            .connection_fetch_by_name(t, name)
            .await?
            .ok_or_else(|| {
                CoreError::oauth(
                    OAuthErrorKind::InvalidRequest,
                    "the connection was not found",
                )
            })?;
        if !conn
            .body
            .enabled_clients
            .as_deref()
            .unwrap_or_default()
            .contains(&client.client_id)
        {
            return Err(CoreError::oauth(
                OAuthErrorKind::UnauthorizedClient,
                "the connection is not enabled for this client",
            ));
        }
        Ok(conn)
    }
}
