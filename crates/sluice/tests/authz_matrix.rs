//! The Management API authorization matrix: every route called without a token, with a token
//! lacking its scope, and with another tenant's token must be refused; with the right scope it
//! must not be. The coverage test fails when the server exposes a route the matrix lacks.

use serde_json::{Value, json};
use sluice::config::TenantEntry;
use sluice_core::authz::MGMT_SCOPES;
use sluice_testkit::{BOOTSTRAP_ID, BOOTSTRAP_SECRET, TestServer};
use std::collections::BTreeSet;

/// (method, path template, path to call, scopes any one of which allows it)
const MATRIX: &[(&str, &str, &str, &[&str])] = &[
    (
        "GET",
        "/api/v2/clients",
        "/api/v2/clients",
        &["read:clients", "read:client_keys"],
    ),
    (
        "POST",
        "/api/v2/clients",
        "/api/v2/clients",
        &["create:clients"],
    ),
    (
        "GET",
        "/api/v2/clients/{id}",
        "/api/v2/clients/nope",
        &["read:clients", "read:client_keys"],
    ),
    (
        "PATCH",
        "/api/v2/clients/{id}",
        "/api/v2/clients/nope",
        &["update:clients"],
    ),
    (
        "DELETE",
        "/api/v2/clients/{id}",
        "/api/v2/clients/nope",
        &["delete:clients"],
    ),
    (
        "POST",
        "/api/v2/clients/{id}/rotate-secret",
        "/api/v2/clients/nope/rotate-secret",
        &["update:client_keys"],
    ),
    (
        "GET",
        "/api/v2/connections",
        "/api/v2/connections",
        &["read:connections"],
    ),
    (
        "POST",
        "/api/v2/connections",
        "/api/v2/connections",
        &["create:connections"],
    ),
    (
        "GET",
        "/api/v2/connections/{id}",
        "/api/v2/connections/con_nope",
        &["read:connections"],
    ),
    (
        "PATCH",
        "/api/v2/connections/{id}",
        "/api/v2/connections/con_nope",
        &["update:connections"],
    ),
    (
        "DELETE",
        "/api/v2/connections/{id}",
        "/api/v2/connections/con_nope",
        &["delete:connections"],
    ),
    (
        "GET",
        "/api/v2/connections/{id}/migration",
        "/api/v2/connections/con_nope/migration",
        &["read:connections"],
    ),
    (
        "GET",
        "/api/v2/resource-servers",
        "/api/v2/resource-servers",
        &["read:resource_servers"],
    ),
    (
        "POST",
        "/api/v2/resource-servers",
        "/api/v2/resource-servers",
        &["create:resource_servers"],
    ),
    (
        "GET",
        "/api/v2/resource-servers/{id}",
        "/api/v2/resource-servers/nope",
        &["read:resource_servers"],
    ),
    (
        "PATCH",
        "/api/v2/resource-servers/{id}",
        "/api/v2/resource-servers/nope",
        &["update:resource_servers"],
    ),
    (
        "DELETE",
        "/api/v2/resource-servers/{id}",
        "/api/v2/resource-servers/nope",
        &["delete:resource_servers"],
    ),
    (
        "GET",
        "/api/v2/client-grants",
        "/api/v2/client-grants",
        &["read:client_grants"],
    ),
    (
        "POST",
        "/api/v2/client-grants",
        "/api/v2/client-grants",
        &["create:client_grants"],
    ),
    (
        "PATCH",
        "/api/v2/client-grants/{id}",
        "/api/v2/client-grants/cgr_nope",
        &["update:client_grants"],
    ),
    (
        "DELETE",
        "/api/v2/client-grants/{id}",
        "/api/v2/client-grants/cgr_nope",
        &["delete:client_grants"],
    ),
    ("GET", "/api/v2/users", "/api/v2/users", &["read:users"]),
    ("POST", "/api/v2/users", "/api/v2/users", &["create:users"]),
    (
        "GET",
        "/api/v2/users/{id}",
        "/api/v2/users/auth0%7Cnope",
        &["read:users"],
    ),
    (
        "PATCH",
        "/api/v2/users/{id}",
        "/api/v2/users/auth0%7Cnope",
        &["update:users", "update:users_app_metadata"],
    ),
    (
        "DELETE",
        "/api/v2/users/{id}",
        "/api/v2/users/auth0%7Cnope",
        &["delete:users"],
    ),
    (
        "GET",
        "/api/v2/users-by-email",
        "/api/v2/users-by-email?email=a%40b.c",
        &["read:users"],
    ),
    (
        "GET",
        "/api/v2/tenants/settings",
        "/api/v2/tenants/settings",
        &["read:tenant_settings"],
    ),
    (
        "PATCH",
        "/api/v2/tenants/settings",
        "/api/v2/tenants/settings",
        &["update:tenant_settings"],
    ),
    ("GET", "/api/v2/logs", "/api/v2/logs", &["read:logs"]),
    (
        "GET",
        "/api/v2/logs/{id}",
        "/api/v2/logs/nope",
        &["read:logs"],
    ),
    (
        "GET",
        "/api/v2/user-blocks",
        "/api/v2/user-blocks?identifier=a%40b.c",
        &["read:users"],
    ),
    (
        "DELETE",
        "/api/v2/user-blocks",
        "/api/v2/user-blocks?identifier=a%40b.c",
        &["update:users"],
    ),
    (
        "GET",
        "/api/v2/user-blocks/{id}",
        "/api/v2/user-blocks/auth0%7Cnope",
        &["read:users"],
    ),
    (
        "DELETE",
        "/api/v2/user-blocks/{id}",
        "/api/v2/user-blocks/auth0%7Cnope",
        &["update:users"],
    ),
    ("GET", "/api/v2/rules", "/api/v2/rules", &["read:rules"]),
    ("POST", "/api/v2/rules", "/api/v2/rules", &["create:rules"]),
    (
        "GET",
        "/api/v2/rules/{id}",
        "/api/v2/rules/rul_nope",
        &["read:rules"],
    ),
    (
        "PATCH",
        "/api/v2/rules/{id}",
        "/api/v2/rules/rul_nope",
        &["update:rules"],
    ),
    (
        "DELETE",
        "/api/v2/rules/{id}",
        "/api/v2/rules/rul_nope",
        &["delete:rules"],
    ),
    (
        "GET",
        "/api/v2/rules-configs",
        "/api/v2/rules-configs",
        &["read:rules_configs"],
    ),
    (
        "PUT",
        "/api/v2/rules-configs/{key}",
        "/api/v2/rules-configs/NOPE",
        &["update:rules_configs"],
    ),
    (
        "DELETE",
        "/api/v2/rules-configs/{key}",
        "/api/v2/rules-configs/NOPE",
        &["delete:rules_configs"],
    ),
    ("GET", "/api/v2/hooks", "/api/v2/hooks", &["read:hooks"]),
    ("POST", "/api/v2/hooks", "/api/v2/hooks", &["create:hooks"]),
    (
        "GET",
        "/api/v2/hooks/{id}",
        "/api/v2/hooks/nope",
        &["read:hooks"],
    ),
    (
        "PATCH",
        "/api/v2/hooks/{id}",
        "/api/v2/hooks/nope",
        &["update:hooks"],
    ),
    (
        "DELETE",
        "/api/v2/hooks/{id}",
        "/api/v2/hooks/nope",
        &["delete:hooks"],
    ),
    (
        "GET",
        "/api/v2/hooks/{id}/secrets",
        "/api/v2/hooks/nope/secrets",
        &["read:hooks"],
    ),
    (
        "POST",
        "/api/v2/hooks/{id}/secrets",
        "/api/v2/hooks/nope/secrets",
        &["create:hooks"],
    ),
    (
        "PATCH",
        "/api/v2/hooks/{id}/secrets",
        "/api/v2/hooks/nope/secrets",
        &["update:hooks"],
    ),
    (
        "DELETE",
        "/api/v2/hooks/{id}/secrets",
        "/api/v2/hooks/nope/secrets",
        &["delete:hooks"],
    ),
    (
        "GET",
        "/api/v2/actions/actions",
        "/api/v2/actions/actions",
        &["read:actions"],
    ),
    (
        "POST",
        "/api/v2/actions/actions",
        "/api/v2/actions/actions",
        &["create:actions"],
    ),
    (
        "GET",
        "/api/v2/actions/actions/{id}",
        "/api/v2/actions/actions/nope",
        &["read:actions"],
    ),
    (
        "PATCH",
        "/api/v2/actions/actions/{id}",
        "/api/v2/actions/actions/nope",
        &["update:actions"],
    ),
    (
        "DELETE",
        "/api/v2/actions/actions/{id}",
        "/api/v2/actions/actions/nope",
        &["delete:actions"],
    ),
    (
        "POST",
        "/api/v2/actions/actions/{id}/deploy",
        "/api/v2/actions/actions/nope/deploy",
        &["create:actions"],
    ),
    (
        "GET",
        "/api/v2/actions/triggers",
        "/api/v2/actions/triggers",
        &["read:actions"],
    ),
    (
        "GET",
        "/api/v2/actions/triggers/{triggerId}/bindings",
        "/api/v2/actions/triggers/post-login/bindings",
        &["read:actions"],
    ),
    (
        "PATCH",
        "/api/v2/actions/triggers/{triggerId}/bindings",
        "/api/v2/actions/triggers/post-login/bindings",
        &["update:actions"],
    ),
    (
        "GET",
        "/api/v2/keys/signing",
        "/api/v2/keys/signing",
        &["read:signing_keys"],
    ),
    (
        "GET",
        "/api/v2/keys/signing/{kid}",
        "/api/v2/keys/signing/nope",
        &["read:signing_keys"],
    ),
    (
        "POST",
        "/api/v2/keys/signing/rotate",
        "/api/v2/keys/signing/rotate",
        &["create:signing_keys"],
    ),
    (
        "PUT",
        "/api/v2/keys/signing/{kid}/revoke",
        "/api/v2/keys/signing/nope/revoke",
        &["update:signing_keys"],
    ),
];

const OTHER_ID: &str = "other-tenant-client";
const OTHER_SECRET: &str = "other-tenant-secret-0123456789";

fn body_for(method: &str) -> Option<Value> {
    matches!(method, "POST" | "PATCH").then(|| json!({}))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_refuses_missing_token_wrong_scope_and_other_tenant_token() {
    let s = TestServer::start_with("sqlite", |st| {
        st.tenants.push(TenantEntry {
            name: "other".into(),
            client_id: Some(OTHER_ID.into()),
            client_secret: Some(OTHER_SECRET.into()),
        });
    })
    .await;
    let port = s.url.rsplit(':').next().unwrap().to_string();
    // A token of tenant "other" with every scope, obtained through its own host name.
    let other_host = format!("other.localhost:{port}");
    let r = s.http.post(format!("{}/oauth/token", s.url)).header("host", &other_host)
        .json(&json!({"grant_type": "client_credentials", "client_id": OTHER_ID, "client_secret": OTHER_SECRET, "audience": format!("http://other.localhost:{port}/api/v2/")}))
        .send().await.unwrap();
    assert_eq!(r.status(), 200);
    let other_token = r.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let full = s.mgmt_token().await;
    let audience = format!("{}/api/v2/", s.url);

    for (method, _, path, scopes) in MATRIX {
        let (st, e) = s.call(method, path, None, body_for(method)).await;
        assert_eq!(st, 401, "{method} {path} without a token: {e}");
        assert_eq!(e["message"], "Missing authentication");

        let (st, _) = s
            .call(method, path, Some("not.a.jwt"), body_for(method))
            .await;
        assert_eq!(st, 401, "{method} {path} with garbage token");

        let (st, _) = s
            .call(method, path, Some(&other_token), body_for(method))
            .await;
        assert_eq!(st, 401, "{method} {path} with another tenant's token");

        let lacking: Vec<&str> = MGMT_SCOPES
            .iter()
            .copied()
            .filter(|x| !scopes.contains(x))
            .collect();
        let tok = s
            .token_for(
                BOOTSTRAP_ID,
                BOOTSTRAP_SECRET,
                &audience,
                Some(&lacking.join(" ")),
            )
            .await;
        let (st, e) = s.call(method, path, Some(&tok), body_for(method)).await;
        assert_eq!(st, 403, "{method} {path} without {scopes:?}: {e}");
        assert_eq!(e["errorCode"], "insufficient_scope");

        for scope in *scopes {
            let tok = s
                .token_for(BOOTSTRAP_ID, BOOTSTRAP_SECRET, &audience, Some(scope))
                .await;
            let (st, e) = s.call(method, path, Some(&tok), body_for(method)).await;
            assert!(
                st != 401 && st != 403,
                "{method} {path} with only {scope} must pass authorization: {st} {e}"
            );
        }
        let (st, e) = s.call(method, path, Some(&full), body_for(method)).await;
        assert!(
            st != 401 && st != 403,
            "{method} {path} with every scope: {st} {e}"
        );
    }

    // The other tenant's token works on its own tenant: the refusal above is about tenancy.
    let (st, _) = s
        .call_host(
            "GET",
            "/api/v2/clients",
            Some(&other_token),
            None,
            Some(&other_host),
        )
        .await;
    assert_eq!(st, 200);
    // And the default tenant's token is refused there.
    let (st, _) = s
        .call_host(
            "GET",
            "/api/v2/clients",
            Some(&full),
            None,
            Some(&other_host),
        )
        .await;
    assert_eq!(st, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix_covers_every_management_route() {
    let s = TestServer::start("sqlite").await;
    let (st, doc) = s.call("GET", "/api/v2/openapi.json", None, None).await;
    assert_eq!(st, 200);
    let mut served = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            served.insert((method.to_uppercase(), path.clone()));
        }
    }
    let covered: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|(m, p, _, _)| (m.to_string(), p.to_string()))
        .collect();
    let missing: Vec<_> = served.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "routes missing from the authorization matrix: {missing:?}"
    );
    let stale: Vec<_> = covered.difference(&served).collect();
    assert!(
        stale.is_empty(),
        "matrix rows for routes that do not exist: {stale:?}"
    );
    // The document's scopes agree with the matrix.
    for (m, p, _, scopes) in MATRIX {
        let documented = &doc["paths"][p][m.to_lowercase()]["x-required-scopes"];
        assert_eq!(documented, &json!(scopes), "{m} {p}");
    }
}

/// A token issued to an end user (password-realm through a public SPA client) for the
/// Management API, asking for `scope`.
async fn user_mgmt_token(s: &TestServer, spa: &str, scope: &str) -> String {
    let r = s
        .http
        .post(format!("{}/oauth/token", s.url))
        .form(&[
            (
                "grant_type",
                "http://auth0.com/oauth/grant-type/password-realm",
            ),
            ("client_id", spa),
            ("realm", "db"),
            ("username", "enduser@example.com"),
            ("password", "enduser-pw"),
            ("audience", &format!("{}/api/v2/", s.url)),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_tokens_hold_only_current_user_power_on_every_route() {
    use sluice_core::authz::CURRENT_USER_SCOPES;
    let s = TestServer::start("sqlite").await;
    let admin = s.mgmt_token().await;
    let (st, c) = s
        .call(
            "POST",
            "/api/v2/clients",
            Some(&admin),
            Some(json!({"name": "spa", "app_type": "spa",
            "token_endpoint_auth_method": "none",
            "grant_types": ["http://auth0.com/oauth/grant-type/password-realm"]})),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    let spa = c["client_id"].as_str().unwrap().to_string();
    let (st, _) = s
        .call(
            "POST",
            "/api/v2/connections",
            Some(&admin),
            Some(json!({"name": "db", "strategy": "auth0",
            "enabled_clients": [spa], "options": {"passwordPolicy": "none"}})),
        )
        .await;
    assert_eq!(st, 201);
    let r = s
        .http
        .post(format!("{}/dbconnections/signup", s.url))
        .json(&json!({"client_id": spa, "connection": "db", "email": "enduser@example.com", "password": "enduser-pw"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let me = format!(
        "auth0%7C{}",
        r.json::<Value>().await.unwrap()["_id"].as_str().unwrap()
    );

    // One token per current-user scope, and one that asked for every scope there is.
    let greedy: Vec<&str> = MGMT_SCOPES
        .iter()
        .chain(CURRENT_USER_SCOPES)
        .copied()
        .collect();
    let mut tokens: Vec<(String, String)> = Vec::new();
    for scope in CURRENT_USER_SCOPES
        .iter()
        .copied()
        .chain([greedy.join(" ").as_str()])
    {
        tokens.push((scope.to_string(), user_mgmt_token(&s, &spa, scope).await));
    }
    for (i, (asked, tok)) in tokens.iter().enumerate() {
        // Every route, aimed at anything but the user's own record, is refused.
        for (method, path_t, path, _) in MATRIX {
            let (st, e) = s.call(method, path, Some(tok), body_for(method)).await;
            assert_eq!(
                st, 403,
                "{method} {path_t} with a user token that asked for {asked}: {e}"
            );
        }
        // Of the user's own record, only what the current-user scopes allow.
        let held = tok_scopes(tok);
        let holds = |x: &str| held.iter().any(|h| h == x);
        let (st, _) = s
            .call("GET", &format!("/api/v2/users/{me}"), Some(tok), None)
            .await;
        let can_read = holds("read:current_user");
        assert_eq!(
            st,
            if can_read { 200 } else { 403 },
            "GET own user, {asked}"
        );
        let (st, _) = s
            .call(
                "PATCH",
                &format!("/api/v2/users/{me}"),
                Some(tok),
                Some(json!({"user_metadata": {format!("k{i}"): "v"}})),
            )
            .await;
        // A key the user does not have yet: adding it takes create or update.
        let can_add =
            holds("update:current_user_metadata") || holds("create:current_user_metadata");
        assert_eq!(
            st,
            if can_add { 200 } else { 403 },
            "PATCH own metadata, {asked}"
        );
        for (method, path, body) in [
            ("DELETE", format!("/api/v2/users/{me}"), None),
            ("GET", format!("/api/v2/user-blocks/{me}"), None),
            ("DELETE", format!("/api/v2/user-blocks/{me}"), None),
            (
                "PATCH",
                format!("/api/v2/users/{me}"),
                Some(json!({"app_metadata": {"role": "admin"}})),
            ),
        ] {
            let (st, e) = s.call(method, &path, Some(tok), body).await;
            assert_eq!(st, 403, "{method} own {path} with {asked}: {e}");
        }
    }
    // The greedy token got the current-user scopes and nothing else.
    let (_, greedy_tok) = tokens.last().unwrap();
    let mut held = tok_scopes(greedy_tok);
    held.sort();
    let mut want: Vec<String> = CURRENT_USER_SCOPES.iter().map(|x| x.to_string()).collect();
    want.sort();
    assert_eq!(held, want);
}

fn tok_scopes(tok: &str) -> Vec<String> {
    let claims = sluice_crypto::jwt::decode_unverified(tok).unwrap().1;
    claims["scope"]
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}
