//! Compatibility with Auth0's official Python SDK: `auth0-python` (pinned in
//! `tests/sdk/requirements.txt`, installed into a virtualenv under the target directory) drives
//! the Management API of a server serving HTTPS (the SDK only speaks https) with a self-signed
//! certificate: token, connections with custom scripts, users, clients, client grants.

use crate::support;

use sluice_testkit::{BOOTSTRAP_ID, BOOTSTRAP_SECRET, TestServer};
use std::path::{Path, PathBuf};

/// A loopback port that is free right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Writes a self-signed certificate for `localhost` and returns (cert, key) paths.
fn self_signed(dir: &Path) -> (PathBuf, PathBuf) {
    let ck =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    (cert, key)
}

async fn tls_server(tag: &str) -> (TestServer, PathBuf, u16) {
    let dir = std::env::temp_dir().join(format!(
        "sluice-tls-{tag}-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = self_signed(&dir);
    let port = free_port();
    let cert2 = cert.clone();
    let s = TestServer::start_with("sqlite", move |st| {
        st.listen = format!("127.0.0.1:{port}").parse().unwrap();
        st.public_url = Some(format!("https://localhost:{port}"));
        st.tls = Some((cert2, key));
    })
    .await;
    (s, cert, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_https_with_the_configured_certificate() {
    let (_s, cert, port) = tls_server("plain").await;
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&cert).unwrap()).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let r = client
        .get(format!(
            "https://localhost:{port}/.well-known/openid-configuration"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let d: serde_json::Value = r.json().await.unwrap();
    assert_eq!(d["issuer"], format!("https://localhost:{port}/"));
    // Plain HTTP on the TLS port is not served.
    assert!(
        reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
            .await
            .map(|r| r.status() != 200)
            .unwrap_or(true)
    );
}

/// The shared virtualenv with the SDK (created once per target directory).
fn sdk_python() -> PathBuf {
    support::python::venv("auth0-python-venv", "tests/sdk/requirements.txt")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth0_python_sdk_drives_the_management_api() {
    let python = tokio::task::spawn_blocking(sdk_python).await.unwrap();
    let (s, cert, port) = tls_server("sdk").await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/auth0_python_sdk.py");
    let out = tokio::process::Command::new(&python)
        .arg(&script)
        .env("SLUICE_DOMAIN", format!("localhost:{port}"))
        .env("SLUICE_CLIENT_ID", BOOTSTRAP_ID)
        .env("SLUICE_CLIENT_SECRET", BOOTSTRAP_SECRET)
        .env("SSL_CERT_FILE", &cert)
        .env("REQUESTS_CA_BUNDLE", &cert)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "SDK script failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    println!("{stdout}");
    assert!(stdout.contains("ok "), "{stdout}");
    drop(s);
}
