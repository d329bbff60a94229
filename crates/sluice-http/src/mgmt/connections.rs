//! `/api/v2/connections` handlers.

use super::{ListParams, checkpointed, listed};
use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{JsonObject, Mgmt, Q};
use axum::Json;
use axum::extract::{Path, State};
use http::StatusCode;
use serde::Deserialize;
use sluice_types::Connection;

#[derive(Debug, Deserialize)]
pub struct ConnectionQuery {
    #[serde(flatten)]
    pub list: ListParams,
    pub name: Option<String>,
    /// Only `auth0` connections exist; other strategies list nothing.
    pub strategy: Option<String>,
}

pub async fn list(
    State(s): State<AppState>,
    m: Mgmt,
    Q(q): Q<ConnectionQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let mut l = s
        .mgmt
        .connection_list(&m.t, &m.actor, q.name.as_deref(), q.list.paging()?)
        .await?;
    if let Some(strategy) = q.strategy.as_deref() {
        l.items
            .retain(|c| c.body.strategy.as_deref() == Some(strategy));
    }
    if q.list.checkpoint() {
        return Ok(Json(checkpointed("connections", l)));
    }
    Ok(Json(listed("connections", l)))
}

pub async fn create(
    State(s): State<AppState>,
    m: Mgmt,
    JsonObject(b): JsonObject,
) -> ApiResult<(StatusCode, Json<Connection>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.mgmt.connection_create(&m.t, &m.actor, b).await?),
    ))
}

pub async fn get(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
) -> ApiResult<Json<Connection>> {
    Ok(Json(s.mgmt.connection_get(&m.t, &m.actor, &id).await?))
}

/// `PATCH`'s query: `force=true` (a Sluice extension) turns a custom database off even though
/// users cached from its legacy store would be stranded.
#[derive(Debug, Deserialize)]
pub struct UpdateQuery {
    #[serde(default, deserialize_with = "crate::extract::de_bool")]
    pub force: bool,
}

pub async fn update(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
    Q(q): Q<UpdateQuery>,
    JsonObject(b): JsonObject,
) -> ApiResult<Json<Connection>> {
    Ok(Json(
        s.mgmt
            .connection_update(&m.t, &m.actor, &id, b, q.force)
            .await?,
    ))
}

/// `GET /api/v2/connections/{id}/migration` (a Sluice extension).
pub async fn migration(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        s.mgmt.connection_migration(&m.t, &m.actor, &id).await?,
    ))
}

pub async fn remove(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.mgmt.connection_delete(&m.t, &m.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
