//! Shared by the connection-flow tests: a legacy user store in PostgreSQL, scripts in the style
//! of Auth0's PostgreSQL templates, and HTTP helpers.
#![allow(dead_code)]

pub mod browser;
pub mod python;

use serde_json::{Value, json};
use sluice_testkit::TestServer;
use sqlx::Connection;

pub const LOGIN: &str = r#"function login(email, password, callback) {
  const { Client } = require('pg');
  const bcrypt = require('bcrypt');
  const client = new Client({ connectionString: configuration.PG_URL });
  const users = configuration.SCHEMA + '.users';
  client.connect(function (err) {
    if (err) return callback(err);
    client.query('SELECT id, nickname, email, password FROM ' + users + ' WHERE email = $1', [email], function (err, result) {
      if (err) { client.end(); return callback(err); }
      if (result.rows.length === 0) { client.end(); return callback(new WrongUsernameOrPasswordError(email)); }
      const user = result.rows[0];
      if (user.nickname === 'locked') { client.end(); return callback(new UnauthorizedError('Your account is locked. Call support.')); }
      bcrypt.compare(password, user.password, function (err, isValid) {
        client.query('UPDATE ' + users + ' SET logins = logins + 1 WHERE id = $1', [user.id], function () {
          client.end();
          if (err || !isValid) return callback(err || new WrongUsernameOrPasswordError(email));
          callback(null, { user_id: 'pg-' + user.id, nickname: user.nickname, email: user.email, app_metadata: { plan: 'legacy' } });
        });
      });
    });
  });
}"#;

pub const GET_USER: &str = "function getByEmail(email, callback) {\n  callback(null, null);\n}";

/// A legacy user store: a schema of its own in the `test` database, dropped on drop.
pub struct Legacy {
    pub schema: String,
    pub url: String,
}

impl Legacy {
    pub async fn new(users: &[(&str, &str, &str)]) -> Legacy {
        let url = sluice_testkit::legacy::postgres::url();
        let schema = format!("legacy_{}", uuid::Uuid::new_v4().simple());
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        for q in [
            format!("CREATE SCHEMA {schema}"),
            format!(
                "CREATE TABLE {schema}.users (id SERIAL PRIMARY KEY, email TEXT UNIQUE NOT NULL, password TEXT NOT NULL, nickname TEXT, logins INT NOT NULL DEFAULT 0)"
            ),
        ] {
            sqlx::query(sqlx::AssertSqlSafe(q))
                .execute(&mut c)
                .await
                .unwrap();
        }
        for (email, pw, nick) in users {
            let hash = sluice_scripts::modules::bcrypt::hash_sync(pw, "4").unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO {schema}.users (email, password, nickname) VALUES ($1, $2, $3)"
            )))
            .bind(*email)
            .bind(hash)
            .bind(*nick)
            .execute(&mut c)
            .await
            .unwrap();
        }
        Legacy { schema, url }
    }

    /// How many times the login script checked credentials in the legacy store.
    pub async fn logins(&self) -> i64 {
        let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
            "SELECT COALESCE(SUM(logins), 0)::BIGINT FROM {}.users",
            self.schema
        )))
        .fetch_one(&mut c)
        .await
        .unwrap()
    }

    pub async fn break_store(&self) {
        let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP TABLE {}.users",
            self.schema
        )))
        .execute(&mut c)
        .await
        .unwrap();
    }
}

impl Drop for Legacy {
    fn drop(&mut self) {
        let (url, schema) = (self.url.clone(), self.schema.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(mut c) = sqlx::PgConnection::connect(&url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP SCHEMA IF EXISTS {schema} CASCADE"
                    )))
                    .execute(&mut c)
                    .await;
                }
            });
        })
        .join();
    }
}

/// An application allowed the password-realm grant, and a connection enabled for it.
pub async fn app_and_connection(
    s: &TestServer,
    tok: &str,
    name: &str,
    options: Value,
) -> (String, String) {
    let (st, c) = s
        .call("POST", "/api/v2/clients", Some(tok), Some(json!({"name": "app", "grant_types": ["http://auth0.com/oauth/grant-type/password-realm", "password"]})))
        .await;
    assert_eq!(st, 201, "{c}");
    let (id, secret) = (
        c["client_id"].as_str().unwrap().to_string(),
        c["client_secret"].as_str().unwrap().to_string(),
    );
    let (st, conn) = s
        .call("POST", "/api/v2/connections", Some(tok), Some(json!({"name": name, "strategy": "auth0", "enabled_clients": [id], "options": options})))
        .await;
    assert_eq!(st, 201, "{conn}");
    (id, secret)
}

pub async fn login(
    s: &TestServer,
    client: &(String, String),
    realm: &str,
    user: &str,
    pw: &str,
    scope: &str,
) -> (u16, Value) {
    let r = s
        .http
        .post(format!("{}/oauth/token", s.url))
        .form(&[
            (
                "grant_type",
                "http://auth0.com/oauth/grant-type/password-realm",
            ),
            ("client_id", &client.0),
            ("client_secret", &client.1),
            ("realm", realm),
            ("username", user),
            ("password", pw),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

pub fn wrong() -> Value {
    json!({"error": "invalid_grant", "error_description": "Wrong email or password."})
}

pub fn custom_options(legacy: &Legacy, import: bool) -> Value {
    json!({
        "enabledDatabaseCustomization": true, "import_mode": import,
        "customScripts": {"login": LOGIN, "get_user": GET_USER},
        "configuration": {"PG_URL": legacy.url, "SCHEMA": legacy.schema},
    })
}

/// `get_user` in the template style: the profile, or nothing.
pub const GET_USER_PG: &str = r#"function getByEmail(email, callback) {
  const { Client } = require('pg');
  const client = new Client({ connectionString: configuration.PG_URL });
  client.connect(function (err) {
    if (err) return callback(err);
    client.query('SELECT id, nickname, email FROM ' + configuration.SCHEMA + '.users WHERE email = $1', [email], function (err, result) {
      client.end();
      if (err) return callback(err);
      if (result.rows.length === 0) return callback(null);
      const u = result.rows[0];
      callback(null, { user_id: 'pg-' + u.id, nickname: u.nickname, email: u.email });
    });
  });
}"#;

/// `create` in the template style: bcrypt the password, insert, `user_exists` on duplicates.
pub const CREATE_PG: &str = r#"function create(user, callback) {
  const { Client } = require('pg');
  const bcrypt = require('bcrypt');
  bcrypt.hash(user.password, 4, function (err, hash) {
    if (err) return callback(err);
    const client = new Client({ connectionString: configuration.PG_URL });
    client.connect(function (err) {
      if (err) return callback(err);
      client.query('INSERT INTO ' + configuration.SCHEMA + '.users (email, password, nickname) VALUES ($1, $2, $3)', [user.email, hash, user.nickname || 'new'], function (err) {
        client.end();
        if (err && err.code === '23505') return callback(new ValidationError('user_exists', 'the user already exists'));
        callback(err || null);
      });
    });
  });
}"#;

impl Legacy {
    /// Brings a broken store back with these users.
    pub async fn restore(&self, users: &[(&str, &str, &str)]) {
        let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
        let q = format!(
            "CREATE TABLE {}.users (id SERIAL PRIMARY KEY, email TEXT UNIQUE NOT NULL, password TEXT NOT NULL, nickname TEXT, logins INT NOT NULL DEFAULT 0)",
            self.schema
        );
        sqlx::query(sqlx::AssertSqlSafe(q))
            .execute(&mut c)
            .await
            .unwrap();
        for (email, pw, nick) in users {
            let hash = sluice_scripts::modules::bcrypt::hash_sync(pw, "4").unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO {}.users (email, password, nickname) VALUES ($1, $2, $3)",
                self.schema
            )))
            .bind(*email)
            .bind(hash)
            .bind(*nick)
            .execute(&mut c)
            .await
            .unwrap();
        }
    }
}

/// `POST /dbconnections/signup`.
pub async fn signup(
    s: &TestServer,
    client_id: &str,
    connection: &str,
    email: &str,
    password: &str,
) -> (u16, Value) {
    let r = s
        .http
        .post(format!("{}/dbconnections/signup", s.url))
        .json(&json!({"client_id": client_id, "connection": connection, "email": email, "password": password}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// `change_password` in the template style.
pub const CHANGE_PASSWORD_PG: &str = r#"function changePassword(email, newPassword, callback) {
  const { Client } = require('pg');
  const bcrypt = require('bcrypt');
  bcrypt.hash(newPassword, 4, function (err, hash) {
    if (err) return callback(err);
    const client = new Client({ connectionString: configuration.PG_URL });
    client.connect(function (err) {
      if (err) return callback(err);
      client.query('UPDATE ' + configuration.SCHEMA + '.users SET password = $1 WHERE email = $2', [hash, email], function (err, result) {
        client.end();
        callback(err || null, result && result.rowCount > 0);
      });
    });
  });
}"#;

/// Asks for a reset and returns the ticket from the newest outbox message.
pub async fn reset_ticket(s: &TestServer, connection: &str, email: &str) -> Option<String> {
    let outbox = s.data_dir.join("outbox");
    let before = std::fs::read_dir(&outbox).map(|d| d.count()).unwrap_or(0);
    let r = s
        .http
        .post(format!("{}/dbconnections/change_password", s.url))
        .json(&json!({"email": email, "connection": connection}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.text().await.unwrap(),
        "We've just sent you an email to reset your password."
    );
    let mut files: Vec<_> = std::fs::read_dir(&outbox)
        .ok()?
        .map(|e| e.unwrap().path())
        .collect();
    if files.len() == before {
        return None;
    }
    files.sort();
    let mail = std::fs::read_to_string(files.last()?).ok()?;
    let i = mail.find("ticket=")? + 7;
    Some(mail[i..].split_whitespace().next()?.to_string())
}

/// Submits the reset form.
pub async fn reset_submit(
    s: &TestServer,
    ticket: &str,
    password: &str,
    confirm: &str,
) -> (u16, String) {
    let r = s
        .http
        .post(format!("{}/lo/reset", s.url))
        .form(&[
            ("ticket", ticket),
            ("password", password),
            ("confirm", confirm),
        ])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The ticket of the newest outbox message whose link goes to `path` (e.g. `/lo/verify`).
pub fn newest_link_ticket(s: &TestServer, path: &str) -> Option<String> {
    let mut files: Vec<_> = std::fs::read_dir(s.data_dir.join("outbox"))
        .ok()?
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.iter().rev().find_map(|f| {
        let mail = std::fs::read_to_string(f).ok()?;
        let i = mail.find(&format!("{path}?ticket="))? + path.len() + 8;
        Some(mail[i..].split_whitespace().next()?.to_string())
    })
}
