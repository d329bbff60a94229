//! Signup (`/dbconnections/signup`) and Management API user create/delete in each connection
//! mode, with the scripts that run: legacy get_user → create → login; import get_user then a
//! local user; delete runs the delete script in legacy mode.

mod support;

use serde_json::json;
use sluice_testkit::TestServer;
use support::{
    CREATE_PG, DELETE_PG, GET_USER_PG, LOGIN, Legacy, app_and_connection, login, signup,
};

fn user_exists() -> serde_json::Value {
    json!({"name": "BadRequestError", "code": "user_exists", "description": "The user already exists.", "statusCode": 400})
}

async fn local_signup(backend: &str) {
    let s = TestServer::start(backend).await;
    let tok = s.mgmt_token().await;
    let app = app_and_connection(&s, &tok, "db", json!({"passwordPolicy": "fair"})).await;
    let (st, u) = signup(&s, &app.0, "db", "New@Example.com", "Str0ngPass").await;
    assert_eq!(st, 200, "{u}");
    assert_eq!(u["email"], "new@example.com");
    assert_eq!(u["email_verified"], false);
    assert_eq!(u["_id"].as_str().unwrap().len(), 24);
    assert_eq!(
        signup(&s, &app.0, "db", "new@example.com", "Str0ngPass").await,
        (400, user_exists())
    );
    let (st, e) = signup(&s, &app.0, "db", "weak@example.com", "weak").await;
    assert_eq!(
        (st, e["name"].as_str(), e["code"].as_str()),
        (400, Some("PasswordStrengthError"), Some("invalid_password"))
    );
    assert_eq!(
        login(&s, &app, "db", "new@example.com", "Str0ngPass", "openid")
            .await
            .0,
        200
    );
    // A connection with signup disabled.
    let (_, conns) = s
        .call("GET", "/api/v2/connections?name=db", Some(&tok), None)
        .await;
    let id = conns[0]["id"].as_str().unwrap().to_string();
    let mut opts = conns[0]["options"].clone();
    opts["disable_signup"] = json!(true);
    s.call(
        "PATCH",
        &format!("/api/v2/connections/{id}"),
        Some(&tok),
        Some(json!({"options": opts})),
    )
    .await;
    assert_eq!(
        signup(&s, &app.0, "db", "late@example.com", "Str0ngPass")
            .await
            .0,
        403
    );
}
sluice_store::both_backends!(signup_in_a_sluice_managed_connection, local_signup);

fn scripts(legacy: &Legacy, import: bool) -> serde_json::Value {
    let scripts = if import {
        json!({"login": LOGIN, "get_user": GET_USER_PG})
    } else {
        json!({"login": LOGIN, "get_user": GET_USER_PG, "create": CREATE_PG, "delete": DELETE_PG})
    };
    json!({"enabledDatabaseCustomization": true, "import_mode": import, "customScripts": scripts,
           "configuration": {"PG_URL": legacy.url, "SCHEMA": legacy.schema}, "passwordPolicy": "none"})
}

async fn legacy_signup_and_delete(backend: &str) {
    let legacy = Legacy::new(&[("alice@example.com", "alice-pw", "alice")]).await;
    let s = TestServer::start(backend).await;
    let tok = s.mgmt_token().await;
    let app = app_and_connection(&s, &tok, "legacy-db", scripts(&legacy, false)).await;
    // An existing legacy user: get_user finds her, create does not run.
    assert_eq!(
        signup(&s, &app.0, "legacy-db", "alice@example.com", "x").await,
        (400, user_exists())
    );
    assert_eq!(legacy.count().await, 1);
    // A new user: created in the legacy store (create), verified (login), cached locally.
    let (st, u) = signup(&s, &app.0, "legacy-db", "carol@example.com", "carol-pw").await;
    assert_eq!(st, 200, "{u}");
    assert_eq!(u["_id"], "pg-2");
    assert_eq!(legacy.count().await, 2);
    assert_eq!(legacy.logins().await, 1, "login ran once, after create");
    assert_eq!(
        login(
            &s,
            &app,
            "legacy-db",
            "carol@example.com",
            "carol-pw",
            "openid"
        )
        .await
        .0,
        200
    );
    // The Management API creates through the same scripts.
    let (st, m) = s.call("POST", "/api/v2/users", Some(&tok), Some(json!({"connection": "legacy-db", "email": "dave@example.com", "password": "dave-pw"}))).await;
    assert_eq!(st, 201, "{m}");
    assert_eq!(m["user_id"], "auth0|pg-3");
    let (st, e) = s
        .call(
            "POST",
            "/api/v2/users",
            Some(&tok),
            Some(json!({"connection": "legacy-db", "email": "alice@example.com", "password": "x"})),
        )
        .await;
    assert_eq!(
        (st, e["message"].as_str()),
        (409, Some("The user already exists."))
    );
    // Delete runs the delete script with the raw id, then removes the local record.
    let (st, _) = s
        .call("DELETE", "/api/v2/users/auth0%7Cpg-3", Some(&tok), None)
        .await;
    assert_eq!(st, 204);
    assert_eq!(legacy.count().await, 2);
    let (st, _) = s
        .call("GET", "/api/v2/users/auth0%7Cpg-3", Some(&tok), None)
        .await;
    assert_eq!(st, 404);
}
sluice_store::both_backends!(
    legacy_mode_signup_runs_get_user_create_login,
    legacy_signup_and_delete
);

async fn import_signup(backend: &str) {
    let legacy = Legacy::new(&[("alice@example.com", "alice-pw", "alice")]).await;
    let s = TestServer::start(backend).await;
    let tok = s.mgmt_token().await;
    let app = app_and_connection(&s, &tok, "import-db", scripts(&legacy, true)).await;
    assert_eq!(
        signup(&s, &app.0, "import-db", "alice@example.com", "x").await,
        (400, user_exists()),
        "a user of the legacy store exists"
    );
    let (st, u) = signup(&s, &app.0, "import-db", "erin@example.com", "erin-pw").await;
    assert_eq!(st, 200, "{u}");
    assert_eq!(
        legacy.count().await,
        1,
        "new users live in Sluice, not in the legacy store"
    );
    assert_eq!(
        login(
            &s,
            &app,
            "import-db",
            "erin@example.com",
            "erin-pw",
            "openid"
        )
        .await
        .0,
        200
    );
    assert_eq!(legacy.logins().await, 0, "and log in without any script");
    assert_eq!(
        signup(&s, &app.0, "import-db", "erin@example.com", "erin-pw").await,
        (400, user_exists())
    );
}
sluice_store::both_backends!(
    import_mode_signup_checks_get_user_then_creates_locally,
    import_signup
);

async fn legacy_account_changes(backend: &str) {
    let legacy = Legacy::new(&[
        ("alice@example.com", "alice-pw", "alice"),
        ("taken@example.com", "x", "t"),
    ])
    .await;
    let s = TestServer::start(backend).await;
    let tok = s.mgmt_token().await;
    let mut opts = scripts(&legacy, false);
    opts["customScripts"]["change_email"] = json!(support::CHANGE_EMAIL_PG);
    opts["customScripts"]["change_password"] = json!(support::CHANGE_PASSWORD_PG);
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
    let uid = "auth0%7Cpg-1";
    // A taken email: get_user finds it, change_email does not run.
    let (st, e) = s
        .call(
            "PATCH",
            &format!("/api/v2/users/{uid}"),
            Some(&tok),
            Some(json!({"email": "taken@example.com"})),
        )
        .await;
    assert_eq!(st, 409, "{e}");
    let (st, u) = s
        .call(
            "PATCH",
            &format!("/api/v2/users/{uid}"),
            Some(&tok),
            Some(json!({"email": "alice2@example.com", "email_verified": true})),
        )
        .await;
    assert_eq!(st, 200, "{u}");
    assert_eq!(
        (u["email"].as_str(), u["email_verified"].as_bool()),
        (Some("alice2@example.com"), Some(true))
    );
    // change_password runs in the legacy store.
    let (st, u) = s
        .call(
            "PATCH",
            &format!("/api/v2/users/{uid}"),
            Some(&tok),
            Some(json!({"password": "new-pw"})),
        )
        .await;
    assert_eq!(st, 200, "{u}");
    assert_eq!(
        login(
            &s,
            &app,
            "legacy-db",
            "alice2@example.com",
            "new-pw",
            "openid"
        )
        .await
        .0,
        200,
        "the legacy store has both changes"
    );
    let (st, _) = s
        .call(
            "PATCH",
            &format!("/api/v2/users/{uid}"),
            Some(&tok),
            Some(json!({"name": "Alice"})),
        )
        .await;
    assert_eq!(st, 400, "root attributes come from the script");
}
sluice_store::both_backends!(
    legacy_mode_email_and_password_changes_run_their_scripts,
    legacy_account_changes
);

/// A legacy store failing during signup gives the Authentication API's error shape with a
/// generic description; nothing of the script or the database leaks.
#[tokio::test]
async fn a_failing_legacy_store_fails_signup_in_the_authentication_api_shape() {
    let legacy = Legacy::new(&[]).await;
    let s = TestServer::start("sqlite").await;
    let tok = s.mgmt_token().await;
    let app = app_and_connection(&s, &tok, "legacy-db", scripts(&legacy, false)).await;
    legacy.break_store().await;
    let (st, e) = signup(&s, &app.0, "legacy-db", "dan@example.com", "dan-pw").await;
    assert_eq!(st, 500, "{e}");
    assert_eq!(e["name"], "Error");
    assert_eq!(e["code"], "internal_error");
    assert_eq!(e["statusCode"], 500);
    let text = e.to_string();
    assert!(
        !text.contains("relation") && !text.contains(&legacy.schema),
        "{text}"
    );
}
