//! `/api/v2/clients` handlers.

use super::{ListParams, listed};
use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{JsonObject, Mgmt, Q};
use axum::Json;
use axum::extract::{Path, State};
use http::StatusCode;
use sluice_types::Client;

pub async fn list(
    State(s): State<AppState>,
    m: Mgmt,
    Q(p): Q<ListParams>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(listed(
        "clients",
        s.mgmt.client_list(&m.t, &m.actor, p.paging()?).await?,
    )))
}

pub async fn create(
    State(s): State<AppState>,
    m: Mgmt,
    JsonObject(b): JsonObject,
) -> ApiResult<(StatusCode, Json<Client>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.mgmt.client_create(&m.t, &m.actor, b).await?),
    ))
}

pub async fn get(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
) -> ApiResult<Json<Client>> {
    Ok(Json(s.mgmt.client_get(&m.t, &m.actor, &id).await?))
}

pub async fn update(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
    JsonObject(b): JsonObject,
) -> ApiResult<Json<Client>> {
    Ok(Json(s.mgmt.client_update(&m.t, &m.actor, &id, b).await?))
}

pub async fn remove(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.mgmt.client_delete(&m.t, &m.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn rotate_secret(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
) -> ApiResult<Json<Client>> {
    Ok(Json(
        s.mgmt.client_rotate_secret(&m.t, &m.actor, &id).await?,
    ))
}
