//! `ArtifactStore`: authorization codes, refresh tokens, SSO sessions and login transactions,
//! each under the SHA-256 of its secret. One-use artifacts are taken with a single conditional
//! `UPDATE ... RETURNING`, so exactly one of concurrent callers wins. Inserting into a family
//! and revoking it both lock the family's row in `token_families` inside a transaction, so
//! they serialise on every backend and node.

use crate::{SqlStore, dispatch, map_err};
use sluice_core::ports::{Artifact, ArtifactKind, ArtifactStore, StoreError, StoreResult, Take};
use sqlx::Row;

const COLUMNS: &str =
    "tenant_id, kind, akey, family, user_id, client_id, body, created_at, expires_at, used_at";

fn kind_from(s: &str) -> StoreResult<ArtifactKind> {
    Ok(match s {
        "code" => ArtifactKind::Code,
        "refresh" => ArtifactKind::Refresh,
        "session" => ArtifactKind::Session,
        "txn" => ArtifactKind::Transaction,
        other => return Err(StoreError::Other(format!("unknown artifact kind {other}"))),
    })
}

fn from_row<R: Row>(r: &R) -> StoreResult<Artifact>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let e = crate::db_err;
    let body: String = r.try_get("body").map_err(e)?;
    let kind: String = r.try_get("kind").map_err(e)?;
    Ok(Artifact {
        tenant_id: r.try_get("tenant_id").map_err(e)?,
        kind: kind_from(&kind)?,
        key: r.try_get("akey").map_err(e)?,
        family: r.try_get("family").map_err(e)?,
        user_id: r.try_get("user_id").map_err(e)?,
        client_id: r.try_get("client_id").map_err(e)?,
        body: serde_json::from_str(&body)
            .map_err(|e| StoreError::Other(format!("corrupt artifact: {e}")))?,
        created_at: r.try_get("created_at").map_err(e)?,
        expires_at: r.try_get("expires_at").map_err(e)?,
        used_at: r.try_get("used_at").map_err(e)?,
    })
}

const INSERT: &str = "INSERT INTO artifacts (tenant_id, kind, akey, family, user_id, client_id, body, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// Creates or locks a family's row (until the transaction ends), marks it revoked when `$3`
/// is 1 (never un-revokes), keeps it until the later of its expiry and `$4`, and returns
/// whether it is revoked.
const FAMILY_LOCK: &str = "INSERT INTO token_families (tenant_id, family, revoked, expires_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (tenant_id, family) DO UPDATE SET \
     revoked = CASE WHEN token_families.revoked = 1 OR $3 = 1 THEN 1 ELSE 0 END, \
     expires_at = CASE WHEN token_families.expires_at > $4 THEN token_families.expires_at ELSE $4 END \
     RETURNING revoked";

#[async_trait::async_trait]
impl ArtifactStore for SqlStore {
    async fn artifact_insert(&self, a: &Artifact) -> StoreResult<()> {
        dispatch!(self, |p| {
            sqlx::query(INSERT)
                .bind(&a.tenant_id)
                .bind(a.kind.as_str())
                .bind(&a.key)
                .bind(&a.family)
                .bind(&a.user_id)
                .bind(&a.client_id)
                .bind(a.body.to_string())
                .bind(a.created_at)
                .bind(a.expires_at)
                .bind(a.used_at)
                .execute(p)
                .await
                .map(|_| ())
                .map_err(map_err("artifact"))
        })
    }

    async fn artifact_fetch(
        &self,
        tenant_id: &str,
        kind: ArtifactKind,
        key: &str,
        now: i64,
    ) -> StoreResult<Option<Artifact>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM artifacts WHERE tenant_id = $1 AND kind = $2 AND akey = $3 AND expires_at > $4"
        );
        dispatch!(self, |p| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(tenant_id)
                .bind(kind.as_str())
                .bind(key)
                .bind(now)
                .fetch_optional(p)
                .await
                .map_err(map_err("artifact"))?;
            row.as_ref().map(from_row).transpose()
        })
    }

    async fn artifact_take(
        &self,
        tenant_id: &str,
        kind: ArtifactKind,
        key: &str,
        now: i64,
    ) -> StoreResult<Take> {
        let sql = format!(
            "UPDATE artifacts SET used_at = $4 WHERE tenant_id = $1 AND kind = $2 AND akey = $3 AND used_at IS NULL AND expires_at > $4 RETURNING {COLUMNS}"
        );
        let taken = dispatch!(self, |p| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(tenant_id)
                .bind(kind.as_str())
                .bind(key)
                .bind(now)
                .fetch_optional(p)
                .await
                .map_err(map_err("artifact"))?;
            row.as_ref().map(from_row).transpose()?
        });
        if let Some(a) = taken {
            return Ok(Take::Taken(a));
        }
        Ok(
            match self.artifact_fetch(tenant_id, kind, key, now).await? {
                Some(a) if a.used_at.is_some() => Take::AlreadyUsed(a),
                _ => Take::Missing,
            },
        )
    }

    async fn artifact_update(&self, a: &Artifact) -> StoreResult<bool> {
        dispatch!(self, |p| {
            sqlx::query(
                "UPDATE artifacts SET body = $4, expires_at = $5 WHERE tenant_id = $1 AND kind = $2 AND akey = $3",
            )
            .bind(&a.tenant_id)
            .bind(a.kind.as_str())
            .bind(&a.key)
            .bind(a.body.to_string())
            .bind(a.expires_at)
            .execute(p)
            .await
            .map(|r| r.rows_affected() > 0)
            .map_err(map_err("artifact"))
        })
    }

    async fn artifact_delete(
        &self,
        tenant_id: &str,
        kind: ArtifactKind,
        key: &str,
    ) -> StoreResult<bool> {
        dispatch!(self, |p| {
            sqlx::query("DELETE FROM artifacts WHERE tenant_id = $1 AND kind = $2 AND akey = $3")
                .bind(tenant_id)
                .bind(kind.as_str())
                .bind(key)
                .execute(p)
                .await
                .map(|r| r.rows_affected() > 0)
                .map_err(map_err("artifact"))
        })
    }

    async fn artifact_insert_in_family(&self, a: &Artifact) -> StoreResult<bool> {
        dispatch!(self, |p| {
            let e = map_err("artifact");
            let mut tx = p.begin().await.map_err(&e)?;
            let revoked: i64 = sqlx::query_scalar(FAMILY_LOCK)
                .bind(&a.tenant_id)
                .bind(&a.family)
                .bind(0_i64)
                .bind(a.expires_at)
                .fetch_one(&mut *tx)
                .await
                .map_err(&e)?;
            if revoked != 0 {
                tx.rollback().await.map_err(&e)?;
                return Ok(false);
            }
            sqlx::query(INSERT)
                .bind(&a.tenant_id)
                .bind(a.kind.as_str())
                .bind(&a.key)
                .bind(&a.family)
                .bind(&a.user_id)
                .bind(&a.client_id)
                .bind(a.body.to_string())
                .bind(a.created_at)
                .bind(a.expires_at)
                .bind(a.used_at)
                .execute(&mut *tx)
                .await
                .map_err(&e)?;
            tx.commit().await.map_err(&e)?;
            Ok(true)
        })
    }

    async fn artifact_revoke_family(
        &self,
        tenant_id: &str,
        family: &str,
        remember_until: i64,
    ) -> StoreResult<u64> {
        dispatch!(self, |p| {
            let e = map_err("artifact");
            let mut tx = p.begin().await.map_err(&e)?;
            sqlx::query_scalar::<_, i64>(FAMILY_LOCK)
                .bind(tenant_id)
                .bind(family)
                .bind(1_i64)
                .bind(remember_until)
                .fetch_one(&mut *tx)
                .await
                .map_err(&e)?;
            let n = sqlx::query("DELETE FROM artifacts WHERE tenant_id = $1 AND family = $2")
                .bind(tenant_id)
                .bind(family)
                .execute(&mut *tx)
                .await
                .map_err(&e)?
                .rows_affected();
            tx.commit().await.map_err(&e)?;
            Ok(n)
        })
    }

    async fn artifact_family_revoked(&self, tenant_id: &str, family: &str) -> StoreResult<bool> {
        dispatch!(self, |p| {
            let v: Option<i64> = sqlx::query_scalar(
                "SELECT revoked FROM token_families WHERE tenant_id = $1 AND family = $2",
            )
            .bind(tenant_id)
            .bind(family)
            .fetch_optional(p)
            .await
            .map_err(map_err("artifact"))?;
            Ok(v == Some(1))
        })
    }

    async fn artifact_delete_user(
        &self,
        tenant_id: &str,
        user_id: &str,
        kinds: &[ArtifactKind],
    ) -> StoreResult<u64> {
        let mut total = 0;
        for kind in kinds {
            total += dispatch!(self, |p| {
                sqlx::query(
                    "DELETE FROM artifacts WHERE tenant_id = $1 AND user_id = $2 AND kind = $3",
                )
                .bind(tenant_id)
                .bind(user_id)
                .bind(kind.as_str())
                .execute(p)
                .await
                .map(|r| r.rows_affected())
                .map_err(map_err("artifact"))?
            });
        }
        Ok(total)
    }

    async fn artifact_prune(&self, now: i64) -> StoreResult<u64> {
        dispatch!(self, |p| {
            sqlx::query("DELETE FROM token_families WHERE expires_at <= $1")
                .bind(now)
                .execute(p)
                .await
                .map_err(map_err("artifact"))?;
            sqlx::query("DELETE FROM artifacts WHERE expires_at <= $1")
                .bind(now)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
                .map_err(map_err("artifact"))
        })
    }
}
