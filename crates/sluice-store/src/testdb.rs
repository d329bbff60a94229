//! Throw-away databases for tests: a fresh PostgreSQL database with a unique name (dropped when
//! the guard is dropped) or a fresh SQLite file in a temporary directory. The PostgreSQL server
//! is `SLUICE_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`).

use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// A database that exists for the lifetime of this value.
pub struct TestDatabase {
    pub url: String,
    pg_drop: Option<(String, String)>,
    dir: Option<std::path::PathBuf>,
}

pub fn pg_admin_url() -> String {
    std::env::var("SLUICE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn unique_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..16].to_string()
}

impl TestDatabase {
    /// A new, empty PostgreSQL database `sluice_t_<random>`.
    pub async fn postgres() -> Result<TestDatabase, String> {
        let admin = pg_admin_url();
        let name = format!("sluice_t_{}", unique_suffix());
        let mut conn = PgConnection::connect(&admin)
            .await
            .map_err(|e| format!("PostgreSQL at {admin}: {e}"))?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        // A throw-away database need not wait for its commits to reach the disk (what a crash
        // of the test server could lose is the test's own data).
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER DATABASE {name} SET synchronous_commit = off"
        )))
        .execute(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
        let _ = conn.close().await;
        let base = admin
            .rsplit_once('/')
            .map(|(b, _)| b.to_string())
            .unwrap_or(admin.clone());
        Ok(TestDatabase {
            url: format!("{base}/{name}"),
            pg_drop: Some((admin, name)),
            dir: None,
        })
    }

    /// A new SQLite database file in a fresh temporary directory.
    pub fn sqlite() -> TestDatabase {
        let dir = std::env::temp_dir().join(format!("sluice-test-{}", unique_suffix()));
        let _ = std::fs::create_dir_all(&dir);
        TestDatabase {
            url: format!("sqlite://{}/sluice.db", dir.display()),
            pg_drop: None,
            dir: Some(dir),
        }
    }

    /// `sqlite` or `postgres` by name (for parameterised tests).
    pub async fn of(backend: &str) -> TestDatabase {
        match backend {
            "postgres" => TestDatabase::postgres()
                .await
                .expect("test PostgreSQL database"),
            _ => TestDatabase::sqlite(),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((admin, name)) = self.pg_drop.take() {
            // Drop may run inside a runtime: do the async cleanup on a thread of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(rt) = rt {
                    rt.block_on(async {
                        if let Ok(mut c) = PgConnection::connect(&admin).await {
                            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            )))
                            .execute(&mut c)
                            .await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

/// `both_backends!(name, body_fn)` makes the tests `name::sqlite` and `name::postgres`, each
/// calling the async `body_fn(backend)`: every store-touching test runs against both stores.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body("sqlite").await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$body("postgres").await
            }
        }
    };
}
