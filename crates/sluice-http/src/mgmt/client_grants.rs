//! `/api/v2/client-grants` handlers.

use super::{ListParams, checkpointed, listed};
use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{JsonObject, Mgmt, Q};
use axum::Json;
use axum::extract::{Path, State};
use http::StatusCode;
use serde::Deserialize;
use sluice_core::client_grants::GrantFilter;
use sluice_types::ClientGrant;

#[derive(Debug, Deserialize)]
pub struct GrantQuery {
    #[serde(flatten)]
    pub list: ListParams,
    pub client_id: Option<String>,
    pub audience: Option<String>,
}

pub async fn list(
    State(s): State<AppState>,
    m: Mgmt,
    Q(q): Q<GrantQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let filter = GrantFilter {
        client_id: q.client_id,
        audience: q.audience,
    };
    let l = s
        .mgmt
        .client_grant_list(&m.t, &m.actor, filter, q.list.paging()?)
        .await?;
    if q.list.checkpoint() {
        return Ok(Json(checkpointed("client_grants", l)));
    }
    Ok(Json(listed("client_grants", l)))
}

pub async fn create(
    State(s): State<AppState>,
    m: Mgmt,
    JsonObject(b): JsonObject,
) -> ApiResult<(StatusCode, Json<ClientGrant>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.mgmt.client_grant_create(&m.t, &m.actor, b).await?),
    ))
}

pub async fn update(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
    JsonObject(b): JsonObject,
) -> ApiResult<Json<ClientGrant>> {
    Ok(Json(
        s.mgmt.client_grant_update(&m.t, &m.actor, &id, b).await?,
    ))
}

pub async fn remove(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.mgmt.client_grant_delete(&m.t, &m.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
