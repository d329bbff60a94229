//! A legacy user store in MariaDB/MySQL, reached by scripts in the style of Auth0's MySQL
//! templates (`require('mysql')` + `require('bcrypt')`, callbacks, `?` placeholders). Each store
//! is a database of its own on the server of `SLUICE_TEST_MYSQL_URL` (default
//! `mysql://root@127.0.0.1:3306/`), dropped on drop.

use super::{LegacyUser, random_suffix};
use mysql_async::prelude::Queryable;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The server's admin URL.
pub fn admin_url() -> String {
    let mut url = std::env::var("SLUICE_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/".into());
    if !url.contains("prefer_socket") {
        url.push_str(if url.contains('?') { "&" } else { "?" });
        url.push_str("prefer_socket=false");
    }
    url
}

/// The first statement of every script: counts the run in `script_runs`.
macro_rules! counted_my {
    ($name:literal) => {
        concat!(
            "  connection.query('INSERT INTO script_runs (script, n) VALUES (?, 1) ON DUPLICATE KEY UPDATE n = n + 1', ['",
            $name,
            "'], function () {});\n"
        )
    };
}

/// `login`: the bcrypt check; `WrongUsernameOrPasswordError` for unknown users and wrong
/// passwords, `UnauthorizedError` for the user whose nickname is `locked`.
pub const LOGIN: &str = concat!(
    r#"function login(email, password, callback) {
  const mysql = require('mysql');
  const bcrypt = require('bcrypt');

  const connection = mysql.createConnection({
    host: configuration.MYSQL_HOST,
    port: Number(configuration.MYSQL_PORT),
    user: configuration.MYSQL_USER,
    password: configuration.MYSQL_PASSWORD,
    database: configuration.MYSQL_DB
  });

  connection.connect();
"#,
    counted_my!("login"),
    r#"
  const query = 'SELECT id, nickname, email, email_verified, password FROM users WHERE email = ?';

  connection.query(query, [ email ], function(err, results) {
    connection.end();
    if (err) return callback(err);
    if (results.length === 0) return callback(new WrongUsernameOrPasswordError(email));
    const user = results[0];
    if (user.nickname === 'locked') return callback(new UnauthorizedError('Your account is locked. Call support.'));

    bcrypt.compare(password, user.password, function(err, isValid) {
      if (err || !isValid) return callback(err || new WrongUsernameOrPasswordError(email));

      callback(null, {
        user_id: 'my-' + user.id,
        nickname: user.nickname,
        email: user.email,
        email_verified: user.email_verified === 1,
        app_metadata: { plan: 'mariadb' }
      });
    });
  });
}"#
);

/// `get_user`: the profile (same `user_id` as `login`), or nothing.
pub const GET_USER: &str = concat!(
    r#"function getByEmail(email, callback) {
  const mysql = require('mysql');

  const connection = mysql.createConnection({
    host: configuration.MYSQL_HOST,
    port: Number(configuration.MYSQL_PORT),
    user: configuration.MYSQL_USER,
    password: configuration.MYSQL_PASSWORD,
    database: configuration.MYSQL_DB
  });

  connection.connect();
"#,
    counted_my!("get_user"),
    r#"
  const query = 'SELECT id, nickname, email, email_verified FROM users WHERE email = ?';

  connection.query(query, [ email ], function(err, results) {
    connection.end();
    if (err || results.length === 0) return callback(err || null);

    const user = results[0];
    callback(null, {
      user_id: 'my-' + user.id,
      nickname: user.nickname,
      email: user.email,
      email_verified: user.email_verified === 1
    });
  });
}"#
);

/// `create`: bcrypt, `INSERT INTO users SET ?`; a duplicate is `user_exists`.
pub const CREATE: &str = concat!(
    r#"function create(user, callback) {
  const mysql = require('mysql');
  const bcrypt = require('bcrypt');

  const connection = mysql.createConnection({
    host: configuration.MYSQL_HOST,
    port: Number(configuration.MYSQL_PORT),
    user: configuration.MYSQL_USER,
    password: configuration.MYSQL_PASSWORD,
    database: configuration.MYSQL_DB
  });

  connection.connect();
"#,
    counted_my!("create"),
    r#"
  const query = 'INSERT INTO users SET ?';

  bcrypt.hash(user.password, 4, function(err, hash) {
    if (err) return callback(err);
    const insert = {
      password: hash,
      email: user.email,
      nickname: user.nickname || user.email.split('@')[0]
    };

    connection.query(query, insert, function(err) {
      connection.end();
      if (err && err.code === 'ER_DUP_ENTRY') return callback(new ValidationError('user_exists', 'the user already exists'));
      if (err) return callback(err);
      callback(null);
    });
  });
}"#
);

/// `verify`: marks the email verified; `true` when a row changed.
pub const VERIFY: &str = concat!(
    r#"function verify(email, callback) {
  const mysql = require('mysql');

  const connection = mysql.createConnection({
    host: configuration.MYSQL_HOST,
    port: Number(configuration.MYSQL_PORT),
    user: configuration.MYSQL_USER,
    password: configuration.MYSQL_PASSWORD,
    database: configuration.MYSQL_DB
  });

  connection.connect();
"#,
    counted_my!("verify"),
    r#"
  const query = 'UPDATE users SET email_verified = true WHERE email_verified = false AND email = ?';

  connection.query(query, [ email ], function(err, results) {
    connection.end();
    if (err) return callback(err);
    // Auth0's template checks results.length, which an OkPacket does not have.
    callback(null, results.affectedRows > 0);
  });
}"#
);

/// `change_password`: a new bcrypt hash; `true` when a row changed.
pub const CHANGE_PASSWORD: &str = concat!(
    r#"function changePassword(email, newPassword, callback) {
  const mysql = require('mysql');
  const bcrypt = require('bcrypt');

  const connection = mysql.createConnection({
    host: configuration.MYSQL_HOST,
    port: Number(configuration.MYSQL_PORT),
    user: configuration.MYSQL_USER,
    password: configuration.MYSQL_PASSWORD,
    database: configuration.MYSQL_DB
  });

  connection.connect();
"#,
    counted_my!("change_password"),
    r#"
  const query = 'UPDATE users SET password = ? WHERE email = ?';

  bcrypt.hash(newPassword, 4, function(err, hash) {
    if (err) return callback(err);

    connection.query(query, [ hash, email ], function(err, results) {
      connection.end();
      if (err) return callback(err);
      callback(null, results.affectedRows > 0);
    });
  });
}"#
);

/// `change_email`: the new email and its verified flag; `true` when a row changed.
pub const CHANGE_EMAIL: &str = concat!(
    r#"function changeEmail(email, newEmail, verified, callback) {
  const mysql = require('mysql');

  const connection = mysql.createConnection({
    host: configuration.MYSQL_HOST,
    port: Number(configuration.MYSQL_PORT),
    user: configuration.MYSQL_USER,
    password: configuration.MYSQL_PASSWORD,
    database: configuration.MYSQL_DB
  });

  connection.connect();
"#,
    counted_my!("change_email"),
    r#"
  const query = 'UPDATE users SET email = ?, email_verified = ? WHERE email = ?';

  connection.query(query, [ newEmail, verified, email ], function(err, results) {
    connection.end();
    if (err) return callback(err);
    callback(null, results.affectedRows > 0);
  });
}"#
);

/// `delete`: the raw id (`my-<id>`, without `auth0|`).
pub const DELETE: &str = concat!(
    r#"function remove(id, callback) {
  const mysql = require('mysql');

  const connection = mysql.createConnection({
    host: configuration.MYSQL_HOST,
    port: Number(configuration.MYSQL_PORT),
    user: configuration.MYSQL_USER,
    password: configuration.MYSQL_PASSWORD,
    database: configuration.MYSQL_DB
  });

  connection.connect();
"#,
    counted_my!("delete"),
    r#"
  const query = 'DELETE FROM users WHERE id = ?';

  connection.query(query, [ parseInt(id.replace('my-', ''), 10) ], function(err) {
    connection.end();
    callback(err || null);
  });
}"#
);

/// The seven scripts by name.
pub fn scripts() -> Vec<(&'static str, &'static str)> {
    vec![
        ("login", LOGIN),
        ("get_user", GET_USER),
        ("create", CREATE),
        ("verify", VERIFY),
        ("change_password", CHANGE_PASSWORD),
        ("change_email", CHANGE_EMAIL),
        ("delete", DELETE),
    ]
}

pub struct Store {
    pub db: String,
    admin: String,
}

impl Store {
    pub async fn new(users: &[(&str, &str, &str)]) -> Store {
        let admin = admin_url();
        let db = format!("sluice_legacy_{}", random_suffix());
        let mut c = mysql_async::Conn::from_url(admin.as_str()).await.unwrap();
        for q in [
            format!("CREATE DATABASE `{db}` CHARACTER SET utf8mb4"),
            format!("USE `{db}`"),
            "CREATE TABLE users (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(255) NOT NULL UNIQUE, password VARCHAR(255) NOT NULL, nickname VARCHAR(100), email_verified TINYINT(1) NOT NULL DEFAULT 0)".into(),
            "CREATE TABLE script_runs (script VARCHAR(32) PRIMARY KEY, n INT NOT NULL)".into(),
        ] {
            c.query_drop(q).await.unwrap();
        }
        for (email, pw, nick) in users {
            let hash = sluice_scripts::modules::bcrypt::hash_sync(pw, "4").unwrap();
            c.exec_drop(
                "INSERT INTO users (email, password, nickname) VALUES (?, ?, ?)",
                (*email, hash, *nick),
            )
            .await
            .unwrap();
        }
        c.disconnect().await.unwrap();
        Store { db, admin }
    }

    async fn conn(&self) -> mysql_async::Conn {
        let mut c = mysql_async::Conn::from_url(self.admin.as_str())
            .await
            .unwrap();
        c.query_drop(format!("USE `{}`", self.db)).await.unwrap();
        c
    }

    /// The configuration the scripts read: the admin URL's host, port, user and password.
    pub fn configuration(&self) -> Value {
        let opts = mysql_async::Opts::from_url(&self.admin).unwrap();
        json!({"MYSQL_HOST": opts.ip_or_hostname(), "MYSQL_PORT": opts.tcp_port().to_string(),
               "MYSQL_USER": opts.user().unwrap_or("root"),
               "MYSQL_PASSWORD": opts.pass().unwrap_or(""), "MYSQL_DB": self.db})
    }

    pub async fn runs(&self) -> BTreeMap<String, i64> {
        let mut c = self.conn().await;
        let rows: Vec<(String, i64)> = c
            .query("SELECT script, CAST(n AS SIGNED) FROM script_runs")
            .await
            .unwrap();
        c.disconnect().await.unwrap();
        rows.into_iter().collect()
    }

    pub async fn reset_runs(&self) {
        let mut c = self.conn().await;
        c.query_drop("DELETE FROM script_runs").await.unwrap();
        c.disconnect().await.unwrap();
    }

    pub async fn user(&self, email: &str) -> Option<LegacyUser> {
        let mut c = self.conn().await;
        let row: Option<(i64, String, Option<String>, i64, String)> = c
            .exec_first(
                "SELECT id, email, nickname, CAST(email_verified AS SIGNED), password FROM users WHERE email = ?",
                (email,),
            )
            .await
            .unwrap();
        c.disconnect().await.unwrap();
        row.map(|(id, email, nickname, v, password_hash)| LegacyUser {
            id,
            email,
            nickname,
            email_verified: v != 0,
            password_hash,
        })
    }

    pub async fn count(&self) -> i64 {
        let mut c = self.conn().await;
        let n: Option<i64> = c.query_first("SELECT COUNT(*) FROM users").await.unwrap();
        c.disconnect().await.unwrap();
        n.unwrap_or(0)
    }

    /// Drops the database (from a thread of its own: `Drop` may run inside a runtime).
    pub fn drop_now(&self) {
        let (db, admin) = (self.db.clone(), self.admin.clone());
        super::off_runtime(async move {
            if let Ok(mut c) = mysql_async::Conn::from_url(admin.as_str()).await {
                let _ = c
                    .query_drop(format!("DROP DATABASE IF EXISTS `{db}`"))
                    .await;
                let _ = c.disconnect().await;
            }
        });
    }
}
