//! `/api/v2/users` and `/api/v2/users-by-email` handlers. The users list adds Auth0's `length`
//! to the totals object.

use super::ListParams;
use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{JsonObject, Mgmt, Q};
use axum::Json;
use axum::extract::{Path, State};
use http::StatusCode;
use serde::Deserialize;
use sluice_types::User;

#[derive(Debug, Deserialize)]
pub struct UserQuery {
    #[serde(flatten)]
    pub list: ListParams,
    pub q: Option<String>,
    /// Accepted for compatibility; `v3` semantics are used.
    pub search_engine: Option<String>,
    pub connection: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct EmailQuery {
    #[serde(default)]
    pub email: String,
}

pub async fn list(
    State(s): State<AppState>,
    m: Mgmt,
    Q(q): Q<UserQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let l = s
        .mgmt
        .user_list(
            &m.t,
            &m.actor,
            q.q.as_deref(),
            q.connection.as_deref(),
            q.list.paging()?,
        )
        .await?;
    if !l.include_totals {
        return Ok(Json(serde_json::to_value(&l.items).unwrap_or_default()));
    }
    Ok(Json(serde_json::json!({
        "users": l.items, "start": l.start, "limit": l.limit, "length": l.items.len(), "total": l.total
    })))
}

pub async fn create(
    State(s): State<AppState>,
    m: Mgmt,
    JsonObject(b): JsonObject,
) -> ApiResult<(StatusCode, Json<User>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.mgmt.user_create(&m.t, &m.actor, b).await?),
    ))
}

pub async fn get(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
) -> ApiResult<Json<User>> {
    Ok(Json(s.mgmt.user_get(&m.t, &m.actor, &id).await?))
}

pub async fn update(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
    JsonObject(b): JsonObject,
) -> ApiResult<Json<User>> {
    Ok(Json(s.mgmt.user_update(&m.t, &m.actor, &id, b).await?))
}

pub async fn remove(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.mgmt.user_delete(&m.t, &m.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn by_email(
    State(s): State<AppState>,
    m: Mgmt,
    Q(q): Q<EmailQuery>,
) -> ApiResult<Json<Vec<User>>> {
    Ok(Json(
        s.mgmt.user_list_by_email(&m.t, &m.actor, &q.email).await?,
    ))
}
