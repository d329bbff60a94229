//! The fast tier: the core's flows in process — the login pipeline (`Core::login`) and user
//! creation in each connection mode (`Core::user_create_in`) — with no HTTP and no script
//! engine. The store is a real SQLite file, the `ScriptRunner` is a fake that answers what each
//! test tells it to and records what it ran, and the clock is a manual one. Each test runs in
//! a fraction of a second. What the full-server suites (`crates/sluice/tests`) show end to end over HTTP,
//! this tier shows at the core's own boundary, including what only a manual clock can show: a
//! connection's circuit breaker opening, staying open, and letting a probe through.

use async_trait::async_trait;
use serde_json::{Value, json};
use sluice_core::authz::Actor;
use sluice_core::breaker::BreakerPolicy;
use sluice_core::flows::login::{LoginFailure, LoginRequest};
use sluice_core::management::Management;
use sluice_core::ports::{
    Clock, Email, KeySource, Mailer, ScriptChecker, ScriptFailure, ScriptKind, ScriptOutcome,
    ScriptRequest, ScriptRunner, ScriptSyntaxError,
};
use sluice_core::{Core, CoreConfig, CoreError, OAuthErrorKind, TenantCtx};
use sluice_crypto::CryptoError;
use sluice_crypto::keys::SigningKey;
use sluice_crypto::password::Argon2Params;
use sluice_crypto::secretbox::SecretBox;
use sluice_types::{Connection, User, UserCreate};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A clock the test moves.
struct ManualClock(AtomicI64);

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

type Answer = Box<dyn Fn(&ScriptRequest) -> Result<Value, ScriptFailure> + Send + Sync>;

/// A script runner that answers with `answer` and records what it was asked to run.
struct FakeRunner {
    calls: AtomicUsize,
    kinds: Mutex<Vec<ScriptKind>>,
    answer: Mutex<Answer>,
}

#[async_trait]
impl ScriptRunner for FakeRunner {
    async fn run(&self, request: ScriptRequest) -> ScriptOutcome {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.kinds.lock().unwrap().push(request.kind);
        let result = (self.answer.lock().unwrap())(&request);
        ScriptOutcome {
            result,
            console: Vec::new(),
            warnings: Vec::new(),
            elapsed: std::time::Duration::ZERO,
        }
    }
}

/// One RSA key per test process, handed out under every kid asked for: nothing here verifies
/// a token, and a tenant needs two keys, each about 80 ms of CPU to generate.
#[derive(Default)]
struct OneKey(std::sync::OnceLock<Vec<u8>>);

impl KeySource for OneKey {
    fn generate(&self, kid: String) -> Result<SigningKey, CryptoError> {
        let der = self.0.get_or_init(|| {
            SigningKey::generate("one".into())
                .expect("RSA key")
                .to_pkcs8()
        });
        SigningKey::from_pkcs8(kid, der)
    }
}

struct AcceptAll;

impl ScriptChecker for AcceptAll {
    fn check(&self, _: &str, _: &str) -> Result<(), ScriptSyntaxError> {
        Ok(())
    }
}

struct NoMail;

#[async_trait]
impl Mailer for NoMail {
    async fn send(&self, _: Email) -> Result<(), String> {
        Ok(())
    }
}

/// The legacy store's one user, as the fake `login` script knows her.
const ADA: (&str, &str) = ("ada@example.com", "correct horse");

/// What Auth0's `login` script template answers for the legacy store holding [`ADA`].
fn legacy_login(req: &ScriptRequest) -> Result<Value, ScriptFailure> {
    match (req.args[0].as_str(), req.args[1].as_str()) {
        (Some(e), Some(p)) if (e, p) == ADA => Ok(json!({"user_id": "42", "email": ADA.0})),
        (e, _) => Err(ScriptFailure::WrongCredentials {
            user_id: e.map(str::to_string),
            message: "Wrong email or password.".into(),
        }),
    }
}

struct World {
    core: Arc<Core>,
    clock: Arc<ManualClock>,
    runner: Arc<FakeRunner>,
    t: Arc<TenantCtx>,
    dir: std::path::PathBuf,
}

impl World {
    async fn new(answer: Answer) -> World {
        let dir = std::env::temp_dir().join(format!("sluice-core-tier-{}", uuid_like()));
        std::fs::create_dir_all(&dir).unwrap();
        let store =
            sluice_store::SqlStore::connect(&format!("sqlite://{}", dir.join("core.db").display()))
                .await
                .unwrap();
        let clock = Arc::new(ManualClock(AtomicI64::new(1_800_000_000)));
        let runner = Arc::new(FakeRunner {
            calls: AtomicUsize::new(0),
            kinds: Mutex::new(Vec::new()),
            answer: Mutex::new(answer),
        });
        let core = Core::new(
            Arc::new(store),
            clock.clone(),
            SecretBox::from_key_bytes(&SecretBox::generate_key()).unwrap(),
            Arc::new(AcceptAll),
            runner.clone(),
            Arc::new(NoMail),
            CoreConfig {
                public_url: "http://127.0.0.1:1".into(),
                base_domain: "localhost".into(),
                default_tenant: "default".into(),
                argon2: Argon2Params {
                    memory_kib: 1024,
                    iterations: 1,
                    parallelism: 1,
                },
                breaker: BreakerPolicy {
                    failures_to_open: 3,
                    open_seconds: 30,
                },
                legacy_calls_per_second: 0,
            },
        )
        .unwrap()
        .with_key_source(Arc::new(OneKey::default()));
        core.bootstrap_tenant("default", None).await.unwrap();
        let t = core.tenant("default").await.unwrap();
        World {
            core: Arc::new(core),
            clock,
            runner,
            t,
            dir,
        }
    }

    /// A custom database connection `legacy-db` in the given mode (legacy mode has `create` and
    /// `change_password` scripts too).
    async fn connection(&self, import: bool) -> Connection {
        let actor = Actor::new(&self.t.id, "test", "create:connections");
        let mut scripts = json!({"login": "function login(e, p, cb) {}",
                                 "get_user": "function getByEmail(e, cb) {}"});
        if !import {
            scripts["create"] = json!("function create(u, cb) {}");
            scripts["change_password"] = json!("function changePassword(e, p, cb) {}");
        }
        let body = json!({"name": "legacy-db", "strategy": "auth0", "options": {
            "enabledDatabaseCustomization": true, "import_mode": import,
            "passwordPolicy": "none", "customScripts": scripts}});
        let Value::Object(body) = body else {
            unreachable!()
        };
        Management::new(self.core.clone())
            .connection_create(&self.t, &actor, body)
            .await
            .unwrap()
    }

    async fn login(
        &self,
        conn: &Connection,
        who: (&str, &str),
        ip: &str,
    ) -> Result<Vec<ScriptKind>, LoginFailure> {
        let req = LoginRequest {
            connection: conn,
            identifier: who.0,
            password: who.1,
            ip: Some(ip),
            client_id: None,
        };
        self.core
            .login(&self.t, req)
            .await
            .map(|outcome| outcome.scripts_run)
    }

    fn script_calls(&self) -> usize {
        self.runner.calls.load(Ordering::SeqCst)
    }

    /// The scripts run so far, in order.
    fn scripts_run(&self) -> Vec<ScriptKind> {
        self.runner.kinds.lock().unwrap().clone()
    }

    /// Creates `email` in `conn` as the Management API or a signup would.
    async fn create(&self, conn: &Connection, email: &str) -> Result<User, CoreError> {
        let b = UserCreate {
            connection: conn.body.name.clone().unwrap_or_default(),
            email: Some(email.into()),
            password: Some("a new password".into()),
            verify_email: Some(false),
            ..Default::default()
        };
        self.core.user_create_in(&self.t, conn, b, None).await
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn uuid_like() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

fn answered_as(f: LoginFailure) -> (OAuthErrorKind, String) {
    match CoreError::from(f) {
        CoreError::OAuth { kind, description } => (kind, description),
        other => panic!("not an Authentication API answer: {other:?}"),
    }
}

#[tokio::test]
async fn import_mode_runs_the_login_script_once_per_user_then_never_again() {
    let w = World::new(Box::new(legacy_login)).await;
    let conn = w.connection(true).await;
    assert_eq!(
        w.login(&conn, ADA, "192.0.2.1").await.unwrap(),
        vec![ScriptKind::Login]
    );
    assert_eq!(w.script_calls(), 1);
    // Migrated: her password is checked locally, right or wrong, and no script runs.
    assert_eq!(w.login(&conn, ADA, "192.0.2.1").await.unwrap(), vec![]);
    let wrong = w
        .login(&conn, (ADA.0, "wrong"), "192.0.2.1")
        .await
        .unwrap_err();
    assert!(
        matches!(wrong, LoginFailure::WrongPassword { .. }),
        "{wrong:?}"
    );
    assert_eq!(w.script_calls(), 1, "no script ran for the migrated user");
}

#[tokio::test]
async fn every_credential_failure_is_the_same_answer() {
    let w = World::new(Box::new(legacy_login)).await;
    let conn = w.connection(true).await;
    w.login(&conn, ADA, "192.0.2.1").await.unwrap();
    // A wrong password of a migrated user (checked locally) and an unknown user (the script
    // said no) cannot be told apart.
    let wrong = w
        .login(&conn, (ADA.0, "wrong"), "192.0.2.1")
        .await
        .unwrap_err();
    let unknown = w
        .login(&conn, ("nobody@example.com", "x"), "192.0.2.1")
        .await
        .unwrap_err();
    assert_eq!(answered_as(wrong), answered_as(unknown));
}

#[tokio::test]
async fn ten_failures_block_the_user_from_that_address_only() {
    let w = World::new(Box::new(legacy_login)).await;
    let conn = w.connection(true).await;
    w.login(&conn, ADA, "192.0.2.1").await.unwrap();
    for _ in 0..10 {
        let f = w
            .login(&conn, (ADA.0, "wrong"), "198.51.100.7")
            .await
            .unwrap_err();
        assert!(matches!(f, LoginFailure::WrongPassword { .. }), "{f:?}");
    }
    let blocked = w.login(&conn, ADA, "198.51.100.7").await.unwrap_err();
    assert!(
        matches!(blocked, LoginFailure::TooManyAttempts),
        "{blocked:?}"
    );
    assert_eq!(answered_as(blocked).0, OAuthErrorKind::TooManyAttempts);
    assert!(
        w.login(&conn, ADA, "192.0.2.1").await.is_ok(),
        "another address is not blocked"
    );
}

#[tokio::test]
async fn a_failing_script_is_a_server_error_that_counts_no_attempt() {
    let w = World::new(Box::new(|_: &ScriptRequest| {
        Err(ScriptFailure::Error {
            name: "Error".into(),
            message: "connect ECONNREFUSED 10.0.0.5:5432".into(),
            stack: None,
        })
    }))
    .await;
    let conn = w.connection(false).await;
    for _ in 0..12 {
        let f = w.login(&conn, ADA, "192.0.2.1").await.unwrap_err();
        assert!(matches!(f, LoginFailure::ScriptFailed), "{f:?}");
        let (kind, description) = answered_as(f);
        assert_eq!(kind, OAuthErrorKind::ServerError);
        assert!(
            !description.contains("ECONNREFUSED"),
            "the script's error reaches the log, never the caller: {description}"
        );
    }
    assert_eq!(
        w.script_calls(),
        12,
        "failures of the store are not attempts"
    );
}

#[tokio::test]
async fn an_unanswering_store_opens_the_breaker_until_a_probe_gets_through() {
    let w = World::new(Box::new(|_: &ScriptRequest| {
        Err(ScriptFailure::Timeout {
            message: "Script execution time exceeded".into(),
        })
    }))
    .await;
    let conn = w.connection(false).await;
    for _ in 0..3 {
        let f = w.login(&conn, ADA, "192.0.2.1").await.unwrap_err();
        assert!(matches!(f, LoginFailure::ScriptFailed), "{f:?}");
    }
    // Open: refused at once, the store is not asked.
    let refused = w.login(&conn, ADA, "192.0.2.1").await.unwrap_err();
    assert_eq!(
        answered_as(refused).0,
        OAuthErrorKind::TemporarilyUnavailable
    );
    assert_eq!(w.script_calls(), 3);
    w.clock.0.fetch_add(29, Ordering::SeqCst);
    assert!(w.login(&conn, ADA, "192.0.2.1").await.is_err());
    assert_eq!(w.script_calls(), 3, "still open before open_seconds");
    // After open_seconds one probe is let through; the store answers again.
    w.clock.0.fetch_add(2, Ordering::SeqCst);
    *w.runner.answer.lock().unwrap() = Box::new(legacy_login);
    assert_eq!(
        w.login(&conn, ADA, "192.0.2.1").await.unwrap(),
        vec![ScriptKind::Login]
    );
    assert_eq!(w.script_calls(), 4);
}

/// What Auth0's `get_user`, `create` and `login` templates answer for the legacy store holding
/// [`ADA`]: she exists; anyone else does not until `create` adds them (as id 43).
fn legacy_directory(req: &ScriptRequest) -> Result<Value, ScriptFailure> {
    let email = req.args[0]["email"]
        .as_str()
        .or(req.args[0].as_str())
        .unwrap_or_default()
        .to_string();
    match req.kind {
        ScriptKind::GetUser if email == ADA.0 => Ok(json!({"user_id": "42", "email": ADA.0})),
        ScriptKind::GetUser => Ok(Value::Null),
        ScriptKind::Create => Ok(Value::Null),
        ScriptKind::Login => Ok(json!({"user_id": "43", "email": email})),
        other => Err(ScriptFailure::Runtime {
            message: format!("no {other:?} script in this store"),
        }),
    }
}

#[tokio::test]
async fn import_mode_creates_users_locally_after_get_user_finds_no_one() {
    let w = World::new(Box::new(legacy_directory)).await;
    let conn = w.connection(true).await;
    let u = w.create(&conn, "new@example.com").await.unwrap();
    assert_eq!(
        w.scripts_run(),
        vec![ScriptKind::GetUser],
        "no create script"
    );
    let rec = w
        .core
        .store
        .user_fetch(&w.t.id, &u.user_id)
        .await
        .unwrap()
        .expect("the new user lives in Sluice's store");
    assert!(
        rec.password_hash
            .is_some_and(|h| h.starts_with("$argon2id$"))
    );
    // A user of the legacy store exists, migrated or not.
    let taken = w.create(&conn, ADA.0).await.unwrap_err();
    assert!(matches!(taken, CoreError::Conflict { .. }), "{taken:?}");
    assert_eq!(
        w.scripts_run(),
        vec![ScriptKind::GetUser, ScriptKind::GetUser]
    );
}

#[tokio::test]
async fn legacy_mode_creates_users_in_the_legacy_store_then_logs_them_in() {
    let w = World::new(Box::new(legacy_directory)).await;
    let conn = w.connection(false).await;
    let u = w.create(&conn, "new@example.com").await.unwrap();
    assert_eq!(u.user_id, "auth0|43", "the id the legacy store gave");
    assert_eq!(
        w.scripts_run(),
        vec![ScriptKind::GetUser, ScriptKind::Create, ScriptKind::Login]
    );
    let rec = w
        .core
        .store
        .user_fetch(&w.t.id, "auth0|43")
        .await
        .unwrap()
        .expect("cached locally");
    assert!(rec.password_hash.is_none(), "legacy mode keeps no password");
    let taken = w.create(&conn, ADA.0).await.unwrap_err();
    assert!(matches!(taken, CoreError::Conflict { .. }), "{taken:?}");
    assert_eq!(w.scripts_run().len(), 4, "only get_user ran for her");
}

#[tokio::test]
async fn a_change_password_script_may_say_when_the_password_was_reset() {
    let w = World::new(Box::new(|req: &ScriptRequest| match req.kind {
        ScriptKind::ChangePassword if req.args[1] == json!("with a date") => {
            Ok(json!({"last_password_reset": 1_767_225_600_000_i64}))
        }
        ScriptKind::ChangePassword => Ok(json!(true)),
        _ => legacy_login(req),
    }))
    .await;
    let conn = w.connection(false).await;
    w.login(&conn, ADA, "192.0.2.1").await.unwrap();
    let mgmt = Management::new(w.core.clone());
    let actor = Actor::new(&w.t.id, "test", "update:users");
    let change = |pw: &str| {
        let Value::Object(body) = json!({ "password": pw }) else {
            unreachable!()
        };
        mgmt.user_update(&w.t, &actor, "auth0|42", body)
    };
    let u = change("no date").await.unwrap();
    assert_eq!(
        u.last_password_reset, None,
        "`true` says nothing about when"
    );
    let u = change("with a date").await.unwrap();
    assert_eq!(
        u.last_password_reset.as_deref(),
        Some("2026-01-01T00:00:00.000Z"),
        "Date.now() milliseconds, kept on the cached profile"
    );
    assert_eq!(
        w.scripts_run(),
        vec![
            ScriptKind::Login,
            ScriptKind::ChangePassword,
            ScriptKind::ChangePassword
        ]
    );
}
