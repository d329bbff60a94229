//! Account changes of users that live in a legacy store (custom database, legacy mode), made
//! through the Management API: a new email runs `get_user(newEmail)` (found: the email is taken)
//! then `change_email(email, newEmail, verified)`; a new password runs
//! `change_password(email, newPassword)`. The cached profile changes only when the script
//! succeeds.

use super::profile;
use super::signup::{script_failed, user_exists};
use crate::error::CoreError;
use crate::model::UserRecord;
use crate::ports::{ScriptFailure, ScriptKind};
use crate::service::Core;
use crate::tenant::TenantCtx;
use sluice_types::Connection;

fn script_said_no(kind: ScriptKind) -> CoreError {
    CoreError::BadRequest {
        code: "operation_not_supported",
        message: format!("The {} script did not make the change.", kind.key()),
    }
}

fn ok_value(v: &serde_json::Value) -> bool {
    matches!(
        v,
        serde_json::Value::Bool(true) | serde_json::Value::Object(_)
    )
}

impl Core {
    /// Legacy mode: changes the email in the legacy store (the caller updates the cached profile).
    pub(crate) async fn legacy_change_email(
        &self,
        t: &TenantCtx,
        conn: &Connection,
        rec: &UserRecord,
        new_email: &str,
        verified: bool,
    ) -> Result<(), CoreError> {
        let old = rec.profile.email.clone().unwrap_or_default();
        match self
            .run_script(t, conn, ScriptKind::GetUser, vec![new_email.into()])
            .await?
        {
            Ok(v) if profile::parse(&v).ok().flatten().is_some() => return Err(user_exists()),
            Ok(_) => {}
            Err(f) => return Err(script_failed(ScriptKind::GetUser, &f)),
        }
        match self
            .run_script(
                t,
                conn,
                ScriptKind::ChangeEmail,
                vec![old.into(), new_email.into(), verified.into()],
            )
            .await?
        {
            Ok(v) if ok_value(&v) => {}
            Ok(_) => return Err(script_said_no(ScriptKind::ChangeEmail)),
            Err(f) => return Err(script_failed(ScriptKind::ChangeEmail, &f)),
        }
        Ok(())
    }

    /// Legacy mode: changes the password in the legacy store (no password is stored locally).
    /// Returns when the script says the password was reset (`{ last_password_reset }`), if it
    /// says so.
    pub(crate) async fn legacy_change_password(
        &self,
        t: &TenantCtx,
        conn: &Connection,
        rec: &UserRecord,
        password: &str,
    ) -> Result<Option<String>, CoreError> {
        let email = rec.profile.email.clone().unwrap_or_default();
        match self
            .run_script(
                t,
                conn,
                ScriptKind::ChangePassword,
                vec![email.into(), password.into()],
            )
            .await?
        {
            Ok(v) if ok_value(&v) => Ok(last_password_reset(&v)),
            Ok(_) => Err(script_said_no(ScriptKind::ChangePassword)),
            Err(ScriptFailure::Validation { code, message }) => Err(CoreError::BadRequest {
                code: "invalid_body",
                message: format!("{code}: {message}"),
            }),
            Err(f) => Err(script_failed(ScriptKind::ChangePassword, &f)),
        }
    }
}

/// The `last_password_reset` a `change_password` script answered (`callback(null, {
/// last_password_reset })`), as RFC 3339: a date string is kept as given, a number is read as
/// milliseconds since the epoch (JavaScript's `Date.now()`); anything else is ignored.
pub(crate) fn last_password_reset(answer: &serde_json::Value) -> Option<String> {
    match answer.get("last_password_reset")? {
        serde_json::Value::String(s) if !s.is_empty() && s.len() <= 64 => Some(s.clone()),
        serde_json::Value::Number(n) => {
            let ms = n.as_f64()?;
            (ms.is_finite() && ms >= 0.0).then(|| crate::service::rfc3339((ms / 1000.0) as i64))
        }
        _ => None,
    }
}
