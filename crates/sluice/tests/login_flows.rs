//! Login through `/oauth/token` (password and password-realm): Sluice-managed connections, the
//! tenant's default directory and audience, import mode while the legacy store's table is gone
//! (migrated users still log in, the others get a clean `server_error` until it is back),
//! concurrent first logins, the tenant log and brute-force protection. The legacy store is
//! PostgreSQL, reached by a `pg` + `bcrypt` script in the style of Auth0's templates. Every
//! script-backed flow over both kinds of legacy store is in `legacy_flows.rs`; outages of the
//! network path are in `legacy_outage.rs`.

use crate::support;

use serde_json::{Value, json};
use sluice_testkit::TestServer;
use support::{Legacy, app_and_connection, custom_options, login, wrong};

async fn local_connection(backend: &str) {
    let s = TestServer::start(backend).await;
    let tok = s.mgmt_token().await;
    let app = app_and_connection(
        &s,
        &tok,
        "Username-Password-Authentication",
        json!({"passwordPolicy": "fair"}),
    )
    .await;
    let (st, u) = s.call("POST", "/api/v2/users", Some(&tok), Some(json!({"connection": "Username-Password-Authentication", "email": "ann@example.com", "password": "Passw0rdOk", "name": "Ann"}))).await;
    assert_eq!(st, 201, "{u}");
    let (st, t) = login(
        &s,
        &app,
        "Username-Password-Authentication",
        "ANN@example.com",
        "Passw0rdOk",
        "openid profile email",
    )
    .await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["scope"], "openid profile email");
    let (_, id) = sluice_crypto::jwt::decode_unverified(t["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(id["sub"], u["user_id"]);
    assert_eq!(id["aud"], app.0.as_str());
    assert_eq!(id["email"], "ann@example.com");
    assert_eq!(id["name"], "Ann");
    assert_eq!(id["iss"], format!("{}/", s.url));
    let (_, at) =
        sluice_crypto::jwt::decode_unverified(t["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(at["aud"], format!("{}/userinfo", s.url));
    // Every credential failure looks the same.
    assert_eq!(
        login(
            &s,
            &app,
            "Username-Password-Authentication",
            "ann@example.com",
            "nope",
            "openid"
        )
        .await,
        (403, wrong())
    );
    assert_eq!(
        login(
            &s,
            &app,
            "Username-Password-Authentication",
            "nobody@example.com",
            "Passw0rdOk",
            "openid"
        )
        .await,
        (403, wrong())
    );
    // Blocked users are refused with Auth0's message.
    let uid = u["user_id"].as_str().unwrap().replace('|', "%7C");
    s.call(
        "PATCH",
        &format!("/api/v2/users/{uid}"),
        Some(&tok),
        Some(json!({"blocked": true})),
    )
    .await;
    assert_eq!(
        login(
            &s,
            &app,
            "Username-Password-Authentication",
            "ann@example.com",
            "Passw0rdOk",
            "openid"
        )
        .await,
        (
            401,
            json!({"error": "unauthorized", "error_description": "user is blocked"})
        )
    );
    // A connection not enabled for the client.
    let (st, _) = s
        .call(
            "POST",
            "/api/v2/connections",
            Some(&tok),
            Some(json!({"name": "other-db", "strategy": "auth0"})),
        )
        .await;
    assert_eq!(st, 201);
    let (st, e) = login(
        &s,
        &app,
        "other-db",
        "ann@example.com",
        "Passw0rdOk",
        "openid",
    )
    .await;
    assert_eq!(
        (st, e["error"].as_str()),
        (403, Some("unauthorized_client"))
    );
    let (_, got) = s
        .call("GET", &format!("/api/v2/users/{uid}"), Some(&tok), None)
        .await;
    assert_eq!(got["logins_count"], 1);
}
sluice_store::both_backends!(sluice_managed_connection_login, local_connection);

async fn import_mode_outage(backend: &str) {
    let legacy = Legacy::new(&[
        ("alice@example.com", "alice-pw", "alice"),
        ("bob@example.com", "bob-pw", "bob"),
    ])
    .await;
    let s = TestServer::start(backend).await;
    let tok = s.mgmt_token().await;
    let app = app_and_connection(&s, &tok, "import-db", custom_options(&legacy, true)).await;
    assert_eq!(
        login(
            &s,
            &app,
            "import-db",
            "alice@example.com",
            "alice-pw",
            "openid"
        )
        .await
        .0,
        200
    );
    assert_eq!(legacy.logins().await, 1, "alice is migrated");
    // With the legacy store gone, migrated users still log in; the others get a clear error
    // that leaks nothing of the script or the database.
    legacy.break_store().await;
    assert_eq!(
        login(
            &s,
            &app,
            "import-db",
            "alice@example.com",
            "alice-pw",
            "openid"
        )
        .await
        .0,
        200
    );
    let (st, e) = login(&s, &app, "import-db", "bob@example.com", "bob-pw", "openid").await;
    assert_eq!(st, 500, "{e}");
    assert_eq!(e["error"], "server_error");
    let text = e.to_string();
    assert!(
        !text.contains("users") && !text.contains("relation") && !text.contains(&legacy.schema),
        "{text}"
    );
    // Service resumes when the store returns (same rows, so the same stable ids).
    legacy
        .restore(&[
            ("alice@example.com", "alice-pw", "alice"),
            ("bob@example.com", "bob-pw", "bob"),
        ])
        .await;
    assert_eq!(
        login(&s, &app, "import-db", "bob@example.com", "bob-pw", "openid")
            .await
            .0,
        200
    );
}
sluice_store::both_backends!(
    import_mode_keeps_migrated_users_in_while_the_legacy_store_is_broken,
    import_mode_outage
);

async fn concurrent_first_logins(backend: &str) {
    let users: Vec<(String, String)> = (0..20)
        .map(|i| (format!("user{i}@example.com"), format!("pw-{i}")))
        .collect();
    let rows: Vec<(&str, &str, &str)> = users
        .iter()
        .map(|(e, p)| (e.as_str(), p.as_str(), "n"))
        .collect();
    let legacy = Legacy::new(&rows).await;
    let s = std::sync::Arc::new(TestServer::start(backend).await);
    let tok = s.mgmt_token().await;
    let app = app_and_connection(&s, &tok, "import-db", custom_options(&legacy, true)).await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let (s, app, (email, pw)) = (s.clone(), app.clone(), users[i % 20].clone());
        tasks.push(tokio::spawn(async move {
            login(&s, &app, "import-db", &email, &pw, "openid").await.0
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let (_, page) = s
        .call(
            "GET",
            "/api/v2/users?include_totals=true&per_page=100",
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(page["total"], 20, "exactly one local user per legacy user");
    let before = legacy.logins().await;
    assert!(before >= 20);
    for (email, pw) in &users {
        assert_eq!(
            login(&s, &app, "import-db", email, pw, "openid").await.0,
            200
        );
    }
    assert_eq!(
        legacy.logins().await,
        before,
        "after migration every login is local"
    );
}
sluice_store::both_backends!(
    concurrent_first_logins_create_each_user_once,
    concurrent_first_logins
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_grant_uses_the_tenant_default_directory_and_audience() {
    let s = TestServer::start("sqlite").await;
    let tok = s.mgmt_token().await;
    let app = app_and_connection(
        &s,
        &tok,
        "Username-Password-Authentication",
        json!({"passwordPolicy": "none"}),
    )
    .await;
    s.call("POST", "/api/v2/users", Some(&tok), Some(json!({"connection": "Username-Password-Authentication", "email": "d@example.com", "password": "pw"}))).await;
    let form = |aud: Option<&str>| {
        let mut f = vec![
            ("grant_type", "password".to_string()),
            ("client_id", app.0.clone()),
            ("client_secret", app.1.clone()),
            ("username", "d@example.com".into()),
            ("password", "pw".into()),
        ];
        if let Some(a) = aud {
            f.push(("audience", a.to_string()));
        }
        f
    };
    let r = s
        .http
        .post(format!("{}/oauth/token", s.url))
        .form(&form(None))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error_description"],
        "Authorization server not configured with default connection."
    );
    let (st, e) = s
        .call(
            "PATCH",
            "/api/v2/tenants/settings",
            Some(&tok),
            Some(json!({"default_directory": "nope"})),
        )
        .await;
    assert_eq!(st, 400, "{e}");
    let (st, e) = s
        .call(
            "PATCH",
            "/api/v2/tenants/settings",
            Some(&tok),
            Some(json!({"bogus": 1})),
        )
        .await;
    assert_eq!(st, 400, "{e}");
    s.call(
        "POST",
        "/api/v2/resource-servers",
        Some(&tok),
        Some(json!({"identifier": "https://api.example.com", "scopes": [{"value": "read:x"}]})),
    )
    .await;
    let (st, set) = s.call("PATCH", "/api/v2/tenants/settings", Some(&tok), Some(json!({"default_directory": "Username-Password-Authentication", "default_audience": "https://api.example.com", "friendly_name": "Acme"}))).await;
    assert_eq!(st, 200, "{set}");
    let (_, got) = s
        .call("GET", "/api/v2/tenants/settings", Some(&tok), None)
        .await;
    assert_eq!(got["friendly_name"], "Acme");
    let r = s
        .http
        .post(format!("{}/oauth/token", s.url))
        .form(&form(None))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let t: Value = r.json().await.unwrap();
    let (_, at) =
        sluice_crypto::jwt::decode_unverified(t["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(
        at["aud"], "https://api.example.com",
        "the default audience applies"
    );
}

async fn tenant_logs(backend: &str) {
    let legacy = Legacy::new(&[("alice@example.com", "alice-pw", "alice")]).await;
    let s = TestServer::start(backend).await;
    let tok = s.mgmt_token().await;
    let mut opts = custom_options(&legacy, false);
    opts["customScripts"]["login"] = json!(support::LOGIN.replace(
        "const client = new Client",
        "console.log('checking', email);\n  const client = new Client"
    ));
    let app = app_and_connection(&s, &tok, "legacy-db", opts).await;
    assert_eq!(
        login(
            &s,
            &app,
            "legacy-db",
            "alice@example.com",
            "alice-pw",
            "openid"
        )
        .await
        .0,
        200
    );
    assert_eq!(
        login(&s, &app, "legacy-db", "alice@example.com", "bad", "openid")
            .await
            .0,
        403
    );
    assert_eq!(
        login(&s, &app, "legacy-db", "nobody@example.com", "bad", "openid")
            .await
            .0,
        403
    );
    let (st, logs) = s
        .call("GET", "/api/v2/logs?include_totals=true", Some(&tok), None)
        .await;
    assert_eq!(st, 200, "{logs}");
    let types: Vec<&str> = logs["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["type"].as_str().unwrap())
        .collect();
    // The template passes the email to WrongUsernameOrPasswordError, so both failures are `fp`
    // with user_id auth0|<email> (Auth0: a truthy user_id makes fp, none makes fu).
    assert_eq!(
        types,
        ["fp", "script", "fp", "script", "s", "script"],
        "newest first"
    );
    let (_, fp) = s
        .call("GET", "/api/v2/logs?q=type%3A%22fp%22", Some(&tok), None)
        .await;
    assert_eq!(fp[0]["user_id"], "auth0|nobody@example.com");
    assert_eq!(fp[1]["user_id"], "auth0|alice@example.com");
    assert_eq!(fp[0]["connection"], "legacy-db");
    assert_eq!(fp[0]["client_id"], app.0.as_str());
    let (_, scripts) = s
        .call("GET", "/api/v2/logs?q=type%3Ascript", Some(&tok), None)
        .await;
    assert_eq!(
        scripts[0]["details"]["console"][0]["text"], "checking nobody@example.com",
        "the script's console is in the log"
    );
    let id = scripts[0]["log_id"].as_str().unwrap();
    let (st, one) = s
        .call("GET", &format!("/api/v2/logs/{id}"), Some(&tok), None)
        .await;
    assert_eq!((st, &one["log_id"]), (200, &scripts[0]["log_id"]));
    assert!(
        !logs.to_string().contains("alice-pw"),
        "passwords never reach the logs"
    );
    let (_, s_events) = s
        .call(
            "GET",
            "/api/v2/logs?q=type%3As%20AND%20user_id%3A%22auth0%7Cpg-1%22",
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(s_events.as_array().unwrap().len(), 1);
}
sluice_store::both_backends!(logins_and_script_runs_are_in_the_tenant_log, tenant_logs);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_local_users_are_logged_as_fu() {
    let s = TestServer::start("sqlite").await;
    let tok = s.mgmt_token().await;
    let app = app_and_connection(&s, &tok, "db", json!({"passwordPolicy": "none"})).await;
    assert_eq!(
        login(&s, &app, "db", "ghost@example.com", "x", "openid")
            .await
            .0,
        403
    );
    let (_, logs) = s.call("GET", "/api/v2/logs", Some(&tok), None).await;
    assert_eq!(logs[0]["type"], "fu");
    assert!(logs[0].get("user_id").is_none());
}

async fn login_from(
    s: &TestServer,
    app: &(String, String),
    user: &str,
    pw: &str,
    forwarded: Option<&str>,
) -> (u16, Value) {
    let mut r = s.http.post(format!("{}/oauth/token", s.url)).form(&[
        (
            "grant_type",
            "http://auth0.com/oauth/grant-type/password-realm",
        ),
        ("client_id", app.0.as_str()),
        ("client_secret", app.1.as_str()),
        ("realm", "db"),
        ("username", user),
        ("password", pw),
    ]);
    if let Some(ip) = forwarded {
        r = r.header("auth0-forwarded-for", ip);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn brute_force(backend: &str) {
    let s = TestServer::start(backend).await;
    let tok = s.mgmt_token().await;
    let app = app_and_connection(&s, &tok, "db", json!({"passwordPolicy": "none"})).await;
    let (_, u) = s
        .call(
            "POST",
            "/api/v2/users",
            Some(&tok),
            Some(json!({"connection": "db", "email": "bf@example.com", "password": "right"})),
        )
        .await;
    let uid = u["user_id"].as_str().unwrap().replace('|', "%7C");
    // The app vouches for the end user's address (Auth0's opt-in for backends that proxy logins).
    let (st, _) = s
        .call(
            "PATCH",
            &format!("/api/v2/clients/{}", app.0),
            Some(&tok),
            Some(json!({"is_token_endpoint_ip_header_trusted": true})),
        )
        .await;
    assert_eq!(st, 200);
    for _ in 0..10 {
        assert_eq!(
            login_from(&s, &app, "bf@example.com", "wrong", Some("203.0.113.7"))
                .await
                .0,
            403
        );
    }
    // Ten consecutive failures from one IP block that user from that IP, even with the right password.
    let (st, e) = login_from(&s, &app, "bf@example.com", "right", Some("203.0.113.7")).await;
    assert_eq!((st, e["error"].as_str()), (429, Some("too_many_attempts")));
    // auth0-forwarded-for from a trusted confidential client is the end user's IP: another IP
    // is fine.
    assert_eq!(
        login_from(&s, &app, "bf@example.com", "right", Some("198.51.100.1"))
            .await
            .0,
        200
    );
    let (st, blocks) = s
        .call(
            "GET",
            &format!("/api/v2/user-blocks/{uid}"),
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(
        blocks,
        json!({"blocked_for": [{"identifier": "bf@example.com", "ip": "203.0.113.7"}]})
    );
    let (st, _) = s
        .call(
            "DELETE",
            &format!("/api/v2/user-blocks/{uid}"),
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(st, 204);
    assert_eq!(
        login_from(&s, &app, "bf@example.com", "right", Some("203.0.113.7"))
            .await
            .0,
        200
    );
    let (_, logs) = s
        .call("GET", "/api/v2/logs?q=type%3Alimit_wc", Some(&tok), None)
        .await;
    assert_eq!(logs.as_array().unwrap().len(), 1);
}
sluice_store::both_backends!(
    brute_force_protection_blocks_a_user_ip_pair_after_ten_failures,
    brute_force
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_clients_cannot_choose_the_ip_brute_force_protection_sees() {
    let s = TestServer::start("sqlite").await;
    let tok = s.mgmt_token().await;
    let (st, c) = s.call("POST", "/api/v2/clients", Some(&tok), Some(json!({"name": "spa", "app_type": "spa", "grant_types": ["http://auth0.com/oauth/grant-type/password-realm"]}))).await;
    assert_eq!(st, 201);
    let cid = c["client_id"].as_str().unwrap().to_string();
    s.call("POST", "/api/v2/connections", Some(&tok), Some(json!({"name": "db", "strategy": "auth0", "enabled_clients": [cid], "options": {"passwordPolicy": "none"}}))).await;
    s.call(
        "POST",
        "/api/v2/users",
        Some(&tok),
        Some(json!({"connection": "db", "email": "p@example.com", "password": "right"})),
    )
    .await;
    let attempt = |pw: &'static str, ip: &'static str| {
        let (s, cid) = (&s, cid.clone());
        async move {
            s.http
                .post(format!("{}/oauth/token", s.url))
                .header("auth0-forwarded-for", ip)
                .form(&[
                    (
                        "grant_type",
                        "http://auth0.com/oauth/grant-type/password-realm",
                    ),
                    ("client_id", cid.as_str()),
                    ("realm", "db"),
                    ("username", "p@example.com"),
                    ("password", pw),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for i in 0..10 {
        let ip = ["198.51.100.1", "198.51.100.2"][i % 2];
        assert_eq!(attempt("wrong", ip).await, 403);
    }
    // The header was ignored: all ten failures counted against the real peer address.
    assert_eq!(attempt("right", "198.51.100.3").await, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_successful_login_resets_the_failure_count() {
    let s = TestServer::start("sqlite").await;
    let tok = s.mgmt_token().await;
    let app = app_and_connection(&s, &tok, "db", json!({"passwordPolicy": "none"})).await;
    s.call(
        "POST",
        "/api/v2/users",
        Some(&tok),
        Some(json!({"connection": "db", "email": "ok@example.com", "password": "right"})),
    )
    .await;
    for round in 0..2 {
        for _ in 0..9 {
            assert_eq!(
                login_from(&s, &app, "ok@example.com", "wrong", Some("203.0.113.9"))
                    .await
                    .0,
                403
            );
        }
        assert_eq!(
            login_from(&s, &app, "ok@example.com", "right", Some("203.0.113.9"))
                .await
                .0,
            200,
            "round {round}"
        );
    }
}
