//! The seed's security scenario, end to end. The legacy identity store sits behind an HTTP API
//! (a fixture here) that accepts only Sluice access tokens for audience `legacy-api`. A custom
//! database connection's `login`/`get_user` scripts get such a token with the client-credentials
//! grant from Sluice itself, cache it in `global`, and call the API. A Hook (variant 1) or an
//! Action (variant 2) lets only the migration client obtain `legacy-api` tokens, and a Rule
//! (variant 1) or a post-login Action (variant 2) refuses users who ask `/authorize` for it.

use crate::support;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use sluice_crypto::jwt;
use sluice_testkit::TestServer;
use std::sync::{Arc, Mutex};
use support::browser::{Browser, hidden, param, pkce};

#[derive(Clone)]
struct Api {
    tenant: Arc<sluice_core::TenantCtx>,
    /// Requests served, and the highest token-fetch count a script reported.
    seen: Arc<Mutex<(u32, u32)>>,
}

fn authorized(api: &Api, headers: &HeaderMap) -> bool {
    let Some(token) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    #[allow(clippy::disallowed_methods)] // the API checks tokens against real time
    let v = jwt::Validation {
        issuer: &api.tenant.issuer,
        audience: "legacy-api",
        now: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
        leeway: 5,
    };
    jwt::verify(token, &api.tenant.verifying, &v).is_ok()
}

async fn api_login(
    State(api): State<Api>,
    headers: HeaderMap,
    Json(b): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if !authorized(&api, &headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "bad token"})),
        );
    }
    let fetches: u32 = headers
        .get("x-token-fetches")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    {
        let mut seen = api.seen.lock().unwrap();
        seen.0 += 1;
        seen.1 = seen.1.max(fetches);
    }
    match (b["email"].as_str(), b["password"].as_str()) {
        (Some("ada@legacy.test"), Some("pw-ada")) => (
            StatusCode::OK,
            Json(json!({"id": "L-1", "email": "ada@legacy.test", "name": "Ada"})),
        ),
        _ => (
            StatusCode::FORBIDDEN,
            Json(json!({"error": "wrong credentials"})),
        ),
    }
}

const LOGIN: &str = r#"async function login(email, password, callback) {
  async function token() {
    if (global.legacyToken && global.legacyToken.expires_at > Date.now() + 60000) return global.legacyToken.value;
    global.tokenFetches = (global.tokenFetches || 0) + 1;
    const r = await fetch(configuration.TOKEN_URL, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: configuration.CLIENT_ID,
                             client_secret: configuration.CLIENT_SECRET, audience: 'legacy-api' }) });
    const t = await r.json();
    if (!r.ok) throw new Error('token request failed: ' + t.error);
    global.legacyToken = { value: t.access_token, expires_at: Date.now() + t.expires_in * 1000 };
    return t.access_token;
  }
  const res = await fetch(configuration.API + '/login', { method: 'POST',
    headers: { authorization: 'Bearer ' + await token(), 'content-type': 'application/json',
               'x-token-fetches': String(global.tokenFetches) },
    body: JSON.stringify({ email: email, password: password }) });
  if (res.status === 403) return callback(new WrongUsernameOrPasswordError(email));
  if (!res.ok) return callback(new Error('legacy api answered ' + res.status));
  const u = await res.json();
  callback(null, { user_id: u.id, email: u.email, name: u.name });
}"#;

const GET_USER: &str = "function getUser(email, callback) { callback(null, null); }";

enum Variant {
    HookAndRule,
    Actions,
}

async fn scenario(variant: Variant) {
    let s = TestServer::start("sqlite").await;
    let tok = s.mgmt_token().await;
    let tenant = s.core().tenant("default").await.unwrap();
    let api = Api {
        tenant,
        seen: Arc::new(Mutex::new((0, 0))),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api_url = format!("http://{}", listener.local_addr().unwrap());
    let router = Router::new()
        .route("/login", post(api_login))
        .with_state(api.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let call = |m: &'static str, p: String, b: Option<Value>| {
        let (s, tok) = (&s, tok.clone());
        async move { s.call(m, &p, Some(&tok), b).await }
    };
    let (st, _) = call("POST", "/api/v2/resource-servers".into(), Some(json!({"name": "Legacy", "identifier": "legacy-api", "scopes": [{"value": "read:users"}]}))).await;
    assert_eq!(st, 201);
    let mut m2m = Vec::new();
    for name in ["migration", "other"] {
        let (st, c) = call("POST", "/api/v2/clients".into(), Some(json!({"name": name, "app_type": "non_interactive", "grant_types": ["client_credentials"]}))).await;
        assert_eq!(st, 201);
        let id = c["client_id"].as_str().unwrap().to_string();
        let (st, _) = call(
            "POST",
            "/api/v2/client-grants".into(),
            Some(json!({"client_id": id, "audience": "legacy-api", "scope": ["read:users"]})),
        )
        .await;
        assert_eq!(st, 201);
        m2m.push((id, c["client_secret"].as_str().unwrap().to_string()));
    }
    let (st, app) = call("POST", "/api/v2/clients".into(), Some(json!({"name": "web", "callbacks": ["https://app.test/cb"],
        "grant_types": ["authorization_code", "http://auth0.com/oauth/grant-type/password-realm"]}))).await;
    assert_eq!(st, 201);
    let app = (
        app["client_id"].as_str().unwrap().to_string(),
        app["client_secret"].as_str().unwrap().to_string(),
    );
    let (st, c) = call(
        "POST",
        "/api/v2/connections".into(),
        Some(
            json!({"name": "legacy", "strategy": "auth0", "enabled_clients": [app.0],
        "options": {"enabledDatabaseCustomization": true, "import_mode": false,
                    "customScripts": {"login": LOGIN, "get_user": GET_USER},
                    "configuration": {"TOKEN_URL": format!("{}/oauth/token", s.url), "API": api_url,
                                      "CLIENT_ID": m2m[0].0, "CLIENT_SECRET": m2m[0].1}}}),
        ),
    )
    .await;
    assert_eq!(st, 201, "{c}");

    match variant {
        Variant::HookAndRule => {
            let (st, h) = call("POST", "/api/v2/hooks".into(), Some(json!({"name": "legacy-api-guard", "triggerId": "credentials-exchange", "enabled": true,
                "script": "module.exports = function (client, scope, audience, context, cb) {\n  if (audience === 'legacy-api' && client.id !== context.webtask.secrets.MIGRATION_CLIENT) return cb(new UnauthorizedError('legacy-api is for the migration client only'));\n  cb(null, { scope: scope });\n};"}))).await;
            assert_eq!(st, 201, "{h}");
            let (st, _) = call(
                "POST",
                format!("/api/v2/hooks/{}/secrets", h["id"].as_str().unwrap()),
                Some(json!({"MIGRATION_CLIENT": m2m[0].0})),
            )
            .await;
            assert!(st == 200 || st == 201);
            let (st, _) = call("POST", "/api/v2/rules".into(), Some(json!({"name": "no-legacy-api-for-users", "enabled": true,
                "script": "function (user, context, callback) {\n  if (context.request.query.audience === 'legacy-api') return callback(new UnauthorizedError('legacy-api is not for users'));\n  callback(null, user, context);\n}"}))).await;
            assert_eq!(st, 201);
        }
        Variant::Actions => {
            for (trigger, version, code) in [
                (
                    "credentials-exchange",
                    "v2",
                    "exports.onExecuteCredentialsExchange = async (event, api) => {\n  if (event.resource_server.identifier === 'legacy-api' && event.client.client_id !== event.secrets.MIGRATION_CLIENT) api.access.deny('invalid_request', 'legacy-api is for the migration client only');\n};",
                ),
                (
                    "post-login",
                    "v3",
                    "exports.onExecutePostLogin = async (event, api) => {\n  if (event.request.query.audience === 'legacy-api') api.access.deny('legacy-api is not for users');\n};",
                ),
            ] {
                let (st, a) = call(
                    "POST",
                    "/api/v2/actions/actions".into(),
                    Some(json!({"name": format!("guard-{trigger}"),
                    "supported_triggers": [{"id": trigger, "version": version}], "code": code,
                    "secrets": [{"name": "MIGRATION_CLIENT", "value": m2m[0].0}]})),
                )
                .await;
                assert_eq!(st, 201, "{a}");
                let id = a["id"].as_str().unwrap().to_string();
                let (st, _) = call(
                    "POST",
                    format!("/api/v2/actions/actions/{id}/deploy"),
                    Some(json!({})),
                )
                .await;
                assert_eq!(st, 202, "Auth0 answers 202 Accepted to a deploy");
                let (st, b) = call(
                    "PATCH",
                    format!("/api/v2/actions/triggers/{trigger}/bindings"),
                    Some(json!({"bindings": [{"ref": {"type": "action_id", "value": id}}]})),
                )
                .await;
                assert_eq!(st, 200, "{b}");
            }
        }
    }

    // Logins work and reuse the cached token: one token request for many logins.
    for _ in 0..5 {
        let (st, t) =
            support::login(&s, &app, "legacy", "ada@legacy.test", "pw-ada", "openid").await;
        assert_eq!(st, 200, "{t}");
    }
    assert_eq!(
        support::login(&s, &app, "legacy", "ada@legacy.test", "nope", "openid")
            .await
            .0,
        403
    );
    let (served, fetches) = *api.seen.lock().unwrap();
    assert_eq!(served, 6, "every login reached the legacy API");
    assert_eq!(fetches, 1, "one token request served every login");

    // Another client asking for legacy-api is denied.
    let r = s.http.post(format!("{}/oauth/token", s.url))
        .json(&json!({"grant_type": "client_credentials", "client_id": m2m[1].0, "client_secret": m2m[1].1, "audience": "legacy-api"}))
        .send().await.unwrap();
    assert_eq!(r.status(), 403);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["error_description"]
            .as_str()
            .unwrap()
            .contains("migration client only"),
        "{e}"
    );

    // A user asking /authorize for legacy-api is refused, back at the application.
    let (_, challenge) = pkce();
    let mut b = Browser::new();
    let r = b.get(&format!("{}/authorize?response_type=code&client_id={}&redirect_uri=https%3A%2F%2Fapp.test%2Fcb&scope=openid&audience=legacy-api&state=z&code_challenge={challenge}&code_challenge_method=S256", s.url, app.0)).await;
    let page = format!("{}{}", s.url, r.location.expect("to the login page"));
    let form = b.get(&page).await;
    let csrf = hidden(&form.body, "csrf").unwrap();
    let r = b
        .post_form(
            &page,
            &[
                ("csrf", &csrf),
                ("username", "ada@legacy.test"),
                ("password", "pw-ada"),
            ],
        )
        .await;
    let back = r.location.expect("back to the application");
    assert!(back.starts_with("https://app.test/cb"), "{back}");
    assert!(param(&back, "code").is_none());
    assert!(
        param(&back, "error_description")
            .unwrap()
            .contains("legacy-api is not for users"),
        "{back}"
    );
    assert_eq!(param(&back, "state").as_deref(), Some("z"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hook_and_a_rule_keep_legacy_api_tokens_for_the_migration_client() {
    scenario(Variant::HookAndRule).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn actions_keep_legacy_api_tokens_for_the_migration_client() {
    scenario(Variant::Actions).await;
}
