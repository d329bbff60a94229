//! Security properties over real HTTP, each test named after the property it protects. The
//! threat model in docs/security.md says which actor each boundary keeps out and points here.
//!
//! - `mgmt_tokens`: end users never get administrator power through the Management API, and a
//!   user's token acts only on that user; no extension or grant widens what a token carries.
//! - `fail_closed`: what Sluice does not implement (MFA, redirects, consent, request objects)
//!   refuses the login instead of skipping the step; no extension locks administrators out.
//! - `identities`: a login never yields another connection's user.
//! - `edges`: client-controlled headers and characters; code replay revokes its tokens.

use crate::support;

#[path = "security/edges.rs"]
mod edges;
#[path = "security/fail_closed.rs"]
mod fail_closed;
#[path = "security/identities.rs"]
mod identities;
#[path = "security/mgmt_tokens.rs"]
mod mgmt_tokens;

use serde_json::{Value, json};
use sluice_crypto::jwt;
use sluice_testkit::TestServer;

pub const PASSWORD_REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";
pub const CALLBACK: &str = "https://spa.example.com/callback";

/// Every administrative scope an attacker would ask for, and the current-user ones.
pub const GREEDY_SCOPE: &str = "openid read:users update:users delete:users create:users create:clients update:clients read:client_keys create:client_grants update:tenant_settings read:current_user update:current_user_metadata";

pub async fn post(s: &TestServer, tok: &str, path: &str, body: Value) -> Value {
    let (st, v) = s.call("POST", path, Some(tok), Some(body)).await;
    assert!((200..=202).contains(&st), "{path}: {st} {v}");
    v
}

/// A public SPA client (no secret; password-realm, code and refresh grants) and a signup-open
/// Auth0-managed connection `db` enabled for it: what any tenant with a SPA looks like.
pub async fn public_spa(s: &TestServer, tok: &str) -> String {
    let c = post(
        s,
        tok,
        "/api/v2/clients",
        json!({"name": "spa", "app_type": "spa", "token_endpoint_auth_method": "none",
               "callbacks": [CALLBACK],
               "grant_types": [PASSWORD_REALM, "authorization_code", "refresh_token"]}),
    )
    .await;
    let id = c["client_id"].as_str().unwrap().to_string();
    post(
        s,
        tok,
        "/api/v2/connections",
        json!({"name": "db", "strategy": "auth0", "enabled_clients": [id],
               "options": {"passwordPolicy": "none"}}),
    )
    .await;
    id
}

/// `POST /dbconnections/signup`: anyone on the internet can do this with the SPA's id.
pub async fn sign_up(s: &TestServer, client_id: &str, email: &str, password: &str) -> String {
    let (st, u) = support::signup(s, client_id, "db", email, password).await;
    assert_eq!(st, 200, "{u}");
    format!("auth0|{}", u["_id"].as_str().unwrap())
}

/// A password-realm token request from a public client.
pub async fn user_token(
    s: &TestServer,
    client_id: &str,
    email: &str,
    password: &str,
    audience: &str,
    scope: &str,
) -> (u16, Value) {
    let r = s
        .http
        .post(format!("{}/oauth/token", s.url))
        .form(&[
            ("grant_type", PASSWORD_REALM),
            ("client_id", client_id),
            ("realm", "db"),
            ("username", email),
            ("password", password),
            ("audience", audience),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

pub fn claims(token: &str) -> serde_json::Map<String, Value> {
    jwt::decode_unverified(token).unwrap().1
}

pub fn scopes_of(token: &str) -> Vec<String> {
    claims(token)["scope"]
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

pub fn mgmt_audience(s: &TestServer) -> String {
    format!("{}/api/v2/", s.url)
}

pub fn enc(id: &str) -> String {
    id.replace('|', "%7C")
}

/// Creates, deploys and binds an action to `trigger`.
pub async fn bind_action(s: &TestServer, tok: &str, trigger: &str, name: &str, code: &str) {
    let version = if trigger == "post-login" { "v3" } else { "v2" };
    let a = post(
        s,
        tok,
        "/api/v2/actions/actions",
        json!({"name": name, "supported_triggers": [{"id": trigger, "version": version}], "code": code}),
    )
    .await;
    let id = a["id"].as_str().unwrap();
    post(
        s,
        tok,
        &format!("/api/v2/actions/actions/{id}/deploy"),
        json!({}),
    )
    .await;
    let (st, b) = s
        .call(
            "PATCH",
            &format!("/api/v2/actions/triggers/{trigger}/bindings"),
            Some(tok),
            Some(json!({"bindings": [{"ref": {"type": "action_id", "value": id}, "display_name": name}]})),
        )
        .await;
    assert_eq!(st, 200, "{b}");
}

/// The newest tenant log events (newest first).
pub async fn logs(s: &TestServer, tok: &str) -> Vec<Value> {
    let (st, l) = s
        .call("GET", "/api/v2/logs?per_page=100", Some(tok), None)
        .await;
    assert_eq!(st, 200, "{l}");
    l.as_array().cloned().unwrap_or_default()
}
