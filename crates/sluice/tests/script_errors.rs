//! A custom database script's own errors reach the caller as Auth0 passes them, over both kinds
//! of legacy store: a `create` script's `ValidationError(code, message)` and
//! `UnauthorizedError(message)` answer sign-up with the script's code (`unauthorized` for the
//! latter) and message in the sign-up body, and the Management API with them as `errorCode` and
//! `message`; no other script runs after the refusal and nothing is created.

use crate::support::{app_and_connection, signup};
use serde_json::json;
use sluice_testkit::TestServer;
use sluice_testkit::legacy::{LegacyKind, LegacyStore, runs};

macro_rules! kinds {
    ($body:ident) => {
        mod $body {
            use sluice_testkit::legacy::LegacyKind;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$body(LegacyKind::Postgres).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mariadb() {
                super::$body(LegacyKind::MariaDb).await
            }
        }
    };
}

/// A legacy-mode connection `db` whose `create` script refuses with `refusal`.
async fn refusing(kind: LegacyKind, refusal: &str) -> (LegacyStore, TestServer, String, String) {
    let legacy = LegacyStore::new(kind, &[]).await;
    let s = TestServer::start("sqlite").await;
    let tok = s.mgmt_token().await;
    let mut opts = legacy.options(false);
    opts["customScripts"]["create"] = json!(format!(
        "function create(user, callback) {{ callback({refusal}); }}"
    ));
    let (app, _) = app_and_connection(&s, &tok, "db", opts).await;
    (legacy, s, tok, app)
}

async fn a_create_scripts_validation_error_reaches_the_signup_form(kind: LegacyKind) {
    let (legacy, s, tok, app) = refusing(
        kind,
        "new ValidationError('invalid_username', 'Usernames cannot contain spaces.')",
    )
    .await;
    assert_eq!(
        signup(&s, &app, "db", "new@example.com", "pw").await,
        (
            400,
            json!({"name": "BadRequestError", "code": "invalid_username",
                   "description": "Usernames cannot contain spaces.", "statusCode": 400})
        )
    );
    assert_eq!(
        legacy.runs().await,
        runs(&[("get_user", 1)]),
        "the refusal ends the sign-up: no login"
    );
    let (st, e) = s
        .call(
            "POST",
            "/api/v2/users",
            Some(&tok),
            Some(json!({"connection": "db", "email": "new@example.com", "password": "pw"})),
        )
        .await;
    assert_eq!(st, 400, "{e}");
    assert_eq!(
        (e["errorCode"].as_str(), e["message"].as_str()),
        (
            Some("invalid_username"),
            Some("Usernames cannot contain spaces.")
        )
    );
    let (_, users) = s.call("GET", "/api/v2/users", Some(&tok), None).await;
    assert_eq!(users, json!([]), "nobody was created");
}
kinds!(a_create_scripts_validation_error_reaches_the_signup_form);

async fn a_create_scripts_unauthorized_error_is_a_signup_refusal_with_its_message(
    kind: LegacyKind,
) {
    let (legacy, s, _tok, app) = refusing(
        kind,
        "new UnauthorizedError('Sign-ups are closed in your region.')",
    )
    .await;
    assert_eq!(
        signup(&s, &app, "db", "new@example.com", "pw").await,
        (
            400,
            json!({"name": "BadRequestError", "code": "unauthorized",
                   "description": "Sign-ups are closed in your region.", "statusCode": 400})
        )
    );
    assert_eq!(legacy.runs().await, runs(&[("get_user", 1)]));
}
kinds!(a_create_scripts_unauthorized_error_is_a_signup_refusal_with_its_message);
