//! sqlx implementations of sluice-core's store ports for SQLite (the embedded default) and
//! PostgreSQL (many stateless nodes). One SQL text serves both backends (`$n` parameters,
//! portable DDL); [`dispatch!`] runs it on whichever pool is configured, so no query is written
//! twice.
//!
//! Modules: [`schema`] (migrations), [`tenants`] (and their keys), [`docs`] (Management API
//! resources as JSON documents) with [`doc_cache`] (a short read cache) and [`changes`]
//! (PostgreSQL `NOTIFY` invalidation across nodes), [`users`], [`logs`] (tenant log events),
//! [`attempts`] (brute-force counters), [`artifacts`] (codes, refresh tokens, sessions, login
//! transactions), [`testdb`] (throw-away PostgreSQL databases for tests).

pub mod artifacts;
pub mod attempts;
pub mod changes;
pub mod doc_cache;
pub mod docs;
pub mod logs;
pub mod schema;
pub mod tenants;
pub mod testdb;
pub mod users;

use sluice_core::ports::{Store, StoreError, StoreResult};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use std::str::FromStr;
use std::time::Duration;

/// The configured database.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same code against whichever pool is configured: `dispatch!(self, |p| expr)` where
/// `p` is `&SqlitePool` or `&PgPool`.
#[macro_export]
macro_rules! dispatch {
    ($store:expr, |$p:ident| $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite($p) => $body,
            $crate::Pool::Postgres($p) => $body,
        }
    };
}

/// The store: a pool and the backend it talks to.
#[derive(Clone, Debug)]
pub struct SqlStore {
    pub pool: Pool,
    /// Read cache of documents (see [`doc_cache`]).
    pub doc_cache: std::sync::Arc<doc_cache::DocCache>,
    /// Changes announced by any node (see [`changes`]).
    changes: tokio::sync::broadcast::Sender<changes::Change>,
    /// Group commit of tenant log events (see [`logs`]).
    logs: std::sync::Arc<logs::LogBatcher>,
}

/// Maps a driver error to the port's error: unique violations are conflicts, connection
/// problems make the store unavailable.
pub(crate) fn map_err(what: &str) -> impl Fn(sqlx::Error) -> StoreError + '_ {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(what.to_string())
        }
        _ => db_err(e),
    }
}

/// Classifies a database error: unreachable (retry later), a value the database cannot take
/// (PostgreSQL refuses NUL characters in text: SQLSTATE 22021, 22P05), or anything else.
pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Tls(_) => StoreError::Unavailable(e.to_string()),
        sqlx::Error::Database(db)
            if matches!(db.code().as_deref(), Some("22021") | Some("22P05")) =>
        {
            StoreError::Invalid(db.message().to_string())
        }
        _ => StoreError::Other(e.to_string()),
    }
}

/// A page query over equality filters: the SQL of the page and of its total count, and the
/// values to bind (in order; the page's LIMIT and OFFSET follow them). Column names come from
/// the caller's code, values are always bound.
pub(crate) struct FilteredPage {
    pub sql: String,
    pub count_sql: String,
    pub binds: Vec<String>,
}

impl FilteredPage {
    /// `filters`: (column, value) pairs; `None` values are skipped. The first pair is the tenant.
    pub fn new(
        columns: &str,
        table: &str,
        filters: &[(&str, Option<String>)],
        order: &str,
    ) -> FilteredPage {
        let mut clauses = Vec::new();
        let mut binds = Vec::new();
        for (col, v) in filters {
            if let Some(v) = v {
                binds.push(v.clone());
                clauses.push(format!("{col} = ${}", binds.len()));
            }
        }
        let filter = clauses.join(" AND ");
        let n = binds.len();
        FilteredPage {
            sql: format!(
                "SELECT {columns} FROM {table} WHERE {filter} ORDER BY {order} LIMIT ${} OFFSET ${}",
                n + 1,
                n + 2
            ),
            count_sql: format!("SELECT COUNT(*) FROM {table} WHERE {filter}"),
            binds,
        }
    }
}

/// Orders rows by insertion (lists return resources in creation order, as Auth0 does):
/// microseconds since the epoch, ties broken by id.
#[allow(clippy::disallowed_methods)] // an ordering key, not a time the domain reasons about
pub(crate) fn insertion_seq() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

impl SqlStore {
    /// Connects to `sqlite://path` (created if missing, WAL) or `postgres://...` and applies
    /// the schema.
    pub async fn connect(url: &str) -> StoreResult<SqlStore> {
        let pool = if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::Other(format!("invalid SQLite URL: {e}")))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // Bounded per connection (512 KiB of pages, 32 prepared statements; SQLite's
                // defaults are 2 MiB and sqlx's 100): eight pooled connections otherwise keep
                // ~20 MiB after a burst, and the OS page cache serves re-reads.
                .pragma("cache_size", "-512")
                .statement_cache_capacity(32);
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await
                .map_err(map_err("database"))?;
            Pool::Sqlite(pool)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(5))
                .connect(url)
                .await
                .map_err(map_err("database"))?;
            Pool::Postgres(pool)
        } else {
            return Err(StoreError::Other(
                "database URL must start with sqlite:// or postgres://".into(),
            ));
        };
        let store = SqlStore {
            pool,
            doc_cache: Default::default(),
            changes: tokio::sync::broadcast::channel(256).0,
            logs: Default::default(),
        };
        schema::migrate(&store).await?;
        Ok(store)
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        dispatch!(self, |p| p.close().await)
    }
}

#[async_trait::async_trait]
impl Store for SqlStore {
    async fn ping(&self) -> StoreResult<()> {
        dispatch!(self, |p| sqlx::query("SELECT 1")
            .execute(p)
            .await
            .map(|_| ())
            .map_err(map_err("database")))
    }
}
