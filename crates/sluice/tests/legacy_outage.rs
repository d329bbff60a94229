//! The legacy store becomes unreachable — not a dropped table but the network path: the scripts
//! reach PostgreSQL through a TCP forwarder the test switches to a black hole (connections are
//! accepted and never answered) or to refusing connections. Migrated users (import mode) keep
//! logging in and resetting passwords; the others get Auth0's generic `server_error` within the
//! script deadline, with nothing of the script or the database in the answer; the server keeps
//! serving meanwhile; once the path is back, unmigrated users log in and are migrated.

use crate::support;

use serde_json::{Value, json};
use sluice_testkit::TestServer;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use support::{Legacy, app_and_connection, login, reset_submit, reset_ticket};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;

/// What the forwarder does with connections.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// Pipes to the upstream address.
    Forward,
    /// Accepts and reads, never answers (a firewall dropping replies, a hung server).
    BlackHole,
    /// Not listening: connections are refused.
    Refuse,
}

/// A TCP forwarder on 127.0.0.1 in front of `upstream`. Switching away from `Forward` also cuts
/// the connections it is piping.
struct Forwarder {
    addr: SocketAddr,
    mode: watch::Sender<Mode>,
    task: tokio::task::JoinHandle<()>,
}

impl Forwarder {
    async fn start(upstream: SocketAddr) -> Forwarder {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (mode, rx) = watch::channel(Mode::Forward);
        let task = tokio::spawn(accept_loop(listener, addr, upstream, rx));
        Forwarder { addr, mode, task }
    }

    fn set(&self, m: Mode) {
        self.mode.send_replace(m);
    }

    fn pg_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/test", self.addr.port())
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn listen(addr: SocketAddr) -> TcpListener {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_reuseaddr(true).unwrap();
    socket.bind(addr).unwrap();
    socket.listen(128).unwrap()
}

async fn accept_loop(
    listener: TcpListener,
    addr: SocketAddr,
    upstream: SocketAddr,
    mut rx: watch::Receiver<Mode>,
) {
    let mut listener = Some(listener);
    loop {
        let mode = *rx.borrow_and_update();
        match (mode, listener.take()) {
            // Refusing: close the listening socket until the mode changes.
            (Mode::Refuse, _) => {}
            (_, Some(l)) => listener = Some(l),
            (_, None) => listener = Some(listen(addr)),
        }
        let Some(l) = &listener else {
            if rx.changed().await.is_err() {
                return;
            }
            continue;
        };
        tokio::select! {
            changed = rx.changed() => if changed.is_err() { return },
            accepted = l.accept() => {
                let Ok((client, _)) = accepted else { continue };
                let now = *rx.borrow();
                match now {
                    Mode::Forward => tokio::spawn(pipe(client, upstream, rx.clone())),
                    _ => tokio::spawn(hold(client)),
                };
            }
        }
    }
}

async fn pipe(mut client: TcpStream, upstream: SocketAddr, mut rx: watch::Receiver<Mode>) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    let cut = async {
        while rx.changed().await.is_ok() {
            if *rx.borrow() != Mode::Forward {
                return;
            }
        }
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = cut => {}
    }
}

/// Reads and discards until the peer goes away; never writes a byte.
async fn hold(mut client: TcpStream) {
    let _ = tokio::io::copy(&mut client, &mut tokio::io::sink()).await;
}

const DEADLINE_SECS: u64 = 2;

/// The breaker stays closed here: these tests are about each login against a dead store
/// (`a_hung_user_store_costs_its_own_connection_fast_503s_and_no_other` is about the breaker).
async fn server() -> TestServer {
    TestServer::start_with("sqlite", |c| {
        c.scripts.timeout_seconds = DEADLINE_SECS;
        c.scripts.breaker_failures = 1000;
    })
    .await
}

fn options(legacy: &Legacy, pg_url: &str, import: bool) -> Value {
    let scripts = if import {
        json!({"login": support::LOGIN, "get_user": support::GET_USER_PG})
    } else {
        json!({"login": support::LOGIN, "get_user": support::GET_USER_PG,
               "create": support::CREATE_PG, "change_password": support::CHANGE_PASSWORD_PG})
    };
    json!({"enabledDatabaseCustomization": true, "import_mode": import, "customScripts": scripts,
           "configuration": {"PG_URL": pg_url, "SCHEMA": legacy.schema}, "passwordPolicy": "none"})
}

/// The answer to a login the legacy store could not check: Auth0's generic server error, with
/// nothing of the script, the database or the network in it.
fn assert_clean_server_error(status: u16, body: &Value, legacy: &Legacy, fwd: &Forwarder) {
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["error"], "server_error", "{body}");
    assert_eq!(
        body.as_object().unwrap().len(),
        2,
        "only error and error_description: {body}"
    );
    assert!(!body["error_description"].as_str().unwrap().is_empty());
    let text = texts(body);
    for leak in [
        "script",
        "webtask",
        "timeout",
        "timed out",
        "exceeded",
        "econn",
        "refused",
        "postgres",
        "connect",
        "127.0.0.1",
        "users",
        "select",
        "stack",
        &fwd.addr.port().to_string(),
        &legacy.schema,
    ] {
        assert!(!text.contains(leak), "{leak:?} leaked: {body}");
    }
}

/// Every string value of a JSON body (not its keys: `error_description` contains "script").
fn texts(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_lowercase(),
        Value::Array(a) => a.iter().map(texts).collect::<Vec<_>>().join(" "),
        Value::Object(o) => o.values().map(texts).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

async fn timed_login(
    s: &TestServer,
    app: &(String, String),
    user: &str,
    pw: &str,
) -> (u16, Value, Duration) {
    let t0 = Instant::now();
    let (st, body) = login(s, app, "db", user, pw, "openid").await;
    (st, body, t0.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_mode_black_holed_store_keeps_migrated_users_in_and_fails_others_within_the_deadline()
 {
    let legacy = Legacy::new(&[
        ("alice@example.com", "alice-pw", "alice"),
        ("bob@example.com", "bob-pw", "bob"),
        ("carol@example.com", "carol-pw", "carol"),
    ])
    .await;
    let fwd = Forwarder::start("127.0.0.1:5432".parse().unwrap()).await;
    let s = std::sync::Arc::new(server().await);
    let tok = s.mgmt_token().await;
    let app = app_and_connection(&s, &tok, "db", options(&legacy, &fwd.pg_url(), true)).await;
    assert_eq!(
        login(&s, &app, "db", "alice@example.com", "alice-pw", "openid")
            .await
            .0,
        200
    );
    assert_eq!(legacy.logins().await, 1, "alice is migrated");

    fwd.set(Mode::BlackHole);
    // More unmigrated logins at once than the tenant has script containers (4).
    let hanging: Vec<_> = ["bob", "carol", "bob", "carol", "bob"]
        .into_iter()
        .map(|u| {
            let (s, app) = (s.clone(), app.clone());
            tokio::spawn(async move {
                timed_login(&s, &app, &format!("{u}@example.com"), &format!("{u}-pw")).await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Meanwhile the server keeps serving: the migrated user logs in at once, no script needed.
    let (st, t, took) = timed_login(&s, &app, "alice@example.com", "alice-pw").await;
    assert_eq!(st, 200, "{t}");
    let (st, _) = s.call("GET", "/api/v2/users", Some(&tok), None).await;
    assert_eq!(st, 200);
    assert!(
        hanging.iter().any(|h| !h.is_finished()) && took < Duration::from_secs(DEADLINE_SECS),
        "answered without waiting for the legacy store: {took:?}"
    );
    for h in hanging {
        let (st, body, took) = h.await.unwrap();
        assert_clean_server_error(st, &body, &legacy, &fwd);
        assert!(
            took < Duration::from_secs(2 * DEADLINE_SECS + 3),
            "answered by the deadline (one queued behind the others): {took:?}"
        );
    }
    // A single unmigrated login: it is the deadline that ends it, not a quick failure.
    let (st, body, took) = timed_login(&s, &app, "bob@example.com", "bob-pw").await;
    assert_clean_server_error(st, &body, &legacy, &fwd);
    assert!(
        took >= Duration::from_millis(DEADLINE_SECS * 1000 - 200)
            && took < Duration::from_secs(DEADLINE_SECS + 3),
        "{took:?}"
    );
    // The detail is in the tenant log, not in the answer.
    let (_, logs) = s
        .call("GET", "/api/v2/logs?q=type%3Ascript", Some(&tok), None)
        .await;
    assert_eq!(logs[0]["details"]["script"], "login");
    assert_eq!(logs[0]["details"]["outcome"]["ok"], false);
    assert!(
        logs[0]["details"]["outcome"]["error"]
            .as_str()
            .unwrap()
            .contains("Timeout"),
        "{logs}"
    );
    assert_eq!(legacy.logins().await, 1);
    let (_, page) = s
        .call("GET", "/api/v2/users?include_totals=true", Some(&tok), None)
        .await;
    assert_eq!(page["total"], 1, "nobody was migrated during the outage");

    // The path is back: unmigrated users log in and are migrated, once.
    fwd.set(Mode::Forward);
    assert_eq!(
        login(&s, &app, "db", "bob@example.com", "bob-pw", "openid")
            .await
            .0,
        200
    );
    assert_eq!(legacy.logins().await, 2);
    let t = s.core().tenant("default").await.unwrap();
    let bob = s
        .core()
        .store
        .user_fetch(&t.id, "auth0|pg-2")
        .await
        .unwrap()
        .expect("bob migrated");
    assert!(matches!(
        bob.origin,
        sluice_core::model::UserOrigin::Migrated { .. }
    ));
    assert_eq!(
        login(&s, &app, "db", "bob@example.com", "bob-pw", "openid")
            .await
            .0,
        200
    );
    assert_eq!(
        login(&s, &app, "db", "alice@example.com", "alice-pw", "openid")
            .await
            .0,
        200
    );
    assert_eq!(legacy.logins().await, 2, "no script for migrated users");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_mode_refused_store_still_resets_migrated_users_and_fails_fast_for_others() {
    let legacy = Legacy::new(&[
        ("alice@example.com", "alice-pw", "alice"),
        ("bob@example.com", "bob-pw", "bob"),
    ])
    .await;
    let fwd = Forwarder::start("127.0.0.1:5432".parse().unwrap()).await;
    let s = server().await;
    let tok = s.mgmt_token().await;
    let app = app_and_connection(&s, &tok, "db", options(&legacy, &fwd.pg_url(), true)).await;
    assert_eq!(
        login(&s, &app, "db", "alice@example.com", "alice-pw", "openid")
            .await
            .0,
        200
    );

    fwd.set(Mode::Refuse);
    // A refused connection fails at once, well before the deadline.
    let (st, body, took) = timed_login(&s, &app, "bob@example.com", "bob-pw").await;
    assert_clean_server_error(st, &body, &legacy, &fwd);
    assert!(took < Duration::from_secs(DEADLINE_SECS), "{took:?}");
    // The migrated user's whole password reset is local.
    let ticket = reset_ticket(&s, "db", "alice@example.com")
        .await
        .expect("a reset link");
    assert_eq!(reset_submit(&s, &ticket, "new-pw", "new-pw").await.0, 200);
    assert_eq!(
        login(&s, &app, "db", "alice@example.com", "new-pw", "openid")
            .await
            .0,
        200
    );
    // An unmigrated user's reset needs get_user: it fails without details and sends nothing.
    let outbox = || {
        std::fs::read_dir(s.data_dir.join("outbox"))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    let before = outbox();
    let r = s
        .http
        .post(format!("{}/dbconnections/change_password", s.url))
        .json(&json!({"email": "bob@example.com", "connection": "db"}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap().to_lowercase();
    assert!(status >= 500, "{status} {text}");
    for leak in [
        "script",
        "get_user",
        "econn",
        "refused",
        "postgres",
        &legacy.schema,
    ] {
        assert!(!text.contains(leak), "{leak:?} leaked: {text}");
    }
    assert_eq!(outbox(), before, "no email");

    fwd.set(Mode::Forward);
    assert_eq!(
        login(&s, &app, "db", "bob@example.com", "bob-pw", "openid")
            .await
            .0,
        200
    );
    assert_eq!(legacy.logins().await, 2, "alice once, bob once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_mode_outage_fails_every_login_cleanly_and_recovers() {
    let legacy = Legacy::new(&[("alice@example.com", "alice-pw", "alice")]).await;
    let fwd = Forwarder::start("127.0.0.1:5432".parse().unwrap()).await;
    let s = server().await;
    let tok = s.mgmt_token().await;
    let app = app_and_connection(&s, &tok, "db", options(&legacy, &fwd.pg_url(), false)).await;
    assert_eq!(
        login(&s, &app, "db", "alice@example.com", "alice-pw", "openid")
            .await
            .0,
        200
    );
    // In legacy mode the store decides every login: a cached profile is no password.
    for mode in [Mode::Refuse, Mode::BlackHole] {
        fwd.set(mode);
        let (st, body, took) = timed_login(&s, &app, "alice@example.com", "alice-pw").await;
        assert_clean_server_error(st, &body, &legacy, &fwd);
        assert!(
            took < Duration::from_secs(DEADLINE_SECS + 3),
            "{mode:?}: {took:?}"
        );
        let (st, e) = support::signup(&s, &app.0, "db", "new@example.com", "new-pw").await;
        assert!(st >= 500, "{mode:?}: {st} {e}");
        let text = texts(&e);
        assert!(
            !text.contains("script") && !text.contains(&legacy.schema),
            "{text}"
        );
        let (st, u) = s
            .call("GET", "/api/v2/users/auth0%7Cpg-1", Some(&tok), None)
            .await;
        assert_eq!(st, 200, "the Management API keeps serving: {u}");
    }
    fwd.set(Mode::Forward);
    assert_eq!(
        login(&s, &app, "db", "alice@example.com", "alice-pw", "openid")
            .await
            .0,
        200
    );
    assert_eq!(
        legacy.logins().await,
        2,
        "the failed attempts never reached the store"
    );
    let (st, u) = support::signup(&s, &app.0, "db", "new@example.com", "new-pw").await;
    assert_eq!(st, 200, "{u}");
}

/// A user store that never answers opens its connection's breaker: after five runs past the
/// deadline the connection's logins get a fast 503 (no script runs), logged once, while another
/// connection of the tenant logs in as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_user_store_costs_its_own_connection_fast_503s_and_no_other() {
    let s = TestServer::start_with("sqlite", |c| c.scripts.timeout_seconds = 1).await;
    let tok = s.mgmt_token().await;
    let scripts = |login: &str| {
        json!({"enabledDatabaseCustomization": true, "customScripts": {
            "login": login, "get_user": "function getUser(e, cb) { cb(null); }"}})
    };
    let app = app_and_connection(
        &s,
        &tok,
        "hung",
        scripts("function login(e, p, cb) { /* the store never answers */ }"),
    )
    .await;
    let (st, e) = s
        .call(
            "POST",
            "/api/v2/connections",
            Some(&tok),
            Some(json!({"name": "healthy", "strategy": "auth0", "enabled_clients": [app.0],
                "options": scripts("function login(e, p, cb) { cb(null, {user_id: 'h-1', email: e}); }")})),
        )
        .await;
    assert_eq!(st, 201, "{e}");
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..5 {
        let (url, http, app) = (s.url.clone(), s.http.clone(), app.clone());
        tasks.spawn(async move {
            http.post(format!("{url}/oauth/token"))
                .form(&[
                    (
                        "grant_type",
                        "http://auth0.com/oauth/grant-type/password-realm",
                    ),
                    ("client_id", app.0.as_str()),
                    ("client_secret", app.1.as_str()),
                    ("realm", "hung"),
                    ("username", &format!("u{i}@example.com")),
                    ("password", "pw"),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    }
    assert!(tasks.join_all().await.iter().all(|st| *st == 500));
    let t = Instant::now();
    let (st, e) = login(&s, &app, "hung", "late@example.com", "pw", "openid").await;
    assert_eq!(
        (st, e["error"].as_str()),
        (503, Some("temporarily_unavailable")),
        "{e}"
    );
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
    let (st, e) = login(&s, &app, "healthy", "ok@example.com", "pw", "openid").await;
    assert_eq!(st, 200, "{e}");
    let (_, logs) = s
        .call("GET", "/api/v2/logs?q=type%3Af", Some(&tok), None)
        .await;
    let opened: Vec<&Value> = logs
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| {
            l["description"]
                .as_str()
                .unwrap_or("")
                .contains("did not answer 5 times")
        })
        .collect();
    assert_eq!(opened.len(), 1, "{logs}");
    assert_eq!(opened[0]["connection"], "hung");
}

/// `scripts.legacy_calls_per_second` protects a user store: past its burst, a connection's
/// logins get 429 without running a script; another connection is not counted with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_legacy_call_rate_limit_refuses_past_its_burst_per_connection() {
    let s = TestServer::start_with("sqlite", |c| c.scripts.legacy_calls_per_second = 1).await;
    let tok = s.mgmt_token().await;
    let options = json!({"enabledDatabaseCustomization": true, "customScripts": {
        "login": "function login(e, p, cb) { cb(null, {user_id: 'x-' + e, email: e}); }",
        "get_user": "function getUser(e, cb) { cb(null); }"}});
    let app = app_and_connection(&s, &tok, "limited", options.clone()).await;
    let (st, e) = s
        .call(
            "POST",
            "/api/v2/connections",
            Some(&tok),
            Some(json!({"name": "other", "strategy": "auth0", "enabled_clients": [app.0], "options": options})),
        )
        .await;
    assert_eq!(st, 201, "{e}");
    let mut statuses = Vec::new();
    for i in 0..4 {
        statuses.push(
            login(
                &s,
                &app,
                "limited",
                &format!("u{i}@example.com"),
                "pw",
                "openid",
            )
            .await,
        );
    }
    // A burst of two (twice the rate), then refused until the bucket refills.
    assert_eq!(statuses[0].0, 200);
    let refused = statuses.iter().filter(|(st, _)| *st == 429).count();
    assert!(refused >= 1, "{statuses:?}");
    let (_, e) = statuses.iter().find(|(st, _)| *st == 429).unwrap();
    assert_eq!(e["error"], "too_many_requests");
    let (st, e) = login(&s, &app, "other", "o@example.com", "pw", "openid").await;
    assert_eq!(st, 200, "{e}");
}
