//! `AttemptStore`: consecutive failed logins per (connection, identifier, IP) for brute-force
//! protection, shared by every node through the database. An attempt is reserved (counted)
//! before its password is checked, so parallel attempts never check more than the limit.

use crate::{SqlStore, dispatch, map_err};
use sluice_core::ports::{AttemptStore, StoreResult};

/// Clears a pair's failures after a success (a blocked pair stays blocked).
pub(crate) const RESET: &str = "DELETE FROM login_failures WHERE tenant_id = $1 AND connection = $2 AND identifier = $3 AND ip = $4 AND blocked = 0";

/// Gives back a reservation that ended without a verdict.
const RELEASE: &str = "UPDATE login_failures SET failures = failures - 1 WHERE tenant_id = $1 AND connection = $2 AND identifier = $3 AND ip = $4 AND failures > 0 AND blocked = 0";

impl SqlStore {
    /// Runs a statement about one (tenant, connection, identifier, IP) pair.
    async fn pair_execute(
        &self,
        sql: &'static str,
        tenant_id: &str,
        connection: &str,
        identifier: &str,
        ip: &str,
    ) -> StoreResult<()> {
        dispatch!(self, |p| {
            sqlx::query(sql)
                .bind(tenant_id)
                .bind(connection)
                .bind(identifier)
                .bind(ip)
                .execute(p)
                .await
                .map(|_| ())
                .map_err(map_err("login failure"))
        })
    }
}

#[async_trait::async_trait]
impl AttemptStore for SqlStore {
    async fn attempt_reserve(
        &self,
        tenant_id: &str,
        connection: &str,
        identifier: &str,
        ip: &str,
        limit: i64,
        now: i64,
    ) -> StoreResult<bool> {
        // One conditional upsert: the row lock (PostgreSQL) or the write lock (SQLite) makes
        // concurrent reservations take turns, and none passes the limit.
        dispatch!(self, |p| {
            let counted: Option<i64> = sqlx::query_scalar(
                "INSERT INTO login_failures (tenant_id, connection, identifier, ip, failures, blocked, updated_at) VALUES ($1, $2, $3, $4, 1, 0, $5) \
                 ON CONFLICT (tenant_id, connection, identifier, ip) DO UPDATE SET failures = login_failures.failures + 1, updated_at = $5 \
                 WHERE login_failures.failures < $6 AND login_failures.blocked = 0 \
                 RETURNING failures",
            )
            .bind(tenant_id)
            .bind(connection)
            .bind(identifier)
            .bind(ip)
            .bind(now)
            .bind(limit)
            .fetch_optional(p)
            .await
            .map_err(map_err("login failure"))?;
            Ok(counted.is_some_and(|n| n <= limit))
        })
    }

    async fn attempt_release(
        &self,
        tenant_id: &str,
        connection: &str,
        identifier: &str,
        ip: &str,
    ) -> StoreResult<()> {
        self.pair_execute(RELEASE, tenant_id, connection, identifier, ip)
            .await
    }

    async fn attempt_fail(
        &self,
        tenant_id: &str,
        connection: &str,
        identifier: &str,
        ip: &str,
        limit: i64,
        _now: i64,
    ) -> StoreResult<bool> {
        dispatch!(self, |p| {
            let blocked: Option<i64> = sqlx::query_scalar(
                "UPDATE login_failures SET blocked = 1 WHERE tenant_id = $1 AND connection = $2 AND identifier = $3 AND ip = $4 AND failures >= $5 RETURNING blocked",
            )
            .bind(tenant_id)
            .bind(connection)
            .bind(identifier)
            .bind(ip)
            .bind(limit)
            .fetch_optional(p)
            .await
            .map_err(map_err("login failure"))?;
            Ok(blocked.is_some())
        })
    }

    async fn attempt_state(
        &self,
        tenant_id: &str,
        connection: &str,
        identifier: &str,
        ip: &str,
    ) -> StoreResult<Option<bool>> {
        dispatch!(self, |p| {
            let v: Option<i64> = sqlx::query_scalar(
                "SELECT blocked FROM login_failures WHERE tenant_id = $1 AND connection = $2 AND identifier = $3 AND ip = $4",
            )
            .bind(tenant_id)
            .bind(connection)
            .bind(identifier)
            .bind(ip)
            .fetch_optional(p)
            .await
            .map_err(map_err("login failure"))?;
            Ok(v.map(|b| b == 1))
        })
    }

    async fn attempt_reset(
        &self,
        tenant_id: &str,
        connection: &str,
        identifier: &str,
        ip: &str,
    ) -> StoreResult<()> {
        self.pair_execute(RESET, tenant_id, connection, identifier, ip)
            .await
    }

    async fn attempt_blocks(
        &self,
        tenant_id: &str,
        identifier: &str,
    ) -> StoreResult<Vec<(String, String)>> {
        dispatch!(self, |p| {
            let rows: Vec<(String, String)> = sqlx::query_as(
                "SELECT identifier, ip FROM login_failures WHERE tenant_id = $1 AND identifier = $2 AND blocked = 1 ORDER BY ip",
            )
            .bind(tenant_id)
            .bind(identifier)
            .fetch_all(p)
            .await
            .map_err(map_err("login failure"))?;
            Ok(rows)
        })
    }

    async fn attempt_unblock(&self, tenant_id: &str, identifier: &str) -> StoreResult<u64> {
        dispatch!(self, |p| sqlx::query(
            "DELETE FROM login_failures WHERE tenant_id = $1 AND identifier = $2"
        )
        .bind(tenant_id)
        .bind(identifier)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        .map_err(map_err("login failure")))
    }
}
