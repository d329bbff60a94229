//! Email verification: new users whose email is not verified get a one-time link (7 days);
//! opening it marks a Sluice-stored user verified, or, for a legacy-mode custom database,
//! runs the `verify(email)` script. As Auth0 documents, the script's answer does not change
//! `email_verified` of a legacy user's cached profile: that comes from `login`/`get_user`.

use super::reset::invalid_ticket;
use super::signup::script_failed;
use crate::error::CoreError;
use crate::ports::{Email, ScriptKind};
use crate::service::Core;
use crate::tenant::TenantCtx;
use crate::users::{is_custom, is_import};

/// How long a verification link stays valid.
pub const VERIFY_LIFETIME: i64 = 7 * 86_400;

impl Core {
    /// Emails a verification link; a mail failure is logged, never returned (the user exists).
    pub(crate) async fn verification_email_send(
        &self,
        t: &TenantCtx,
        connection: &str,
        email: &str,
    ) {
        let token = match self
            .ticket_issue(t, "verify", connection, email, VERIFY_LIFETIME)
            .await
        {
            Ok(token) => token,
            Err(e) => {
                tracing::warn!(error = %e, "could not create a verification ticket");
                return;
            }
        };
        let link = format!("{}/lo/verify?ticket={token}", t.base_url);
        let text = format!(
            "Hello,\n\nPlease confirm your email address {email} by opening this link within 7 days:\n\n{link}\n"
        );
        if let Err(e) = self
            .mailer
            .send(Email {
                to: email.to_string(),
                subject: "Verify your email".into(),
                text,
            })
            .await
        {
            tracing::warn!(error = %e, "could not send a verification email");
        }
    }

    /// Uses a verification ticket; returns the verified email.
    pub async fn email_verify(&self, t: &TenantCtx, token: &str) -> Result<String, CoreError> {
        let (key, ticket) = self.ticket_for(t, token, "verify").await?;
        let conn = self
            .connection_fetch_by_name(t, &ticket.connection)
            .await?
            .ok_or_else(invalid_ticket)?;
        if is_custom(&conn) && !is_import(&conn) {
            match self
                .run_script(
                    t,
                    &conn,
                    ScriptKind::Verify,
                    vec![ticket.email.clone().into()],
                )
                .await?
            {
                Ok(serde_json::Value::Bool(true)) => {}
                Ok(_) => {
                    return Err(CoreError::BadRequest {
                        code: "verification_failed",
                        message: "The email address could not be verified.".into(),
                    });
                }
                Err(f) => return Err(script_failed(ScriptKind::Verify, &f)),
            }
        } else {
            let rec = self
                .user_find_local(t, &ticket.connection, &ticket.email)
                .await?
                .ok_or_else(invalid_ticket)?;
            let now = self.now_rfc3339();
            self.user_modify(t, rec, |r| {
                r.profile.email_verified = true;
                r.profile.updated_at = now.clone();
                Ok(())
            })
            .await?;
        }
        self.store
            .doc_delete(&t.id, crate::model::DocKind::Ticket, &key)
            .await?;
        Ok(ticket.email)
    }
}
