//! The schema, as ordered migrations in portable SQL (TEXT, BIGINT; no backend-specific types),
//! recorded in `sluice_migrations`. On PostgreSQL an advisory lock serialises nodes that start
//! at the same time.

use crate::{SqlStore, dispatch, map_err};
use sluice_core::ports::StoreResult;

/// `(version, statements)`; append only, never edit a released one.
pub const MIGRATIONS: &[(i64, &[&str])] = &[
    (
        1,
        &[
            "CREATE TABLE tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL, settings TEXT NOT NULL)",
            "CREATE TABLE signing_keys (tenant_id TEXT NOT NULL, kid TEXT NOT NULL, sealed_pkcs8 TEXT NOT NULL, created_at BIGINT NOT NULL, state TEXT NOT NULL, PRIMARY KEY (tenant_id, kid))",
            "CREATE TABLE docs (tenant_id TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, doc_key TEXT NOT NULL, ref_id TEXT, body TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (tenant_id, kind, id), UNIQUE (tenant_id, kind, doc_key))",
            "CREATE INDEX docs_ref ON docs (tenant_id, kind, ref_id)",
            "CREATE TABLE users (tenant_id TEXT NOT NULL, user_id TEXT NOT NULL, connection TEXT NOT NULL, email_key TEXT, username_key TEXT, body TEXT NOT NULL, password_hash TEXT, origin TEXT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (tenant_id, user_id), UNIQUE (tenant_id, connection, email_key), UNIQUE (tenant_id, connection, username_key))",
            "CREATE INDEX users_email ON users (tenant_id, email_key)",
        ],
    ),
    (
        2,
        &[
            "CREATE TABLE logs (tenant_id TEXT NOT NULL, log_id TEXT NOT NULL, date BIGINT NOT NULL, type TEXT NOT NULL, user_id TEXT, body TEXT NOT NULL, PRIMARY KEY (tenant_id, log_id))",
            "CREATE INDEX logs_date ON logs (tenant_id, date)",
            "CREATE INDEX logs_user ON logs (tenant_id, user_id)",
        ],
    ),
    (
        3,
        &[
            "CREATE TABLE login_failures (tenant_id TEXT NOT NULL, connection TEXT NOT NULL, identifier TEXT NOT NULL, ip TEXT NOT NULL, failures BIGINT NOT NULL, blocked BIGINT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (tenant_id, connection, identifier, ip))",
        ],
    ),
    (
        4,
        &[
            "CREATE TABLE artifacts (tenant_id TEXT NOT NULL, kind TEXT NOT NULL, akey TEXT NOT NULL, family TEXT NOT NULL, user_id TEXT, client_id TEXT, body TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, used_at BIGINT, PRIMARY KEY (tenant_id, kind, akey))",
            "CREATE INDEX artifacts_family ON artifacts (tenant_id, family)",
            "CREATE INDEX artifacts_user ON artifacts (tenant_id, user_id)",
            "CREATE INDEX artifacts_expiry ON artifacts (expires_at)",
        ],
    ),
    (
        5,
        &[
            // Key rotation: when a key signed, and when it was revoked.
            "ALTER TABLE signing_keys ADD COLUMN current_since BIGINT",
            "ALTER TABLE signing_keys ADD COLUMN current_until BIGINT",
            "ALTER TABLE signing_keys ADD COLUMN revoked_at BIGINT",
            "UPDATE signing_keys SET current_since = created_at WHERE state = 'current'",
        ],
    ),
    (
        6,
        &[
            // Optimistic concurrency for whole-record writes of users.
            "ALTER TABLE users ADD COLUMN version BIGINT NOT NULL DEFAULT 0",
            // What a login owns, written by its own targeted update (NULL: still in the body).
            "ALTER TABLE users ADD COLUMN logins_count BIGINT",
            "ALTER TABLE users ADD COLUMN last_login TEXT",
            "ALTER TABLE users ADD COLUMN last_ip TEXT",
            // One row per token family that rotation and revocation lock, so that they serialise.
            "CREATE TABLE token_families (tenant_id TEXT NOT NULL, family TEXT NOT NULL, revoked BIGINT NOT NULL, expires_at BIGINT NOT NULL, PRIMARY KEY (tenant_id, family))",
            "CREATE INDEX token_families_expiry ON token_families (expires_at)",
        ],
    ),
];

const LOCK_ID: i64 = 0x51_u64 as i64 * 1_000_003;

pub async fn migrate(store: &SqlStore) -> StoreResult<()> {
    dispatch!(store, |p| {
        let mut conn = p.acquire().await.map_err(map_err("database"))?;
        if store.backend() == "postgres" {
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(LOCK_ID)
                .execute(&mut *conn)
                .await
                .map_err(map_err("lock"))?;
        }
        let result: StoreResult<()> = async {
            sqlx::query("CREATE TABLE IF NOT EXISTS sluice_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
                .execute(&mut *conn)
                .await
                .map_err(map_err("migration"))?;
            let done: Vec<i64> = sqlx::query_scalar("SELECT version FROM sluice_migrations")
                .fetch_all(&mut *conn)
                .await
                .map_err(map_err("migration"))?;
            for (version, statements) in MIGRATIONS {
                if done.contains(version) {
                    continue;
                }
                let mut tx = sqlx::Connection::begin(&mut *conn).await.map_err(map_err("migration"))?;
                for s in *statements {
                    sqlx::query(*s).execute(&mut *tx).await.map_err(map_err("migration"))?;
                }
                #[allow(clippy::disallowed_methods)] // when a migration ran, for operators
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or(0);
                sqlx::query("INSERT INTO sluice_migrations (version, applied_at) VALUES ($1, $2)")
                    .bind(*version)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err("migration"))?;
                tx.commit().await.map_err(map_err("migration"))?;
                tracing::info!(version, "applied store migration");
            }
            Ok(())
        }
        .await;
        if store.backend() == "postgres" {
            let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(LOCK_ID)
                .execute(&mut *conn)
                .await;
        }
        result
    })
}
