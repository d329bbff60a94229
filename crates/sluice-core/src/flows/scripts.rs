//! Running a connection's action scripts: configuration and context in, the run recorded in
//! the tenant log, and the connection's circuit breaker and rate limit (`crate::breaker`)
//! consulted before and told after, so that a user store that does not answer costs fast 503s,
//! not queues, and an operator can cap the calls a user store gets.

use crate::breaker::{Permit, Verdict};
use crate::db_connection::DbSettings;
use crate::error::CoreError;
use crate::error::OAuthErrorKind;
use crate::ports::{ScriptFailure, ScriptKind, ScriptRequest};
use crate::service::Core;
use crate::tenant::TenantCtx;
use sluice_types::Connection;

/// The answer while a connection's breaker is open.
fn store_not_answering(conn: &Connection) -> CoreError {
    CoreError::oauth(
        OAuthErrorKind::TemporarilyUnavailable,
        format!(
            "The user store of connection '{}' is not answering; try again later.",
            conn.body.name.clone().unwrap_or_default()
        ),
    )
}

impl Core {
    /// Runs one action script of a connection with its configuration and context.
    pub async fn run_script(
        &self,
        t: &TenantCtx,
        conn: &Connection,
        kind: ScriptKind,
        args: Vec<serde_json::Value>,
    ) -> Result<Result<serde_json::Value, ScriptFailure>, CoreError> {
        let source = crate::db_connection::script(conn, kind).ok_or_else(|| {
            CoreError::oauth(
                OAuthErrorKind::InvalidRequest,
                "The connection is not yet configured: its action script is missing.",
            )
        })?;
        let context = DbSettings::of(conn)
            .script_context
            .then(|| serde_json::json!({}));
        let now = self.now();
        if self.breakers.permit(&t.id, &conn.id, now) == Permit::Refuse {
            return Err(store_not_answering(conn));
        }
        if !self.rate_limits.take(&t.id, &conn.id, now as f64) {
            return Err(CoreError::oauth(
                OAuthErrorKind::TooManyRequests,
                format!(
                    "Too many requests to the user store of connection '{}'; try again later.",
                    conn.body.name.clone().unwrap_or_default()
                ),
            ));
        }
        let out = self
            .runner
            .run(ScriptRequest {
                tenant_id: t.id.clone(),
                connection: Some(conn.id.clone()),
                kind,
                source: source.into(),
                args,
                context,
                configuration: self.connection_configuration(t, conn)?,
            })
            .await;
        self.log_script_run(
            t,
            kind.key(),
            &format!("{} script", kind.key()),
            Some(conn),
            &out,
        )
        .await;
        let verdict = match out.result {
            Err(ScriptFailure::Timeout { .. } | ScriptFailure::Runtime { .. }) => {
                Verdict::Unanswered
            }
            _ => Verdict::Answered,
        };
        if self.breakers.record(&t.id, &conn.id, verdict, self.now()) {
            self.log_event(
                t,
                crate::logs::LogEvent {
                    log_type: "f",
                    description: format!(
                        "The scripts of connection '{}' did not answer {} times in a row: its requests are refused for {} s, then one is let through to probe the user store.",
                        conn.body.name.clone().unwrap_or_default(),
                        self.breakers.policy().failures_to_open,
                        self.breakers.policy().open_seconds
                    ),
                    connection: conn.body.name.clone(),
                    connection_id: Some(conn.id.clone()),
                    ..Default::default()
                },
            )
            .await;
        }
        Ok(out.result)
    }

    /// Records a script run (see [`TenantLog::script_run`](crate::logs::TenantLog::script_run)).
    pub(crate) async fn log_script_run(
        &self,
        t: &TenantCtx,
        script: &str,
        label: &str,
        conn: Option<&Connection>,
        out: &crate::ports::ScriptOutcome,
    ) {
        self.log.script_run(t, script, label, conn, out).await
    }
}
