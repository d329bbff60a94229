//! `/api/v2/user-blocks` handlers.

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Mgmt, Q};
use axum::Json;
use axum::extract::{Path, State};
use http::StatusCode;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct IdentifierQuery {
    #[serde(default)]
    pub identifier: String,
}

pub async fn get(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(s.mgmt.user_blocks_get(&m.t, &m.actor, &id).await?))
}

pub async fn remove(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.mgmt.user_blocks_delete(&m.t, &m.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn get_by_identifier(
    State(s): State<AppState>,
    m: Mgmt,
    Q(q): Q<IdentifierQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        s.mgmt
            .user_blocks_get_by_identifier(&m.t, &m.actor, &q.identifier)
            .await?,
    ))
}

pub async fn remove_by_identifier(
    State(s): State<AppState>,
    m: Mgmt,
    Q(q): Q<IdentifierQuery>,
) -> ApiResult<StatusCode> {
    s.mgmt
        .user_blocks_delete_by_identifier(&m.t, &m.actor, &q.identifier)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
