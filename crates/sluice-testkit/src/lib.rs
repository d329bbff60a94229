//! Test harness: start a real Sluice server (the same `sluice::server::start` the binary runs)
//! on an ephemeral loopback port with a fresh database — SQLite in a temporary directory or a
//! throw-away PostgreSQL database — and talk to it over real HTTP. Its new tenants take their
//! signing keys from a pool generated once ([`keys`]).

pub mod keys;
pub mod legacy;

use serde_json::{Value, json};
use sluice::config::Settings;
use sluice::server::{self, RunningServer};
use sluice_store::testdb::TestDatabase;
use std::path::PathBuf;

/// Fixed bootstrap credentials of every test server's default tenant.
pub const BOOTSTRAP_ID: &str = "testkit-bootstrap-client";
pub const BOOTSTRAP_SECRET: &str = "testkit-bootstrap-secret-0123456789";

/// A running server with its database; everything is removed on drop.
pub struct TestServer {
    pub server: Option<RunningServer>,
    pub url: String,
    pub http: reqwest::Client,
    pub data_dir: PathBuf,
    /// The database, owned by the first node (a [`peer`](TestServer::peer) has none).
    _db: Option<TestDatabase>,
    db_url: String,
}

/// The test kit's parts of every server: its signing keys come from the pool.
fn parts() -> server::Parts {
    server::Parts {
        keys: Some(keys::pooled()),
    }
}

/// The store backends every store-touching test runs against.
pub const BACKENDS: [&str; 2] = ["sqlite", "postgres"];

impl TestServer {
    /// Starts a server on `backend` (`sqlite` or `postgres`).
    pub async fn start(backend: &str) -> TestServer {
        Self::start_with(backend, |_| {}).await
    }

    /// Like [`start`](Self::start) but lets the test adjust the settings first.
    pub async fn start_with(backend: &str, adjust: impl FnOnce(&mut Settings)) -> TestServer {
        let db = TestDatabase::of(backend).await;
        let data_dir = std::env::temp_dir().join(format!("sluice-testkit-{}", unique_id()));
        let mut s = Settings::for_tests(data_dir.clone(), db.url.clone());
        s.bootstrap_client = Some((BOOTSTRAP_ID.into(), BOOTSTRAP_SECRET.into()));
        adjust(&mut s);
        let server = server::start_with_parts(s, parts())
            .await
            .expect("test server starts");
        let url = server.public_url.clone();
        TestServer {
            server: Some(server),
            url,
            http: reqwest::Client::new(),
            data_dir,
            db_url: db.url.clone(),
            _db: Some(db),
        }
    }

    /// A second node: another server process-alike over the same database, with the same
    /// encryption key and public URL (so the same issuer) but its own port and caches. It
    /// must be dropped before the first node (which owns the database).
    pub async fn peer(&self) -> TestServer {
        let data_dir = std::env::temp_dir().join(format!("sluice-testkit-{}", unique_id()));
        std::fs::create_dir_all(&data_dir).expect("peer data dir");
        std::fs::copy(
            self.data_dir.join("encryption.key"),
            data_dir.join("encryption.key"),
        )
        .expect("the first node's encryption key");
        let mut s = Settings::for_tests(data_dir.clone(), self.db_url.clone());
        s.bootstrap_client = Some((BOOTSTRAP_ID.into(), BOOTSTRAP_SECRET.into()));
        s.public_url = Some(self.url.clone());
        let server = server::start_with_parts(s, parts())
            .await
            .expect("peer server starts");
        let url = format!("http://{}", server.addr);
        TestServer {
            server: Some(server),
            url,
            http: reqwest::Client::new(),
            data_dir,
            db_url: self.db_url.clone(),
            _db: None,
        }
    }

    /// The URL of this server's database.
    pub fn db_url(&self) -> &str {
        &self.db_url
    }

    pub fn core(&self) -> &sluice_core::Core {
        &self.server.as_ref().expect("running").core
    }

    /// A Management API token of the default tenant with every scope.
    pub async fn mgmt_token(&self) -> String {
        let issuer = &self.server.as_ref().expect("running").public_url;
        self.token_for(
            BOOTSTRAP_ID,
            BOOTSTRAP_SECRET,
            &format!("{issuer}/api/v2/"),
            None,
        )
        .await
    }

    /// A client-credentials token; panics unless the server issues one.
    pub async fn token_for(
        &self,
        client_id: &str,
        secret: &str,
        audience: &str,
        scope: Option<&str>,
    ) -> String {
        let mut body = json!({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, "audience": audience});
        if let Some(s) = scope {
            body["scope"] = s.into();
        }
        let r = self
            .http
            .post(format!("{}/oauth/token", self.url))
            .json(&body)
            .send()
            .await
            .expect("token request");
        let status = r.status();
        let v: Value = r.json().await.expect("token json");
        assert_eq!(status, 200, "token request failed: {v}");
        v["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    /// Sends a JSON request with an optional bearer token; returns status and JSON body
    /// (`Value::Null` when the body is empty or not JSON).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.call_host(method, path, token, body, None).await
    }

    /// Like [`call`](Self::call) with an explicit Host header (tenant routing).
    pub async fn call_host(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        host: Option<&str>,
    ) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.http.request(m, format!("{}{}", self.url, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        if let Some(h) = host {
            req = req.header("host", h);
        }
        let r = req.send().await.expect("request");
        let status = r.status().as_u16();
        let text = r.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            // Stop serving and release the pool before the database is dropped.
            let trigger = s.shutdown_trigger();
            let _ = trigger.send(true);
            drop(s);
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

fn unique_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
