//! `/api/v2/keys/signing` handlers: list and get a tenant's signing keys, rotate them, revoke a
//! previous key.

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Mgmt;
use axum::Json;
use axum::extract::{Path, State};
use http::StatusCode;
use sluice_types::{SigningKey, SigningKeyRef};

pub async fn list(State(s): State<AppState>, m: Mgmt) -> ApiResult<Json<Vec<SigningKey>>> {
    Ok(Json(s.mgmt.signing_key_list(&m.t, &m.actor).await?))
}

pub async fn get(
    State(s): State<AppState>,
    m: Mgmt,
    Path(kid): Path<String>,
) -> ApiResult<Json<SigningKey>> {
    Ok(Json(s.mgmt.signing_key_get(&m.t, &m.actor, &kid).await?))
}

pub async fn rotate(
    State(s): State<AppState>,
    m: Mgmt,
) -> ApiResult<(StatusCode, Json<SigningKeyRef>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.mgmt.signing_key_rotate(&m.t, &m.actor).await?),
    ))
}

pub async fn revoke(
    State(s): State<AppState>,
    m: Mgmt,
    Path(kid): Path<String>,
) -> ApiResult<Json<SigningKeyRef>> {
    Ok(Json(s.mgmt.signing_key_revoke(&m.t, &m.actor, &kid).await?))
}
