//! `LogStore`: tenant log events (Auth0's `/api/v2/logs`), newest first, with retention.
//! Inserts are group-committed: while one transaction of events is being written, the events
//! that arrive meanwhile queue up and go in the next transaction together. Each `log_insert`
//! still returns only once its event is committed, but a busy server pays one commit (one
//! fsync on SQLite) per batch instead of one per event.

use crate::{FilteredPage, SqlStore, dispatch, map_err};
use sluice_core::ports::{LogFilter, LogRecord, LogStore, Page, StoreError, StoreResult};
use sqlx::Row;
use tokio::sync::oneshot;

const COLUMNS: &str = "tenant_id, log_id, date, type, user_id, body";

fn log_from_row<R: Row>(r: &R) -> StoreResult<LogRecord>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let e = crate::db_err;
    let body: String = r.try_get("body").map_err(e)?;
    Ok(LogRecord {
        tenant_id: r.try_get("tenant_id").map_err(e)?,
        log_id: r.try_get("log_id").map_err(e)?,
        date: r.try_get("date").map_err(e)?,
        log_type: r.try_get("type").map_err(e)?,
        user_id: r.try_get("user_id").map_err(e)?,
        body: serde_json::from_str(&body)
            .map_err(|e| StoreError::Other(format!("corrupt log: {e}")))?,
    })
}

/// Events waiting for the next group commit, and the lock its writer holds.
#[derive(Default)]
pub struct LogBatcher {
    pending: std::sync::Mutex<Vec<(LogRecord, oneshot::Sender<StoreResult<()>>)>>,
    writing: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for LogBatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogBatcher")
    }
}

impl SqlStore {
    /// Writes `batch` in one transaction.
    async fn log_write_batch(&self, batch: &[LogRecord]) -> StoreResult<()> {
        dispatch!(self, |p| {
            let e = map_err("log");
            let mut tx = p.begin().await.map_err(&e)?;
            for l in batch {
                sqlx::query("INSERT INTO logs (tenant_id, log_id, date, type, user_id, body) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(&l.tenant_id)
                    .bind(&l.log_id)
                    .bind(l.date)
                    .bind(&l.log_type)
                    .bind(&l.user_id)
                    .bind(l.body.to_string())
                    .execute(&mut *tx)
                    .await
                    .map_err(&e)?;
            }
            tx.commit().await.map_err(&e)
        })
    }
}

#[async_trait::async_trait]
impl LogStore for SqlStore {
    async fn log_insert(&self, l: &LogRecord) -> StoreResult<()> {
        let (tx, rx) = oneshot::channel();
        self.logs
            .pending
            .lock()
            .map_err(|_| StoreError::Other("log queue poisoned".into()))?
            .push((l.clone(), tx));
        // Whoever holds the writer lock next writes everything queued by then (this event
        // too, unless an earlier writer already took it). The write runs in a task of its own,
        // so a cancelled request cannot abandon the other requests' events half-written.
        let writer = self.logs.writing.clone().lock_owned().await;
        let batch: Vec<_> = std::mem::take(
            &mut *self
                .logs
                .pending
                .lock()
                .map_err(|_| StoreError::Other("log queue poisoned".into()))?,
        );
        if !batch.is_empty() {
            let store = self.clone();
            tokio::spawn(async move {
                let (records, waiters): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
                let results = match store.log_write_batch(&records).await {
                    Ok(()) => vec![Ok(()); records.len()],
                    // One event the database refuses (a NUL in a field, on PostgreSQL) must not
                    // take the others with it: write them one by one.
                    Err(e) if records.len() == 1 => vec![Err(e)],
                    Err(_) => {
                        let mut out = Vec::with_capacity(records.len());
                        for r in &records {
                            out.push(store.log_write_batch(std::slice::from_ref(r)).await);
                        }
                        out
                    }
                };
                drop(writer);
                for (w, r) in waiters.into_iter().zip(results) {
                    let _ = w.send(r);
                }
            });
        } else {
            drop(writer);
        }
        rx.await
            .unwrap_or_else(|_| Err(StoreError::Other("log writer went away".into())))
    }

    async fn log_search(
        &self,
        tenant_id: &str,
        f: &LogFilter,
        page: Page,
    ) -> StoreResult<(Vec<LogRecord>, i64)> {
        let FilteredPage {
            sql,
            count_sql,
            binds,
        } = FilteredPage::new(
            COLUMNS,
            "logs",
            &[
                ("tenant_id", Some(tenant_id.to_string())),
                ("type", f.log_type.clone()),
                ("user_id", f.user_id.clone()),
            ],
            "log_id DESC",
        );
        dispatch!(self, |p| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
            let mut c = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql.as_str()));
            for b in &binds {
                q = q.bind(b);
                c = c.bind(b);
            }
            let rows = q
                .bind(page.limit.min(1_000_000))
                .bind(page.offset)
                .fetch_all(p)
                .await
                .map_err(map_err("log"))?;
            let total = c.fetch_one(p).await.map_err(map_err("log"))?;
            Ok((
                rows.iter()
                    .map(log_from_row)
                    .collect::<StoreResult<Vec<_>>>()?,
                total,
            ))
        })
    }

    async fn log_fetch(&self, tenant_id: &str, log_id: &str) -> StoreResult<Option<LogRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM logs WHERE tenant_id = $1 AND log_id = $2");
        dispatch!(self, |p| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(tenant_id)
                .bind(log_id)
                .fetch_optional(p)
                .await
                .map_err(map_err("log"))?;
            row.as_ref().map(log_from_row).transpose()
        })
    }

    async fn log_prune(&self, before: i64) -> StoreResult<u64> {
        dispatch!(self, |p| sqlx::query("DELETE FROM logs WHERE date < $1")
            .bind(before)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
            .map_err(map_err("log")))
    }
}
