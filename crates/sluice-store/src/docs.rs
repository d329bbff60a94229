//! `DocStore`: Management API resources (clients, connections, APIs, client grants) as JSON
//! documents with a unique key and an optional reference column; reads go through a short-lived
//! cache that every write invalidates (`doc_cache`).

use crate::doc_cache::Cached;
use crate::{SqlStore, dispatch, map_err};
use sluice_core::model::{Doc, DocKind};
use sluice_core::ports::{DocStore, Page, StoreError, StoreResult};
use sqlx::Row;

const COLUMNS: &str = "id, doc_key, ref_id, body, created_at, updated_at";

fn doc_from_row<R: Row>(r: &R) -> StoreResult<Doc>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let e = crate::db_err;
    let body: String = r.try_get("body").map_err(e)?;
    Ok(Doc {
        id: r.try_get("id").map_err(e)?,
        key: r.try_get("doc_key").map_err(e)?,
        ref_id: r.try_get("ref_id").map_err(e)?,
        body: serde_json::from_str(&body)
            .map_err(|e| StoreError::Other(format!("corrupt document: {e}")))?,
        created_at: r.try_get("created_at").map_err(e)?,
        updated_at: r.try_get("updated_at").map_err(e)?,
    })
}

/// The SQL behind [`DocStore`]; the trait implementation below adds the read cache.
impl SqlStore {
    async fn doc_insert_sql(&self, tenant_id: &str, kind: DocKind, d: &Doc) -> StoreResult<()> {
        let seq = crate::insertion_seq();
        dispatch!(self, |p| {
            sqlx::query(
            "INSERT INTO docs (tenant_id, kind, id, doc_key, ref_id, body, created_at, updated_at, seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )
        .bind(tenant_id)
        .bind(kind.as_str())
        .bind(&d.id)
        .bind(&d.key)
        .bind(&d.ref_id)
        .bind(d.body.to_string())
        .bind(d.created_at)
        .bind(d.updated_at)
        .bind(seq)
        .execute(p)
        .await
        .map(|_| ())
        .map_err(map_err(kind.noun()))
        })
    }

    async fn doc_fetch_sql(
        &self,
        tenant_id: &str,
        kind: DocKind,
        id: &str,
    ) -> StoreResult<Option<Doc>> {
        let sql =
            format!("SELECT {COLUMNS} FROM docs WHERE tenant_id = $1 AND kind = $2 AND id = $3");
        dispatch!(self, |p| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(tenant_id)
                .bind(kind.as_str())
                .bind(id)
                .fetch_optional(p)
                .await
                .map_err(map_err(kind.noun()))?;
            row.as_ref().map(doc_from_row).transpose()
        })
    }

    async fn doc_fetch_by_key_sql(
        &self,
        tenant_id: &str,
        kind: DocKind,
        key: &str,
    ) -> StoreResult<Option<Doc>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM docs WHERE tenant_id = $1 AND kind = $2 AND doc_key = $3"
        );
        dispatch!(self, |p| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(tenant_id)
                .bind(kind.as_str())
                .bind(key)
                .fetch_optional(p)
                .await
                .map_err(map_err(kind.noun()))?;
            row.as_ref().map(doc_from_row).transpose()
        })
    }

    async fn doc_list_sql(
        &self,
        tenant_id: &str,
        kind: DocKind,
        ref_id: Option<&str>,
        page: Page,
    ) -> StoreResult<(Vec<Doc>, i64)> {
        let filter = if ref_id.is_some() {
            " AND ref_id = $3"
        } else {
            ""
        };
        let (lim, off) = if ref_id.is_some() {
            ("$4", "$5")
        } else {
            ("$3", "$4")
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM docs WHERE tenant_id = $1 AND kind = $2{filter} ORDER BY seq, id LIMIT {lim} OFFSET {off}"
        );
        let count_sql =
            format!("SELECT COUNT(*) FROM docs WHERE tenant_id = $1 AND kind = $2{filter}");
        let limit = page.limit.min(1_000_000);
        dispatch!(self, |p| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(tenant_id)
                .bind(kind.as_str());
            let mut c = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql.as_str()))
                .bind(tenant_id)
                .bind(kind.as_str());
            if let Some(r) = ref_id {
                q = q.bind(r);
                c = c.bind(r);
            }
            let rows = q
                .bind(limit)
                .bind(page.offset)
                .fetch_all(p)
                .await
                .map_err(map_err(kind.noun()))?;
            // A short page is the last one: the total is known without counting (most lists,
            // and every lookup of a tenant's hooks or rules, are a single short page).
            let n = rows.len() as i64;
            let total = if n < limit && (n > 0 || page.offset == 0) {
                page.offset + n
            } else {
                c.fetch_one(p).await.map_err(map_err(kind.noun()))?
            };
            Ok((
                rows.iter()
                    .map(doc_from_row)
                    .collect::<StoreResult<Vec<_>>>()?,
                total,
            ))
        })
    }

    async fn doc_update_sql(&self, tenant_id: &str, kind: DocKind, d: &Doc) -> StoreResult<bool> {
        dispatch!(self, |p| {
            sqlx::query(
            "UPDATE docs SET doc_key = $4, ref_id = $5, body = $6, updated_at = $7 WHERE tenant_id = $1 AND kind = $2 AND id = $3"
        )
        .bind(tenant_id)
        .bind(kind.as_str())
        .bind(&d.id)
        .bind(&d.key)
        .bind(&d.ref_id)
        .bind(d.body.to_string())
        .bind(d.updated_at)
        .execute(p)
        .await
        .map(|r| r.rows_affected() > 0)
        .map_err(map_err(kind.noun()))
        })
    }

    async fn doc_delete_sql(&self, tenant_id: &str, kind: DocKind, id: &str) -> StoreResult<bool> {
        dispatch!(self, |p| sqlx::query(
            "DELETE FROM docs WHERE tenant_id = $1 AND kind = $2 AND id = $3"
        )
        .bind(tenant_id)
        .bind(kind.as_str())
        .bind(id)
        .execute(p)
        .await
        .map(|r| r.rows_affected() > 0)
        .map_err(map_err(kind.noun())))
    }

    async fn doc_delete_by_ref_sql(
        &self,
        tenant_id: &str,
        kind: DocKind,
        ref_id: &str,
    ) -> StoreResult<u64> {
        dispatch!(self, |p| sqlx::query(
            "DELETE FROM docs WHERE tenant_id = $1 AND kind = $2 AND ref_id = $3"
        )
        .bind(tenant_id)
        .bind(kind.as_str())
        .bind(ref_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        .map_err(map_err(kind.noun())))
    }
}

impl SqlStore {
    /// After a write: drops this node's cached documents of the kind and tells the others.
    async fn changed(&self, tenant_id: &str, kind: DocKind) {
        self.doc_cache.invalidate(tenant_id, kind);
        if crate::doc_cache::cacheable(kind) {
            self.announce(crate::changes::Change::Docs {
                tenant_id: tenant_id.into(),
                kind: kind.as_str().into(),
            })
            .await;
        }
    }
}

#[async_trait::async_trait]
impl DocStore for SqlStore {
    async fn doc_insert(&self, tenant_id: &str, kind: DocKind, d: &Doc) -> StoreResult<()> {
        let r = self.doc_insert_sql(tenant_id, kind, d).await;
        self.changed(tenant_id, kind).await;
        r
    }

    async fn doc_fetch(
        &self,
        tenant_id: &str,
        kind: DocKind,
        id: &str,
    ) -> StoreResult<Option<Doc>> {
        let what = format!("id:{id}");
        if let Some(Cached::One(d)) = self.doc_cache.get(tenant_id, kind, &what) {
            return Ok(d);
        }
        let generation = self.doc_cache.generation();
        let d = self.doc_fetch_sql(tenant_id, kind, id).await?;
        self.doc_cache
            .put(tenant_id, kind, what, Cached::One(d.clone()), generation);
        Ok(d)
    }

    async fn doc_fetch_by_key(
        &self,
        tenant_id: &str,
        kind: DocKind,
        key: &str,
    ) -> StoreResult<Option<Doc>> {
        let what = format!("key:{key}");
        if let Some(Cached::One(d)) = self.doc_cache.get(tenant_id, kind, &what) {
            return Ok(d);
        }
        let generation = self.doc_cache.generation();
        let d = self.doc_fetch_by_key_sql(tenant_id, kind, key).await?;
        self.doc_cache
            .put(tenant_id, kind, what, Cached::One(d.clone()), generation);
        Ok(d)
    }

    async fn doc_list(
        &self,
        tenant_id: &str,
        kind: DocKind,
        ref_id: Option<&str>,
        page: Page,
    ) -> StoreResult<(Vec<Doc>, i64)> {
        let what = format!("list:{ref_id:?}:{}:{}", page.offset, page.limit);
        if let Some(Cached::Page(docs, total)) = self.doc_cache.get(tenant_id, kind, &what) {
            return Ok((docs, total));
        }
        let generation = self.doc_cache.generation();
        let (docs, total) = self.doc_list_sql(tenant_id, kind, ref_id, page).await?;
        self.doc_cache.put(
            tenant_id,
            kind,
            what,
            Cached::Page(docs.clone(), total),
            generation,
        );
        Ok((docs, total))
    }

    async fn doc_update(&self, tenant_id: &str, kind: DocKind, d: &Doc) -> StoreResult<bool> {
        let r = self.doc_update_sql(tenant_id, kind, d).await;
        self.changed(tenant_id, kind).await;
        r
    }

    async fn doc_delete(&self, tenant_id: &str, kind: DocKind, id: &str) -> StoreResult<bool> {
        let r = self.doc_delete_sql(tenant_id, kind, id).await;
        self.changed(tenant_id, kind).await;
        r
    }

    async fn doc_delete_by_ref(
        &self,
        tenant_id: &str,
        kind: DocKind,
        ref_id: &str,
    ) -> StoreResult<u64> {
        let r = self.doc_delete_by_ref_sql(tenant_id, kind, ref_id).await;
        self.changed(tenant_id, kind).await;
        r
    }
}
