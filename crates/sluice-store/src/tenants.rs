//! `TenantStore`: tenants and their sealed signing keys, with rotation (one transaction) and
//! revocation (one conditional update).

use crate::{SqlStore, dispatch, map_err};
use sluice_core::model::{KeyRecord, KeyState, TenantRecord};
use sluice_core::ports::{StoreError, StoreResult, TenantStore};
use sqlx::Row;

fn tenant_from_row<R: Row>(r: &R) -> StoreResult<TenantRecord>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let get = |c: &str| r.try_get::<String, _>(c).map_err(crate::db_err);
    Ok(TenantRecord {
        id: get("id")?,
        name: get("name")?,
        created_at: r.try_get::<i64, _>("created_at").map_err(crate::db_err)?,
        settings: serde_json::from_str(&get("settings")?)
            .map_err(|e| StoreError::Other(e.to_string()))?,
    })
}

fn key_from_row<R: Row>(r: &R) -> StoreResult<KeyRecord>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let e = crate::db_err;
    let state: String = r.try_get("state").map_err(e)?;
    Ok(KeyRecord {
        tenant_id: r.try_get("tenant_id").map_err(e)?,
        kid: r.try_get("kid").map_err(e)?,
        sealed_pkcs8: r.try_get("sealed_pkcs8").map_err(e)?,
        created_at: r.try_get("created_at").map_err(e)?,
        state: KeyState::parse(&state)
            .ok_or_else(|| StoreError::Other(format!("unknown signing key state {state}")))?,
        current_since: r.try_get("current_since").map_err(e)?,
        current_until: r.try_get("current_until").map_err(e)?,
        revoked_at: r.try_get("revoked_at").map_err(e)?,
    })
}

#[async_trait::async_trait]
impl TenantStore for SqlStore {
    async fn tenant_insert(&self, t: &TenantRecord) -> StoreResult<()> {
        dispatch!(self, |p| sqlx::query(
            "INSERT INTO tenants (id, name, created_at, settings) VALUES ($1, $2, $3, $4)"
        )
        .bind(&t.id)
        .bind(&t.name)
        .bind(t.created_at)
        .bind(t.settings.to_string())
        .execute(p)
        .await
        .map(|_| ())
        .map_err(map_err("tenant")))
    }

    async fn tenant_fetch_by_name(&self, name: &str) -> StoreResult<Option<TenantRecord>> {
        dispatch!(self, |p| {
            let row =
                sqlx::query("SELECT id, name, created_at, settings FROM tenants WHERE name = $1")
                    .bind(name)
                    .fetch_optional(p)
                    .await
                    .map_err(map_err("tenant"))?;
            row.as_ref().map(tenant_from_row).transpose()
        })
    }

    async fn tenant_list(&self) -> StoreResult<Vec<TenantRecord>> {
        dispatch!(self, |p| {
            let rows =
                sqlx::query("SELECT id, name, created_at, settings FROM tenants ORDER BY name")
                    .fetch_all(p)
                    .await
                    .map_err(map_err("tenant"))?;
            rows.iter().map(tenant_from_row).collect()
        })
    }

    async fn tenant_update_settings(
        &self,
        tenant_id: &str,
        settings: &serde_json::Value,
    ) -> StoreResult<bool> {
        dispatch!(self, |p| sqlx::query(
            "UPDATE tenants SET settings = $2 WHERE id = $1"
        )
        .bind(tenant_id)
        .bind(settings.to_string())
        .execute(p)
        .await
        .map(|r| r.rows_affected() > 0)
        .map_err(map_err("tenant")))
    }

    async fn key_insert(&self, k: &KeyRecord) -> StoreResult<()> {
        dispatch!(self, |p| {
            sqlx::query(
            "INSERT INTO signing_keys (tenant_id, kid, sealed_pkcs8, created_at, state, current_since, current_until, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )
        .bind(&k.tenant_id)
        .bind(&k.kid)
        .bind(&k.sealed_pkcs8)
        .bind(k.created_at)
        .bind(k.state.as_str())
        .bind(k.current_since)
        .bind(k.current_until)
        .bind(k.revoked_at)
        .execute(p)
        .await
        .map(|_| ())
        .map_err(map_err("signing key"))
        })
    }

    async fn key_list(&self, tenant_id: &str) -> StoreResult<Vec<KeyRecord>> {
        dispatch!(self, |p| {
            let rows = sqlx::query(
                "SELECT tenant_id, kid, sealed_pkcs8, created_at, state, current_since, current_until, revoked_at FROM signing_keys WHERE tenant_id = $1 ORDER BY created_at, kid",
            )
            .bind(tenant_id)
            .fetch_all(p)
            .await
            .map_err(map_err("signing key"))?;
            rows.iter().map(key_from_row).collect()
        })
    }

    async fn key_rotate(
        &self,
        tenant_id: &str,
        new_next: &KeyRecord,
        now: i64,
    ) -> StoreResult<Option<String>> {
        let r = self.key_rotate_sql(tenant_id, new_next, now).await;
        self.keys_changed(tenant_id).await;
        r
    }

    async fn key_revoke(&self, tenant_id: &str, kid: &str, now: i64) -> StoreResult<bool> {
        let r = self.key_revoke_sql(tenant_id, kid, now).await;
        self.keys_changed(tenant_id).await;
        r
    }
}

impl SqlStore {
    /// Tells every node that a tenant's signing keys changed.
    async fn keys_changed(&self, tenant_id: &str) {
        self.announce(crate::changes::Change::Keys {
            tenant_id: tenant_id.into(),
        })
        .await;
    }

    async fn key_rotate_sql(
        &self,
        tenant_id: &str,
        new_next: &KeyRecord,
        now: i64,
    ) -> StoreResult<Option<String>> {
        dispatch!(self, |p| {
            let err = map_err("signing key");
            let mut tx = p.begin().await.map_err(&err)?;
            // A write to the tenant's row first: on PostgreSQL it row-locks the tenant, so a
            // concurrent rotation waits here and then sees this one's result (each statement
            // of a READ COMMITTED transaction reads the latest committed state); on SQLite the
            // write takes the database's write lock.
            sqlx::query("UPDATE tenants SET name = name WHERE id = $1")
                .bind(tenant_id)
                .execute(&mut *tx)
                .await
                .map_err(&err)?;
            let promoted: Option<String> = sqlx::query_scalar(
                "SELECT kid FROM signing_keys WHERE tenant_id = $1 AND state = 'next' ORDER BY created_at, kid LIMIT 1",
            )
            .bind(tenant_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(&err)?;
            let Some(promoted) = promoted else {
                return Ok(None);
            };
            sqlx::query(
                "UPDATE signing_keys SET state = 'previous', current_until = $2 WHERE tenant_id = $1 AND state = 'current'",
            )
            .bind(tenant_id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(&err)?;
            sqlx::query(
                "UPDATE signing_keys SET state = 'current', current_since = $3 WHERE tenant_id = $1 AND kid = $2",
            )
            .bind(tenant_id)
            .bind(&promoted)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(&err)?;
            sqlx::query(
                "INSERT INTO signing_keys (tenant_id, kid, sealed_pkcs8, created_at, state, current_since, current_until, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&new_next.tenant_id)
            .bind(&new_next.kid)
            .bind(&new_next.sealed_pkcs8)
            .bind(new_next.created_at)
            .bind(new_next.state.as_str())
            .bind(new_next.current_since)
            .bind(new_next.current_until)
            .bind(new_next.revoked_at)
            .execute(&mut *tx)
            .await
            .map_err(&err)?;
            tx.commit().await.map_err(&err)?;
            Ok(Some(promoted))
        })
    }

    async fn key_revoke_sql(&self, tenant_id: &str, kid: &str, now: i64) -> StoreResult<bool> {
        dispatch!(self, |p| {
            sqlx::query(
            "UPDATE signing_keys SET state = 'revoked', revoked_at = $3 WHERE tenant_id = $1 AND kid = $2 AND state = 'previous'"
        )
        .bind(tenant_id)
        .bind(kid)
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected() > 0)
        .map_err(map_err("signing key"))
        })
    }
}
