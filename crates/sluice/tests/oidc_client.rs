//! A standard OpenID Connect client that no one here wrote: Authlib (PyPI, pinned in
//! `tests/sdk/authlib-requirements.txt`, installed into a virtualenv under the target directory)
//! runs `tests/sdk/authlib_oidc_rp.py` against a real server. The library discovers Sluice,
//! completes authorization code + PKCE, validates every ID token itself against the JWKS (and
//! refuses tampered, foreign-key, `alg: none`, wrong-nonce and wrong-audience tokens), calls
//! userinfo, refreshes with rotation, revokes and logs out; the script only plays the user at
//! the login page. This file sets up the applications and checks what the script reports.

use crate::support;

use serde_json::{Value, json};
use sluice_testkit::TestServer;

const CALLBACK: &str = "https://rp.example.com/callback";
const LOGOUT: &str = "https://rp.example.com/signed-out";

/// An application with `auth_method` (`none` makes it public, PKCE only), enabled on the
/// Auth0-managed connection `db` with user `grace@example.com`; returns the client id, its
/// secret (empty for a public client) and the user's id.
async fn setup(s: &TestServer, auth_method: &str) -> (String, String, String) {
    let tok = s.mgmt_token().await;
    let app_type = if auth_method == "none" {
        "spa"
    } else {
        "regular_web"
    };
    let (st, app) = s
        .call(
            "POST",
            "/api/v2/clients",
            Some(&tok),
            Some(json!({
                "name": "Authlib RP", "app_type": app_type,
                "token_endpoint_auth_method": auth_method,
                "callbacks": [CALLBACK], "allowed_logout_urls": [LOGOUT],
                "grant_types": ["authorization_code", "refresh_token"]
            })),
        )
        .await;
    assert_eq!(st, 201, "{app}");
    let id = app["client_id"].as_str().unwrap().to_string();
    let secret = app["client_secret"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (st, c) = s
        .call(
            "POST",
            "/api/v2/connections",
            Some(&tok),
            Some(json!({
                "name": "db", "strategy": "auth0", "enabled_clients": [id],
                "options": {"passwordPolicy": "low"}
            })),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    let (st, u) = s
        .call(
            "POST",
            "/api/v2/users",
            Some(&tok),
            Some(json!({
                "connection": "db", "email": "grace@example.com", "password": "cobol-1959",
                "name": "Grace Hopper", "email_verified": true
            })),
        )
        .await;
    assert_eq!(st, 201, "{u}");
    (id, secret, u["user_id"].as_str().unwrap().to_string())
}

/// Runs the Authlib relying party for this application and returns its report.
async fn run_rp(s: &TestServer, client: &(String, String, String), auth_method: &str) -> Value {
    let python = tokio::task::spawn_blocking(|| {
        support::python::venv("authlib-venv", "tests/sdk/authlib-requirements.txt")
    })
    .await
    .unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/authlib_oidc_rp.py");
    let out = tokio::process::Command::new(&python)
        .arg(script)
        .env("SLUICE_URL", &s.url)
        .env("RP_CLIENT_ID", &client.0)
        .env("RP_CLIENT_SECRET", &client.1)
        .env("RP_AUTH_METHOD", auth_method)
        .env("RP_REDIRECT_URI", CALLBACK)
        .env("RP_LOGOUT_URI", LOGOUT)
        .env("RP_USERNAME", "grace@example.com")
        .env("RP_PASSWORD", "cobol-1959")
        .env_remove("AUTHLIB_INSECURE_TRANSPORT")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "Authlib relying party failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    println!("{stdout}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// Everything the relying party must have verified, for the user it signed in.
fn check(s: &TestServer, r: &Value, (client_id, _, user_id): &(String, String, String)) {
    assert_eq!(r["issuer"], format!("{}/", s.url));
    assert_eq!(
        r["authorization_request"],
        json!({"state": true, "nonce": true, "code_challenge": true, "code_challenge_method": true})
    );
    assert_eq!(
        r["token_type"].as_str().map(str::to_lowercase),
        Some("bearer".into())
    );
    let id = &r["id_token"];
    assert_eq!(id["alg"], "RS256");
    assert!(id["kid"].is_string(), "{id}");
    assert_eq!(id["sub"], user_id.as_str());
    assert_eq!(id["aud"], client_id.as_str());
    assert_eq!(id["email"], "grace@example.com");
    assert_eq!(id["name"], "Grace Hopper");
    assert_eq!(id["nonce_ok"], true);
    assert!(id["auth_time"].is_i64(), "{id}");
    assert_eq!(r["userinfo"]["sub"], user_id.as_str());
    assert_eq!(r["userinfo"]["email"], "grace@example.com");
    assert_eq!(r["userinfo_sub_matches"], true);
    for (case, error) in [
        ("tampered_payload", "BadSignatureError"),
        ("foreign_key", "BadSignatureError"),
        ("alg_none", "UnsupportedAlgorithmError"),
        ("wrong_nonce", "InvalidClaimError"),
        ("wrong_audience", "InvalidClaimError"),
    ] {
        assert_eq!(r["rejected"][case], error, "{case}: {}", r["rejected"]);
    }
    assert_eq!(r["sso_same_sub"], true);
    assert_eq!(r["refresh_rotated"], true);
    assert_eq!(r["refresh_id_token_sub_matches"], true);
    assert_eq!(r["refresh_userinfo_sub_matches"], true);
    assert_eq!(r["revoke_status"], 200);
    assert_eq!(r["revoked_refresh"], "invalid_grant");
    assert_eq!(
        r["logout"],
        json!({"status": 302, "location": LOGOUT, "state_ok": true})
    );
    assert_eq!(r["after_logout"], "login_required");
    assert_eq!(r["after_logout_state_ok"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authlib_signs_in_a_confidential_client_with_client_secret_basic() {
    let s = TestServer::start("sqlite").await;
    let client = setup(&s, "client_secret_basic").await;
    let report = run_rp(&s, &client, "client_secret_basic").await;
    check(&s, &report, &client);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authlib_signs_in_a_public_client_with_pkce_only() {
    let s = TestServer::start("sqlite").await;
    let client = setup(&s, "none").await;
    assert!(client.1.is_empty(), "a public client has no secret");
    let report = run_rp(&s, &client, "none").await;
    check(&s, &report, &client);
}
