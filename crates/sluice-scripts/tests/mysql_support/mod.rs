//! Shared by the `mysql` module tests: a throw-away MariaDB database per test and helpers that
//! run scripts against it.
#![allow(dead_code)]

use mysql_async::prelude::Queryable;
use serde_json::{Value, json};
use sluice_core::ports::{ScriptFailure, ScriptKind, ScriptRequest, ScriptRunner};
use sluice_scripts::{Limits, ScriptRuntime};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

pub const ADMIN_URL: &str = "mysql://root@127.0.0.1:3306/test?prefer_socket=false";

pub fn limits() -> Limits {
    Limits {
        deadline: Duration::from_secs(15),
        ..Limits::default()
    }
}

pub fn runtime() -> ScriptRuntime {
    ScriptRuntime::new(limits())
}

/// A database of its own, dropped on drop.
pub struct TestDb {
    pub name: String,
}

impl TestDb {
    pub async fn new(tag: &str, setup: &[&str]) -> TestDb {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "sluice_my_{tag}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let mut c = mysql_async::Conn::from_url(ADMIN_URL).await.unwrap();
        c.query_drop(format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
            .await
            .unwrap();
        c.query_drop(format!("USE `{name}`")).await.unwrap();
        for s in setup {
            c.query_drop(*s).await.unwrap();
        }
        c.disconnect().await.unwrap();
        TestDb { name }
    }

    pub async fn conn(&self) -> mysql_async::Conn {
        let mut c = mysql_async::Conn::from_url(ADMIN_URL).await.unwrap();
        c.query_drop(format!("USE `{}`", self.name)).await.unwrap();
        c
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(mut c) = mysql_async::Conn::from_url(ADMIN_URL).await {
                    let _ = c
                        .query_drop(format!("DROP DATABASE IF EXISTS `{name}`"))
                        .await;
                    let _ = c.disconnect().await;
                }
            });
        })
        .join();
    }
}

pub const USERS: &str = "CREATE TABLE users (id INT AUTO_INCREMENT PRIMARY KEY, nickname VARCHAR(100), email VARCHAR(255) NOT NULL UNIQUE, password VARCHAR(255) NOT NULL)";

pub async fn run_script(
    rt: &ScriptRuntime,
    kind: ScriptKind,
    source: &str,
    args: Vec<Value>,
    db: &str,
) -> Result<Value, ScriptFailure> {
    let configuration = BTreeMap::from([
        ("MYSQL_HOST".to_string(), "127.0.0.1".to_string()),
        ("MYSQL_DB".to_string(), db.to_string()),
    ]);
    rt.run(ScriptRequest {
        tenant_id: "t".into(),
        connection: None,
        kind,
        source: source.into(),
        args,
        context: None,
        configuration,
    })
    .await
    .result
}

/// Runs `body` inside `async function (email, password, cb)` with `mysql` (the module named
/// `module`) and `cfg` (this test's connection options) in scope.
pub async fn run_body(
    rt: &ScriptRuntime,
    module: &str,
    db: &str,
    body: &str,
) -> Result<Value, ScriptFailure> {
    let source = format!(
        "async function login(email, password, cb) {{\nconst mysql = require('{module}');\nconst cfg = {{host: configuration.MYSQL_HOST, user: 'root', password: '', database: configuration.MYSQL_DB}};\n{body}\n}}"
    );
    run_script(
        rt,
        ScriptKind::Login,
        &source,
        vec![json!("a@b.c"), json!("pw")],
        db,
    )
    .await
}
