//! Token issuance for a signed-in user, shared by every user grant (password, password-realm,
//! authorization code, refresh token): which scopes are granted, the access token (RS256 JWT
//! for an API or for `/userinfo`), the ID token with `openid`, and a refresh token with
//! `offline_access` when the client and the API allow it.

use crate::clients::StoredClient;
use crate::error::CoreError;
use crate::extend::run::LoginExtras;
use crate::oidc::refresh::RefreshGrantState;
use crate::resource_servers::DEFAULT_TOKEN_LIFETIME;
use crate::service::Core;
use crate::tenant::TenantCtx;
use sluice_types::{JsonMap, ResourceServer, TokenResponse, User};

/// Scopes that concern the user's identity rather than an API.
pub const OIDC_SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "address",
    "phone",
    "offline_access",
];

/// ID token lifetime when the client sets none (Auth0: 10 hours).
pub const DEFAULT_ID_TOKEN_LIFETIME: i64 = 36_000;

/// What to issue for whom.
pub struct UserTokens<'a> {
    pub client: &'a StoredClient,
    pub user: &'a User,
    /// The API of the access token; `None` means the `/userinfo` audience.
    pub api: Option<&'a ResourceServer>,
    /// The requested scopes (space separated).
    pub scope: &'a str,
    /// The `gty` claim Auth0 writes for some grants (`password`, `refresh_token`); `None` for
    /// the authorization code grant.
    pub gty: Option<&'static str>,
    pub nonce: Option<&'a str>,
    /// When the user authenticated (unix seconds): the ID token's `auth_time`.
    pub auth_time: Option<i64>,
    /// The SSO session's id (`sid`), when there is one.
    pub session_id: Option<&'a str>,
    /// The connection the user signed in with (kept with a refresh token).
    pub connection: &'a str,
    /// Continue a refresh-token family (and its absolute expiry) instead of starting one.
    pub family: Option<RefreshGrantState>,
    /// Custom claims from Rules and Actions.
    pub extras: Option<&'a LoginExtras>,
    /// Whether `offline_access` gets a new refresh token (not when a non-rotating one is
    /// being redeemed: it stays valid and is not returned again).
    pub new_refresh_token: bool,
}

/// The requested scopes the client may have: identity scopes and the API's own scopes.
pub fn granted_scopes<'s>(requested: &'s str, api: Option<&ResourceServer>) -> Vec<&'s str> {
    let api_scopes: Vec<&str> = api
        .and_then(|a| a.body.scopes.as_deref())
        .unwrap_or_default()
        .iter()
        .map(|s| s.value.as_str())
        .collect();
    let mut out: Vec<&str> = Vec::new();
    for s in requested.split_whitespace() {
        if (OIDC_SCOPES.contains(&s) || api_scopes.contains(&s)) && !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// The profile and email claims of the ID token (and `/userinfo`) for `scopes`.
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
    /// Signs the tokens of one user grant and, with `offline_access`, stores a refresh token.
    pub async fn issue_user_tokens(
        &self,
        t: &TenantCtx,
        r: UserTokens<'_>,
    ) -> Result<TokenResponse, CoreError> {
        let granted = granted_scopes(r.scope, r.api);
        let now = self.now();
        let userinfo = format!("{}userinfo", t.issuer);
        let (aud, lifetime) = match r.api {
            Some(a) => (
                a.body.identifier.clone().unwrap_or_default(),
                a.body.token_lifetime.unwrap_or(DEFAULT_TOKEN_LIFETIME),
            ),
            None => (userinfo.clone(), DEFAULT_TOKEN_LIFETIME),
        };
        let user_id = &r.user.user_id;
        let client_id = &r.client.client_id;
        let mut at = JsonMap::new();
        at.insert("iss".into(), t.issuer.clone().into());
        at.insert("sub".into(), user_id.clone().into());
        if granted.contains(&"openid") && aud != userinfo {
            at.insert("aud".into(), serde_json::json!([aud, userinfo]));
        } else {
            at.insert("aud".into(), aud.clone().into());
        }
        at.insert("iat".into(), now.into());
        at.insert("exp".into(), (now + lifetime).into());
        at.insert("scope".into(), granted.join(" ").into());
        if let Some(g) = r.gty {
            at.insert("gty".into(), g.into());
        }
        at.insert("azp".into(), client_id.clone().into());
        if let Some(x) = r.extras {
            for (k, v) in &x.access_token {
                at.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        let access_token = self.sign_jwt(t, &at)?;
        let id_token = if granted.contains(&"openid") {
            let id_lifetime = r
                .client
                .body
                .jwt_configuration
                .as_ref()
                .and_then(|j| j.get("lifetime_in_seconds"))
                .and_then(|v| v.as_i64())
                .unwrap_or(DEFAULT_ID_TOKEN_LIFETIME);
            let mut c = id_token_claims(r.user, &granted);
            c.insert("iss".into(), t.issuer.clone().into());
            c.insert("sub".into(), user_id.clone().into());
            c.insert("aud".into(), client_id.clone().into());
            c.insert("iat".into(), now.into());
            c.insert("exp".into(), (now + id_lifetime).into());
            if let Some(at) = r.auth_time {
                c.insert("auth_time".into(), at.into());
            }
            if let Some(n) = r.nonce {
                c.insert("nonce".into(), n.into());
            }
            if let Some(sid) = r.session_id {
                c.insert("sid".into(), sid.into());
            }
            if let Some(x) = r.extras {
                for (k, v) in &x.id_token {
                    c.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
            Some(self.sign_jwt(t, &c)?)
        } else {
            None
        };
        let offline_ok = r.new_refresh_token
            && granted.contains(&"offline_access")
            && r.client.allows_grant("refresh_token")
            && r.api
                .is_none_or(|a| a.body.allow_offline_access == Some(true));
        let refresh_token = if offline_ok {
            Some(
                self.refresh_token_store(
                    t,
                    r.client,
                    user_id,
                    &crate::oidc::refresh::RefreshBody {
                        scope: granted.join(" "),
                        audience: r.api.and_then(|a| a.body.identifier.clone()),
                        connection: r.connection.to_string(),
                        auth_time: r.auth_time,
                        session_id: r.session_id.map(str::to_string),
                    },
                    r.family,
                )
                .await?,
            )
        } else {
            None
        };
        Ok(TokenResponse {
            access_token,
            id_token,
            refresh_token,
            scope: Some(granted.join(" ")),
            expires_in: lifetime,
            token_type: "Bearer".into(),
        })
    }

    /// The API a user token request names, or the tenant's default audience; `None` for the
    /// `/userinfo` audience. An unknown API is Auth0's `access_denied`.
    pub async fn user_token_api(
        &self,
        t: &TenantCtx,
        audience: Option<&str>,
    ) -> Result<Option<ResourceServer>, CoreError> {
        let audience = match audience.filter(|a| !a.is_empty()) {
            Some(a) => Some(a.to_string()),
            None => self.default_audience(t).await?,
        };
        match audience.filter(|a| !a.is_empty()) {
            Some(a) => Ok(Some(
                self.resource_server_by_identifier(t, &a)
                    .await?
                    .ok_or_else(|| {
                        CoreError::oauth(403, "access_denied", format!("Service not found: {a}"))
                    })?,
            )),
            None => Ok(None),
        }
    }
}
