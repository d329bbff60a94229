//! User grants at the token endpoint: `password` (the tenant's default directory) and
//! `http://auth0.com/oauth/grant-type/password-realm` (a named connection). Both authenticate
//! the client, check it may use the grant and the connection, run the login flow, and issue an
//! RS256 access token (for the requested API, or for `/userinfo`) and, with `openid`, an ID token.

use crate::error::CoreError;
use crate::flows::login::LoginRequest;
use crate::resource_servers::DEFAULT_TOKEN_LIFETIME;
use crate::service::Core;
use crate::tenant::TenantCtx;
use crate::tokens::ClientAuth;
use sluice_types::{JsonMap, TokenResponse, User};

pub const PASSWORD_REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";
/// Scopes that concern the user's identity rather than an API. `offline_access` is not granted
/// until refresh tokens exist (the OIDC issue).
const OIDC_SCOPES: &[&str] = &["openid", "profile", "email", "address", "phone"];

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
    /// The `auth0-forwarded-for` header: the end user's IP, trusted only from a confidential
    /// client that authenticated with its secret.
    pub forwarded_for: Option<&'a str>,
}

/// The ID token claims for `scope`.
pub fn id_token_claims(u: &User, scopes: &[&str]) -> JsonMap {
    let mut c = JsonMap::new();
    if scopes.contains(&"profile") {
        for (k, v) in [
            ("name", &u.name),
            ("nickname", &u.nickname),
            ("given_name", &u.given_name),
            ("family_name", &u.family_name),
            ("picture", &u.picture),
        ] {
            if let Some(v) = v {
                c.insert(k.into(), v.clone().into());
            }
        }
        c.insert("updated_at".into(), u.updated_at.clone().into());
    }
    if scopes.contains(&"email") {
        if let Some(e) = &u.email {
            c.insert("email".into(), e.clone().into());
        }
        c.insert("email_verified".into(), u.email_verified.into());
    }
    c
}

impl Core {
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
        if !client.allows_grant(grant_type) {
            return Err(CoreError::oauth(
                403,
                "unauthorized_client",
                format!("Grant type '{grant_type}' not allowed for the client."),
            ));
        }
        if g.username.is_empty() || g.password.is_empty() {
            return Err(CoreError::oauth(
                400,
                "invalid_request",
                "Missing required parameter: username or password",
            ));
        }
        let realm = match g.realm {
            Some(r) => r.to_string(),
            None => {
                let settings = self.tenant_settings(t).await?;
                settings
                    .get("default_directory")
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
                    .ok_or_else(|| {
                        CoreError::oauth(
                            500,
                            "server_error",
                            "Authorization server not configured with default connection.",
                        )
                    })?
            }
        };
        let conn = self
            .connection_fetch_by_name(t, &realm)
            .await?
            .ok_or_else(|| {
                CoreError::oauth(400, "invalid_request", "the connection was not found")
            })?;
        if !conn
            .body
            .enabled_clients
            .as_deref()
            .unwrap_or_default()
            .contains(&client.client_id)
        {
            return Err(CoreError::oauth(
                403,
                "unauthorized_client",
                "the connection is not enabled for this client",
            ));
        }
        // The API, before spending a password check.
        let default_audience = match g.audience.filter(|a| !a.is_empty()) {
            Some(_) => None,
            None => self.default_audience(t).await?,
        };
        let default_audience = default_audience.as_deref();
        let api =
            match g
                .audience
                .filter(|a| !a.is_empty())
                .or(default_audience)
                .filter(|a| !a.is_empty())
            {
                Some(a) => Some(self.resource_server_by_identifier(t, a).await?.ok_or_else(
                    || CoreError::oauth(403, "access_denied", format!("Service not found: {a}")),
                )?),
                None => None,
            };
        let outcome = self
            .login(
                t,
                LoginRequest {
                    connection: &conn,
                    identifier: g.username,
                    password: g.password,
                    ip: if client.is_public() {
                        g.ip
                    } else {
                        g.forwarded_for.or(g.ip)
                    },
                    client_id: Some(&client.client_id),
                },
            )
            .await?;
        let user = &outcome.user.profile;
        let requested: Vec<&str> = g.scope.unwrap_or("").split_whitespace().collect();
        let api_scopes: Vec<String> = api
            .as_ref()
            .and_then(|a| a.body.scopes.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.value)
            .collect();
        let granted: Vec<&str> = requested
            .iter()
            .copied()
            .filter(|s| OIDC_SCOPES.contains(s) || api_scopes.iter().any(|a| a == s))
            .collect();
        let now = self.now();
        let userinfo = format!("{}userinfo", t.issuer);
        let (aud, lifetime) = match &api {
            Some(a) => (
                a.body.identifier.clone().unwrap_or_default(),
                a.body.token_lifetime.unwrap_or(DEFAULT_TOKEN_LIFETIME),
            ),
            None => (userinfo.clone(), DEFAULT_TOKEN_LIFETIME),
        };
        let mut at = JsonMap::new();
        at.insert("iss".into(), t.issuer.clone().into());
        at.insert("sub".into(), user.user_id.clone().into());
        if granted.contains(&"openid") && aud != userinfo {
            at.insert("aud".into(), serde_json::json!([aud, userinfo]));
        } else {
            at.insert("aud".into(), aud.into());
        }
        at.insert("iat".into(), now.into());
        at.insert("exp".into(), (now + lifetime).into());
        at.insert("scope".into(), granted.join(" ").into());
        at.insert("gty".into(), "password".into());
        at.insert("azp".into(), client.client_id.clone().into());
        let access_token = self.sign_jwt(t, &at)?;
        let id_token = if granted.contains(&"openid") {
            let id_lifetime = client
                .body
                .jwt_configuration
                .as_ref()
                .and_then(|j| j.get("lifetime_in_seconds"))
                .and_then(|v| v.as_i64())
                .unwrap_or(36_000);
            let mut c = id_token_claims(user, &granted);
            c.insert("iss".into(), t.issuer.clone().into());
            c.insert("sub".into(), user.user_id.clone().into());
            c.insert("aud".into(), client.client_id.clone().into());
            c.insert("iat".into(), now.into());
            c.insert("exp".into(), (now + id_lifetime).into());
            Some(self.sign_jwt(t, &c)?)
        } else {
            None
        };
        Ok(TokenResponse {
            access_token,
            id_token,
            refresh_token: None,
            scope: Some(granted.join(" ")),
            expires_in: lifetime,
            token_type: "Bearer".into(),
        })
    }
}
