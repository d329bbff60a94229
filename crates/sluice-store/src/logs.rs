//! `LogStore`: tenant log events (Auth0's `/api/v2/logs`), newest first, with retention.

use crate::{FilteredPage, SqlStore, dispatch, map_err};
use sluice_core::ports::{LogFilter, LogRecord, LogStore, Page, StoreError, StoreResult};
use sqlx::Row;

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

#[async_trait::async_trait]
impl LogStore for SqlStore {
    async fn log_insert(&self, l: &LogRecord) -> StoreResult<()> {
        dispatch!(self, |p| {
            sqlx::query("INSERT INTO logs (tenant_id, log_id, date, type, user_id, body) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&l.tenant_id)
            .bind(&l.log_id)
            .bind(l.date)
            .bind(&l.log_type)
            .bind(&l.user_id)
            .bind(l.body.to_string())
            .execute(p)
            .await
            .map(|_| ())
            .map_err(map_err("log"))
        })
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
