//! Token issuance for a signed-in user, shared by every user grant (password, password-realm,
//! authorization code, refresh token): which scopes are granted, the access token (RS256 JWT
//! for an API or for `/userinfo`), the ID token with `openid`, and a refresh token with
//! `offline_access` when the client and the API allow it.

use crate::Oidc;
use crate::refresh::{RefreshGrantState, family_jti};
use sluice_core::authz::CURRENT_USER_SCOPES;
use sluice_core::clients::StoredClient;
use sluice_core::error::CoreError;
use sluice_core::error::OAuthErrorKind;
use sluice_core::extend::run::LoginExtras;
use sluice_core::resource_servers::DEFAULT_TOKEN_LIFETIME;
use sluice_core::tenant::TenantCtx;
use sluice_crypto::jwt;
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

/// The API scopes a user's token may carry for `api`, before Rules and Actions: for the
/// Management API only the current-user scopes (never an administrative one, whatever is
/// asked); for an API with RBAC on (`enforce_policies`) the user's permissions, which are
/// none until roles and permissions exist (TODO-security: intersect with them then); for any
/// other API the scopes it defines.
fn api_scopes_for_users(api: Option<&ResourceServer>) -> Vec<&str> {
    match api {
        None => Vec::new(),
        Some(a) if a.is_system => CURRENT_USER_SCOPES.to_vec(),
        Some(a) if a.body.enforce_policies == Some(true) => Vec::new(),
        Some(a) => a
            .body
            .scopes
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(|s| s.value.as_str())
            .collect(),
    }
}

/// The requested scopes the user's token may have: identity scopes and what
/// [`api_scopes_for_users`] allows, in the order asked, without duplicates. `offline_access`
/// only for an API that allows offline access (as Auth0, which drops it otherwise).
pub fn granted_scopes<'s>(requested: &'s str, api: Option<&ResourceServer>) -> Vec<&'s str> {
    let api_scopes = api_scopes_for_users(api);
    let offline = api.is_none_or(|a| a.body.allow_offline_access == Some(true));
    let mut out: Vec<&str> = Vec::new();
    for s in requested.split_whitespace() {
        let allowed = if s == "offline_access" {
            offline
        } else {
            OIDC_SCOPES.contains(&s) || api_scopes.contains(&s)
        };
        if allowed && !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// The access token's scopes: the granted ones as Rules (`context.accessToken.scope`) and
/// Actions (`api.accessToken.addScope/removeScope`) changed them. The Management API takes
/// no administrative scope from them either: those are returned as the second list (dropped).
pub fn access_token_scopes(
    granted: &[&str],
    api: Option<&ResourceServer>,
    extras: Option<&LoginExtras>,
) -> (Vec<String>, Vec<String>) {
    let mut out: Vec<String> = match extras.and_then(|x| x.scope.as_ref()) {
        Some(replaced) => replaced.clone(),
        None => granted.iter().map(|s| s.to_string()).collect(),
    };
    if let Some(x) = extras {
        for s in &x.scopes_added {
            if !out.contains(s) {
                out.push(s.clone());
            }
        }
        out.retain(|s| !x.scopes_removed.contains(s));
    }
    let mut dropped = Vec::new();
    if api.is_some_and(|a| a.is_system) {
        out.retain(|s| {
            let ok = OIDC_SCOPES.contains(&s.as_str()) || CURRENT_USER_SCOPES.contains(&s.as_str());
            if !ok {
                dropped.push(s.clone());
            }
            ok
        });
    }
    let mut seen = Vec::new();
    out.retain(|s| {
        let new = !seen.contains(s);
        seen.push(s.clone());
        new
    });
    (out, dropped)
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

impl Oidc {
    /// Signs the tokens of one user grant and, with `offline_access`, stores a refresh token.
    pub async fn issue_user_tokens(
        &self,
        t: &TenantCtx,
        r: UserTokens<'_>,
    ) -> Result<TokenResponse, CoreError> {
        let granted = granted_scopes(r.scope, r.api);
        let (scope, dropped) = access_token_scopes(&granted, r.api, r.extras);
        if !dropped.is_empty() {
            self.core.log_event(
                t,
                sluice_core::logs::LogEvent {
                    log_type: "w",
                    description: format!(
                        "Scopes dropped from a user's Management API token (only current-user scopes are allowed): {}",
                        dropped.join(" ")
                    ),
                    user_id: Some(r.user.user_id.clone()),
                    client_id: Some(r.client.client_id.clone()),
                    ..Default::default()
                },
            )
            .await;
        }
        let scope = scope.join(" ");
        let offline_ok = r.new_refresh_token
            && granted.contains(&"offline_access")
            && r.client.allows_grant("refresh_token")
            && r.api
                .is_none_or(|a| a.body.allow_offline_access == Some(true));
        // The family the tokens belong to (a code's, a refresh chain's, or a new chain's):
        // named in the access token's `jti` so that revoking the family reaches it.
        let family = match (r.family, offline_ok) {
            (Some(f), _) => Some(f),
            (None, true) => Some(RefreshGrantState {
                family: sluice_crypto::random::random_hex(24),
                absolute_expiry: None,
            }),
            (None, false) => None,
        };
        let now = self.core.now();
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
        at.insert("scope".into(), scope.clone().into());
        if let Some(g) = r.gty {
            at.insert("gty".into(), g.into());
        }
        at.insert("azp".into(), client_id.clone().into());
        at.insert(
            "jti".into(),
            match &family {
                Some(f) => family_jti(&f.family),
                None => sluice_crypto::random::random_hex(16),
            }
            .into(),
        );
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
        let refresh_token = if offline_ok {
            Some(
                self.refresh_token_store(
                    t,
                    r.client,
                    user_id,
                    &crate::refresh::RefreshBody {
                        scope: scope.clone(),
                        audience: r.api.and_then(|a| a.body.identifier.clone()),
                        connection: r.connection.to_string(),
                        auth_time: r.auth_time,
                        session_id: r.session_id.map(str::to_string),
                    },
                    family,
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
            scope: Some(scope),
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
            None => self.core.default_audience(t).await?,
        };
        match audience.filter(|a| !a.is_empty()) {
            Some(a) => Ok(Some(
                self.core
                    .resource_server_by_identifier(t, &a)
                    .await?
                    .ok_or_else(|| {
                        CoreError::oauth(
                            OAuthErrorKind::AccessDenied,
                            format!("Service not found: {a}"),
                        )
                    })?,
            )),
            None => Ok(None),
        }
    }
}

impl Oidc {
    /// Signs a compact RS256 JWT with the tenant's current key.
    pub fn sign_jwt(&self, t: &TenantCtx, claims: &JsonMap) -> Result<String, CoreError> {
        Ok(jwt::sign(&t.signing, claims)?)
    }
}
