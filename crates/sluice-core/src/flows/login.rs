//! Login to a database connection.
//!
//! - Sluice-managed connection: the local user's argon2id hash decides.
//! - Custom database, legacy mode: the `login` script decides on every login; the profile it
//!   returns is cached locally without any password.
//! - Custom database, import mode: a local user (already migrated) is checked locally and no
//!   script runs; an unknown user goes through the `login` script once and on success is
//!   created locally with the same user_id and the password just typed, re-hashed with argon2id.
//!   Concurrent first logins create the user exactly once (the store's uniqueness decides).
//!
//! [`Core::login`] is the one login pipeline (token endpoint and login page): it produces a
//! [`LoginOutcome`] or a typed [`LoginFailure`], which decides brute-force accounting and the
//! tenant log event, and is mapped to the Authentication API's answer once (`From`). Every
//! credential failure — unknown user, wrong password, script said no — is the same
//! `invalid_grant` "Wrong email or password."; script failures are a generic error whose detail
//! is logged, never returned.

use super::profile::{self, ScriptProfile};
use crate::db_connection::DbSettings;
use crate::error::CoreError;
use crate::error::OAuthErrorKind;
use crate::model::{UserOrigin, UserRecord};
use crate::ports::{AttemptKey, Page, ScriptFailure, ScriptKind, StoreError, UserFilter};
use crate::service::Core;
use crate::tenant::TenantCtx;
use crate::users::{is_custom, is_import};
use sluice_types::Connection;

/// What a login attempt presents.
#[derive(Clone)]
pub struct LoginRequest<'a> {
    pub connection: &'a Connection,
    /// Email, or username when the connection requires usernames.
    pub identifier: &'a str,
    pub password: &'a str,
    pub ip: Option<&'a str>,
    /// The application logging in (for the tenant log).
    pub client_id: Option<&'a str>,
}

/// A successful login: the local record and which scripts ran for it.
#[derive(Debug, Clone)]
pub struct LoginOutcome {
    pub user: UserRecord,
    pub scripts_run: Vec<ScriptKind>,
}

/// Consecutive failures of one user from one IP before that pair is blocked (Auth0: 10).
pub const BRUTE_FORCE_LIMIT: i64 = 10;

/// Why a login authenticated nobody.
#[derive(Debug)]
pub enum LoginFailure {
    /// The identifier cannot name any account (control characters): 400, not counted.
    InvalidIdentifier,
    /// No such user, or the script said no without naming one: counted, logged `fu`.
    UnknownUser,
    /// A known user with another password (also one changed while this login checked it):
    /// counted, logged `fp`.
    WrongPassword { user_id: String },
    /// Brute-force protection refused to check the password: 429, logged `limit_wc`.
    TooManyAttempts,
    /// Blocked by an administrator: 401.
    Blocked { user_id: String },
    /// The login script refused with `UnauthorizedError(message)`: 401 with that message.
    ScriptRejected { message: String },
    /// The script failed or returned no usable profile: 500; the detail is in the server log.
    ScriptFailed,
    /// Anything else (the store is unavailable, the connection is not configured, an identity
    /// conflict): answered as that error says.
    Error(CoreError),
}

impl From<CoreError> for LoginFailure {
    fn from(e: CoreError) -> Self {
        LoginFailure::Error(e)
    }
}

impl From<StoreError> for LoginFailure {
    fn from(e: StoreError) -> Self {
        LoginFailure::Error(e.into())
    }
}

impl LoginFailure {
    /// The Authentication API's answer (what happened, description); None for `Error`.
    fn answer(&self) -> Option<(OAuthErrorKind, String)> {
        Some(match self {
            LoginFailure::InvalidIdentifier => (
                OAuthErrorKind::InvalidRequest,
                "The username or email contains characters that are not allowed.".into(),
            ),
            LoginFailure::UnknownUser | LoginFailure::WrongPassword { .. } => {
                (OAuthErrorKind::InvalidGrant, "Wrong email or password.".into())
            }
            LoginFailure::TooManyAttempts => (
                OAuthErrorKind::TooManyAttempts,
                "Your account has been blocked after multiple consecutive login attempts. We've sent you an email with instructions on how to unblock it.".into(),
            ),
            LoginFailure::Blocked { .. } => (OAuthErrorKind::Unauthorized, "user is blocked".into()),
            LoginFailure::ScriptRejected { message } => {
                (OAuthErrorKind::Unauthorized, message.clone())
            }
            LoginFailure::ScriptFailed => (
                OAuthErrorKind::ServerError,
                "Something went wrong while checking your credentials. Please try again later."
                    .into(),
            ),
            LoginFailure::Error(_) => return None,
        })
    }

    /// What the tenant log says of it.
    fn description(&self) -> String {
        match (self.answer(), self) {
            (Some((_, d)), _) => d,
            (None, LoginFailure::Error(CoreError::OAuth { description, .. })) => {
                description.clone()
            }
            (None, LoginFailure::Error(e)) => e.to_string(),
            (None, _) => String::new(),
        }
    }

    /// The tenant log event type and the user concerned.
    fn log_type(&self) -> (&'static str, Option<&str>) {
        match self {
            LoginFailure::UnknownUser => ("fu", None),
            LoginFailure::WrongPassword { user_id } => ("fp", Some(user_id)),
            LoginFailure::TooManyAttempts => ("limit_wc", None),
            LoginFailure::Blocked { user_id } => ("f", Some(user_id)),
            _ => ("f", None),
        }
    }

    /// Whether brute-force protection counts it as a failed attempt.
    fn counts(&self) -> bool {
        matches!(
            self,
            LoginFailure::UnknownUser | LoginFailure::WrongPassword { .. }
        )
    }
}

impl From<LoginFailure> for CoreError {
    fn from(f: LoginFailure) -> CoreError {
        match (f.answer(), f) {
            (Some((kind, description)), _) => CoreError::oauth(kind, description),
            (None, LoginFailure::Error(e)) => e,
            (None, other) => CoreError::internal(format!("unanswered login failure {other:?}")),
        }
    }
}

/// A failing script: the detail goes to the server log, the user gets a generic answer.
fn script_failed(kind: ScriptKind, detail: &str) -> LoginFailure {
    tracing::warn!(script = kind.key(), detail, "action script failed");
    LoginFailure::ScriptFailed
}

fn connection_name(c: &Connection) -> String {
    c.body.name.clone().unwrap_or_default()
}

impl Core {
    /// The local user of `connection` with this email or username (case-insensitive).
    pub async fn user_find_local(
        &self,
        t: &TenantCtx,
        connection: &str,
        identifier: &str,
    ) -> Result<Option<UserRecord>, CoreError> {
        let by = |email: bool| UserFilter {
            email: email.then(|| identifier.to_string()),
            username: (!email).then(|| identifier.to_string()),
            connection: Some(connection.to_string()),
            user_id: None,
        };
        let page = Page {
            offset: 0,
            limit: 1,
        };
        let filter = by(identifier.contains('@'));
        let (mut found, _) = self.store.user_search(&t.id, &filter, page).await?;
        if found.is_empty() && identifier.contains('@') {
            // Usernames may contain '@'.
            found = self.store.user_search(&t.id, &by(false), page).await?.0;
        }
        Ok(found.into_iter().next())
    }

    /// Authenticates a user against a database connection (see the module docs) and records
    /// the outcome in the tenant log (`s`, `fp`, `fu`, `limit_wc` or `f`).
    pub async fn login(
        &self,
        t: &TenantCtx,
        req: LoginRequest<'_>,
    ) -> Result<LoginOutcome, LoginFailure> {
        if req.identifier.chars().any(char::is_control) {
            // No account has such a name; not a credential failure to count or to log.
            return Err(LoginFailure::InvalidIdentifier);
        }
        // The attempt is counted before the password is checked, so that parallel attempts
        // (on any number of nodes) never check more than the limit; the verdict settles it.
        let guard = self.brute_force_key(&req);
        let now = self.now();
        let reserved = match &guard {
            Some(k) => {
                self.store
                    .attempt_reserve(
                        &t.id,
                        &k.connection,
                        &k.identifier,
                        &k.ip,
                        BRUTE_FORCE_LIMIT,
                        now,
                    )
                    .await?
            }
            None => true,
        };
        let r = if reserved {
            // A success clears the pair's failures in its own completion write.
            self.login_steps(t, &req, guard.as_ref()).await
        } else {
            Err(LoginFailure::TooManyAttempts)
        };
        if let Some(k) = guard.as_ref().filter(|_| reserved) {
            let (c, id, ip) = (&k.connection, &k.identifier, &k.ip);
            match &r {
                Ok(_) => {}
                Err(f) if f.counts() => {
                    let blocked = self
                        .store
                        .attempt_fail(&t.id, c, id, ip, BRUTE_FORCE_LIMIT, now)
                        .await?;
                    tracing::debug!(connection = %c, blocked, "failed login counted");
                }
                Err(_) => self.store.attempt_release(&t.id, c, id, ip).await?,
            }
        }
        let (log_type, description, user_id) = match &r {
            Ok(o) => (
                "s",
                "Successful login".to_string(),
                Some(o.user.profile.user_id.clone()),
            ),
            Err(f) => {
                let (log_type, user_id) = f.log_type();
                (log_type, f.description(), user_id.map(str::to_string))
            }
        };
        self.log_event(
            t,
            crate::logs::LogEvent {
                log_type,
                description,
                user_id,
                user_name: Some(req.identifier.to_string()),
                connection: req.connection.body.name.clone(),
                connection_id: Some(req.connection.id.clone()),
                client_id: req.client_id.map(str::to_string),
                ip: req.ip.map(str::to_string),
                details: None,
            },
        )
        .await;
        r
    }

    /// What brute-force protection counts this attempt under, when it applies.
    fn brute_force_key(&self, req: &LoginRequest<'_>) -> Option<AttemptKey> {
        let on = DbSettings::of(req.connection).brute_force_protection;
        let ip = req.ip?;
        on.then(|| AttemptKey {
            connection: connection_name(req.connection),
            identifier: req.identifier.to_lowercase(),
            ip: ip.to_string(),
        })
    }

    async fn login_steps(
        &self,
        t: &TenantCtx,
        req: &LoginRequest<'_>,
        guard: Option<&AttemptKey>,
    ) -> Result<LoginOutcome, LoginFailure> {
        let conn = req.connection;
        let name = connection_name(conn);
        let custom = is_custom(conn);
        if !custom || is_import(conn) {
            if let Some(rec) = self.user_find_local(t, &name, req.identifier).await? {
                if rec.password_hash.is_some() {
                    if !self
                        .user_password_matches(&rec, req.password.to_string())
                        .await?
                    {
                        return Err(LoginFailure::WrongPassword {
                            user_id: rec.profile.user_id,
                        });
                    }
                    return self.finish_login(rec, req.ip, Vec::new(), guard).await;
                }
                if !custom {
                    // Cached from a legacy store that has since been switched off (forced):
                    // there is no password here to check, and no script may run any more.
                    self.spend_a_password_check(req.password).await;
                    return Err(LoginFailure::WrongPassword {
                        user_id: rec.profile.user_id,
                    });
                }
            } else if !custom {
                // Spend the time a real check takes, so unknown users are not distinguishable.
                self.spend_a_password_check(req.password).await;
                return Err(LoginFailure::UnknownUser);
            }
        }
        let result = self
            .run_script(
                t,
                conn,
                ScriptKind::Login,
                vec![req.identifier.into(), req.password.into()],
            )
            .await?;
        let profile = match result {
            Ok(v) => match profile::parse(&v) {
                Ok(Some(p)) => p,
                Ok(None) => return Err(LoginFailure::UnknownUser),
                Err(e) => return Err(script_failed(ScriptKind::Login, &e.to_string())),
            },
            Err(ScriptFailure::WrongCredentials {
                user_id: Some(u), ..
            }) => {
                return Err(LoginFailure::WrongPassword {
                    user_id: format!("auth0|{}", u.trim_start_matches("auth0|")),
                });
            }
            Err(ScriptFailure::WrongCredentials { user_id: None, .. }) => {
                return Err(LoginFailure::UnknownUser);
            }
            Err(ScriptFailure::Unauthorized { message }) => {
                return Err(LoginFailure::ScriptRejected { message });
            }
            Err(other) => return Err(script_failed(ScriptKind::Login, &format!("{other:?}"))),
        };
        let rec = if is_import(conn) {
            self.migrate_user(t, conn, &profile, req.password).await?
        } else {
            self.cache_legacy_user(t, conn, &profile).await?
        };
        self.finish_login(rec, req.ip, vec![ScriptKind::Login], guard)
            .await
    }

    /// Verifies `password` against a hash of no one's, for the time a real check takes.
    async fn spend_a_password_check(&self, password: &str) {
        let (hasher, hash, pw) = (
            self.hasher.clone(),
            self.dummy_hash.clone(),
            password.to_string(),
        );
        let _ = self.with_hash_slot(move || hasher.verify(&pw, &hash)).await;
    }

    /// Import mode: creates the local user from the script's profile with the password just
    /// verified, exactly once. A concurrent login that created it first wins; this one then
    /// checks the password against the stored hash.
    async fn migrate_user(
        &self,
        t: &TenantCtx,
        conn: &Connection,
        p: &ScriptProfile,
        password: &str,
    ) -> Result<UserRecord, LoginFailure> {
        let rec = self.migrated_record(t, conn, p, password).await?;
        match self.store.user_insert(&rec).await {
            Ok(()) => {
                tracing::info!(user_id = %rec.profile.user_id, "user migrated from the custom database");
                self.log_migration(t, conn, &rec, "login").await;
                Ok(rec)
            }
            Err(StoreError::Conflict(_)) => {
                let existing = self
                    .store
                    .user_fetch(&t.id, &rec.profile.user_id)
                    .await?
                    .ok_or_else(|| CoreError::Conflict {
                        code: "auth0_idp_error",
                        message: "The user already exists.".into(),
                    })?;
                if existing.connection != rec.connection {
                    return Err(self.identity_conflict(t, &existing, conn).await.into());
                }
                // Cached while the connection was in legacy mode, before import mode was
                // turned on: the script just verified the password, so this is the migration
                // (unless a concurrent write gave the user a password first).
                if existing.password_hash.is_none() && existing.origin == UserOrigin::LegacyCached {
                    let mut migrated = false;
                    let existing = self
                        .user_modify(t, existing, |r| {
                            migrated = r.password_hash.is_none();
                            if migrated {
                                r.password_hash = rec.password_hash.clone();
                                r.origin = rec.origin.clone();
                                r.profile.updated_at = rec.profile.updated_at.clone();
                            }
                            Ok(())
                        })
                        .await?;
                    if migrated {
                        tracing::info!(user_id = %existing.profile.user_id, "legacy-cached user migrated");
                        self.log_migration(t, conn, &existing, "login").await;
                        return Ok(existing);
                    }
                    return self.password_of(existing, password).await;
                }
                self.password_of(existing, password).await
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Records a `migration` tenant log event: `user` now lives in Sluice's store, so an
    /// independent process may archive or delete its row in the legacy store. `by`: the flow
    /// that migrated it (`login`, `password_reset`).
    pub(crate) async fn log_migration(
        &self,
        t: &TenantCtx,
        conn: &Connection,
        user: &UserRecord,
        by: &str,
    ) {
        let raw_id = user
            .profile
            .identities
            .first()
            .map(|i| i.user_id.clone())
            .unwrap_or_default();
        self.log_event(
            t,
            crate::logs::LogEvent {
                log_type: "migration",
                description: "User migrated from the legacy store".into(),
                user_id: Some(user.profile.user_id.clone()),
                user_name: user.profile.email.clone(),
                connection: conn.body.name.clone(),
                connection_id: Some(conn.id.clone()),
                details: Some(serde_json::json!({"by": by, "legacy_user_id": raw_id})),
                ..Default::default()
            },
        )
        .await;
    }

    /// The local record of a user migrated from a custom database: the script's profile, the
    /// given password hashed with argon2id, and where and when it came from.
    pub(crate) async fn migrated_record(
        &self,
        t: &TenantCtx,
        conn: &Connection,
        p: &ScriptProfile,
        password: &str,
    ) -> Result<UserRecord, CoreError> {
        let name = connection_name(conn);
        let now = self.now_rfc3339();
        let profile = p.to_user(&name, &now);
        Ok(UserRecord {
            tenant_id: t.id.clone(),
            connection: name.clone(),
            email_key: profile.email.clone(),
            username_key: profile.username.as_deref().map(str::to_lowercase),
            password_hash: Some(self.password_hash(password.to_string()).await?),
            origin: UserOrigin::Migrated {
                at: now,
                connection: name,
            },
            profile,
            version: 0,
        })
    }

    /// Legacy mode: caches the script's profile locally (never a password).
    pub(crate) async fn cache_legacy_user(
        &self,
        t: &TenantCtx,
        conn: &Connection,
        p: &ScriptProfile,
    ) -> Result<UserRecord, CoreError> {
        let name = connection_name(conn);
        let mode = DbSettings::of(conn).root_attributes;
        let user_id = format!("auth0|{}", p.raw_id);
        for _ in 0..3 {
            if let Some(rec) = self.store.user_fetch(&t.id, &user_id).await? {
                if rec.connection != name {
                    return Err(self.identity_conflict(t, &rec, conn).await);
                }
                // The legacy store usually returns what it returned last time: then there is
                // nothing to write.
                let mut probe = rec.profile.clone();
                p.apply(&mut probe, mode, false);
                if probe == rec.profile {
                    return Ok(rec);
                }
                let now = self.now_rfc3339();
                return self
                    .user_modify(t, rec, |r| {
                        p.apply(&mut r.profile, mode, false);
                        r.profile.updated_at = now.clone();
                        r.email_key = r.profile.email.clone();
                        r.username_key = r.profile.username.as_deref().map(str::to_lowercase);
                        Ok(())
                    })
                    .await;
            }
            let profile = p.to_user(&name, &self.now_rfc3339());
            let rec = UserRecord {
                tenant_id: t.id.clone(),
                connection: name.clone(),
                email_key: profile.email.clone(),
                username_key: profile.username.as_deref().map(str::to_lowercase),
                password_hash: None,
                origin: UserOrigin::LegacyCached,
                profile,
                version: 0,
            };
            match self.store.user_insert(&rec).await {
                Ok(()) => return Ok(rec),
                Err(StoreError::Conflict(_)) => continue, // created concurrently: update it
                Err(e) => return Err(e.into()),
            }
        }
        Err(CoreError::internal(
            "could not cache the legacy user profile",
        ))
    }

    /// A connection's script returned a user id that a user of another connection already
    /// has. Sluice never merges the two (the login would yield the other user's `sub`) nor
    /// overwrites one with the other: the login is refused and the tenant log names both
    /// connections, so that an administrator can make the ids unique (docs/scripts.md: prefix
    /// them with the connection).
    pub(crate) async fn identity_conflict(
        &self,
        t: &TenantCtx,
        existing: &UserRecord,
        conn: &Connection,
    ) -> CoreError {
        let name = connection_name(conn);
        self.log_event(
            t,
            crate::logs::LogEvent {
                log_type: "f",
                description: format!(
                    "User id conflict: connection '{name}' returned user id '{}', which belongs to a user of connection '{}'; the login is refused. Make the ids unique, e.g. prefix them with the connection name.",
                    existing.profile.user_id, existing.connection
                ),
                user_id: Some(existing.profile.user_id.clone()),
                connection: Some(name.clone()),
                connection_id: Some(conn.id.clone()),
                details: Some(serde_json::json!({
                    "user_id": existing.profile.user_id,
                    "connection": name,
                    "existing_connection": existing.connection,
                })),
                ..Default::default()
            },
        )
        .await;
        CoreError::oauth(
            OAuthErrorKind::AccessDenied,
            "This account cannot sign in: its user id belongs to an account of another connection. An administrator must resolve the conflict (see the tenant logs).",
        )
    }

    /// Completes a login whose credentials were checked against `rec`: refused if the user
    /// is blocked; otherwise the login's own targeted write (count, time, IP), made only if
    /// nothing changed the user since `rec` was read. If something did, the user is read again:
    /// a password changed meanwhile refuses this login (it presented the old one), a block
    /// refuses it, anything else is fine. The same write clears the brute-force failures of
    /// `guard`. Returns the user as stored after the write.
    async fn finish_login(
        &self,
        mut rec: UserRecord,
        ip: Option<&str>,
        scripts_run: Vec<ScriptKind>,
        guard: Option<&AttemptKey>,
    ) -> Result<LoginOutcome, LoginFailure> {
        let checked_hash = rec.password_hash.clone();
        for _ in 0..8 {
            if rec.profile.blocked == Some(true) {
                return Err(LoginFailure::Blocked {
                    user_id: rec.profile.user_id,
                });
            }
            let now = self.now_rfc3339();
            if let Some(user) = self.store.user_record_login(&rec, &now, ip, guard).await? {
                return Ok(LoginOutcome { user, scripts_run });
            }
            let user_id = rec.profile.user_id.clone();
            rec = self
                .store
                .user_fetch(&rec.tenant_id, &user_id)
                .await?
                .ok_or(LoginFailure::UnknownUser)?;
            if rec.password_hash != checked_hash {
                return Err(LoginFailure::WrongPassword { user_id });
            }
        }
        Err(StoreError::Stale("user".into()).into())
    }

    /// The existing user if `password` is theirs.
    async fn password_of(
        &self,
        existing: UserRecord,
        password: &str,
    ) -> Result<UserRecord, LoginFailure> {
        if self
            .user_password_matches(&existing, password.to_string())
            .await?
        {
            Ok(existing)
        } else {
            Err(LoginFailure::WrongPassword {
                user_id: existing.profile.user_id,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_credential_failures_count_and_all_answer_like_auth0() {
        let wrong = LoginFailure::WrongPassword {
            user_id: "auth0|1".into(),
        };
        assert!(wrong.counts() && LoginFailure::UnknownUser.counts());
        for f in [
            LoginFailure::TooManyAttempts,
            LoginFailure::ScriptFailed,
            LoginFailure::InvalidIdentifier,
            LoginFailure::Blocked {
                user_id: "auth0|1".into(),
            },
        ] {
            assert!(!f.counts(), "{f:?}");
        }
        assert_eq!(wrong.log_type(), ("fp", Some("auth0|1")));
        assert_eq!(LoginFailure::UnknownUser.log_type(), ("fu", None));
        // Unknown user and wrong password are indistinguishable to the caller.
        let answers: Vec<String> = [wrong, LoginFailure::UnknownUser]
            .into_iter()
            .map(|f| CoreError::from(f).to_string())
            .collect();
        assert_eq!(answers[0], answers[1]);
        assert!(matches!(
            CoreError::from(LoginFailure::TooManyAttempts),
            CoreError::OAuth {
                kind: OAuthErrorKind::TooManyAttempts,
                ..
            }
        ));
        let e = CoreError::from(LoginFailure::Error(CoreError::internal("x")));
        assert!(matches!(e, CoreError::Internal { .. }));
    }
}
