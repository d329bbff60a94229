//! Password reset by email in a Sluice-managed connection: the neutral request answer, the
//! one-time ticket, the reset page and its checks, and a reset lifting a brute-force block; email
//! verification links; and a reset link that survives a legacy store failure. Reset and
//! verification through the scripts of both kinds of legacy store are in `legacy_flows.rs`.

use crate::support;

use serde_json::json;
use sluice_testkit::TestServer;
use support::{
    CHANGE_PASSWORD_PG, GET_USER_PG, LOGIN, Legacy, app_and_connection, login, reset_submit,
    reset_ticket,
};

async fn local_reset(backend: &str) {
    let s = TestServer::start(backend).await;
    let tok = s.mgmt_token().await;
    let app = app_and_connection(&s, &tok, "db", json!({"passwordPolicy": "fair"})).await;
    let (_, created) = s
        .call(
            "POST",
            "/api/v2/users",
            Some(&tok),
            Some(json!({"connection": "db", "email": "r@example.com", "password": "OldPassw0rd"})),
        )
        .await;
    assert!(created.get("last_password_reset").is_none(), "{created}");
    // Unknown users get the same answer and no email.
    assert_eq!(reset_ticket(&s, "db", "nobody@example.com").await, None);
    // Lock the user out with brute force first: a reset lifts the block.
    for _ in 0..10 {
        login(&s, &app, "db", "r@example.com", "bad", "openid").await;
    }
    assert_eq!(
        login(&s, &app, "db", "r@example.com", "OldPassw0rd", "openid")
            .await
            .0,
        429
    );
    let ticket = reset_ticket(&s, "db", "R@example.com")
        .await
        .expect("an email with a link");
    let page = s
        .http
        .get(format!("{}/lo/reset?ticket={ticket}", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("r@example.com"));
    let (st, body) = reset_submit(&s, &ticket, "weak", "weak").await;
    assert!(st == 400 && body.contains("too weak"), "{body}");
    let (_, body) = reset_submit(&s, &ticket, "NewPassw0rd", "Different1").await;
    assert!(body.contains("do not match"));
    let (st, body) = reset_submit(&s, &ticket, "NewPassw0rd", "NewPassw0rd").await;
    assert_eq!(st, 200, "{body}");
    assert!(body.contains("Your password has been changed"));
    let uid = created["user_id"].as_str().unwrap().replace('|', "%7C");
    let (_, u) = s
        .call("GET", &format!("/api/v2/users/{uid}"), Some(&tok), None)
        .await;
    assert!(
        u["last_password_reset"]
            .as_str()
            .is_some_and(|at| at.ends_with('Z')),
        "the reset is recorded: {u}"
    );
    assert_eq!(
        reset_submit(&s, &ticket, "Other1Passw0rd", "Other1Passw0rd")
            .await
            .0,
        400,
        "a ticket works once"
    );
    assert_eq!(
        login(&s, &app, "db", "r@example.com", "NewPassw0rd", "openid")
            .await
            .0,
        200
    );
    assert_eq!(
        login(&s, &app, "db", "r@example.com", "OldPassw0rd", "openid")
            .await
            .0,
        403
    );
    let bad = s
        .http
        .get(format!("{}/lo/reset?ticket=forged", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}
sluice_store::both_backends!(reset_in_a_sluice_managed_connection, local_reset);

/// Legacy-mode options for `legacy`: the scripts a reset runs.
fn options(legacy: &Legacy) -> serde_json::Value {
    json!({"enabledDatabaseCustomization": true, "import_mode": false,
           "customScripts": {"login": LOGIN, "get_user": GET_USER_PG, "change_password": CHANGE_PASSWORD_PG},
           "configuration": {"PG_URL": legacy.url, "SCHEMA": legacy.schema}, "passwordPolicy": "none"})
}

async fn verify_email(backend: &str) {
    let s = TestServer::start(backend).await;
    let tok = s.mgmt_token().await;
    let app = app_and_connection(&s, &tok, "db", json!({"passwordPolicy": "none"})).await;
    let (st, u) = support::signup(&s, &app.0, "db", "v@example.com", "pw").await;
    assert_eq!(st, 200, "{u}");
    let ticket = support::newest_link_ticket(&s, "/lo/verify").expect("a verification email");
    // A verification ticket is not a reset ticket.
    assert_eq!(reset_submit(&s, &ticket, "x", "x").await.0, 400);
    let r = s
        .http
        .get(format!("{}/lo/verify?ticket={ticket}", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("v@example.com is verified")
    );
    let (_, users) = s
        .call(
            "GET",
            "/api/v2/users-by-email?email=v%40example.com",
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(users[0]["email_verified"], true);
    let again = s
        .http
        .get(format!("{}/lo/verify?ticket={ticket}", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 400, "a link works once");
    // verify_email: false sends nothing.
    let before = std::fs::read_dir(s.data_dir.join("outbox"))
        .unwrap()
        .count();
    s.call("POST", "/api/v2/users", Some(&tok), Some(json!({"connection": "db", "email": "q@example.com", "password": "pw", "verify_email": false}))).await;
    assert_eq!(
        std::fs::read_dir(s.data_dir.join("outbox"))
            .unwrap()
            .count(),
        before
    );
}
sluice_store::both_backends!(
    email_verification_link_marks_the_user_verified,
    verify_email
);

/// A legacy store that fails while the new password is being set must not cost the user the
/// emailed link: the same link works once the store is back.
#[tokio::test]
async fn a_reset_link_survives_a_legacy_store_failure() {
    let legacy = Legacy::new(&[("alice@example.com", "old-pw", "alice")]).await;
    let s = TestServer::start("sqlite").await;
    let tok = s.mgmt_token().await;
    let app = app_and_connection(&s, &tok, "legacy-db", options(&legacy)).await;
    let ticket = reset_ticket(&s, "legacy-db", "alice@example.com")
        .await
        .expect("get_user found her");
    legacy.break_store().await;
    let (st, body) = reset_submit(&s, &ticket, "new-pw", "new-pw").await;
    assert_eq!(st, 500, "{body}");
    assert!(body.contains("Something went wrong"), "{body}");
    legacy
        .restore(&[("alice@example.com", "old-pw", "alice")])
        .await;
    assert_eq!(reset_submit(&s, &ticket, "new-pw", "new-pw").await.0, 200);
    assert_eq!(
        reset_submit(&s, &ticket, "other-pw", "other-pw").await.0,
        400,
        "and then it is used up"
    );
    let (st, _) = login(
        &s,
        &app,
        "legacy-db",
        "alice@example.com",
        "new-pw",
        "openid",
    )
    .await;
    assert_eq!(st, 200);
}
