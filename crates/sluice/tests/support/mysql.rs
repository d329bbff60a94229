//! A legacy user store in MariaDB (127.0.0.1:3306, root, empty password) for the connection-flow
//! tests, and the seven action scripts in the style of Auth0's MySQL templates (`require('mysql')`
//! + `require('bcrypt')`, callbacks, `connection.query(sql, [args], cb)` with `?` placeholders).
//!
//! Each [`LegacyMy`] is a database of its own, dropped on drop. Besides the `users` table it has
//! `script_runs`: every script counts its own run there first (queries run in order on one
//! connection), so a test can assert exactly which scripts ran — and that none did.

use mysql_async::prelude::Queryable;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};

const ADMIN_URL: &str = "mysql://root@127.0.0.1:3306/?prefer_socket=false";

/// The first statement of every script: counts the run in `script_runs`.
macro_rules! counted {
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
    counted!("login"),
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
        app_metadata: { plan: 'mysql' }
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
    counted!("get_user"),
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
    counted!("create"),
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
    counted!("verify"),
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
    counted!("change_password"),
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
    counted!("change_email"),
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
    counted!("delete"),
    r#"
  const query = 'DELETE FROM users WHERE id = ?';

  connection.query(query, [ parseInt(id.replace('my-', ''), 10) ], function(err) {
    connection.end();
    callback(err || null);
  });
}"#
);

/// A legacy user store: a MariaDB database of its own, dropped on drop.
pub struct LegacyMy {
    pub db: String,
}

/// One row of the legacy `users` table.
#[derive(Debug, Clone, PartialEq)]
pub struct LegacyUser {
    pub id: i64,
    pub email: String,
    pub nickname: Option<String>,
    pub email_verified: bool,
    pub password_hash: String,
}

impl LegacyUser {
    pub fn password_is(&self, password: &str) -> bool {
        sluice_scripts::modules::bcrypt::verify(password, &self.password_hash)
    }
}

/// `{script: runs}` from pairs, to compare with [`LegacyMy::runs`].
pub fn runs(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

impl LegacyMy {
    /// A store holding `(email, password, nickname)` users (ids 1, 2, ... in that order).
    pub async fn new(users: &[(&str, &str, &str)]) -> LegacyMy {
        static N: AtomicU32 = AtomicU32::new(0);
        let db = format!(
            "sluice_flows_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let mut c = mysql_async::Conn::from_url(ADMIN_URL).await.unwrap();
        for q in [
            format!("DROP DATABASE IF EXISTS `{db}`"),
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
        LegacyMy { db }
    }

    async fn conn(&self) -> mysql_async::Conn {
        let mut c = mysql_async::Conn::from_url(ADMIN_URL).await.unwrap();
        c.query_drop(format!("USE `{}`", self.db)).await.unwrap();
        c
    }

    /// The configuration the scripts read.
    pub fn configuration(&self) -> Value {
        json!({"MYSQL_HOST": "127.0.0.1", "MYSQL_PORT": "3306", "MYSQL_USER": "root",
               "MYSQL_PASSWORD": "", "MYSQL_DB": self.db})
    }

    /// Connection options: import mode gets `login` and `get_user` (all Auth0 allows there),
    /// legacy mode all seven scripts.
    pub fn options(&self, import: bool) -> Value {
        let scripts = if import {
            json!({"login": LOGIN, "get_user": GET_USER})
        } else {
            json!({"login": LOGIN, "get_user": GET_USER, "create": CREATE, "verify": VERIFY,
                   "change_password": CHANGE_PASSWORD, "change_email": CHANGE_EMAIL, "delete": DELETE})
        };
        json!({"enabledDatabaseCustomization": true, "import_mode": import,
               "customScripts": scripts, "configuration": self.configuration(),
               "passwordPolicy": "none"})
    }

    /// How many times each script ran (scripts that never ran are absent).
    pub async fn runs(&self) -> BTreeMap<String, i64> {
        let mut c = self.conn().await;
        let rows: Vec<(String, i64)> = c
            .query("SELECT script, CAST(n AS SIGNED) FROM script_runs")
            .await
            .unwrap();
        c.disconnect().await.unwrap();
        rows.into_iter().collect()
    }

    /// Forgets the runs so far.
    pub async fn reset_runs(&self) {
        let mut c = self.conn().await;
        c.query_drop("DELETE FROM script_runs").await.unwrap();
        c.disconnect().await.unwrap();
    }

    /// The legacy row of `email`.
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
}

impl Drop for LegacyMy {
    fn drop(&mut self) {
        let db = self.db.clone();
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
                        .query_drop(format!("DROP DATABASE IF EXISTS `{db}`"))
                        .await;
                    let _ = c.disconnect().await;
                }
            });
        })
        .join();
    }
}
