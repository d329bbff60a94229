//! Password reset by email in each connection mode: the neutral request answer, the one-time
//! expiring ticket, the reset page, and which scripts run.

mod support;

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
    s.call(
        "POST",
        "/api/v2/users",
        Some(&tok),
        Some(json!({"connection": "db", "email": "r@example.com", "password": "OldPassw0rd"})),
    )
    .await;
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
    assert!(st == 200 && body.contains("too weak"), "{body}");
    let (_, body) = reset_submit(&s, &ticket, "NewPassw0rd", "Different1").await;
    assert!(body.contains("do not match"));
    let (st, body) = reset_submit(&s, &ticket, "NewPassw0rd", "NewPassw0rd").await;
    assert_eq!(st, 200, "{body}");
    assert!(body.contains("Your password has been changed"));
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

fn options(legacy: &Legacy, import: bool) -> serde_json::Value {
    let scripts = if import {
        json!({"login": LOGIN, "get_user": GET_USER_PG})
    } else {
        json!({"login": LOGIN, "get_user": GET_USER_PG, "change_password": CHANGE_PASSWORD_PG})
    };
    json!({"enabledDatabaseCustomization": true, "import_mode": import, "customScripts": scripts,
           "configuration": {"PG_URL": legacy.url, "SCHEMA": legacy.schema}, "passwordPolicy": "none"})
}

async fn legacy_reset(backend: &str) {
    let legacy = Legacy::new(&[("alice@example.com", "old-pw", "alice")]).await;
    let s = TestServer::start(backend).await;
    let tok = s.mgmt_token().await;
    let app = app_and_connection(&s, &tok, "legacy-db", options(&legacy, false)).await;
    let ticket = reset_ticket(&s, "legacy-db", "alice@example.com")
        .await
        .expect("get_user found her");
    assert_eq!(reset_submit(&s, &ticket, "new-pw", "new-pw").await.0, 200);
    // change_password updated the legacy store: the login script accepts the new password.
    assert_eq!(
        login(
            &s,
            &app,
            "legacy-db",
            "alice@example.com",
            "new-pw",
            "openid"
        )
        .await
        .0,
        200
    );
    assert_eq!(
        login(
            &s,
            &app,
            "legacy-db",
            "alice@example.com",
            "old-pw",
            "openid"
        )
        .await
        .0,
        403
    );
}
sluice_store::both_backends!(
    legacy_mode_reset_runs_get_user_then_change_password,
    legacy_reset
);

async fn import_reset(backend: &str) {
    let legacy = Legacy::new(&[("alice@example.com", "old-pw", "alice")]).await;
    let s = TestServer::start(backend).await;
    let tok = s.mgmt_token().await;
    let app = app_and_connection(&s, &tok, "import-db", options(&legacy, true)).await;
    let ticket = reset_ticket(&s, "import-db", "alice@example.com")
        .await
        .expect("get_user found her");
    assert_eq!(reset_submit(&s, &ticket, "new-pw", "new-pw").await.0, 200);
    // The un-migrated user was created locally from get_user's profile with the new password.
    let t = s.core().tenant("default").await.unwrap();
    let rec = s
        .core()
        .store
        .user_fetch(&t.id, "auth0|pg-1")
        .await
        .unwrap()
        .expect("migrated by the reset");
    assert!(matches!(
        rec.origin,
        sluice_core::model::UserOrigin::Migrated { .. }
    ));
    assert_eq!(
        login(
            &s,
            &app,
            "import-db",
            "alice@example.com",
            "new-pw",
            "openid"
        )
        .await
        .0,
        200
    );
    assert_eq!(legacy.logins().await, 0, "no login script ran");
}
sluice_store::both_backends!(import_mode_reset_migrates_an_unmigrated_user, import_reset);
