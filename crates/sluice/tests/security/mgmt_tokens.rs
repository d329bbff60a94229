//! End users and the Management API: a user's token carries only the current-user scopes and
//! acts only on that user, whichever grant, extension or policy is involved.

use super::support::browser::{Browser, hidden, param, pkce};
use super::*;

async fn self_signed_up_user_gets_only_current_user_scopes(backend: &str) {
    let s = TestServer::start(backend).await;
    let admin = s.mgmt_token().await;
    let spa = public_spa(&s, &admin).await;
    let owner = post(
        &s,
        &admin,
        "/api/v2/users",
        json!({"connection": "db", "email": "owner@example.com", "password": "owner-pw"}),
    )
    .await["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let me = sign_up(&s, &spa, "mallory@example.com", "mallory-pw").await;

    let (st, t) = user_token(
        &s,
        &spa,
        "mallory@example.com",
        "mallory-pw",
        &mgmt_audience(&s),
        GREEDY_SCOPE,
    )
    .await;
    assert_eq!(st, 200, "{t}");
    let tok = t["access_token"].as_str().unwrap();
    assert_eq!(
        scopes_of(tok),
        [
            "openid",
            "read:current_user",
            "update:current_user_metadata"
        ],
        "administrative scopes are dropped, never granted"
    );
    assert_eq!(
        t["scope"],
        "openid read:current_user update:current_user_metadata"
    );

    // Nothing administrative answers.
    for (method, path, body) in [
        ("GET", "/api/v2/users".to_string(), None),
        (
            "POST",
            "/api/v2/clients".to_string(),
            Some(json!({"name": "backdoor"})),
        ),
        (
            "PATCH",
            format!("/api/v2/users/{}", enc(&owner)),
            Some(json!({"password": "pwned-by-mallory"})),
        ),
        (
            "PATCH",
            format!("/api/v2/users/{}", enc(&owner)),
            Some(json!({"user_metadata": {"x": 1}})),
        ),
        ("GET", format!("/api/v2/users/{}", enc(&owner)), None),
        ("DELETE", format!("/api/v2/users/{}", enc(&owner)), None),
        (
            "GET",
            "/api/v2/users-by-email?email=owner%40example.com".to_string(),
            None,
        ),
    ] {
        let (st, e) = s.call(method, &path, Some(tok), body).await;
        assert_eq!(st, 403, "{method} {path}: {e}");
    }
    // The owner's password still works; Mallory's attempt changed nothing.
    let (st, _) = s
        .call(
            "GET",
            &format!("/api/v2/users/{}", enc(&owner)),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(st, 200);

    // Her own record: readable, and only its user_metadata writable.
    let (st, u) = s
        .call(
            "GET",
            &format!("/api/v2/users/{}", enc(&me)),
            Some(tok),
            None,
        )
        .await;
    assert_eq!(
        (st, u["email"].as_str()),
        (200, Some("mallory@example.com"))
    );
    let (st, u) = s
        .call(
            "PATCH",
            &format!("/api/v2/users/{}", enc(&me)),
            Some(tok),
            Some(json!({"user_metadata": {"theme": "dark"}})),
        )
        .await;
    assert_eq!((st, &u["user_metadata"]), (200, &json!({"theme": "dark"})));
    for body in [
        json!({"app_metadata": {"roles": ["admin"]}}),
        json!({"password": "new-password"}),
        json!({"email": "other@example.com"}),
        json!({"blocked": false}),
        json!({"email_verified": true}),
    ] {
        let (st, e) = s
            .call(
                "PATCH",
                &format!("/api/v2/users/{}", enc(&me)),
                Some(tok),
                Some(body.clone()),
            )
            .await;
        assert_eq!(st, 403, "{body}: {e}");
    }
}
sluice_store::both_backends!(
    a_self_signed_up_user_never_gets_administrative_management_scopes,
    self_signed_up_user_gets_only_current_user_scopes
);

#[tokio::test(flavor = "multi_thread")]
async fn the_code_flow_cannot_mint_administrative_management_tokens() {
    let s = TestServer::start("sqlite").await;
    let admin = s.mgmt_token().await;
    let spa = public_spa(&s, &admin).await;
    sign_up(&s, &spa, "mallory@example.com", "mallory-pw").await;
    let (verifier, challenge) = pkce();
    let enc_q =
        |v: &str| -> String { url::form_urlencoded::byte_serialize(v.as_bytes()).collect() };
    let url = format!(
        "{}/authorize?response_type=code&client_id={spa}&redirect_uri={}&scope={}&audience={}&state=s&code_challenge={challenge}&code_challenge_method=S256",
        s.url,
        enc_q(CALLBACK),
        enc_q(&format!("{GREEDY_SCOPE} offline_access")),
        enc_q(&mgmt_audience(&s)),
    );
    let mut b = Browser::new();
    let r = b.get(&url).await;
    assert_eq!(r.status, 302, "{}", r.body);
    let login = format!("{}{}", s.url, r.location.unwrap());
    let page = b.get(&login).await;
    let csrf = hidden(&page.body, "csrf").expect("csrf");
    let r = b
        .post_form(
            &login,
            &[
                ("csrf", &csrf),
                ("username", "mallory@example.com"),
                ("password", "mallory-pw"),
            ],
        )
        .await;
    let back = r.location.expect("back to the app");
    let code = param(&back, "code").unwrap_or_else(|| panic!("{back}"));
    let r = s
        .http
        .post(format!("{}/oauth/token", s.url))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", spa.as_str()),
            ("code", code.as_str()),
            ("redirect_uri", CALLBACK),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let t: Value = r.json().await.unwrap();
    let tok = t["access_token"].as_str().unwrap();
    assert_eq!(
        scopes_of(tok),
        [
            "openid",
            "read:current_user",
            "update:current_user_metadata"
        ]
    );
    assert!(
        t.get("refresh_token").is_none(),
        "the Management API allows no offline access"
    );
    let (st, _) = s.call("GET", "/api/v2/users", Some(tok), None).await;
    assert_eq!(st, 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn rules_and_actions_cannot_add_administrative_scopes_to_a_users_management_token() {
    let s = TestServer::start("sqlite").await;
    let admin = s.mgmt_token().await;
    let spa = public_spa(&s, &admin).await;
    sign_up(&s, &spa, "mallory@example.com", "mallory-pw").await;
    post(
        &s,
        &admin,
        "/api/v2/resource-servers",
        json!({"identifier": "https://orders.example.com", "name": "orders",
        "scopes": [{"value": "read:orders"}]}),
    )
    .await;
    post(&s, &admin, "/api/v2/rules", json!({"name": "scopes", "enabled": true, "order": 1,
        "script": "function (user, context, callback) {\n  context.accessToken.scope = ['openid', 'read:users', 'delete:users', 'read:current_user'];\n  callback(null, user, context);\n}"})).await;
    bind_action(&s, &admin, "post-login", "scopes",
        "exports.onExecutePostLogin = async (event, api) => {\n  api.accessToken.addScope('create:clients');\n  api.accessToken.addScope('write:orders');\n};").await;

    let (st, t) = user_token(
        &s,
        &spa,
        "mallory@example.com",
        "mallory-pw",
        &mgmt_audience(&s),
        "openid read:current_user",
    )
    .await;
    assert_eq!(st, 200, "{t}");
    let tok = t["access_token"].as_str().unwrap();
    assert_eq!(scopes_of(tok), ["openid", "read:current_user"]);
    for (m, p) in [("GET", "/api/v2/users"), ("POST", "/api/v2/clients")] {
        let (st, _) = s.call(m, p, Some(tok), Some(json!({"name": "x"}))).await;
        assert_eq!(st, 403, "{m} {p}");
    }
    let dropped = logs(&s, &admin).await.into_iter().any(|l| {
        l["type"] == "w"
            && l["description"]
                .as_str()
                .is_some_and(|d| d.contains("read:users") && d.contains("create:clients"))
    });
    assert!(dropped, "the dropped scopes are in the tenant log");

    // For the tenant's own APIs, Rules and Actions do decide the scopes (as in Auth0).
    let (st, t) = user_token(
        &s,
        &spa,
        "mallory@example.com",
        "mallory-pw",
        "https://orders.example.com",
        "openid read:orders",
    )
    .await;
    assert_eq!(st, 200, "{t}");
    let got = scopes_of(t["access_token"].as_str().unwrap());
    assert!(got.contains(&"write:orders".to_string()), "{got:?}");
    assert!(got.contains(&"read:users".to_string()), "{got:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_rbac_api_grants_users_only_permitted_scopes_and_refresh_never_widens() {
    let s = TestServer::start("sqlite").await;
    let admin = s.mgmt_token().await;
    let spa = public_spa(&s, &admin).await;
    sign_up(&s, &spa, "ada@example.com", "ada-pw").await;
    post(
        &s,
        &admin,
        "/api/v2/resource-servers",
        json!({"identifier": "https://rbac.example.com", "name": "rbac",
        "enforce_policies": true, "scopes": [{"value": "admin:all"}]}),
    )
    .await;
    post(
        &s,
        &admin,
        "/api/v2/resource-servers",
        json!({"identifier": "https://open.example.com", "name": "open",
        "allow_offline_access": true, "scopes": [{"value": "read:a"}, {"value": "read:b"}]}),
    )
    .await;

    // RBAC on and no permission given to the user: asking is not enough.
    let (st, t) = user_token(
        &s,
        &spa,
        "ada@example.com",
        "ada-pw",
        "https://rbac.example.com",
        "openid admin:all",
    )
    .await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(scopes_of(t["access_token"].as_str().unwrap()), ["openid"]);

    // RBAC off: the API's own scopes, only those asked, and undefined ones never.
    let (st, t) = user_token(
        &s,
        &spa,
        "ada@example.com",
        "ada-pw",
        "https://open.example.com",
        "openid offline_access read:a made:up",
    )
    .await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(
        scopes_of(t["access_token"].as_str().unwrap()),
        ["openid", "offline_access", "read:a"]
    );
    let rt = t["refresh_token"].as_str().expect("a refresh token");
    let refresh = |scope: &'static str, rt: String| {
        let (s, spa) = (&s, spa.clone());
        async move {
            let r = s
                .http
                .post(format!("{}/oauth/token", s.url))
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("client_id", spa.as_str()),
                    ("refresh_token", rt.as_str()),
                    ("scope", scope),
                ])
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (st, e) = refresh("openid read:a read:b", rt.to_string()).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (403, Some("invalid_scope")),
        "{e}"
    );
    let (st, t) = refresh("openid read:a", rt.to_string()).await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(
        scopes_of(t["access_token"].as_str().unwrap()),
        ["openid", "read:a"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_exchange_hooks_cannot_widen_a_management_token_past_its_grant() {
    let s = TestServer::start("sqlite").await;
    let admin = s.mgmt_token().await;
    let c = post(
        &s,
        &admin,
        "/api/v2/clients",
        json!({"name": "reader", "app_type": "non_interactive", "grant_types": ["client_credentials"]}),
    )
    .await;
    let (id, secret) = (
        c["client_id"].as_str().unwrap().to_string(),
        c["client_secret"].as_str().unwrap().to_string(),
    );
    post(
        &s,
        &admin,
        "/api/v2/client-grants",
        json!({"client_id": id, "audience": mgmt_audience(&s), "scope": ["read:users", "read:clients"]}),
    )
    .await;
    post(&s, &admin, "/api/v2/hooks", json!({"name": "widen", "triggerId": "credentials-exchange", "enabled": true,
        "script": "module.exports = function (client, scope, audience, context, cb) {\n  cb(null, { scope: ['read:users', 'delete:users', 'create:clients'] });\n};"})).await;
    let tok = s.token_for(&id, &secret, &mgmt_audience(&s), None).await;
    assert_eq!(scopes_of(&tok), ["read:users"], "narrowed, never widened");
    let (st, _) = s
        .call("DELETE", "/api/v2/users/auth0%7Cnope", Some(&tok), None)
        .await;
    assert_eq!(st, 403);
}
