//! `/api/v2/hooks` handlers, secrets included.

use super::{ListParams, listed};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonObject, Mgmt, Q, de_opt_bool};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use http::StatusCode;
use serde::Deserialize;
use sluice_core::CoreError;
use sluice_core::extend::hooks::HookFilter;
use sluice_types::JsonMap;
use sluice_types::extend::Hook;

#[derive(Debug, Deserialize)]
pub struct HookQuery {
    #[serde(flatten)]
    pub list: ListParams,
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub enabled: Option<bool>,
    #[serde(rename = "triggerId")]
    pub trigger_id: Option<String>,
}

pub async fn list(
    State(s): State<AppState>,
    m: Mgmt,
    Q(q): Q<HookQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let filter = HookFilter {
        enabled: q.enabled,
        trigger_id: q.trigger_id,
    };
    let l = s
        .extend
        .hook_list(&m.t, &m.actor, filter, q.list.paging()?)
        .await?;
    Ok(Json(listed("hooks", l)))
}

pub async fn create(
    State(s): State<AppState>,
    m: Mgmt,
    JsonObject(b): JsonObject,
) -> ApiResult<(StatusCode, Json<Hook>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.extend.hook_create(&m.t, &m.actor, b).await?),
    ))
}

pub async fn get(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
) -> ApiResult<Json<Hook>> {
    Ok(Json(s.extend.hook_get(&m.t, &m.actor, &id).await?))
}

pub async fn update(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
    JsonObject(b): JsonObject,
) -> ApiResult<Json<Hook>> {
    Ok(Json(s.extend.hook_update(&m.t, &m.actor, &id, b).await?))
}

pub async fn remove(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.extend.hook_delete(&m.t, &m.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn secrets_get(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
) -> ApiResult<Json<JsonMap>> {
    Ok(Json(s.extend.hook_secrets_get(&m.t, &m.actor, &id).await?))
}

/// Auth0 answers 201 with no body.
pub async fn secrets_add(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
    JsonObject(b): JsonObject,
) -> ApiResult<StatusCode> {
    s.extend.hook_secrets_add(&m.t, &m.actor, &id, b).await?;
    Ok(StatusCode::CREATED)
}

/// Auth0 answers 201 with no body.
pub async fn secrets_update(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
    JsonObject(b): JsonObject,
) -> ApiResult<StatusCode> {
    s.extend.hook_secrets_update(&m.t, &m.actor, &id, b).await?;
    Ok(StatusCode::CREATED)
}

/// The body is a JSON array of secret names.
pub async fn secrets_remove(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let names = if body.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError(CoreError::BadRequest {
                code: "invalid_body",
                message: format!("Invalid JSON: {e}"),
            })
        })?
    };
    s.extend
        .hook_secrets_delete(&m.t, &m.actor, &id, names)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
