//! Tenant logs: Auth0-style events (`s` successful login, `fp` wrong password, `fu` unknown
//! user, `f` failed login, `ss`/`fs` successful/failed signup, `sdu` user deleted) plus Sluice's
//! `script` event for every action-script run (outcome, captured console, timing) — queryable at
//! `GET /api/v2/logs` and kept for a retention period.

use crate::authz::Actor;
use crate::error::CoreError;
use crate::management::Management;
use crate::paging::{Listed, PageQuery};
use crate::ports::{Clock, LogFilter, LogRecord, Store};
use crate::service::{Core, rfc3339};
use crate::tenant::TenantCtx;
use serde_json::{Value, json};
use sluice_types::Connection;
use std::sync::Arc;

/// One event to record.
#[derive(Debug, Clone, Default)]
pub struct LogEvent {
    pub log_type: &'static str,
    pub description: String,
    pub user_id: Option<String>,
    pub user_name: Option<String>,
    pub connection: Option<String>,
    pub connection_id: Option<String>,
    pub client_id: Option<String>,
    pub ip: Option<String>,
    pub details: Option<Value>,
}

fn parse_q(q: &str) -> Result<LogFilter, CoreError> {
    let mut f = LogFilter::default();
    for term in q.split_whitespace().filter(|t| *t != "AND") {
        let (k, v) = term
            .split_once(':')
            .ok_or_else(|| CoreError::bad_query(format!("Invalid query term '{term}'")))?;
        let v = v.trim_matches('"').to_string();
        match k {
            "type" => f.log_type = Some(v),
            "user_id" => f.user_id = Some(v),
            other => {
                return Err(CoreError::bad_query(format!(
                    "Unsupported log query field '{other}'; use type or user_id"
                )));
            }
        }
    }
    Ok(f)
}

/// Writes tenant log events: the one part of logging every service needs, holding only the
/// store and the clock.
#[derive(Clone)]
pub struct TenantLog {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl TenantLog {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        TenantLog { store, clock }
    }

    /// Records an event; a store failure is logged, never returned (logging must not fail a
    /// login).
    pub async fn event(&self, t: &TenantCtx, e: LogEvent) {
        #[allow(clippy::disallowed_methods)]
        // the log id's ordering prefix; the event's date is the clock's
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0);
        let log_id = format!("{micros:020}{}", sluice_crypto::random::random_hex(8));
        let mut body = json!({
            "log_id": log_id,
            "date": rfc3339(self.clock.now()),
            "type": e.log_type,
            "description": e.description,
        });
        for (k, v) in [
            ("user_id", &e.user_id),
            ("user_name", &e.user_name),
            ("connection", &e.connection),
            ("connection_id", &e.connection_id),
            ("client_id", &e.client_id),
            ("ip", &e.ip),
        ] {
            if let Some(v) = v {
                body[k] = v.clone().into();
            }
        }
        if let Some(d) = e.details {
            body["details"] = d;
        }
        let rec = LogRecord {
            tenant_id: t.id.clone(),
            log_id,
            date: micros / 1000,
            log_type: e.log_type.to_string(),
            user_id: e.user_id,
            body,
        };
        if let Err(err) = self.store.log_insert(&rec).await {
            tracing::warn!(error = %err, "could not record a tenant log event");
        }
    }

    /// Records a script run (outcome, console, warnings, timing) as a `script` tenant event.
    pub(crate) async fn script_run(
        &self,
        t: &TenantCtx,
        script: &str,
        label: &str,
        conn: Option<&Connection>,
        out: &crate::ports::ScriptOutcome,
    ) {
        let outcome = match &out.result {
            Ok(_) => serde_json::json!({"ok": true}),
            Err(f) => serde_json::json!({"ok": false, "error": format!("{f:?}")}),
        };
        let console: Vec<serde_json::Value> = out
            .console
            .iter()
            .map(|l| serde_json::json!({"level": l.level, "text": l.text}))
            .collect();
        self.event(
            t,
            crate::logs::LogEvent {
                log_type: "script",
                description: format!(
                    "{label} {}",
                    if out.result.is_ok() {
                        "succeeded"
                    } else {
                        "failed"
                    }
                ),
                connection: conn.and_then(|c| c.body.name.clone()),
                connection_id: conn.map(|c| c.id.clone()),
                details: Some(serde_json::json!({
                    "script": script,
                    "outcome": outcome,
                    "console": console,
                    "warnings": out.warnings,
                    "elapsed_ms": out.elapsed.as_secs_f64() * 1000.0,
                })),
                ..Default::default()
            },
        )
        .await;
    }
}

impl Core {
    /// Records an event (see [`TenantLog::event`]).
    pub async fn log_event(&self, t: &TenantCtx, e: LogEvent) {
        self.log.event(t, e).await
    }

    /// Deletes expired authorization codes, refresh tokens, sessions and login transactions
    /// (all tenants).
    pub async fn artifacts_prune(&self) -> Result<u64, CoreError> {
        Ok(self.store.artifact_prune(self.now()).await?)
    }

    /// Deletes events older than `retention_days` (all tenants).
    pub async fn logs_prune(&self, retention_days: i64) -> Result<u64, CoreError> {
        Ok(self
            .store
            .log_prune((self.now() - retention_days * 86_400) * 1000)
            .await?)
    }
}

impl Management {
    pub async fn log_list(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        q: Option<&str>,
        paging: PageQuery,
    ) -> Result<Listed<Value>, CoreError> {
        actor.require("read:logs")?;
        let page = paging.to_page()?;
        let filter = match q {
            Some(q) if !q.trim().is_empty() => parse_q(q)?,
            _ => LogFilter::default(),
        };
        let (rows, total) = self.core.store.log_search(&t.id, &filter, page).await?;
        Ok(Listed {
            items: rows.into_iter().map(|r| r.body).collect(),
            start: page.offset,
            limit: page.limit,
            total,
            include_totals: paging.include_totals,
        })
    }

    pub async fn log_get(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        id: &str,
    ) -> Result<Value, CoreError> {
        actor.require("read:logs")?;
        self.core
            .store
            .log_fetch(&t.id, id)
            .await?
            .map(|r| r.body)
            .ok_or_else(|| CoreError::NotFound {
                code: "inexistent_log",
                message: "Log event not found".into(),
            })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn log_queries_support_type_and_user_id() {
        let f = super::parse_q(r#"type:"fp" AND user_id:"auth0|1""#).unwrap();
        assert_eq!(f.log_type.as_deref(), Some("fp"));
        assert_eq!(f.user_id.as_deref(), Some("auth0|1"));
        assert!(super::parse_q("ip:1.2.3.4").is_err());
    }
}
