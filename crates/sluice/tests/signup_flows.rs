//! Signup (`/dbconnections/signup`) in a Sluice-managed connection (normalised email,
//! `user_exists`, password strength, signup disabled), and a failing legacy store's signup error
//! in the Authentication API's shape. Signup and Management API create / change / delete through
//! the scripts of both kinds of legacy store are in `legacy_flows.rs`.

use crate::support;

use serde_json::json;
use sluice_testkit::TestServer;
use support::{CREATE_PG, GET_USER_PG, LOGIN, Legacy, app_and_connection, login, signup};

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

/// Legacy-mode options for `legacy`: the scripts signup runs.
fn options(legacy: &Legacy) -> serde_json::Value {
    json!({"enabledDatabaseCustomization": true, "import_mode": false,
           "customScripts": {"login": LOGIN, "get_user": GET_USER_PG, "create": CREATE_PG},
           "configuration": {"PG_URL": legacy.url, "SCHEMA": legacy.schema}, "passwordPolicy": "none"})
}

/// A legacy store failing during signup gives the Authentication API's error shape with a
/// generic description; nothing of the script or the database leaks.
#[tokio::test]
async fn a_failing_legacy_store_fails_signup_in_the_authentication_api_shape() {
    let legacy = Legacy::new(&[]).await;
    let s = TestServer::start("sqlite").await;
    let tok = s.mgmt_token().await;
    let app = app_and_connection(&s, &tok, "legacy-db", options(&legacy)).await;
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
