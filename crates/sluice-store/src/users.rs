//! `UserStore`: users with their lookup keys (lower-cased email and username, unique within a
//! connection) beside the JSON profile; the password hash in its own column. Whole-record
//! writes are conditional on the record's `version`; what a login owns (`logins_count`,
//! `last_login`, `last_ip`) has its own columns, written by the login's targeted update and laid
//! over the profile when read.

use crate::{FilteredPage, SqlStore, dispatch, map_err};
use sluice_core::model::{UserOrigin, UserRecord};
use sluice_core::ports::{
    AttemptKey, OriginCounts, Page, StoreError, StoreResult, UserFilter, UserStore,
};
use sqlx::Row;

const COLUMNS: &str = "tenant_id, user_id, connection, email_key, username_key, body, password_hash, origin, version, logins_count, last_login, last_ip";

fn user_from_row<R: Row>(r: &R) -> StoreResult<UserRecord>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let e = crate::db_err;
    let body: String = r.try_get("body").map_err(e)?;
    let origin: String = r.try_get("origin").map_err(e)?;
    let mut profile: sluice_types::User =
        serde_json::from_str(&body).map_err(|e| StoreError::Other(format!("corrupt user: {e}")))?;
    if let Some(n) = r.try_get::<Option<i64>, _>("logins_count").map_err(e)? {
        profile.logins_count = n;
    }
    if let Some(at) = r.try_get::<Option<String>, _>("last_login").map_err(e)? {
        profile.last_login = Some(at);
    }
    if let Some(ip) = r.try_get::<Option<String>, _>("last_ip").map_err(e)? {
        profile.last_ip = Some(ip);
    }
    Ok(UserRecord {
        tenant_id: r.try_get("tenant_id").map_err(e)?,
        connection: r.try_get("connection").map_err(e)?,
        email_key: r.try_get("email_key").map_err(e)?,
        username_key: r.try_get("username_key").map_err(e)?,
        password_hash: r.try_get("password_hash").map_err(e)?,
        profile,
        origin: serde_json::from_str::<UserOrigin>(&origin)
            .map_err(|e| StoreError::Other(format!("corrupt origin: {e}")))?,
        version: r.try_get("version").map_err(e)?,
    })
}

fn encode(u: &UserRecord) -> StoreResult<(String, String)> {
    let body = serde_json::to_string(&u.profile).map_err(|e| StoreError::Other(e.to_string()))?;
    let origin = serde_json::to_string(&u.origin).map_err(|e| StoreError::Other(e.to_string()))?;
    Ok((body, origin))
}

#[async_trait::async_trait]
impl UserStore for SqlStore {
    async fn user_insert(&self, u: &UserRecord) -> StoreResult<()> {
        let (body, origin) = encode(u)?;
        let now = crate::insertion_seq();
        dispatch!(self, |p| {
            sqlx::query(
            "INSERT INTO users (tenant_id, user_id, connection, email_key, username_key, body, password_hash, origin, created_at, version, logins_count, last_login, last_ip) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        )
        .bind(&u.tenant_id)
        .bind(&u.profile.user_id)
        .bind(&u.connection)
        .bind(&u.email_key)
        .bind(&u.username_key)
        .bind(&body)
        .bind(&u.password_hash)
        .bind(&origin)
        .bind(now)
        .bind(u.version)
        .bind(u.profile.logins_count)
        .bind(&u.profile.last_login)
        .bind(&u.profile.last_ip)
        .execute(p)
        .await
        .map(|_| ())
        .map_err(map_err("user"))
        })
    }

    async fn user_fetch(&self, tenant_id: &str, user_id: &str) -> StoreResult<Option<UserRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE tenant_id = $1 AND user_id = $2");
        dispatch!(self, |p| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(tenant_id)
                .bind(user_id)
                .fetch_optional(p)
                .await
                .map_err(map_err("user"))?;
            row.as_ref().map(user_from_row).transpose()
        })
    }

    async fn user_search(
        &self,
        tenant_id: &str,
        f: &UserFilter,
        page: Page,
    ) -> StoreResult<(Vec<UserRecord>, i64)> {
        let FilteredPage {
            sql,
            count_sql,
            binds,
        } = FilteredPage::new(
            COLUMNS,
            "users",
            &[
                ("tenant_id", Some(tenant_id.to_string())),
                ("email_key", f.email.as_ref().map(|v| v.to_lowercase())),
                (
                    "username_key",
                    f.username.as_ref().map(|v| v.to_lowercase()),
                ),
                ("connection", f.connection.clone()),
                ("user_id", f.user_id.clone()),
            ],
            "created_at, user_id",
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
                .map_err(map_err("user"))?;
            let total = c.fetch_one(p).await.map_err(map_err("user"))?;
            Ok((
                rows.iter()
                    .map(user_from_row)
                    .collect::<StoreResult<Vec<_>>>()?,
                total,
            ))
        })
    }

    async fn user_update(&self, u: &mut UserRecord) -> StoreResult<bool> {
        let (body, origin) = encode(u)?;
        let n = dispatch!(self, |p| {
            sqlx::query(
            "UPDATE users SET connection = $3, email_key = $4, username_key = $5, body = $6, password_hash = $7, origin = $8, version = version + 1 WHERE tenant_id = $1 AND user_id = $2 AND version = $9"
        )
        .bind(&u.tenant_id)
        .bind(&u.profile.user_id)
        .bind(&u.connection)
        .bind(&u.email_key)
        .bind(&u.username_key)
        .bind(&body)
        .bind(&u.password_hash)
        .bind(&origin)
        .bind(u.version)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        .map_err(map_err("user"))?
        });
        if n > 0 {
            u.version += 1;
            return Ok(true);
        }
        match self.user_fetch(&u.tenant_id, &u.profile.user_id).await? {
            Some(_) => Err(StoreError::Stale("user".into())),
            None => Ok(false),
        }
    }

    async fn user_record_login(
        &self,
        rec: &UserRecord,
        at: &str,
        ip: Option<&str>,
        clear_attempts: Option<&AttemptKey>,
    ) -> StoreResult<Option<UserRecord>> {
        // Until its first targeted write a user's login count is still in the body, as read
        // into `rec` (at the same version), so that is where the count starts.
        let sql = format!(
            "UPDATE users SET logins_count = COALESCE(logins_count, $4) + 1, last_login = $5, last_ip = COALESCE($6, last_ip) WHERE tenant_id = $1 AND user_id = $2 AND version = $3 RETURNING {COLUMNS}"
        );
        dispatch!(self, |p| {
            let e = map_err("user");
            let mut tx = p.begin().await.map_err(&e)?;
            let row = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(&rec.tenant_id)
                .bind(&rec.profile.user_id)
                .bind(rec.version)
                .bind(rec.profile.logins_count)
                .bind(at)
                .bind(ip)
                .fetch_optional(&mut *tx)
                .await
                .map_err(&e)?;
            let Some(row) = row else {
                tx.rollback().await.map_err(&e)?;
                return Ok(None);
            };
            let user = user_from_row(&row)?;
            if let Some(k) = clear_attempts {
                sqlx::query(crate::attempts::RESET)
                    .bind(&rec.tenant_id)
                    .bind(&k.connection)
                    .bind(&k.identifier)
                    .bind(&k.ip)
                    .execute(&mut *tx)
                    .await
                    .map_err(&e)?;
            }
            tx.commit().await.map_err(&e)?;
            Ok(Some(user))
        })
    }

    async fn user_delete(&self, tenant_id: &str, user_id: &str) -> StoreResult<bool> {
        dispatch!(self, |p| sqlx::query(
            "DELETE FROM users WHERE tenant_id = $1 AND user_id = $2"
        )
        .bind(tenant_id)
        .bind(user_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected() > 0)
        .map_err(map_err("user")))
    }

    async fn user_origin_counts(
        &self,
        tenant_id: &str,
        connection: &str,
    ) -> StoreResult<OriginCounts> {
        // `origin` holds the serde form of `UserOrigin`, tag first: `{"kind":"migrated",...}`.
        let q = "SELECT \
             COALESCE(SUM(CASE WHEN origin LIKE '{\"kind\":\"local\"%' THEN 1 ELSE 0 END), 0) AS local, \
             COALESCE(SUM(CASE WHEN origin LIKE '{\"kind\":\"migrated\"%' THEN 1 ELSE 0 END), 0) AS migrated, \
             COALESCE(SUM(CASE WHEN origin LIKE '{\"kind\":\"legacy_cached\"%' THEN 1 ELSE 0 END), 0) AS legacy_cached \
             FROM users WHERE tenant_id = $1 AND connection = $2";
        dispatch!(self, |p| {
            let r = sqlx::query(q)
                .bind(tenant_id)
                .bind(connection)
                .fetch_one(p)
                .await
                .map_err(map_err("user"))?;
            let n = |c: &str| r.try_get::<i64, _>(c).map_err(crate::db_err);
            Ok(OriginCounts {
                local: n("local")?,
                migrated: n("migrated")?,
                legacy_cached: n("legacy_cached")?,
            })
        })
    }
}
