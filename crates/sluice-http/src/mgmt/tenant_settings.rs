//! `/api/v2/tenants/settings` handlers.

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{JsonObject, Mgmt};
use axum::Json;
use axum::extract::State;
use sluice_types::JsonMap;

pub async fn get(State(s): State<AppState>, m: Mgmt) -> ApiResult<Json<JsonMap>> {
    Ok(Json(s.mgmt.tenant_settings_get(&m.t, &m.actor).await?))
}

pub async fn update(
    State(s): State<AppState>,
    m: Mgmt,
    JsonObject(b): JsonObject,
) -> ApiResult<Json<JsonMap>> {
    Ok(Json(
        s.mgmt.tenant_settings_update(&m.t, &m.actor, b).await?,
    ))
}
