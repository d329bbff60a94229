//! The fast tier: the login pipeline (`Core::login`) in process, with no HTTP and no script
//! engine. The store is a real SQLite file, the `ScriptRunner` is a fake that answers what each
//! test tells it to and counts its calls, and the clock is a manual one. Each test runs in
//! milliseconds. What the full-server suites (`crates/sluice/tests`) show end to end over HTTP,
//! this tier shows at the core's own boundary, including what only a manual clock can show: a
//! connection's circuit breaker opening, staying open, and letting a probe through.

use async_trait::async_trait;
use serde_json::{Value, json};
use sluice_core::authz::Actor;
use sluice_core::breaker::BreakerPolicy;
use sluice_core::flows::login::{LoginFailure, LoginRequest};
use sluice_core::management::Management;
use sluice_core::ports::{
    Clock, Email, Mailer, ScriptChecker, ScriptFailure, ScriptKind, ScriptOutcome, ScriptRequest,
    ScriptRunner, ScriptSyntaxError,
};
use sluice_core::{Core, CoreConfig, CoreError, OAuthErrorKind, TenantCtx};
use sluice_crypto::password::Argon2Params;
use sluice_crypto::secretbox::SecretBox;
use sluice_types::Connection;
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

/// A script runner that answers with `answer` and counts its calls.
struct FakeRunner {
    calls: AtomicUsize,
    answer: Mutex<Answer>,
}

#[async_trait]
impl ScriptRunner for FakeRunner {
    async fn run(&self, request: ScriptRequest) -> ScriptOutcome {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let result = (self.answer.lock().unwrap())(&request);
        ScriptOutcome {
            result,
            console: Vec::new(),
            warnings: Vec::new(),
            elapsed: std::time::Duration::ZERO,
        }
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
        .unwrap();
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

    /// A custom database connection `legacy-db` in the given mode.
    async fn connection(&self, import: bool) -> Connection {
        let actor = Actor::new(&self.t.id, "test", "create:connections");
        let body = json!({"name": "legacy-db", "strategy": "auth0", "options": {
            "enabledDatabaseCustomization": true, "import_mode": import,
            "customScripts": {"login": "function login(e, p, cb) {}",
                              "get_user": "function getByEmail(e, cb) {}"}}});
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
