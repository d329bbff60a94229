//! `TenantStore`: tenants and their sealed signing keys.

use crate::{SqlStore, dispatch, map_err};
use sluice_core::model::{KeyRecord, TenantRecord};
use sluice_core::ports::{StoreError, StoreResult, TenantStore};
use sqlx::Row;

fn tenant_from_row<R: Row>(r: &R) -> StoreResult<TenantRecord>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let get = |c: &str| {
        r.try_get::<String, _>(c)
            .map_err(|e| StoreError::Other(e.to_string()))
    };
    Ok(TenantRecord {
        id: get("id")?,
        name: get("name")?,
        created_at: r
            .try_get::<i64, _>("created_at")
            .map_err(|e| StoreError::Other(e.to_string()))?,
        settings: serde_json::from_str(&get("settings")?)
            .map_err(|e| StoreError::Other(e.to_string()))?,
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
            "INSERT INTO signing_keys (tenant_id, kid, sealed_pkcs8, created_at, state) VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(&k.tenant_id)
        .bind(&k.kid)
        .bind(&k.sealed_pkcs8)
        .bind(k.created_at)
        .bind(&k.state)
        .execute(p)
        .await
        .map(|_| ())
        .map_err(map_err("signing key"))
        })
    }

    async fn key_list(&self, tenant_id: &str) -> StoreResult<Vec<KeyRecord>> {
        dispatch!(self, |p| {
            let rows = sqlx::query(
                "SELECT tenant_id, kid, sealed_pkcs8, created_at, state FROM signing_keys WHERE tenant_id = $1 ORDER BY created_at, kid",
            )
            .bind(tenant_id)
            .fetch_all(p)
            .await
            .map_err(map_err("signing key"))?;
            rows.iter()
                .map(|r| {
                    let e = |e: sqlx::Error| StoreError::Other(e.to_string());
                    Ok(KeyRecord {
                        tenant_id: r.try_get("tenant_id").map_err(e)?,
                        kid: r.try_get("kid").map_err(e)?,
                        sealed_pkcs8: r.try_get("sealed_pkcs8").map_err(e)?,
                        created_at: r.try_get("created_at").map_err(e)?,
                        state: r.try_get("state").map_err(e)?,
                    })
                })
                .collect()
        })
    }
}
