//! Races: what must hold when requests for the same user or token run at the same time, on one
//! node and on two nodes over one store (SQLite and PostgreSQL). Each test repeats its race
//! many times and asserts the property after every round, never a timing.

use crate::support;

use serde_json::{Value, json};
use sluice_testkit::TestServer;
use support::{app_and_connection, login};
use tokio::task::JoinSet;

const ROUNDS: usize = 12;

async fn user(s: &TestServer, tok: &str, email: &str, pw: &str) -> String {
    let (st, u) = s
        .call(
            "POST",
            "/api/v2/users",
            Some(tok),
            Some(json!({"connection": "db", "email": email, "password": pw})),
        )
        .await;
    assert_eq!(st, 201, "{u}");
    u["user_id"].as_str().unwrap().replace('|', "%7C")
}

/// Logins with `pw` from `n` tasks, each trying `times` times, while `during` runs.
async fn logins_during<F: std::future::Future<Output = (u16, Value)>>(
    s: &TestServer,
    app: &(String, String),
    email: &str,
    pw: &str,
    during: F,
) -> (u16, Value) {
    let mut tasks = JoinSet::new();
    for _ in 0..6 {
        let (url, http, app, email, pw) = (
            s.url.clone(),
            s.http.clone(),
            app.clone(),
            email.to_string(),
            pw.to_string(),
        );
        tasks.spawn(async move {
            for _ in 0..4 {
                let _ = http
                    .post(format!("{url}/oauth/token"))
                    .form(&[
                        (
                            "grant_type",
                            "http://auth0.com/oauth/grant-type/password-realm",
                        ),
                        ("client_id", app.0.as_str()),
                        ("client_secret", app.1.as_str()),
                        ("realm", "db"),
                        ("username", email.as_str()),
                        ("password", pw.as_str()),
                    ])
                    .send()
                    .await;
            }
        });
    }
    let out = during.await;
    tasks.join_all().await;
    out
}

async fn admin_changes(backend: &str) {
    let s = TestServer::start(backend).await;
    // Logins go through a second node: the change must hold there too.
    let b = s.peer().await;
    let tok = s.mgmt_token().await;
    // Brute-force protection off: the old password failing after the change is expected here.
    let app = app_and_connection(
        &s,
        &tok,
        "db",
        json!({"passwordPolicy": "none", "brute_force_protection": false}),
    )
    .await;
    let uid = user(&s, &tok, "race@example.com", "pw-0").await;
    let path = format!("/api/v2/users/{uid}");
    for round in 1..=ROUNDS {
        let (old, new) = (format!("pw-{}", round - 1), format!("pw-{round}"));
        let (st, e) = logins_during(
            &b,
            &app,
            "race@example.com",
            &old,
            s.call("PATCH", &path, Some(&tok), Some(json!({"password": new}))),
        )
        .await;
        assert_eq!(st, 200, "{e}");
        let (st, _) = login(&b, &app, "db", "race@example.com", &old, "openid").await;
        assert_eq!(st, 403, "round {round}: the old password works again");
        let (st, e) = login(&b, &app, "db", "race@example.com", &new, "openid").await;
        assert_eq!(st, 200, "round {round}: the new password: {e}");

        let (st, _) = logins_during(
            &b,
            &app,
            "race@example.com",
            &new,
            s.call("PATCH", &path, Some(&tok), Some(json!({"blocked": true}))),
        )
        .await;
        assert_eq!(st, 200);
        let (_, u) = s.call("GET", &path, Some(&tok), None).await;
        assert_eq!(u["blocked"], true, "round {round}: the block was undone");
        let (st, e) = login(&b, &app, "db", "race@example.com", &new, "openid").await;
        assert_eq!(
            (st, e["error"].as_str()),
            (401, Some("unauthorized")),
            "round {round}: a blocked user logs in"
        );
        let (st, _) = s
            .call("PATCH", &path, Some(&tok), Some(json!({"blocked": false})))
            .await;
        assert_eq!(st, 200);
    }
    let (_, u) = s.call("GET", &path, Some(&tok), None).await;
    assert!(u["logins_count"].as_i64().unwrap() > 0);
    drop(b);
}
sluice_store::both_backends!(
    logins_in_flight_never_undo_an_admin_password_change_or_block,
    admin_changes
);

/// 40 attempts at once for one user from one address, alternating between two nodes;
/// `right_at` is the one with the right password, if any. Returns the statuses.
async fn burst(
    a: &TestServer,
    b: &TestServer,
    app: &(String, String),
    email: &str,
    right_at: Option<usize>,
) -> Vec<u16> {
    let mut tasks = JoinSet::new();
    for i in 0..40 {
        let (url, http, app, email) = (
            if i % 2 == 0 {
                a.url.clone()
            } else {
                b.url.clone()
            },
            a.http.clone(),
            app.clone(),
            email.to_string(),
        );
        let pw = if Some(i) == right_at {
            "right"
        } else {
            "wrong"
        };
        tasks.spawn(async move {
            http.post(format!("{url}/oauth/token"))
                .form(&[
                    (
                        "grant_type",
                        "http://auth0.com/oauth/grant-type/password-realm",
                    ),
                    ("client_id", app.0.as_str()),
                    ("client_secret", app.1.as_str()),
                    ("realm", "db"),
                    ("username", email.as_str()),
                    ("password", pw),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    }
    let statuses = tasks.join_all().await;
    assert!(
        statuses.iter().all(|s| [200, 403, 429].contains(s)),
        "{statuses:?}"
    );
    statuses
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

async fn wrong_password_burst(backend: &str) {
    let a = TestServer::start(backend).await;
    let b = a.peer().await;
    let tok = a.mgmt_token().await;
    let app = app_and_connection(&a, &tok, "db", json!({"passwordPolicy": "none"})).await;
    for round in 0..4 {
        // Only wrong passwords: exactly the limit are checked, whatever the interleaving.
        let email = format!("burst{round}@example.com");
        user(&a, &tok, &email, "right").await;
        let statuses = burst(&a, &b, &app, &email, None).await;
        assert_eq!(
            (count(&statuses, 403), count(&statuses, 429)),
            (10, 30),
            "round {round}: {statuses:?}"
        );
        let (st, _) = login(&a, &app, "db", &email, "right", "openid").await;
        assert_eq!(st, 429, "round {round}: ten failures block the pair");

        // The right password inside the burst: it gets through only while fewer than ten
        // failures are counted, and its success starts the count again (consecutive
        // failures, as Auth0), so at most ten wrong ones are checked on each side of it.
        let email = format!("mixed{round}@example.com");
        user(&a, &tok, &email, "right").await;
        let statuses = burst(&a, &b, &app, &email, Some(20)).await;
        let wrong_checked = count(&statuses, 403);
        if count(&statuses, 200) == 1 {
            assert!(wrong_checked <= 20, "round {round}: {statuses:?}");
        } else {
            assert_eq!(wrong_checked, 10, "round {round}: {statuses:?}");
        }
    }
    drop(b);
}
sluice_store::both_backends!(
    parallel_wrong_passwords_on_two_nodes_never_check_more_than_the_limit,
    wrong_password_burst
);

/// A confidential app allowed refresh tokens, a user, and a function that logs them in with
/// `offline_access` and returns the refresh token.
async fn refresh_setup(s: &TestServer) -> (String, String) {
    let tok = s.mgmt_token().await;
    let app = app_and_connection(s, &tok, "db", json!({"passwordPolicy": "none"})).await;
    let (st, e) = s
        .call(
            "PATCH",
            &format!("/api/v2/clients/{}", app.0),
            Some(&tok),
            Some(json!({"grant_types": ["http://auth0.com/oauth/grant-type/password-realm", "refresh_token"]})),
        )
        .await;
    assert_eq!(st, 200, "{e}");
    user(s, &tok, "rt@example.com", "pw").await;
    app
}

async fn new_refresh_token(s: &TestServer, app: &(String, String)) -> String {
    let (st, t) = login(
        s,
        app,
        "db",
        "rt@example.com",
        "pw",
        "openid offline_access",
    )
    .await;
    assert_eq!(st, 200, "{t}");
    t["refresh_token"].as_str().expect("refresh token").into()
}

async fn refresh(s: &TestServer, app: &(String, String), rt: &str) -> (u16, Value) {
    let r = s
        .http
        .post(format!("{}/oauth/token", s.url))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", app.0.as_str()),
            ("client_secret", app.1.as_str()),
            ("refresh_token", rt),
        ])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn revoke(s: &TestServer, app: &(String, String), rt: &str) -> u16 {
    s.http
        .post(format!("{}/oauth/revoke", s.url))
        .json(&json!({"client_id": app.0, "client_secret": app.1, "token": rt}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn userinfo(s: &TestServer, access_token: &str) -> u16 {
    s.http
        .get(format!("{}/userinfo", s.url))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn revoke_during_refresh(backend: &str) {
    let a = TestServer::start(backend).await;
    let b = a.peer().await;
    let app = refresh_setup(&a).await;
    for round in 0..ROUNDS {
        let rt = new_refresh_token(&a, &app).await;
        // The refresh on one node, the revocation on the other, at once.
        let ((st, t), revoked) = tokio::join!(refresh(&a, &app, &rt), revoke(&b, &app, &rt));
        assert_eq!(revoked, 200, "round {round}");
        if st == 200 {
            let next = t["refresh_token"].as_str().expect("rotated token");
            let (st, e) = refresh(&a, &app, next).await;
            assert_eq!(
                st, 403,
                "round {round}: a token of a revoked family still works: {e}"
            );
            let at = t["access_token"].as_str().unwrap();
            assert_eq!(
                userinfo(&a, at).await,
                401,
                "round {round}: an access token of a revoked family still works"
            );
        }
        let (st, _) = refresh(&b, &app, &rt).await;
        assert_eq!(st, 403, "round {round}: the revoked token itself");
    }
    drop(b);
}
sluice_store::both_backends!(
    a_revocation_during_a_refresh_leaves_no_live_token_in_the_family,
    revoke_during_refresh
);

async fn concurrent_reuse(backend: &str) {
    let a = TestServer::start(backend).await;
    let b = a.peer().await;
    let app = refresh_setup(&a).await;
    for round in 0..ROUNDS {
        let rt = new_refresh_token(&a, &app).await;
        let mut tasks = JoinSet::new();
        for i in 0..6 {
            let (url, http, app, rt) = (
                if i % 2 == 0 {
                    a.url.clone()
                } else {
                    b.url.clone()
                },
                a.http.clone(),
                app.clone(),
                rt.clone(),
            );
            tasks.spawn(async move {
                let r = http
                    .post(format!("{url}/oauth/token"))
                    .form(&[
                        ("grant_type", "refresh_token"),
                        ("client_id", app.0.as_str()),
                        ("client_secret", app.1.as_str()),
                        ("refresh_token", rt.as_str()),
                    ])
                    .send()
                    .await
                    .unwrap();
                (
                    r.status().as_u16(),
                    r.json::<Value>().await.unwrap_or(Value::Null),
                )
            });
        }
        let out = tasks.join_all().await;
        let won: Vec<&Value> = out
            .iter()
            .filter(|(st, _)| *st == 200)
            .map(|(_, t)| t)
            .collect();
        assert!(
            won.len() <= 1,
            "round {round}: one refresh token redeemed {} times",
            won.len()
        );
        // Reuse was detected, so the family is revoked: whatever the winner got is dead.
        for t in won {
            let (st, _) = refresh(&a, &app, t["refresh_token"].as_str().unwrap()).await;
            assert_eq!(
                st, 403,
                "round {round}: the winner's token survived the reuse"
            );
        }
    }
    drop(b);
}
sluice_store::both_backends!(
    concurrent_reuse_of_a_refresh_token_redeems_it_at_most_once,
    concurrent_reuse
);
