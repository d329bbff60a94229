//! The `sluice` binary as an operator runs it: first start writes bootstrap credentials (mode
//! 0600) that work; fixed credentials from the environment are idempotent across restarts;
//! SIGTERM stops it cleanly; bad configuration is reported all at once; `sluice tenants create`
//! makes a tenant reachable by its host name.

use crate::process;

use process::Served;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sluice"));
    for k in [
        "SLUICE_BOOTSTRAP_CLIENT_ID",
        "SLUICE_BOOTSTRAP_CLIENT_SECRET",
        "SLUICE_DATABASE_URL",
        "SLUICE_CONFIG",
        "SLUICE_LISTEN",
        "SLUICE_PUBLIC_URL",
        "SLUICE_ENCRYPTION_KEY",
        "SLUICE_DATA_DIR",
    ] {
        c.env_remove(k);
    }
    c
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "sluice-cli-{tag}-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Starts `sluice serve` on `data_dir` with these environment variables.
fn start(data_dir: &Path, envs: &[(&str, &str)]) -> Served {
    let mut cmd = bin();
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    Served::spawn(&mut cmd)
}

async fn token(
    url: &str,
    host: Option<&str>,
    id: &str,
    secret: &str,
    audience: &str,
) -> (u16, Value) {
    let mut req = reqwest::Client::new().post(format!("{url}/oauth/token"));
    if let Some(h) = host {
        req = req.header("host", h);
    }
    let r = req
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("audience", audience),
        ])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn first_start_writes_private_bootstrap_credentials_that_work() {
    let dir = temp_dir("first");
    let p = start(&dir, &[]);
    let path = dir.join("bootstrap-credentials.json");
    let creds: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(dir.join("encryption.key"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }
    let audience = format!("{}/api/v2/", p.url());
    assert_eq!(creds["audience"], audience.as_str());
    let (st, t) = token(
        &p.url(),
        None,
        creds["client_id"].as_str().unwrap(),
        creds["client_secret"].as_str().unwrap(),
        &audience,
    )
    .await;
    assert_eq!(st, 200, "{t}");
    let scope = t["scope"].as_str().unwrap();
    assert!(scope.contains("create:connections") && scope.contains("read:users"));
    // The token verifies against the published JWKS.
    let jwks: Value = reqwest::get(format!("{}/.well-known/jwks.json", p.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys: Vec<_> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            sluice_crypto::keys::VerifyingKey::from_jwk(&serde_json::from_value(k.clone()).unwrap())
                .unwrap()
        })
        .collect();
    #[allow(clippy::disallowed_methods)] // a client checking tokens against real time
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let v = sluice_crypto::jwt::Validation {
        issuer: &format!("{}/", p.url()),
        audience: &audience,
        now,
        leeway: 0,
    };
    sluice_crypto::jwt::verify(t["access_token"].as_str().unwrap(), &keys, &v)
        .expect("token verifies with JWKS");
    assert!(p.terminate(), "clean exit on SIGTERM");
    // A second start generates nothing new.
    let before = std::fs::read_to_string(&path).unwrap();
    let p = start(&dir, &[]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    drop(p);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn bootstrap_credentials_from_environment_are_idempotent_across_restarts() {
    let dir = temp_dir("env");
    let envs = [
        ("SLUICE_BOOTSTRAP_CLIENT_ID", "ops-client"),
        (
            "SLUICE_BOOTSTRAP_CLIENT_SECRET",
            "ops-secret-0123456789abcdef",
        ),
    ];
    for round in 0..2 {
        let p = start(&dir, &envs);
        assert!(
            !dir.join("bootstrap-credentials.json").exists(),
            "fixed credentials are not written"
        );
        let audience = format!("{}/api/v2/", p.url());
        let (st, t) = token(
            &p.url(),
            None,
            "ops-client",
            "ops-secret-0123456789abcdef",
            &audience,
        )
        .await;
        assert_eq!(st, 200, "round {round}: {t}");
        let clients: Value = reqwest::Client::new()
            .get(format!("{}/api/v2/clients", p.url()))
            .bearer_auth(t["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            clients.as_array().unwrap().len(),
            1,
            "round {round}: exactly one bootstrap client"
        );
        let grants: Value = reqwest::Client::new()
            .get(format!("{}/api/v2/client-grants", p.url()))
            .bearer_auth(t["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(grants.as_array().unwrap().len(), 1);
        assert!(p.terminate());
    }
    // A changed secret takes effect; the old one stops working.
    let p = start(
        &dir,
        &[
            ("SLUICE_BOOTSTRAP_CLIENT_ID", "ops-client"),
            (
                "SLUICE_BOOTSTRAP_CLIENT_SECRET",
                "rotated-secret-0123456789",
            ),
        ],
    );
    let audience = format!("{}/api/v2/", p.url());
    assert_eq!(
        token(
            &p.url(),
            None,
            "ops-client",
            "ops-secret-0123456789abcdef",
            &audience
        )
        .await
        .0,
        401
    );
    assert_eq!(
        token(
            &p.url(),
            None,
            "ops-client",
            "rotated-secret-0123456789",
            &audience
        )
        .await
        .0,
        200
    );
    drop(p);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn invalid_configuration_reports_every_problem_at_once() {
    let dir = temp_dir("badcfg");
    let cfg = dir.join("c.toml");
    std::fs::write(
        &cfg,
        "log_format = \"xml\"\n[[tenants]]\nname = \"Bad_Name\"\n",
    )
    .unwrap();
    let out = bin()
        .args([
            "serve",
            "--listen",
            "nope",
            "--database-url",
            "mysql://x",
            "--config",
        ])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in ["listen:", "database-url:", "log-format:", "Bad_Name"] {
        assert!(err.contains(needle), "missing '{needle}' in: {err}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn tenants_create_makes_a_tenant_reachable_by_host_name() {
    let dir = temp_dir("tenants");
    let out = bin()
        .args(["tenants", "create", "acme", "--data-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let creds: Value = serde_json::from_slice(&out.stdout).unwrap();
    let again = bin()
        .args(["tenants", "create", "acme", "--data-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!again.status.success(), "creating it twice fails");
    let p = start(&dir, &[]);
    let port = p.addr.rsplit(':').next().unwrap().to_string();
    let host = format!("acme.localhost:{port}");
    let audience = format!("http://{host}/api/v2/");
    let (st, t) = token(
        &p.url(),
        Some(&host),
        creds["client_id"].as_str().unwrap(),
        creds["client_secret"].as_str().unwrap(),
        &audience,
    )
    .await;
    assert_eq!(st, 200, "{t}");
    let (_, claims) =
        sluice_crypto::jwt::decode_unverified(t["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(claims["iss"], format!("http://{host}/"));
    // acme's client is unknown to the default tenant.
    let (st, _) = token(
        &p.url(),
        None,
        creds["client_id"].as_str().unwrap(),
        creds["client_secret"].as_str().unwrap(),
        &format!("{}/api/v2/", p.url()),
    )
    .await;
    assert_eq!(st, 401);
    // Unknown tenant names are 404, in Auth0's shape.
    let r = reqwest::Client::new()
        .get(format!("{}/.well-known/jwks.json", p.url()))
        .header("host", format!("nobody.localhost:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // Different tenants publish different keys.
    let jwks = |h: Option<String>| {
        let url = p.url();
        async move {
            let mut r = reqwest::Client::new().get(format!("{url}/.well-known/jwks.json"));
            if let Some(h) = h {
                r = r.header("host", h);
            }
            r.send().await.unwrap().json::<Value>().await.unwrap()
        }
    };
    assert_ne!(
        jwks(None).await["keys"][0]["kid"],
        jwks(Some(host.clone())).await["keys"][0]["kid"]
    );
    drop(p);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn logs_never_contain_secrets_passwords_or_tokens() {
    let dir = temp_dir("logs");
    let secret = "log-check-secret-0123456789";
    let p = start(
        &dir,
        &[
            ("SLUICE_BOOTSTRAP_CLIENT_ID", "log-client"),
            ("SLUICE_BOOTSTRAP_CLIENT_SECRET", secret),
            ("SLUICE_LOG", "trace"),
        ],
    );
    let audience = format!("{}/api/v2/", p.url());
    let (st, t) = token(&p.url(), None, "log-client", secret, &audience).await;
    assert_eq!(st, 200);
    let tok = t["access_token"].as_str().unwrap().to_string();
    let http = reqwest::Client::new();
    let conn = serde_json::json!({"name": "db", "strategy": "auth0", "options": {"passwordPolicy": "none", "enabledDatabaseCustomization": false, "configuration": {"DB_PASSWORD": "config-secret-value"}}});
    let r = http
        .post(format!("{}/api/v2/connections", p.url()))
        .bearer_auth(&tok)
        .json(&conn)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let user = serde_json::json!({"connection": "db", "email": "x@example.com", "password": "user-password-value"});
    let r = http
        .post(format!("{}/api/v2/users", p.url()))
        .bearer_auth(&tok)
        .json(&user)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    // A wrong secret and a bad token are logged as failures, still without the values.
    let _ = token(
        &p.url(),
        None,
        "log-client",
        "wrong-secret-value-123",
        &audience,
    )
    .await;
    let _ = http
        .get(format!("{}/api/v2/clients", p.url()))
        .bearer_auth("bad-token-value")
        .send()
        .await
        .unwrap();
    let log = p.log.clone();
    assert!(p.terminate());
    let lines = log.lock().unwrap().join("\n");
    assert!(
        lines.contains("request"),
        "the server did log requests: {lines}"
    );
    for needle in [
        secret,
        &tok[..],
        "config-secret-value",
        "user-password-value",
        "wrong-secret-value-123",
        "bad-token-value",
    ] {
        assert!(!lines.contains(needle), "log contains a secret: {needle}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn scripts_run_prints_result_console_and_timing() {
    let dir = temp_dir("scriptsrun");
    std::fs::write(
        dir.join("login.js"),
        "function login(email, password, callback) {\n  console.log('checking', email);\n  if (password !== configuration.PW) return callback(new WrongUsernameOrPasswordError(email, 'bad password'));\n  callback(null, { user_id: 'legacy-1', email: email });\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("get_user.js"),
        "function getByEmail(email, callback) {\n  callback(null, null);\n}\n",
    )
    .unwrap();
    std::fs::write(dir.join("config.json"), r#"{"PW": "s3cret"}"#).unwrap();
    let out = bin()
        .args(["scripts", "run", "--dir"])
        .arg(&dir)
        .arg("--config")
        .arg(dir.join("config.json"))
        .args(["login", "alice@example.com", "s3cret"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["result"],
        serde_json::json!({"user_id": "legacy-1", "email": "alice@example.com"})
    );
    assert_eq!(v["console"][0]["text"], "checking alice@example.com");
    assert!(v["elapsed_ms"].as_f64().unwrap() > 0.0);
    // A failing script exits non-zero and says how it failed.
    let out = bin()
        .args(["scripts", "run", "--script"])
        .arg(dir.join("login.js"))
        .arg("--config")
        .arg(dir.join("config.json"))
        .args(["login", "alice@example.com", "wrong"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "WrongUsernameOrPasswordError");
    assert_eq!(v["error"]["message"], "bad password");
    // get_user from the same directory: not found is a null result, not an error.
    let out = bin()
        .args(["scripts", "run", "--dir"])
        .arg(&dir)
        .args(["get_user", "bob@example.com"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["result"],
        Value::Null
    );
    let _ = std::fs::remove_dir_all(dir);
}
