//! Management API operations on users of database connections: create (argon2id on a blocking
//! thread), get, search, by-email, patch (metadata merged one level deep, `null` removes a key),
//! delete. For custom-database connections the operations that reach the user store (create,
//! change password or email, delete) run the connection's action scripts through
//! [`crate::flows`].

use crate::authz::Actor;
use crate::db_connection::{DbSettings, StoreMode};
use crate::error::CoreError;
use crate::management::Management;
use crate::model::{UserOrigin, UserRecord};
use crate::paging::{Listed, PageQuery};
use crate::ports::{Page, StoreError, UserFilter};
use crate::service::Core;
use crate::tenant::TenantCtx;
use crate::{ids, user_query};
use sluice_types::{Connection, Identity, JsonMap, User, UserCreate, UserPatch};

fn not_found() -> CoreError {
    CoreError::NotFound {
        code: "inexistent_user",
        message: "The user does not exist.".into(),
    }
}

fn user_exists() -> CoreError {
    CoreError::Conflict {
        code: "auth0_idp_error",
        message: "The user already exists.".into(),
    }
}

/// A minimal, permissive email check (one `@`, something on both sides, no spaces or control
/// characters).
pub fn validate_email(email: &str) -> Result<(), CoreError> {
    let ok = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(email.split_once('@'), Some((l, d)) if !l.is_empty() && !d.is_empty() && !d.contains('@'));
    if ok {
        Ok(())
    } else {
        Err(CoreError::payload(format!(
            "Object didn't pass validation for format email: {email}"
        )))
    }
}

fn validate_username(c: &Connection, username: &str) -> Result<(), CoreError> {
    let s = DbSettings::of(c);
    let (min, max) = (s.username_min, s.username_max);
    let len = username.chars().count();
    let allowed = username
        .chars()
        .all(|ch| ch.is_ascii_alphanumeric() || "_+-.!#$'^`~@".contains(ch));
    if len < min || len > max || !allowed {
        return Err(CoreError::bad_request(format!(
            "Username must be {min} to {max} characters of letters, digits and _+-.!#$'^`~@"
        )));
    }
    Ok(())
}

/// Whether the connection uses a custom database ("use my own database").
pub(crate) fn is_custom(c: &Connection) -> bool {
    StoreMode::of(c).scripted()
}

/// Whether a custom database connection migrates users (import mode).
pub(crate) fn is_import(c: &Connection) -> bool {
    StoreMode::of(c) == StoreMode::Import
}

/// The user as the Management API shows it: for a user that came through a custom database,
/// the first identity says how (never stored: the store's profile has no `migration`). Users
/// created here keep Auth0's plain shape.
fn shown(r: UserRecord) -> User {
    let mut u = r.profile;
    let m = match r.origin {
        UserOrigin::Local => return u,
        UserOrigin::Migrated { at, .. } => serde_json::json!({"origin": "migrated", "at": at}),
        UserOrigin::LegacyCached => serde_json::json!({"origin": "legacy_cached"}),
    };
    if let Some(i) = u.identities.first_mut() {
        i.migration = Some(m);
    }
    u
}

fn merge_metadata(target: &mut JsonMap, patch: JsonMap) {
    for (k, v) in patch {
        if v.is_null() {
            target.remove(&k);
        } else {
            target.insert(k, v);
        }
    }
}

impl Core {
    /// Hashes a password with argon2id on the blocking pool.
    pub async fn password_hash(&self, password: String) -> Result<String, CoreError> {
        let hasher = self.hasher.clone();
        self.with_hash_slot(move || hasher.hash(&password))
            .await?
            .map_err(CoreError::from)
    }

    async fn connection_for_users(
        &self,
        t: &TenantCtx,
        name: &str,
    ) -> Result<Connection, CoreError> {
        self.connection_fetch_by_name(t, name)
            .await?
            .ok_or_else(|| CoreError::BadRequest {
                code: "inexistent_connection",
                message: "The connection does not exist.".into(),
            })
    }

    /// Checks a new user's email, username and password against the connection's rules;
    /// returns the password.
    pub(crate) fn user_create_checks(
        &self,
        conn: &Connection,
        b: &UserCreate,
    ) -> Result<String, CoreError> {
        let email = b
            .email
            .as_deref()
            .ok_or_else(|| CoreError::payload("Missing required property: email"))?;
        validate_email(email)?;
        let requires_username = DbSettings::of(conn).requires_username;
        match (&b.username, requires_username) {
            (Some(u), true) => validate_username(conn, u)?,
            (None, true) => return Err(CoreError::payload("Missing required property: username")),
            (Some(_), false) => {
                return Err(CoreError::bad_request(
                    "Cannot set username for connection without requires_username",
                ));
            }
            (None, false) => {}
        }
        let password = b
            .password
            .clone()
            .ok_or_else(|| CoreError::payload("Missing required property: password"))?;
        DbSettings::of(conn).password_policy.check(&password)?;
        Ok(password)
    }

    /// Creates a user in Sluice's own store (Sluice-managed connections, and new users of
    /// import-mode custom databases).
    pub(crate) async fn user_insert_local(
        &self,
        t: &TenantCtx,
        conn: &Connection,
        b: UserCreate,
        password: String,
    ) -> Result<User, CoreError> {
        let email = b.email.clone().unwrap_or_default();
        let raw_id = match b.user_id.as_deref() {
            Some(id) if id.is_empty() || id.len() > 255 || id.contains('|') => {
                return Err(CoreError::payload(
                    "user_id must be 1-255 characters without '|'",
                ));
            }
            Some(id) => id.to_string(),
            None => ids::user_raw_id(),
        };
        let hash = self.password_hash(password).await?;
        let email = email.to_lowercase();
        let now = self.now_rfc3339();
        let profile = User {
            user_id: format!("auth0|{raw_id}"),
            email: Some(email.clone()),
            email_verified: b.email_verified.unwrap_or(false),
            username: b.username.clone(),
            phone_number: b.phone_number,
            phone_verified: b.phone_verified,
            name: b.name.or_else(|| Some(email.clone())),
            nickname: b
                .nickname
                .or_else(|| email.split('@').next().map(str::to_string)),
            given_name: b.given_name,
            family_name: b.family_name,
            picture: b.picture,
            created_at: now.clone(),
            updated_at: now,
            identities: vec![Identity {
                connection: conn.body.name.clone().unwrap_or_default(),
                user_id: raw_id,
                provider: "auth0".into(),
                is_social: false,
                access_token: None,
                refresh_token: None,
                migration: None,
            }],
            user_metadata: b.user_metadata.unwrap_or_default(),
            app_metadata: b.app_metadata.unwrap_or_default(),
            last_login: None,
            last_ip: None,
            logins_count: 0,
            blocked: b.blocked,
            last_password_reset: None,
        };
        let record = UserRecord {
            tenant_id: t.id.clone(),
            connection: conn.body.name.clone().unwrap_or_default(),
            email_key: Some(email),
            username_key: b.username.as_deref().map(str::to_lowercase),
            profile: profile.clone(),
            password_hash: Some(hash),
            origin: UserOrigin::Local,
            version: 0,
        };
        self.store.user_insert(&record).await.map_err(|e| match e {
            StoreError::Conflict(_) => user_exists(),
            other => other.into(),
        })?;
        Ok(profile)
    }

    /// The stored record of a user (profile, hash, origin), for the flows that continue with
    /// it (the signup page signs the new user in).
    pub async fn user_record(&self, t: &TenantCtx, user_id: &str) -> Result<UserRecord, CoreError> {
        self.store
            .user_fetch(&t.id, user_id)
            .await?
            .ok_or_else(|| CoreError::internal(format!("user {user_id} is not in the store")))
    }

    /// Writes `first` changed by `change` if no other write came since it was read; when one
    /// did, reads the user again and applies `change` to that (a few times at most), so a
    /// concurrent change is never overwritten with what was read before it. A taken email or
    /// username is `user_exists`; a user gone meanwhile `not_found`.
    pub(crate) async fn user_modify<F>(
        &self,
        t: &TenantCtx,
        first: UserRecord,
        mut change: F,
    ) -> Result<UserRecord, CoreError>
    where
        F: FnMut(&mut UserRecord) -> Result<(), CoreError>,
    {
        const TRIES: usize = 8;
        let user_id = first.profile.user_id.clone();
        let mut r = first;
        for attempt in 1..=TRIES {
            change(&mut r)?;
            match self.store.user_update(&mut r).await {
                Ok(true) => return Ok(r),
                Ok(false) => return Err(not_found()),
                Err(StoreError::Stale(_)) if attempt < TRIES => {
                    r = self
                        .store
                        .user_fetch(&t.id, &user_id)
                        .await?
                        .ok_or_else(not_found)?;
                }
                Err(StoreError::Conflict(_)) => return Err(user_exists()),
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Stale("user".into()).into())
    }

    /// Verifies a user's password (argon2id on the blocking pool). For the login flows.
    pub async fn user_password_matches(
        &self,
        r: &UserRecord,
        password: String,
    ) -> Result<bool, CoreError> {
        let Some(hash) = r.password_hash.clone() else {
            return Ok(false);
        };
        let hasher = self.hasher.clone();
        self.with_hash_slot(move || hasher.verify(&password, &hash))
            .await?
            .map_err(CoreError::from)
    }
}

impl Management {
    pub async fn user_create(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        body: JsonMap,
    ) -> Result<User, CoreError> {
        actor.require("create:users")?;
        let b: UserCreate =
            serde_json::from_value(serde_json::Value::Object(body)).map_err(CoreError::payload)?;
        let conn = self.core.connection_for_users(t, &b.connection).await?;
        let u = self.core.user_create_in(t, &conn, b, None).await?;
        Ok(match self.core.store.user_fetch(&t.id, &u.user_id).await? {
            Some(r) => shown(r),
            None => u,
        })
    }

    pub async fn user_get(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        user_id: &str,
    ) -> Result<User, CoreError> {
        actor.require_self_or(user_id, &["read:users"], &["read:current_user"])?;
        Ok(shown(
            self.core
                .store
                .user_fetch(&t.id, user_id)
                .await?
                .ok_or_else(not_found)?,
        ))
    }

    /// `GET /api/v2/users` with `q` (see [`user_query`]) or `connection`.
    pub async fn user_list(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        q: Option<&str>,
        connection: Option<&str>,
        paging: PageQuery,
    ) -> Result<Listed<User>, CoreError> {
        actor.require("read:users")?;
        let page = paging.to_page()?;
        let mut filter = match q {
            Some(q) if !q.trim().is_empty() => user_query::parse(q)?,
            _ => UserFilter::default(),
        };
        if let Some(c) = connection {
            filter.connection = Some(c.to_string());
        }
        let (rows, total) = self.core.store.user_search(&t.id, &filter, page).await?;
        Ok(Listed {
            items: rows.into_iter().map(shown).collect(),
            start: page.offset,
            limit: page.limit,
            total,
            include_totals: paging.include_totals,
        })
    }

    /// `GET /api/v2/users-by-email`: every user with this email, case-insensitively.
    pub async fn user_list_by_email(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        email: &str,
    ) -> Result<Vec<User>, CoreError> {
        actor.require("read:users")?;
        if email.is_empty() {
            return Err(CoreError::bad_query(
                "Query validation error: Missing required property: email",
            ));
        }
        let filter = UserFilter {
            email: Some(email.to_string()),
            ..Default::default()
        };
        let (rows, _) = self
            .core
            .store
            .user_search(
                &t.id,
                &filter,
                Page {
                    offset: 0,
                    limit: 100,
                },
            )
            .await?;
        Ok(rows.into_iter().map(shown).collect())
    }

    pub async fn user_update(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        user_id: &str,
        body: JsonMap,
    ) -> Result<User, CoreError> {
        if actor.user.is_some() {
            return self.user_update_own_metadata(t, actor, user_id, body).await;
        }
        let metadata_only = body
            .keys()
            .all(|k| k == "app_metadata" || k == "user_metadata");
        if metadata_only {
            actor.require_any(&["update:users", "update:users_app_metadata"])?;
        } else {
            actor.require("update:users")?;
        }
        let p: UserPatch = serde_json::from_value(serde_json::Value::Object(body.clone()))
            .map_err(CoreError::payload)?;
        let r = self
            .core
            .store
            .user_fetch(&t.id, user_id)
            .await?
            .ok_or_else(not_found)?;
        let conn = self.core.connection_for_users(t, &r.connection).await?;
        let scripted = is_custom(&conn) && !is_import(&conn);
        let allowed = [
            "app_metadata",
            "user_metadata",
            "blocked",
            "email",
            "email_verified",
            "password",
            "verify_email",
            "connection",
            "client_id",
        ];
        if scripted && body.keys().any(|k| !allowed.contains(&k.as_str())) {
            return Err(CoreError::bad_request(
                "Users of a custom database connection without import mode can only have email, email_verified, password, app_metadata, user_metadata and blocked updated",
            ));
        }
        // Validation, scripts and hashing happen once, before the write; the write then
        // applies the patch to the record as it is at that moment (see `user_modify`).
        let mut email_change: Option<(String, bool)> = None;
        if scripted && (p.email.is_some() || p.email_verified.is_some()) {
            let new_email = p
                .email
                .clone()
                .map(|e| e.to_lowercase())
                .unwrap_or_else(|| r.profile.email.clone().unwrap_or_default());
            validate_email(&new_email)?;
            let verified = p
                .email_verified
                .unwrap_or(p.email.is_none() && r.profile.email_verified);
            self.core
                .legacy_change_email(t, &conn, &r, &new_email, verified)
                .await?;
            email_change = Some((new_email, verified));
        } else if let Some(e) = &p.email {
            validate_email(e)?;
        }
        // The change_password script may say when (`{ last_password_reset }`).
        let mut legacy_reset_at = None;
        if scripted && let Some(pw) = p.password.clone() {
            legacy_reset_at = self.core.legacy_change_password(t, &conn, &r, &pw).await?;
        }
        if let Some(u) = &p.username {
            if !DbSettings::of(&conn).requires_username {
                return Err(CoreError::bad_request(
                    "Cannot set username for connection without requires_username",
                ));
            }
            validate_username(&conn, u)?;
        }
        let new_hash = match p.password.clone().filter(|_| !scripted) {
            Some(pw) => {
                DbSettings::of(&conn).password_policy.check(&pw)?;
                Some(self.core.password_hash(pw).await?)
            }
            None => None,
        };
        let now = self.core.now_rfc3339();
        let r = self
            .core.user_modify(t, r, |r| {
                if let Some((email, verified)) = &email_change {
                    r.email_key = Some(email.clone());
                    r.profile.email = Some(email.clone());
                    r.profile.email_verified = *verified;
                } else if let Some(e) = &p.email {
                    let e = e.to_lowercase();
                    r.email_key = Some(e.clone());
                    r.profile.email = Some(e);
                    r.profile.email_verified = p.email_verified.unwrap_or(false);
                } else if let Some(v) = p.email_verified {
                    r.profile.email_verified = v;
                }
                if let Some(u) = &p.username {
                    r.username_key = Some(u.to_lowercase());
                    r.profile.username = Some(u.clone());
                }
                if let Some(h) = &new_hash {
                    r.password_hash = Some(h.clone());
                    r.profile.last_password_reset = Some(now.clone());
                }
                if let Some(at) = &legacy_reset_at {
                    r.profile.last_password_reset = Some(at.clone());
                }
                macro_rules! set { ($($f:ident),*) => { $( if p.$f.is_some() { r.profile.$f = p.$f.clone(); } )* } }
                set!(
                    phone_number,
                    phone_verified,
                    given_name,
                    family_name,
                    name,
                    nickname,
                    picture,
                    blocked
                );
                if let Some(m) = &p.user_metadata {
                    merge_metadata(&mut r.profile.user_metadata, m.clone());
                }
                if let Some(m) = &p.app_metadata {
                    merge_metadata(&mut r.profile.app_metadata, m.clone());
                }
                r.profile.updated_at = now.clone();
                Ok(())
            })
            .await?;
        Ok(shown(r))
    }

    /// `PATCH /api/v2/users/{id}` with an end user's token: only the user's own
    /// `user_metadata`. Adding a key takes `create:` or `update:current_user_metadata`,
    /// changing one `update:`, removing one (`null`) `delete:` or `update:`.
    async fn user_update_own_metadata(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        user_id: &str,
        mut body: JsonMap,
    ) -> Result<User, CoreError> {
        const OWN: &[&str] = &[
            "update:current_user_metadata",
            "create:current_user_metadata",
            "delete:current_user_metadata",
        ];
        actor.require_self_or(user_id, &[], OWN)?;
        let denied = |message: String| CoreError::Forbidden {
            code: "insufficient_scope",
            message,
        };
        if let Some(k) = body.keys().find(|k| k.as_str() != "user_metadata") {
            return Err(denied(format!(
                "A token issued to a user can change only its user_metadata, not '{k}'."
            )));
        }
        let patch = match body.remove("user_metadata") {
            Some(serde_json::Value::Object(m)) => m,
            None => JsonMap::new(),
            Some(_) => {
                return Err(CoreError::payload(
                    "Invalid type for property 'user_metadata': expected object",
                ));
            }
        };
        let r = self
            .core
            .store
            .user_fetch(&t.id, user_id)
            .await?
            .ok_or_else(not_found)?;
        let now = self.core.now_rfc3339();
        let r = self
            .core
            .user_modify(t, r, |r| {
                // Which scope a key needs depends on whether it exists now.
                for (k, v) in &patch {
                    let exists = r.profile.user_metadata.contains_key(k);
                    let need: &[&str] = match (v.is_null(), exists) {
                        (true, _) => &[
                            "delete:current_user_metadata",
                            "update:current_user_metadata",
                        ],
                        (false, true) => &["update:current_user_metadata"],
                        (false, false) => &[
                            "create:current_user_metadata",
                            "update:current_user_metadata",
                        ],
                    };
                    actor.require_any(need)?;
                }
                merge_metadata(&mut r.profile.user_metadata, patch.clone());
                r.profile.updated_at = now.clone();
                Ok(())
            })
            .await?;
        Ok(shown(r))
    }

    pub async fn user_delete(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        user_id: &str,
    ) -> Result<(), CoreError> {
        actor.require("delete:users")?;
        let r = self
            .core
            .store
            .user_fetch(&t.id, user_id)
            .await?
            .ok_or_else(not_found)?;
        if let Some(conn) = self.core.connection_fetch_by_name(t, &r.connection).await?
            && is_custom(&conn)
            && !is_import(&conn)
        {
            // Legacy mode: the user lives in the legacy store; delete it there first.
            self.core
                .delete_in_legacy_store(t, &conn, &r.profile)
                .await?;
        }
        self.core.store.user_delete(&t.id, user_id).await?;
        // What the user held dies with them: refresh tokens, sessions, unredeemed codes.
        use crate::ports::ArtifactKind as K;
        self.core
            .store
            .artifact_delete_user(&t.id, user_id, &[K::Refresh, K::Session, K::Code])
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_need_one_at_and_no_spaces() {
        assert!(validate_email("a@b.c").is_ok());
        for bad in [
            "",
            "ab",
            "@b",
            "a@",
            "a b@c",
            "a@b@c",
            "a\0@b.c",
            "a@b\u{7}.c",
        ] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn metadata_merge_is_one_level_and_null_removes() {
        let mut m: JsonMap = serde_json::from_str(r#"{"a":1,"b":{"x":1},"c":3}"#).unwrap();
        merge_metadata(
            &mut m,
            serde_json::from_str(r#"{"b":{"y":2},"c":null,"d":4}"#).unwrap(),
        );
        assert_eq!(
            serde_json::Value::Object(m),
            serde_json::json!({"a":1,"b":{"y":2},"d":4})
        );
    }
}
