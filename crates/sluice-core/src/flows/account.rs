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
/// last_password_reset })`), as RFC 3339: a date string (RFC 3339, kept as given) or a number
/// of milliseconds since the epoch (JavaScript's `Date.now()`). Anything else, or a date
/// outside what a timestamp can hold, is ignored: the script's text never lands in the profile
/// unchecked.
pub(crate) fn last_password_reset(answer: &serde_json::Value) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    match answer.get("last_password_reset")? {
        serde_json::Value::String(s) => time::OffsetDateTime::parse(s, &Rfc3339)
            .ok()
            .map(|_| s.clone()),
        serde_json::Value::Number(n) => {
            let secs = n.as_f64()? / 1000.0;
            // Up to the year 9999, which RFC 3339 can write.
            let secs = (0.0..253_402_300_800.0)
                .contains(&secs)
                .then_some(secs as i64)?;
            Some(crate::service::rfc3339(secs))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::last_password_reset;
    use serde_json::json;

    #[test]
    fn last_password_reset_takes_a_date_or_date_now_and_nothing_else() {
        let at = |v| last_password_reset(&json!({ "last_password_reset": v }));
        assert_eq!(
            at(json!("2026-01-01T00:00:00.000Z")).as_deref(),
            Some("2026-01-01T00:00:00.000Z")
        );
        assert_eq!(
            at(json!(1_767_225_600_000_i64)).as_deref(),
            Some("2026-01-01T00:00:00.000Z")
        );
        for junk in [
            json!("<b>soon</b>"),
            json!(""),
            json!(-1),
            json!(1e300),
            json!(true),
        ] {
            assert_eq!(at(junk.clone()), None, "{junk}");
        }
        assert_eq!(last_password_reset(&json!({})), None);
    }
}
