//! Universal Login in a real browser: Debian's Chromium, headless, driven by `playwright-core`
//! (pinned in `tests/browser/package-lock.json`, installed with `npm ci` once per target
//! directory) running `tests/browser/flows.mjs`. Each test starts a server, seeds it through the
//! Management API, runs one browser scenario and then proves the result from the application's
//! side: the code the browser brought back is exchanged at `/oauth/token` with its PKCE verifier
//! and the access token answers `/userinfo`. Covered: sign-up with password-policy feedback,
//! keyboard-only sign-in, a custom-database user migrated on first sign-in (import mode), forgot
//! password through the emailed link, and the error messages of failed sign-ins. With
//! `SLUICE_SHOTS=1` in the environment, screenshots of every page (desktop and phone) land in
//! `target/browser-artifacts/`; they are off by default because taking them was a fifth of the
//! browser tests' CPU time.
//!
//! Chromium comes from `scripts/ensure-services` (Debian's `chromium` package). Without it these
//! tests fail, and say how to install it; `SLUICE_SKIP_BROWSER=1` skips them on purpose.

use crate::support;

use serde_json::{Value, json};
use sluice_testkit::TestServer;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use support::browser::{param, pkce};
use support::{LOGIN, Legacy, custom_options};

const CALLBACK: &str = "https://app.example.com/callback";
const APP: &str = "Ada's Notes";

/// What the browser scenarios need on this machine.
struct Kit {
    chromium: PathBuf,
    node_modules: PathBuf,
}

/// The kit, or `None` when `SLUICE_SKIP_BROWSER=1` asks to skip. Anything missing otherwise
/// fails the test with what to do about it.
async fn kit() -> Option<Kit> {
    if std::env::var("SLUICE_SKIP_BROWSER").as_deref() == Ok("1") {
        eprintln!("SLUICE_SKIP_BROWSER=1: browser test skipped");
        return None;
    }
    let chromium = std::env::var_os("SLUICE_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| on_path(&["chromium", "chromium-browser"]))
        .filter(|p| p.is_file())
        .expect(
            "no Chromium: run scripts/ensure-services (installs Debian's chromium package), \
             point SLUICE_CHROMIUM at a Chromium binary, or set SLUICE_SKIP_BROWSER=1 to skip",
        );
    let node_modules = tokio::task::spawn_blocking(install_playwright)
        .await
        .unwrap();
    Some(Kit {
        chromium,
        node_modules,
    })
}

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// Installs the pinned `playwright-core` under the target directory, once: a file lock keeps
/// parallel test processes from installing at the same time, and a stamp holding the lock
/// file's text skips the install until the pin changes.
fn install_playwright() -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-node");
    std::fs::create_dir_all(&dir).unwrap();
    let lock = std::fs::File::create(dir.join(".install-lock")).unwrap();
    lock.lock().unwrap();
    let wanted = std::fs::read_to_string(src.join("package-lock.json")).unwrap();
    let stamp = dir.join("installed.txt");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        for f in ["package.json", "package-lock.json"] {
            std::fs::copy(src.join(f), dir.join(f)).unwrap();
        }
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .output()
            .expect("npm is installed (scripts/ensure-services installs it)");
        assert!(
            out.status.success(),
            "npm ci of playwright-core failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(&stamp, &wanted).unwrap();
    }
    dir
}

/// Where screenshots go: `<target>/browser-artifacts/` (each scenario names its own files).
fn artifacts() -> String {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("browser-artifacts");
    dir.to_str().unwrap().to_string()
}

/// Runs one scenario of `flows.mjs` to its end; returns the callback URLs the browser reached.
async fn drive(kit: &Kit, scenario: &str, vars: &[(&str, &str)]) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/flows.mjs");
    let started = Instant::now();
    let run = tokio::process::Command::new("node")
        .arg(&script)
        .arg(scenario)
        .env("SLUICE_CHROMIUM", &kit.chromium)
        .env("SLUICE_NODE_MODULES", &kit.node_modules)
        .env("SLUICE_CALLBACK", CALLBACK)
        .envs(vars.iter().copied())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .unwrap_or_else(|_| panic!("browser scenario {scenario} did not end in 2 minutes"))
        .expect("node is installed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains(&format!("ok {scenario}")),
        "browser scenario {scenario} failed ({})\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    eprintln!(
        "browser scenario {scenario}: {:.1}s",
        started.elapsed().as_secs_f64()
    );
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("CALLBACK "))
        .map(str::to_string)
        .collect()
}

/// A public single-page application (PKCE, no secret) and the database connection `name`
/// enabled for it; returns the client id.
async fn application(s: &TestServer, name: &str, options: Value) -> String {
    let tok = s.mgmt_token().await;
    let (st, app) = s
        .call(
            "POST",
            "/api/v2/clients",
            Some(&tok),
            Some(json!({
                "name": APP, "app_type": "spa", "token_endpoint_auth_method": "none",
                "callbacks": [CALLBACK], "grant_types": ["authorization_code", "refresh_token"]
            })),
        )
        .await;
    assert_eq!(st, 201, "{app}");
    let id = app["client_id"].as_str().unwrap().to_string();
    let (st, c) = s
        .call(
            "POST",
            "/api/v2/connections",
            Some(&tok),
            Some(json!({"name": name, "strategy": "auth0", "enabled_clients": [id], "options": options})),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    id
}

async fn create_user(s: &TestServer, connection: &str, email: &str, password: &str) {
    let tok = s.mgmt_token().await;
    let (st, u) = s
        .call(
            "POST",
            "/api/v2/users",
            Some(&tok),
            Some(json!({"connection": connection, "email": email, "password": password})),
        )
        .await;
    assert_eq!(st, 201, "{u}");
}

/// A sign-in the application starts: the `/authorize` URL and the PKCE verifier it keeps.
struct Authorization {
    url: String,
    verifier: String,
}

fn authorize(s: &TestServer, client_id: &str, extra: &str) -> Authorization {
    let (verifier, challenge) = pkce();
    let redirect: String = url::form_urlencoded::byte_serialize(CALLBACK.as_bytes()).collect();
    Authorization {
        url: format!(
            "{}/authorize?response_type=code&client_id={client_id}&redirect_uri={redirect}&scope=openid%20profile%20email&state=st-browser&nonce=n-browser&code_challenge={challenge}&code_challenge_method=S256{extra}",
            s.url
        ),
        verifier,
    }
}

/// What the application does with the callback: checks the state, exchanges the code and
/// asks `/userinfo` with the access token; returns the user info.
async fn redeem(s: &TestServer, client_id: &str, a: &Authorization, callbacks: &[String]) -> Value {
    assert_eq!(callbacks.len(), 1, "one return to the application");
    let back = &callbacks[0];
    assert!(back.starts_with(CALLBACK), "{back}");
    assert_eq!(param(back, "state").as_deref(), Some("st-browser"));
    let code = param(back, "code").expect("a code");
    let r = s
        .http
        .post(format!("{}/oauth/token", s.url))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", &a.verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let tokens: Value = r.json().await.unwrap();
    assert!(tokens["id_token"].is_string(), "{tokens}");
    let r = s
        .http
        .get(format!("{}/userinfo", s.url))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_up_shows_the_password_policy_and_returns_a_code_for_the_new_user() {
    let Some(kit) = kit().await else { return };
    let s = TestServer::start("sqlite").await;
    let app = application(&s, "db", json!({"passwordPolicy": "good"})).await;
    let a = authorize(&s, &app, "&screen_hint=signup");
    let shots = artifacts();
    let callbacks = drive(
        &kit,
        "signup",
        &[
            ("SLUICE_AUTHORIZE", &a.url),
            ("SLUICE_APP", APP),
            ("SLUICE_EMAIL", "grace@example.com"),
            ("SLUICE_PASSWORD", "Cobol-1959-Navy"),
            ("SLUICE_ARTIFACTS", &shots),
        ],
    )
    .await;
    let info = redeem(&s, &app, &a, &callbacks).await;
    assert_eq!(info["email"], "grace@example.com");
    assert!(
        info["sub"].as_str().unwrap().starts_with("auth0|"),
        "{info}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_with_the_keyboard_alone_returns_a_code_the_application_can_exchange() {
    let Some(kit) = kit().await else { return };
    let s = TestServer::start("sqlite").await;
    let app = application(&s, "db", json!({"passwordPolicy": "low"})).await;
    create_user(&s, "db", "ada@example.com", "lovelace-1815").await;
    let a = authorize(&s, &app, "");
    let shots = artifacts();
    let callbacks = drive(
        &kit,
        "signin",
        &[
            ("SLUICE_AUTHORIZE", &a.url),
            ("SLUICE_APP", APP),
            ("SLUICE_EMAIL", "ada@example.com"),
            ("SLUICE_PASSWORD", "lovelace-1815"),
            ("SLUICE_ARTIFACTS", &shots),
        ],
    )
    .await;
    let info = redeem(&s, &app, &a, &callbacks).await;
    assert_eq!(info["email"], "ada@example.com");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legacy_user_signing_in_on_the_page_is_migrated_and_the_next_sign_in_runs_no_script() {
    let Some(kit) = kit().await else { return };
    let legacy = Legacy::new(&[("alice@example.com", "alice-pw", "alice")]).await;
    let s = TestServer::start("sqlite").await;
    let app = application(&s, "legacy-db", custom_options(&legacy, true)).await;
    // Two sign-ins, one browser: the second in a fresh profile (no SSO session), after the
    // first has returned to the application.
    let (first, second) = (authorize(&s, &app, ""), authorize(&s, &app, ""));
    let callbacks = drive(
        &kit,
        "signin",
        &[
            ("SLUICE_AUTHORIZE", &first.url),
            ("SLUICE_AUTHORIZE_AGAIN", &second.url),
            ("SLUICE_EMAIL", "alice@example.com"),
            ("SLUICE_PASSWORD", "alice-pw"),
        ],
    )
    .await;
    assert_eq!(callbacks.len(), 2, "two returns to the application");
    for (a, back) in [(&first, &callbacks[..1]), (&second, &callbacks[1..])] {
        let info = redeem(&s, &app, a, back).await;
        assert_eq!(info["sub"], "auth0|pg-1");
        assert_eq!(info["email"], "alice@example.com");
    }
    // The first sign-in ran the login script and migrated her; the second was checked
    // locally and the legacy store was not asked.
    assert_eq!(
        legacy.logins().await,
        1,
        "the login script ran once, for the first sign-in"
    );
    let t = s.core().tenant("default").await.unwrap();
    let rec = s
        .core()
        .store
        .user_fetch(&t.id, "auth0|pg-1")
        .await
        .unwrap()
        .expect("the user is stored locally");
    assert!(
        matches!(rec.origin, sluice_core::model::UserOrigin::Migrated { .. }),
        "{:?}",
        rec.origin
    );
    assert!(
        rec.password_hash
            .as_deref()
            .is_some_and(|h| h.starts_with("$argon2id$")),
        "the password is re-hashed locally"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgot_password_sends_a_link_that_sets_a_new_password_to_sign_in_with() {
    let Some(kit) = kit().await else { return };
    let s = TestServer::start("sqlite").await;
    let app = application(&s, "db", json!({"passwordPolicy": "low"})).await;
    create_user(&s, "db", "ada@example.com", "lovelace-1815").await;
    let a = authorize(&s, &app, "");
    let outbox = s.data_dir.join("outbox");
    let shots = artifacts();
    let callbacks = drive(
        &kit,
        "reset",
        &[
            ("SLUICE_AUTHORIZE", &a.url),
            ("SLUICE_EMAIL", "ada@example.com"),
            ("SLUICE_PASSWORD", "lovelace-1815"),
            ("SLUICE_NEW_PASSWORD", "analytical-engine"),
            ("SLUICE_OUTBOX", outbox.to_str().unwrap()),
            ("SLUICE_ARTIFACTS", &shots),
        ],
    )
    .await;
    let info = redeem(&s, &app, &a, &callbacks).await;
    assert_eq!(info["email"], "ada@example.com");
    // The API agrees: the new password works, the old one does not.
    let t = s.core().tenant("default").await.unwrap();
    let conn = s
        .core()
        .connection_fetch_by_name(&t, "db")
        .await
        .unwrap()
        .unwrap();
    for (pw, ok) in [("analytical-engine", true), ("lovelace-1815", false)] {
        let r = s
            .core()
            .login(
                &t,
                sluice_core::flows::login::LoginRequest {
                    connection: &conn,
                    identifier: "ada@example.com",
                    password: pw,
                    ip: None,
                    client_id: None,
                },
            )
            .await;
        assert_eq!(r.is_ok(), ok, "{pw}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_are_announced_with_the_scripts_message_shown_as_text() {
    let Some(kit) = kit().await else { return };
    let legacy = Legacy::new(&[
        ("alice@example.com", "alice-pw", "alice"),
        ("locked@example.com", "locked-pw", "locked"),
    ])
    .await;
    let s = TestServer::start("sqlite").await;
    // The support script's lock message, with markup that must reach the page as text.
    let message = "Your account is locked. Call <b>support</b> & wait.";
    let mut options = custom_options(&legacy, true);
    options["customScripts"]["login"] = LOGIN
        .replace("Your account is locked. Call support.", message)
        .into();
    let app = application(&s, "legacy-db", options).await;
    let a = authorize(&s, &app, "");
    let shots = artifacts();
    let callbacks = drive(
        &kit,
        "errors",
        &[
            ("SLUICE_AUTHORIZE", &a.url),
            ("SLUICE_EMAIL", "alice@example.com"),
            ("SLUICE_LOCKED_EMAIL", "locked@example.com"),
            ("SLUICE_LOCKED_MESSAGE", message),
            ("SLUICE_ARTIFACTS", &shots),
        ],
    )
    .await;
    assert!(callbacks.is_empty(), "nothing reached the application");
    // Nobody signed in, so nobody was migrated.
    let t = s.core().tenant("default").await.unwrap();
    assert!(
        s.core()
            .store
            .user_fetch(&t.id, "auth0|pg-1")
            .await
            .unwrap()
            .is_none()
    );
}
