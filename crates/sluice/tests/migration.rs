//! The migration off a legacy store as an operator follows it, on both store backends: progress
//! per connection (`GET /api/v2/connections/{id}/migration`, a Sluice extension) and the
//! switch-off guard. Legacy mode caches users without a password; a legacy connection flips to
//! import mode in one PATCH that keeps its other scripts; each cached user migrates at their
//! next login; turning "use my own database" off is refused while any cached user would be
//! stranded (unless forced), and once everyone has migrated it works and they log in with the
//! passwords they always had. Each user shows where they came from (`identities[0].migration`),
//! and each migration is a `migration` tenant log event.

use crate::support::{app_and_connection, login, reset_submit, reset_ticket};
use serde_json::{Value, json};
use sluice_testkit::TestServer;
use sluice_testkit::legacy::{LegacyKind, LegacyStore};

type App = (String, String);

const ALICE: (&str, &str) = ("alice@example.com", "alice-pw");
const BOB: (&str, &str) = ("bob@example.com", "bob-pw");

async fn connection_id(s: &TestServer, tok: &str) -> String {
    let (_, conns) = s
        .call("GET", "/api/v2/connections?name=db", Some(tok), None)
        .await;
    conns[0]["id"].as_str().unwrap().to_string()
}

async fn progress(s: &TestServer, tok: &str, id: &str) -> Value {
    let (st, p) = s
        .call(
            "GET",
            &format!("/api/v2/connections/{id}/migration"),
            Some(tok),
            None,
        )
        .await;
    assert_eq!(st, 200, "{p}");
    p
}

async fn patch_options(s: &TestServer, tok: &str, id: &str, query: &str, o: Value) -> (u16, Value) {
    s.call(
        "PATCH",
        &format!("/api/v2/connections/{id}{query}"),
        Some(tok),
        Some(json!({ "options": o })),
    )
    .await
}

async fn user_by_email(s: &TestServer, tok: &str, email: &str) -> Value {
    let (st, users) = s
        .call(
            "GET",
            &format!("/api/v2/users-by-email?email={email}"),
            Some(tok),
            None,
        )
        .await;
    assert_eq!(st, 200, "{users}");
    users[0].clone()
}

async fn logs_in(s: &TestServer, app: &App, who: (&str, &str)) -> u16 {
    login(s, app, "db", who.0, who.1, "openid").await.0
}

/// `legacy`'s options with every script kept, in import mode or switched off.
fn flipped(legacy: &LegacyStore, import: bool, custom: bool) -> Value {
    let mut o = legacy.options(false);
    o["import_mode"] = json!(import);
    o["enabledDatabaseCustomization"] = json!(custom);
    o
}

async fn journey(backend: &str) {
    let legacy = LegacyStore::new(
        LegacyKind::Postgres,
        &[(ALICE.0, ALICE.1, "alice"), (BOB.0, BOB.1, "bob")],
    )
    .await;
    let s = TestServer::start(backend).await;
    let tok = s.mgmt_token().await;
    let app = app_and_connection(&s, &tok, "db", legacy.options(false)).await;
    let id = connection_id(&s, &tok).await;
    assert_eq!(
        progress(&s, &tok, &id).await,
        json!({"connection_id": id, "connection": "db", "mode": "legacy",
               "users": {"total": 0, "migrated_by_login": 0, "legacy_cached": 0, "created_locally": 0},
               "stranded_if_switched_off": 0})
    );

    // Legacy mode: both log in through the scripts and are cached without a password.
    assert_eq!(logs_in(&s, &app, ALICE).await, 200);
    assert_eq!(logs_in(&s, &app, BOB).await, 200);
    let p = progress(&s, &tok, &id).await;
    assert_eq!(p["users"]["legacy_cached"], 2, "{p}");
    assert_eq!(p["stranded_if_switched_off"], 2, "{p}");

    // Switching the custom database off now would strand them: refused, nothing changed.
    let (st, e) = patch_options(&s, &tok, &id, "", flipped(&legacy, false, false)).await;
    assert_eq!(st, 400, "{e}");
    assert_eq!(e["errorCode"], "operation_not_allowed", "{e}");
    assert!(e["message"].as_str().unwrap().contains("2 user(s)"), "{e}");
    let (_, c) = s
        .call(
            "GET",
            &format!("/api/v2/connections/{id}"),
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(c["options"]["enabledDatabaseCustomization"], true);

    // One PATCH flips it to import mode, its other scripts kept.
    let (st, c) = patch_options(&s, &tok, &id, "", flipped(&legacy, true, true)).await;
    assert_eq!(st, 200, "{c}");
    assert!(c["options"]["customScripts"]["create"].is_string(), "{c}");
    assert_eq!(logs_in(&s, &app, ALICE).await, 200);
    let p = progress(&s, &tok, &id).await;
    assert_eq!(p["mode"], "import");
    assert_eq!(
        (
            p["users"]["migrated_by_login"].clone(),
            p["users"]["legacy_cached"].clone()
        ),
        (json!(1), json!(1)),
        "{p}"
    );
    // Each user shows where they came from; Alice's migration is in the tenant log, for a
    // process that archives migrated rows of the legacy store.
    let alice = user_by_email(&s, &tok, ALICE.0).await;
    assert_eq!(
        alice["identities"][0]["migration"]["origin"], "migrated",
        "{alice}"
    );
    assert!(
        alice["identities"][0]["migration"]["at"].is_string(),
        "{alice}"
    );
    let bob = user_by_email(&s, &tok, BOB.0).await;
    assert_eq!(
        bob["identities"][0]["migration"],
        json!({"origin": "legacy_cached"})
    );
    let t = s.core().tenant("default").await.unwrap();
    let stored = s
        .core()
        .store
        .user_fetch(&t.id, alice["user_id"].as_str().unwrap())
        .await;
    assert_eq!(
        stored.unwrap().unwrap().profile.identities[0].migration,
        None,
        "shown, never stored"
    );
    let (st, events) = s
        .call("GET", "/api/v2/logs?q=type:migration", Some(&tok), None)
        .await;
    assert_eq!(st, 200, "{events}");
    let events = events.as_array().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["user_id"], alice["user_id"]);
    assert_eq!(events[0]["connection"], "db");
    assert_eq!(events[0]["details"]["by"], "login");
    assert_eq!(
        events[0]["details"]["legacy_user_id"],
        alice["identities"][0]["user_id"]
    );

    let (st, e) = patch_options(&s, &tok, &id, "", flipped(&legacy, false, false)).await;
    assert_eq!(st, 400, "Bob would still be stranded: {e}");
    assert!(e["message"].as_str().unwrap().contains("1 user(s)"), "{e}");

    // Bob's next login migrates him too; then the legacy store can go.
    assert_eq!(logs_in(&s, &app, BOB).await, 200);
    let p = progress(&s, &tok, &id).await;
    assert_eq!(p["users"]["migrated_by_login"], 2, "{p}");
    assert_eq!(p["stranded_if_switched_off"], 0, "{p}");
    let (st, c) = patch_options(&s, &tok, &id, "", flipped(&legacy, false, false)).await;
    assert_eq!(st, 200, "{c}");
    assert_eq!(progress(&s, &tok, &id).await["mode"], "local");
    legacy.reset_runs().await;
    assert_eq!(logs_in(&s, &app, ALICE).await, 200);
    assert_eq!(logs_in(&s, &app, BOB).await, 200);
    assert_eq!(
        logs_in(&s, &app, (ALICE.0, "wrong")).await,
        403,
        "her password is checked locally"
    );
    assert!(
        legacy.runs().await.is_empty(),
        "no script ran after the switch-off"
    );
}
sluice_store::both_backends!(
    a_legacy_connection_migrates_and_switches_off_only_when_no_one_is_stranded,
    journey
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forced_switch_off_strands_the_cached_users_it_was_warned_about() {
    let legacy = LegacyStore::new(LegacyKind::Postgres, &[(ALICE.0, ALICE.1, "alice")]).await;
    let s = TestServer::start("sqlite").await;
    let tok = s.mgmt_token().await;
    let app = app_and_connection(&s, &tok, "db", legacy.options(false)).await;
    let id = connection_id(&s, &tok).await;
    assert_eq!(logs_in(&s, &app, ALICE).await, 200);
    let (st, c) = patch_options(&s, &tok, &id, "?force=true", flipped(&legacy, false, false)).await;
    assert_eq!(st, 200, "{c}");
    assert_eq!(c["options"]["enabledDatabaseCustomization"], false);
    legacy.reset_runs().await;
    assert_eq!(
        logs_in(&s, &app, ALICE).await,
        403,
        "she has no password in Sluice"
    );
    assert!(
        legacy.runs().await.is_empty(),
        "a switched-off connection never runs its scripts"
    );
    // A password reset gives her one (and counts as her migration).
    let ticket = reset_ticket(&s, "db", ALICE.0)
        .await
        .expect("she is a user of the connection");
    assert_eq!(reset_submit(&s, &ticket, "new-pw", "new-pw").await.0, 200);
    assert_eq!(logs_in(&s, &app, (ALICE.0, "new-pw")).await, 200);
    assert!(legacy.runs().await.is_empty());
    let p = progress(&s, &tok, &id).await;
    assert_eq!(p["users"]["migrated_by_login"], 1, "{p}");
    let (st, e) = patch_options(
        &s,
        &tok,
        &id,
        "?force=maybe",
        flipped(&legacy, false, false),
    )
    .await;
    assert_eq!(st, 400, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_reset_that_migrates_a_user_is_logged_as_a_migration() {
    let legacy = LegacyStore::new(LegacyKind::Postgres, &[(ALICE.0, ALICE.1, "alice")]).await;
    let s = TestServer::start("sqlite").await;
    let tok = s.mgmt_token().await;
    let app = app_and_connection(&s, &tok, "db", legacy.options(true)).await;
    let ticket = reset_ticket(&s, "db", ALICE.0)
        .await
        .expect("get_user found her");
    assert_eq!(reset_submit(&s, &ticket, "new-pw", "new-pw").await.0, 200);
    let (_, events) = s
        .call("GET", "/api/v2/logs?q=type:migration", Some(&tok), None)
        .await;
    assert_eq!(events.as_array().map(Vec::len), Some(1), "{events}");
    assert_eq!(events[0]["details"]["by"], "password_reset");
    let alice = user_by_email(&s, &tok, ALICE.0).await;
    assert_eq!(alice["identities"][0]["migration"]["origin"], "migrated");
    assert_eq!(logs_in(&s, &app, (ALICE.0, "new-pw")).await, 200);
}

/// `sluice migrate status` (the binary) against a server's store.
fn migrate_status(s: &TestServer, json: bool) -> String {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"));
    cmd.args(["migrate", "status", "--data-dir"])
        .arg(&s.data_dir)
        .args(["--database-url", s.db_url()])
        .env_remove("SLUICE_DATABASE_URL")
        .env_remove("SLUICE_CONFIG");
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().expect("the sluice binary runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_reports_the_same_progress_as_the_api() {
    let legacy = LegacyStore::new(
        LegacyKind::Postgres,
        &[(ALICE.0, ALICE.1, "alice"), (BOB.0, BOB.1, "bob")],
    )
    .await;
    let s = TestServer::start("sqlite").await;
    let tok = s.mgmt_token().await;
    let app = app_and_connection(&s, &tok, "db", legacy.options(false)).await;
    let id = connection_id(&s, &tok).await;
    assert_eq!(logs_in(&s, &app, ALICE).await, 200);
    let api = progress(&s, &tok, &id).await;
    let cli: Value = serde_json::from_str(&migrate_status(&s, true)).unwrap();
    assert_eq!(cli, json!([api]));
    let table = migrate_status(&s, false);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    assert!(lines[0].starts_with("connection\tmode\tusers"), "{table}");
    assert_eq!(lines[1], "db\tlegacy\t1\t0\t1\t0\t1", "{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_progress_is_in_the_prometheus_metrics() {
    let legacy = LegacyStore::new(
        LegacyKind::Postgres,
        &[(ALICE.0, ALICE.1, "alice"), (BOB.0, BOB.1, "bob")],
    )
    .await;
    let s = TestServer::start("sqlite").await;
    let tok = s.mgmt_token().await;
    let app = app_and_connection(&s, &tok, "db", legacy.options(false)).await;
    assert_eq!(logs_in(&s, &app, ALICE).await, 200);
    assert_eq!(logs_in(&s, &app, BOB).await, 200);
    // A node that starts now counts at once (then every minute).
    let b = s.peer().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let want = r#"migration_users{tenant="default",connection="db",origin="legacy_cached"} 2"#;
    let text = loop {
        let text = b
            .http
            .get(format!("{}/metrics", b.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.contains(want) || std::time::Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(text.contains(want), "{text}");
    assert!(
        text.contains(r#"migration_stranded_if_switched_off{tenant="default",connection="db"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"migration_users{tenant="default",connection="db",origin="migrated_by_login"} 0"#
        ),
        "{text}"
    );
    drop(b);
}
