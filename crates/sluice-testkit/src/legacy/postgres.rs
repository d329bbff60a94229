//! A legacy user store in PostgreSQL, reached by scripts in the style of Auth0's PostgreSQL
//! templates (`require('pg')`'s `pg.connect(conString, cb(err, client, done))` + `bcrypt`,
//! `$n` placeholders). Each store is a schema of its own in the database of
//! `SLUICE_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/test`), dropped on drop.

use super::{LegacyUser, random_suffix};
use serde_json::{Value, json};
use sqlx::Connection;
use std::collections::BTreeMap;

/// The database the stores' schemas live in.
pub fn url() -> String {
    std::env::var("SLUICE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// The first statement of every script: counts the run (queries on one client run in order).
macro_rules! counted_pg {
    ($name:literal) => {
        concat!(
            "    client.query('INSERT INTO ' + configuration.SCHEMA + '.script_runs (script, n) VALUES ($1, 1) ON CONFLICT (script) DO UPDATE SET n = ' + configuration.SCHEMA + '.script_runs.n + 1', ['",
            $name,
            "'], function () {});\n"
        )
    };
}

/// `login`: the bcrypt check; `WrongUsernameOrPasswordError` for unknown users and wrong
/// passwords, `UnauthorizedError` for the user whose nickname is `locked`.
pub const LOGIN: &str = concat!(
    r#"function login(email, password, callback) {
  const bcrypt = require('bcrypt');
  const postgres = require('pg');

  postgres.connect(configuration.PG_URL, function (err, client, done) {
    if (err) return callback(err);
"#,
    counted_pg!("login"),
    r#"
    const query = 'SELECT id, nickname, email, email_verified, password FROM ' + configuration.SCHEMA + '.users WHERE email = $1';
    client.query(query, [email], function (err, result) {
      done();
      if (err || result.rows.length === 0) return callback(err || new WrongUsernameOrPasswordError(email));
      const user = result.rows[0];
      if (user.nickname === 'locked') return callback(new UnauthorizedError('Your account is locked. Call support.'));

      bcrypt.compare(password, user.password, function (err, isValid) {
        if (err || !isValid) return callback(err || new WrongUsernameOrPasswordError(email));
        return callback(null, {
          user_id: 'pg-' + user.id,
          nickname: user.nickname,
          email: user.email,
          email_verified: user.email_verified,
          app_metadata: { plan: 'postgres' }
        });
      });
    });
  });
}"#
);

/// `get_user`: the profile (same `user_id` as `login`), or nothing.
pub const GET_USER: &str = concat!(
    r#"function loginByEmail(email, callback) {
  const postgres = require('pg');

  postgres.connect(configuration.PG_URL, function (err, client, done) {
    if (err) return callback(err);
"#,
    counted_pg!("get_user"),
    r#"
    const query = 'SELECT id, nickname, email, email_verified FROM ' + configuration.SCHEMA + '.users WHERE email = $1';
    client.query(query, [email], function (err, result) {
      done();
      if (err || result.rows.length === 0) return callback(err || null);
      const user = result.rows[0];
      callback(null, {
        user_id: 'pg-' + user.id,
        nickname: user.nickname,
        email: user.email,
        email_verified: user.email_verified
      });
    });
  });
}"#
);

/// `create`: bcrypt and an INSERT; a duplicate (SQLSTATE 23505) is `user_exists`.
pub const CREATE: &str = concat!(
    r#"function create(user, callback) {
  const bcrypt = require('bcrypt');
  const postgres = require('pg');

  postgres.connect(configuration.PG_URL, function (err, client, done) {
    if (err) return callback(err);
"#,
    counted_pg!("create"),
    r#"
    bcrypt.hash(user.password, 4, function (err, hashedPassword) {
      if (err) { done(); return callback(err); }
      const query = 'INSERT INTO ' + configuration.SCHEMA + '.users(email, password, nickname) VALUES ($1, $2, $3)';
      client.query(query, [user.email, hashedPassword, user.nickname || user.email.split('@')[0]], function (err) {
        done();
        if (err && err.code === '23505') return callback(new ValidationError('user_exists', 'the user already exists'));
        return callback(err || null);
      });
    });
  });
}"#
);

/// `verify`: marks the email verified; `true` when a row changed.
pub const VERIFY: &str = concat!(
    r#"function verify(email, callback) {
  const postgres = require('pg');

  postgres.connect(configuration.PG_URL, function (err, client, done) {
    if (err) return callback(err);
"#,
    counted_pg!("verify"),
    r#"
    const query = 'UPDATE ' + configuration.SCHEMA + '.users SET email_verified = true WHERE email_verified = false AND email = $1';
    client.query(query, [email], function (err, result) {
      done();
      return callback(err, result && result.rowCount > 0);
    });
  });
}"#
);

/// `change_password`: a new bcrypt hash; `true` when a row changed.
pub const CHANGE_PASSWORD: &str = concat!(
    r#"function changePassword(email, newPassword, callback) {
  const bcrypt = require('bcrypt');
  const postgres = require('pg');

  postgres.connect(configuration.PG_URL, function (err, client, done) {
    if (err) return callback(err);
"#,
    counted_pg!("change_password"),
    r#"
    bcrypt.hash(newPassword, 4, function (err, hash) {
      if (err) { done(); return callback(err); }
      const query = 'UPDATE ' + configuration.SCHEMA + '.users SET password = $1 WHERE email = $2';
      client.query(query, [hash, email], function (err, result) {
        done();
        return callback(err, result && result.rowCount > 0);
      });
    });
  });
}"#
);

/// `change_email`: the new email and its verified flag; `true` when a row changed.
pub const CHANGE_EMAIL: &str = concat!(
    r#"function changeEmail(email, newEmail, verified, callback) {
  const postgres = require('pg');

  postgres.connect(configuration.PG_URL, function (err, client, done) {
    if (err) return callback(err);
"#,
    counted_pg!("change_email"),
    r#"
    const query = 'UPDATE ' + configuration.SCHEMA + '.users SET email = $1, email_verified = $2 WHERE email = $3';
    client.query(query, [newEmail, verified, email], function (err, result) {
      done();
      return callback(err, result && result.rowCount > 0);
    });
  });
}"#
);

/// `delete`: the raw id (`pg-<id>`, without `auth0|`).
pub const DELETE: &str = concat!(
    r#"function remove(id, callback) {
  const postgres = require('pg');

  postgres.connect(configuration.PG_URL, function (err, client, done) {
    if (err) return callback(err);
"#,
    counted_pg!("delete"),
    r#"
    const query = 'DELETE FROM ' + configuration.SCHEMA + '.users WHERE id = $1';
    client.query(query, [parseInt(id.replace('pg-', ''), 10)], function (err) {
      done();
      return callback(err || null);
    });
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
    pub schema: String,
    url: String,
}

impl Store {
    pub async fn new(users: &[(&str, &str, &str)]) -> Store {
        let url = url();
        let schema = format!("legacy_{}", random_suffix());
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        for q in [
            format!("CREATE SCHEMA {schema}"),
            format!(
                "CREATE TABLE {schema}.users (id SERIAL PRIMARY KEY, email TEXT UNIQUE NOT NULL, password TEXT NOT NULL, nickname TEXT, email_verified BOOLEAN NOT NULL DEFAULT false)"
            ),
            format!("CREATE TABLE {schema}.script_runs (script TEXT PRIMARY KEY, n INT NOT NULL)"),
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
        let _ = c.close().await;
        Store { schema, url }
    }

    async fn conn(&self) -> sqlx::PgConnection {
        sqlx::PgConnection::connect(&self.url).await.unwrap()
    }

    pub fn configuration(&self) -> Value {
        json!({"PG_URL": self.url, "SCHEMA": self.schema})
    }

    pub async fn runs(&self) -> BTreeMap<String, i64> {
        let mut c = self.conn().await;
        let rows: Vec<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT script, n::BIGINT FROM {}.script_runs",
            self.schema
        )))
        .fetch_all(&mut c)
        .await
        .unwrap();
        let _ = c.close().await;
        rows.into_iter().collect()
    }

    pub async fn reset_runs(&self) {
        let mut c = self.conn().await;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {}.script_runs",
            self.schema
        )))
        .execute(&mut c)
        .await
        .unwrap();
        let _ = c.close().await;
    }

    pub async fn user(&self, email: &str) -> Option<LegacyUser> {
        let mut c = self.conn().await;
        let row: Option<(i32, String, Option<String>, bool, String)> = sqlx::query_as(
            sqlx::AssertSqlSafe(format!(
                "SELECT id, email, nickname, email_verified, password FROM {}.users WHERE email = $1",
                self.schema
            )),
        )
        .bind(email)
        .fetch_optional(&mut c)
        .await
        .unwrap();
        let _ = c.close().await;
        row.map(
            |(id, email, nickname, email_verified, password_hash)| LegacyUser {
                id: id.into(),
                email,
                nickname,
                email_verified,
                password_hash,
            },
        )
    }

    pub async fn count(&self) -> i64 {
        let mut c = self.conn().await;
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {}.users",
            self.schema
        )))
        .fetch_one(&mut c)
        .await
        .unwrap();
        let _ = c.close().await;
        n
    }

    /// Drops the schema (from a thread of its own: `Drop` may run inside a runtime).
    pub fn drop_now(&self) {
        let (schema, url) = (self.schema.clone(), self.url.clone());
        super::off_runtime(async move {
            if let Ok(mut c) = sqlx::PgConnection::connect(&url).await {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS {schema} CASCADE"
                )))
                .execute(&mut c)
                .await;
                let _ = c.close().await;
            }
        });
    }
}
