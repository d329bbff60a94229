//! `/api/v2/logs` handlers.

use super::ListParams;
use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Mgmt, Q};
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct LogQuery {
    #[serde(flatten)]
    pub list: ListParams,
    pub q: Option<String>,
}

pub async fn list(
    State(s): State<AppState>,
    m: Mgmt,
    Q(q): Q<LogQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let l = s
        .mgmt
        .log_list(&m.t, &m.actor, q.q.as_deref(), q.list.paging()?)
        .await?;
    if !l.include_totals {
        return Ok(Json(serde_json::Value::Array(l.items)));
    }
    Ok(Json(
        serde_json::json!({"logs": l.items, "start": l.start, "limit": l.limit, "length": l.items.len(), "total": l.total}),
    ))
}

pub async fn get(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(s.mgmt.log_get(&m.t, &m.actor, &id).await?))
}
