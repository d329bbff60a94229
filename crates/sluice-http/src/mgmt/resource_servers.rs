//! `/api/v2/resource-servers` handlers.

use super::{ListParams, listed};
use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{JsonObject, Mgmt, Q};
use axum::Json;
use axum::extract::{Path, State};
use http::StatusCode;
use sluice_types::ResourceServer;

pub async fn list(
    State(s): State<AppState>,
    m: Mgmt,
    Q(p): Q<ListParams>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(listed(
        "resource_servers",
        s.mgmt
            .resource_server_list(&m.t, &m.actor, p.paging()?)
            .await?,
    )))
}

pub async fn create(
    State(s): State<AppState>,
    m: Mgmt,
    JsonObject(b): JsonObject,
) -> ApiResult<(StatusCode, Json<ResourceServer>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.mgmt.resource_server_create(&m.t, &m.actor, b).await?),
    ))
}

pub async fn get(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
) -> ApiResult<Json<ResourceServer>> {
    Ok(Json(s.mgmt.resource_server_get(&m.t, &m.actor, &id).await?))
}

pub async fn update(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
    JsonObject(b): JsonObject,
) -> ApiResult<Json<ResourceServer>> {
    Ok(Json(
        s.mgmt
            .resource_server_update(&m.t, &m.actor, &id, b)
            .await?,
    ))
}

pub async fn remove(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.mgmt.resource_server_delete(&m.t, &m.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
