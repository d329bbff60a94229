//! Management API behaviour over real HTTP on both store backends: CRUD of clients,
//! connections, resource servers, client grants and users with Auth0's shapes and errors.

use serde_json::json;
use sluice_testkit::TestServer;

async fn clients_crud(backend: &str) {
    let s = TestServer::start(backend).await;
    let tok = s.mgmt_token().await;
    let (st, c) = s.call("POST", "/api/v2/clients", Some(&tok), Some(json!({"name": "My App", "app_type": "regular_web", "callbacks": ["https://app.example.com/cb"]}))).await;
    assert_eq!(st, 201, "{c}");
    let id = c["client_id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 32);
    assert!(c["client_secret"].as_str().unwrap().len() >= 32);
    assert_eq!(
        c["grant_types"],
        json!([
            "authorization_code",
            "implicit",
            "refresh_token",
            "client_credentials"
        ])
    );
    assert_eq!(c["tenant"], "default");

    let (st, got) = s
        .call("GET", &format!("/api/v2/clients/{id}"), Some(&tok), None)
        .await;
    assert_eq!(st, 200);
    assert_eq!(
        got["client_secret"], c["client_secret"],
        "read:client_keys reveals the secret"
    );
    assert_eq!(got["callbacks"], json!(["https://app.example.com/cb"]));

    let (st, upd) = s
        .call(
            "PATCH",
            &format!("/api/v2/clients/{id}"),
            Some(&tok),
            Some(json!({"name": "Renamed", "description": null})),
        )
        .await;
    assert_eq!(st, 200, "{upd}");
    assert_eq!(upd["name"], "Renamed");
    assert_eq!(
        upd["callbacks"],
        json!(["https://app.example.com/cb"]),
        "PATCH keeps fields it does not name"
    );

    let (st, list) = s
        .call(
            "GET",
            "/api/v2/clients?include_totals=true&per_page=1&page=0",
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(list["total"], 2, "bootstrap client and the new one: {list}");
    assert_eq!(list["clients"].as_array().unwrap().len(), 1);
    assert_eq!(list["limit"], 1);

    let (st, rot) = s
        .call(
            "POST",
            &format!("/api/v2/clients/{id}/rotate-secret"),
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(st, 200);
    assert_ne!(rot["client_secret"], c["client_secret"]);

    let (st, _) = s
        .call("DELETE", &format!("/api/v2/clients/{id}"), Some(&tok), None)
        .await;
    assert_eq!(st, 204);
    let (st, e) = s
        .call("GET", &format!("/api/v2/clients/{id}"), Some(&tok), None)
        .await;
    assert_eq!(st, 404);
    assert_eq!(
        e,
        json!({"statusCode": 404, "error": "Not Found", "message": "Client not found", "errorCode": "inexistent_client"})
    );
}
sluice_store::both_backends!(clients_crud_works, clients_crud);

async fn invalid_bodies_get_auth0_errors(backend: &str) {
    let s = TestServer::start(backend).await;
    let tok = s.mgmt_token().await;
    let (st, e) = s
        .call(
            "POST",
            "/api/v2/clients",
            Some(&tok),
            Some(json!({"name": "x", "nope": 1})),
        )
        .await;
    assert_eq!(st, 400);
    assert_eq!(e["statusCode"], 400);
    assert_eq!(e["error"], "Bad Request");
    assert_eq!(e["errorCode"], "invalid_body");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("Payload validation error"),
        "{e}"
    );
    let (st, e) = s
        .call(
            "POST",
            "/api/v2/clients",
            Some(&tok),
            Some(json!({"app_type": "web"})),
        )
        .await;
    assert_eq!(st, 400, "{e}");
    let (st, e) = s
        .call("GET", "/api/v2/clients?per_page=1000", Some(&tok), None)
        .await;
    assert_eq!(
        (st, e["errorCode"].as_str()),
        (400, Some("invalid_query_string"))
    );
    // Malformed JSON is a 400 with the Auth0 body, not axum's plain text.
    let r = s
        .http
        .post(format!("{}/api/v2/clients", s.url))
        .bearer_auth(&tok)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["statusCode"], 400);
}
sluice_store::both_backends!(invalid_bodies, invalid_bodies_get_auth0_errors);

const LOGIN: &str = "function login(email, password, callback) {\n  callback(null, { user_id: email, email: email });\n}";
const GET_USER: &str = "function getByEmail(email, callback) {\n  callback(null);\n}";

async fn connections_crud(backend: &str) {
    let s = TestServer::start(backend).await;
    let tok = s.mgmt_token().await;
    let body = json!({
        "name": "legacy-db", "strategy": "auth0",
        "options": {
            "enabledDatabaseCustomization": true, "import_mode": true,
            "customScripts": {"login": LOGIN, "get_user": GET_USER},
            "configuration": {"PG_PASSWORD": "hunter2-secret"},
            "passwordPolicy": "fair", "requires_username": false
        },
        "enabled_clients": [sluice_testkit::BOOTSTRAP_ID]
    });
    let (st, c) = s
        .call("POST", "/api/v2/connections", Some(&tok), Some(body))
        .await;
    assert_eq!(st, 201, "{c}");
    let id = c["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("con_"));
    assert_eq!(c["realms"], json!(["legacy-db"]));
    let sealed = c["options"]["configuration"]["PG_PASSWORD"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(
        sealed, "hunter2-secret",
        "configuration is never returned in plaintext"
    );

    let (st, got) = s
        .call(
            "GET",
            &format!("/api/v2/connections/{id}"),
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(got["options"]["customScripts"]["login"], LOGIN);
    assert!(!got.to_string().contains("hunter2-secret"));
    // Configuration at rest is sealed too: the plaintext is nowhere in the database row.
    let t = s.core().tenant("default").await.unwrap();
    let conn = s.core().connection_fetch(&t, &id).await.unwrap().unwrap();
    assert_eq!(
        s.core().connection_configuration(&t, &conn).unwrap()["PG_PASSWORD"],
        "hunter2-secret"
    );

    // Sending the options back as read (sealed value) keeps the secret; a new value replaces it.
    let mut opts = got["options"].clone();
    opts["customScripts"]["login"] = json!("function login(e, p, cb) { cb(null, null); }");
    let (st, upd) = s
        .call(
            "PATCH",
            &format!("/api/v2/connections/{id}"),
            Some(&tok),
            Some(json!({"options": opts})),
        )
        .await;
    assert_eq!(st, 200, "{upd}");
    let conn = s.core().connection_fetch(&t, &id).await.unwrap().unwrap();
    assert_eq!(
        s.core().connection_configuration(&t, &conn).unwrap()["PG_PASSWORD"],
        "hunter2-secret"
    );

    let (st, list) = s
        .call(
            "GET",
            "/api/v2/connections?name=legacy-db",
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);

    let (st, e) = s
        .call(
            "POST",
            "/api/v2/connections",
            Some(&tok),
            Some(json!({"name": "legacy-db", "strategy": "auth0"})),
        )
        .await;
    assert_eq!(st, 409, "{e}");
    let (st, _) = s
        .call(
            "DELETE",
            &format!("/api/v2/connections/{id}"),
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(st, 204);
    let (st, _) = s
        .call(
            "GET",
            &format!("/api/v2/connections/{id}"),
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(st, 404);
}
sluice_store::both_backends!(connections_crud_works, connections_crud);

async fn connection_validation(backend: &str) {
    let s = TestServer::start(backend).await;
    let tok = s.mgmt_token().await;
    let cases = [
        (
            json!({"name": "bad name", "strategy": "auth0"}),
            "Connection name",
        ),
        (
            json!({"name": "ok", "strategy": "google-oauth2"}),
            "not supported",
        ),
        (
            json!({"name": "ok", "strategy": "auth0", "options": {"enabledDatabaseCustomization": true, "customScripts": {"login": LOGIN, "change_email": LOGIN}}}),
            "requires the get_user script",
        ),
        (
            json!({"name": "ok", "strategy": "auth0", "options": {"enabledDatabaseCustomization": true, "customScripts": {"login": "x".repeat(100 * 1024 + 1)}}}),
            "must not exceed 100 KB",
        ),
        (
            json!({"name": "ok", "strategy": "auth0", "options": {"enabledDatabaseCustomization": true, "customScripts": {"login": "function login(a, b, cb) {\n  var x = ;\n}"}}}),
            "(line 2)",
        ),
        (
            json!({"name": "ok", "strategy": "auth0", "options": {"customScripts": {"logon": LOGIN}}}),
            "not a supported script",
        ),
        (
            json!({"name": "ok", "strategy": "auth0", "options": {"passwordPolicy": "strong"}}),
            "passwordPolicy",
        ),
        (
            json!({"name": "ok", "strategy": "auth0", "enabled_clients": ["nope"]}),
            "does not exist",
        ),
    ];
    for (body, needle) in cases {
        let (st, e) = s
            .call(
                "POST",
                "/api/v2/connections",
                Some(&tok),
                Some(body.clone()),
            )
            .await;
        assert_eq!(st, 400, "{body} -> {e}");
        assert!(
            e["message"].as_str().unwrap().contains(needle),
            "expected '{needle}' in {e}"
        );
    }
}
sluice_store::both_backends!(
    connection_validation_matches_auth0_rules,
    connection_validation
);

async fn resource_servers_and_grants(backend: &str) {
    let s = TestServer::start(backend).await;
    let tok = s.mgmt_token().await;
    let (st, rs) = s.call("POST", "/api/v2/resource-servers", Some(&tok), Some(json!({"name": "Orders", "identifier": "https://orders.example.com", "scopes": [{"value": "read:orders", "description": "Read"}], "token_lifetime": 600}))).await;
    assert_eq!(st, 201, "{rs}");
    let rs_id = rs["id"].as_str().unwrap().to_string();
    let (st, list) = s
        .call("GET", "/api/v2/resource-servers", Some(&tok), None)
        .await;
    assert_eq!(st, 200);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        list[0]["is_system"], true,
        "the Management API is listed as a system API"
    );
    let (st, _) = s
        .call(
            "PATCH",
            &format!(
                "/api/v2/resource-servers/{}",
                list[0]["id"].as_str().unwrap()
            ),
            Some(&tok),
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(st, 403, "the system API cannot be changed");

    let (_, c) = s
        .call(
            "POST",
            "/api/v2/clients",
            Some(&tok),
            Some(json!({"name": "svc", "app_type": "non_interactive"})),
        )
        .await;
    let (cid, secret) = (
        c["client_id"].as_str().unwrap().to_string(),
        c["client_secret"].as_str().unwrap().to_string(),
    );
    // No grant yet: client credentials are refused with Auth0's message.
    let r = s
        .http
        .post(format!("{}/oauth/token", s.url))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &cid),
            ("client_secret", &secret),
            ("audience", "https://orders.example.com"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["error"], "access_denied");
    assert!(
        e["error_description"]
            .as_str()
            .unwrap()
            .contains("client-grant")
    );

    let (st, g) = s.call("POST", "/api/v2/client-grants", Some(&tok), Some(json!({"client_id": cid, "audience": "https://orders.example.com", "scope": ["read:orders"]}))).await;
    assert_eq!(st, 201, "{g}");
    let (st, e) = s
        .call(
            "POST",
            "/api/v2/client-grants",
            Some(&tok),
            Some(json!({"client_id": cid, "audience": "https://orders.example.com", "scope": []})),
        )
        .await;
    assert_eq!(st, 409, "{e}");
    let (st, e) = s.call("POST", "/api/v2/client-grants", Some(&tok), Some(json!({"client_id": cid, "audience": "https://orders.example.com", "scope": ["write:orders"]}))).await;
    assert!(st == 400 || st == 409, "{e}");

    // With the grant, client_secret_basic works and the token is an RS256 JWT for the API.
    let r = s
        .http
        .post(format!("{}/oauth/token", s.url))
        .basic_auth(&cid, Some(&secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("audience", "https://orders.example.com"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let t: serde_json::Value = r.json().await.unwrap();
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 600);
    assert_eq!(t["scope"], "read:orders");
    let (_, claims) =
        sluice_crypto::jwt::decode_unverified(t["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(claims["aud"], "https://orders.example.com");
    assert_eq!(claims["sub"], format!("{cid}@clients"));
    assert_eq!(claims["iss"], format!("{}/", s.url));

    let (st, gl) = s
        .call(
            "GET",
            &format!("/api/v2/client-grants?client_id={cid}"),
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(gl.as_array().unwrap().len(), 1);
    // Deleting the API removes its grants.
    let (st, _) = s
        .call(
            "DELETE",
            &format!("/api/v2/resource-servers/{rs_id}"),
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(st, 204);
    let (_, gl) = s
        .call(
            "GET",
            &format!("/api/v2/client-grants?client_id={cid}"),
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(gl.as_array().unwrap().len(), 0);
}
sluice_store::both_backends!(
    resource_servers_and_client_grants,
    resource_servers_and_grants
);

async fn users_crud(backend: &str) {
    let s = TestServer::start(backend).await;
    let tok = s.mgmt_token().await;
    let (st, _) = s.call("POST", "/api/v2/connections", Some(&tok), Some(json!({"name": "Username-Password-Authentication", "strategy": "auth0", "options": {"passwordPolicy": "good"}}))).await;
    assert_eq!(st, 201);
    let (st, e) = s.call("POST", "/api/v2/users", Some(&tok), Some(json!({"connection": "Username-Password-Authentication", "email": "alice@example.com", "password": "weak"}))).await;
    assert_eq!(st, 400);
    assert_eq!(e["message"], "PasswordStrengthError: Password is too weak");
    let (st, u) = s.call("POST", "/api/v2/users", Some(&tok), Some(json!({"connection": "Username-Password-Authentication", "email": "Alice@Example.com", "password": "Str0ng!pass", "user_metadata": {"lang": "en"}}))).await;
    assert_eq!(st, 201, "{u}");
    let uid = u["user_id"].as_str().unwrap().to_string();
    assert!(uid.starts_with("auth0|"));
    assert_eq!(u["email"], "alice@example.com");
    assert_eq!(
        u["identities"][0],
        json!({"connection": "Username-Password-Authentication", "user_id": uid.trim_start_matches("auth0|"), "provider": "auth0", "isSocial": false})
    );
    assert!(!u.to_string().contains("argon2"), "no hash in responses");
    assert!(u.get("password").is_none());

    let (st, e) = s.call("POST", "/api/v2/users", Some(&tok), Some(json!({"connection": "Username-Password-Authentication", "email": "ALICE@example.com", "password": "Str0ng!pass"}))).await;
    assert_eq!(st, 409);
    assert_eq!(e["message"], "The user already exists.");

    let enc = |s: &str| s.replace('|', "%7C");
    let (st, got) = s
        .call(
            "GET",
            &format!("/api/v2/users/{}", enc(&uid)),
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(got["user_metadata"], json!({"lang": "en"}));

    let (st, found) = s
        .call(
            "GET",
            "/api/v2/users?q=email%3A%22alice%40example.com%22&search_engine=v3",
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(st, 200, "{found}");
    assert_eq!(found.as_array().unwrap().len(), 1);
    let (st, by) = s
        .call(
            "GET",
            "/api/v2/users-by-email?email=ALICE%40EXAMPLE.COM",
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(by[0]["user_id"], uid.as_str());
    let (st, page) = s
        .call("GET", "/api/v2/users?include_totals=true", Some(&tok), None)
        .await;
    assert_eq!(st, 200);
    assert_eq!(
        (page["total"].as_i64(), page["length"].as_i64()),
        (Some(1), Some(1))
    );

    let (st, upd) = s.call("PATCH", &format!("/api/v2/users/{}", enc(&uid)), Some(&tok), Some(json!({"user_metadata": {"lang": null, "tz": "UTC"}, "app_metadata": {"plan": "gold"}, "name": "Alice"}))).await;
    assert_eq!(st, 200, "{upd}");
    assert_eq!(upd["user_metadata"], json!({"tz": "UTC"}));
    assert_eq!(upd["app_metadata"], json!({"plan": "gold"}));
    assert_eq!(upd["name"], "Alice");

    let (st, _) = s
        .call(
            "DELETE",
            &format!("/api/v2/users/{}", enc(&uid)),
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(st, 204);
    let (st, e) = s
        .call(
            "GET",
            &format!("/api/v2/users/{}", enc(&uid)),
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(st, 404);
    assert_eq!(e["errorCode"], "inexistent_user");
}
sluice_store::both_backends!(users_crud_works, users_crud);

async fn user_password_is_argon2id(backend: &str) {
    let s = TestServer::start(backend).await;
    let tok = s.mgmt_token().await;
    s.call(
        "POST",
        "/api/v2/connections",
        Some(&tok),
        Some(json!({"name": "db", "strategy": "auth0", "options": {"passwordPolicy": "none"}})),
    )
    .await;
    let (_, u) = s
        .call(
            "POST",
            "/api/v2/users",
            Some(&tok),
            Some(json!({"connection": "db", "email": "b@example.com", "password": "pw-1"})),
        )
        .await;
    let t = s.core().tenant("default").await.unwrap();
    let rec = s
        .core()
        .store
        .user_fetch(&t.id, u["user_id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    let hash = rec.password_hash.clone().unwrap();
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    assert!(
        s.core()
            .user_password_matches(&rec, "pw-1".into())
            .await
            .unwrap()
    );
    assert!(
        !s.core()
            .user_password_matches(&rec, "pw-2".into())
            .await
            .unwrap()
    );
}
sluice_store::both_backends!(
    user_passwords_are_hashed_with_argon2id,
    user_password_is_argon2id
);

async fn checkpoint_pagination(backend: &str) {
    let s = TestServer::start(backend).await;
    let tok = s.mgmt_token().await;
    for i in 0..5 {
        let (st, _) = s
            .call(
                "POST",
                "/api/v2/connections",
                Some(&tok),
                Some(json!({"name": format!("db{i}"), "strategy": "auth0"})),
            )
            .await;
        assert_eq!(st, 201);
    }
    let mut names = Vec::new();
    let mut from = String::new();
    for _ in 0..10 {
        let (st, page) = s
            .call(
                "GET",
                &format!("/api/v2/connections?take=2&include_totals=true&from={from}"),
                Some(&tok),
                None,
            )
            .await;
        assert_eq!(st, 200, "{page}");
        for c in page["connections"].as_array().unwrap() {
            names.push(c["name"].as_str().unwrap().to_string());
        }
        match page.get("next").and_then(|n| n.as_str()) {
            Some(n) => from = n.to_string(),
            None => break,
        }
    }
    assert_eq!(
        names,
        ["db0", "db1", "db2", "db3", "db4"],
        "every connection exactly once, in order"
    );
    let (st, e) = s
        .call(
            "GET",
            "/api/v2/connections?take=2&from=garbage",
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(st, 400, "{e}");
}
sluice_store::both_backends!(
    checkpoint_pagination_visits_every_connection_once,
    checkpoint_pagination
);
