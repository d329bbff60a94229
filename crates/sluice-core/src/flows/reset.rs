//! Password reset: a request sends a one-time, expiring ticket link by email (the answer is the
//! same whether or not the user exists); the ticket sets a new password, per connection mode:
//!
//! - Sluice-managed, or import mode with the user already migrated: the local hash changes.
//! - Legacy mode: `get_user` → `change_password(email, newPassword)`.
//! - Import mode, user not migrated yet: the user is created locally from `get_user`'s profile
//!   with the new password (Auth0's documented behaviour; no `change_password` script runs).
//!
//! A successful reset also lifts brute-force blocks of that user. Tickets are stored as the
//! SHA-256 of their token, so the store never holds a usable link.

use super::profile;
use super::signup::script_failed;
use crate::db_connection::DbSettings;
use crate::error::CoreError;
use crate::model::{Doc, DocKind};
use crate::password_policy::PasswordPolicy;
use crate::ports::{Email, ScriptFailure, ScriptKind};
use crate::service::Core;
use crate::tenant::TenantCtx;
use crate::users::{is_custom, is_import};
use serde::{Deserialize, Serialize};
use sluice_crypto::ct::sha256_hex;
use sluice_crypto::random::random_token;
use sluice_types::Connection;

/// How long a reset link stays valid (Auth0's default: 5 days).
pub const TICKET_LIFETIME: i64 = 5 * 86_400;
/// The neutral answer of `/dbconnections/change_password`.
pub const RESET_SENT: &str = "We've just sent you an email to reset your password.";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Ticket {
    pub connection: String,
    pub email: String,
    pub expires_at: i64,
    /// `reset` or `verify`: a ticket only works for what it was issued for.
    #[serde(default = "reset_purpose")]
    pub purpose: String,
}

fn reset_purpose() -> String {
    "reset".into()
}

pub(crate) fn invalid_ticket() -> CoreError {
    CoreError::BadRequest {
        code: "invalid_ticket",
        message: "This link is invalid or has expired. Please ask for a new one.".into(),
    }
}

impl Core {
    /// Whether `email` is a user of `conn` (locally, or in the legacy store through get_user).
    async fn reset_user_exists(
        &self,
        t: &TenantCtx,
        conn: &Connection,
        email: &str,
    ) -> Result<bool, CoreError> {
        let name = conn.body.name.clone().unwrap_or_default();
        if self.user_find_local(t, &name, email).await?.is_some() {
            return Ok(true);
        }
        if !is_custom(conn) {
            return Ok(false);
        }
        match self
            .run_script(t, conn, ScriptKind::GetUser, vec![email.into()])
            .await?
        {
            Ok(v) => Ok(profile::parse(&v).ok().flatten().is_some()),
            Err(f) => Err(script_failed(ScriptKind::GetUser, &f)),
        }
    }

    /// `POST /dbconnections/change_password`: emails a reset link if the user exists. The caller
    /// answers [`RESET_SENT`] either way.
    pub async fn password_reset_request(
        &self,
        t: &TenantCtx,
        connection: &str,
        email: &str,
    ) -> Result<(), CoreError> {
        if email.is_empty() || connection.is_empty() {
            return Err(CoreError::bad_request("email and connection are required"));
        }
        if email
            .chars()
            .chain(connection.chars())
            .any(char::is_control)
        {
            return Err(CoreError::bad_request(
                "email and connection must not contain control characters",
            ));
        }
        let conn = self
            .connection_fetch_by_name(t, connection)
            .await?
            .ok_or_else(|| CoreError::BadRequest {
                code: "invalid_connection",
                message: "The connection does not exist.".into(),
            })?;
        let email = email.to_lowercase();
        if !self.reset_user_exists(t, &conn, &email).await? {
            tracing::info!("password reset requested for an unknown user");
            return Ok(());
        }
        let token = self
            .ticket_issue(t, "reset", connection, &email, TICKET_LIFETIME)
            .await?;
        let link = format!("{}/lo/reset?ticket={token}", t.base_url);
        let text = format!(
            "Hello,\n\nSomeone asked to reset the password of your account {email}.\nOpen this link within 5 days to choose a new password:\n\n{link}\n\nIf it was not you, ignore this message.\n"
        );
        if let Err(e) = self
            .mailer
            .send(Email {
                to: email,
                subject: "Reset your password".into(),
                text,
            })
            .await
        {
            // The answer stays Auth0's neutral one: a different answer while the relay is down
            // would tell who has an account. The operator sees the failure in the log.
            tracing::error!(tenant = %t.name, error = %e, "password reset email not sent");
        }
        Ok(())
    }

    /// Checks a ticket without using it (the reset page).
    pub async fn password_reset_check(
        &self,
        t: &TenantCtx,
        token: &str,
    ) -> Result<String, CoreError> {
        Ok(self.ticket(t, token).await?.1.email)
    }

    /// The password policy level of the connection a reset ticket is for (the reset page
    /// describes it).
    pub async fn password_reset_policy(
        &self,
        t: &TenantCtx,
        token: &str,
    ) -> Result<PasswordPolicy, CoreError> {
        let ticket = self.ticket(t, token).await?.1;
        Ok(self
            .connection_fetch_by_name(t, &ticket.connection)
            .await?
            .map_or(PasswordPolicy::None, |c| DbSettings::of(&c).password_policy))
    }

    /// Stores a new one-time ticket and returns its token (only the SHA-256 is stored).
    pub(crate) async fn ticket_issue(
        &self,
        t: &TenantCtx,
        purpose: &str,
        connection: &str,
        email: &str,
        lifetime: i64,
    ) -> Result<String, CoreError> {
        let token = random_token(32);
        let ticket = Ticket {
            connection: connection.to_string(),
            email: email.to_string(),
            expires_at: self.now() + lifetime,
            purpose: purpose.to_string(),
        };
        let key = sha256_hex(token.as_bytes());
        let doc = Doc {
            id: key.clone(),
            key,
            ref_id: Some(email.to_string()),
            body: crate::model::to_body(&ticket)?,
            created_at: self.now(),
            updated_at: self.now(),
        };
        self.store.doc_insert(&t.id, DocKind::Ticket, &doc).await?;
        Ok(token)
    }

    async fn ticket(&self, t: &TenantCtx, token: &str) -> Result<(String, Ticket), CoreError> {
        self.ticket_for(t, token, "reset").await
    }

    /// A live ticket issued for `purpose`: (its key, the ticket).
    pub(crate) async fn ticket_for(
        &self,
        t: &TenantCtx,
        token: &str,
        purpose: &str,
    ) -> Result<(String, Ticket), CoreError> {
        let key = sha256_hex(token.as_bytes());
        let doc = self
            .store
            .doc_fetch(&t.id, DocKind::Ticket, &key)
            .await?
            .ok_or_else(invalid_ticket)?;
        let ticket: Ticket = crate::model::from_body(doc.body)?;
        if ticket.purpose != purpose {
            return Err(invalid_ticket());
        }
        if ticket.expires_at <= self.now() {
            self.store.doc_delete(&t.id, DocKind::Ticket, &key).await?;
            return Err(invalid_ticket());
        }
        Ok((key, ticket))
    }

    /// Sets a new password with a ticket; the ticket is used up.
    pub async fn password_reset(
        &self,
        t: &TenantCtx,
        token: &str,
        new_password: &str,
    ) -> Result<(), CoreError> {
        let (key, ticket) = self.ticket(t, token).await?;
        let conn = self
            .connection_fetch_by_name(t, &ticket.connection)
            .await?
            .ok_or_else(invalid_ticket)?;
        DbSettings::of(&conn).password_policy.check(new_password)?;
        // Use the ticket first: a second submission cannot race this one.
        if !self.store.doc_delete(&t.id, DocKind::Ticket, &key).await? {
            return Err(invalid_ticket());
        }
        let outcome = self
            .reset_with_ticket(t, &conn, &ticket, new_password)
            .await;
        if let Err(e) = &outcome
            && matches!(
                e,
                CoreError::Internal { .. } | CoreError::Unavailable { .. }
            )
        {
            // The legacy store or our own failed: give the link back so that the user can
            // try again instead of asking for a new email.
            let doc = Doc {
                id: key.clone(),
                key: key.clone(),
                ref_id: Some(ticket.email.clone()),
                body: crate::model::to_body(&ticket)?,
                created_at: self.now(),
                updated_at: self.now(),
            };
            if let Err(restore) = self.store.doc_insert(&t.id, DocKind::Ticket, &doc).await {
                tracing::warn!(error = %restore, "reset ticket could not be restored");
            }
        }
        outcome?;
        if let Some(rec) = self
            .user_find_local(t, &ticket.connection, &ticket.email)
            .await?
        {
            self.extend
                .notify_extensions(
                    t,
                    crate::ports::Trigger::PostChangePassword,
                    &rec.profile,
                    &ticket.connection,
                )
                .await;
        }
        self.store.attempt_unblock(&t.id, &ticket.email).await?;
        Ok(())
    }

    /// The password change a reset ticket asks for, per connection mode.
    async fn reset_with_ticket(
        &self,
        t: &TenantCtx,
        conn: &Connection,
        ticket: &Ticket,
        new_password: &str,
    ) -> Result<(), CoreError> {
        let local = self
            .user_find_local(t, &ticket.connection, &ticket.email)
            .await?;
        match (is_custom(conn), is_import(conn), local) {
            (true, false, local) => {
                let at = self
                    .reset_in_legacy_store(t, conn, &ticket.email, new_password)
                    .await?;
                // The script said when: the cached profile keeps it.
                if let (Some(at), Some(rec)) = (at, local) {
                    self.user_modify(t, rec, |r| {
                        r.profile.last_password_reset = Some(at.clone());
                        Ok(())
                    })
                    .await?;
                }
            }
            (_, _, Some(rec)) => {
                let hash = self.password_hash(new_password.to_string()).await?;
                let now = self.now_rfc3339();
                let mut migrated = false;
                let rec = self
                    .user_modify(t, rec, |r| {
                        r.password_hash = Some(hash.clone());
                        r.profile.updated_at = now.clone();
                        r.profile.last_password_reset = Some(now.clone());
                        // A profile cached in legacy mode that now gets a password is migrated.
                        migrated = r.origin == crate::model::UserOrigin::LegacyCached;
                        if migrated {
                            r.origin = crate::model::UserOrigin::Migrated {
                                at: now.clone(),
                                connection: r.connection.clone(),
                            };
                        }
                        Ok(())
                    })
                    .await?;
                if migrated {
                    self.log_migration(t, conn, &rec, "password_reset").await;
                }
            }
            (true, true, None) => {
                self.migrate_with_new_password(t, conn, &ticket.email, new_password)
                    .await?
            }
            (false, _, None) => return Err(invalid_ticket()),
        }
        Ok(())
    }

    async fn reset_in_legacy_store(
        &self,
        t: &TenantCtx,
        conn: &Connection,
        email: &str,
        new_password: &str,
    ) -> Result<Option<String>, CoreError> {
        match self
            .run_script(
                t,
                conn,
                ScriptKind::ChangePassword,
                vec![email.into(), new_password.into()],
            )
            .await?
        {
            Ok(serde_json::Value::Bool(true)) => Ok(None),
            Ok(v @ serde_json::Value::Object(_)) => {
                Ok(crate::flows::account::last_password_reset(&v))
            }
            Ok(_) => Err(CoreError::BadRequest {
                code: "password_not_changed",
                message: "The password could not be changed.".into(),
            }),
            Err(f) => Err(script_failed(ScriptKind::ChangePassword, &f)),
        }
    }

    async fn migrate_with_new_password(
        &self,
        t: &TenantCtx,
        conn: &Connection,
        email: &str,
        new_password: &str,
    ) -> Result<(), CoreError> {
        let p = match self
            .run_script(t, conn, ScriptKind::GetUser, vec![email.into()])
            .await?
        {
            Ok(v) => profile::parse(&v)
                .map_err(|e| {
                    script_failed(
                        ScriptKind::GetUser,
                        &ScriptFailure::Error {
                            name: "Profile".into(),
                            message: e.to_string(),
                            stack: None,
                        },
                    )
                })?
                .ok_or_else(invalid_ticket)?,
            Err(f) => return Err(script_failed(ScriptKind::GetUser, &f)),
        };
        let mut rec = self.migrated_record(t, conn, &p, new_password).await?;
        rec.profile.last_password_reset = Some(self.now_rfc3339());
        match self.store.user_insert(&rec).await {
            Ok(()) => {
                self.log_migration(t, conn, &rec, "password_reset").await;
                Ok(())
            }
            Err(crate::ports::StoreError::Conflict(what)) => {
                match self.store.user_fetch(&t.id, &rec.profile.user_id).await? {
                    Some(existing) if existing.connection != rec.connection => {
                        Err(self.identity_conflict(t, &existing, conn).await)
                    }
                    _ => Err(crate::ports::StoreError::Conflict(what).into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }
}
