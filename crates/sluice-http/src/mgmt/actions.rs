//! `/api/v2/actions/...` handlers: actions, deploy, triggers and trigger bindings.

use super::ListParams;
use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{JsonObject, Mgmt, Q, de_bool, de_opt_bool};
use axum::Json;
use axum::extract::{Path, State};
use http::StatusCode;
use serde::Deserialize;
use sluice_core::extend::actions::ActionFilter;
use sluice_types::extend::{
    Action, ActionList, ActionTriggerList, ActionVersion, BindingList, BindingsUpdated,
};

#[derive(Debug, Deserialize)]
pub struct ActionQuery {
    #[serde(flatten)]
    pub list: ListParams,
    #[serde(rename = "triggerId")]
    pub trigger_id: Option<String>,
    #[serde(rename = "actionName")]
    pub action_name: Option<String>,
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub deployed: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub struct DeleteQuery {
    #[serde(default, deserialize_with = "de_bool")]
    pub force: bool,
}

pub async fn list(
    State(s): State<AppState>,
    m: Mgmt,
    Q(q): Q<ActionQuery>,
) -> ApiResult<Json<ActionList>> {
    let filter = ActionFilter {
        trigger_id: q.trigger_id,
        action_name: q.action_name,
        deployed: q.deployed,
    };
    Ok(Json(
        s.extend
            .action_list(&m.t, &m.actor, filter, q.list.paging()?)
            .await?,
    ))
}

pub async fn create(
    State(s): State<AppState>,
    m: Mgmt,
    JsonObject(b): JsonObject,
) -> ApiResult<(StatusCode, Json<Action>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.extend.action_create(&m.t, &m.actor, b).await?),
    ))
}

pub async fn get(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
) -> ApiResult<Json<Action>> {
    Ok(Json(s.extend.action_get(&m.t, &m.actor, &id).await?))
}

pub async fn update(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
    JsonObject(b): JsonObject,
) -> ApiResult<Json<Action>> {
    Ok(Json(s.extend.action_update(&m.t, &m.actor, &id, b).await?))
}

pub async fn remove(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
    Q(q): Q<DeleteQuery>,
) -> ApiResult<StatusCode> {
    s.extend.action_delete(&m.t, &m.actor, &id, q.force).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Auth0 answers 202 with the new version.
pub async fn deploy(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<ActionVersion>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(s.extend.action_deploy(&m.t, &m.actor, &id).await?),
    ))
}

pub async fn triggers(State(s): State<AppState>, m: Mgmt) -> ApiResult<Json<ActionTriggerList>> {
    Ok(Json(s.extend.action_triggers(&m.t, &m.actor).await?))
}

pub async fn bindings_get(
    State(s): State<AppState>,
    m: Mgmt,
    Path(trigger): Path<String>,
    Q(p): Q<ListParams>,
) -> ApiResult<Json<BindingList>> {
    Ok(Json(
        s.extend
            .bindings_get(&m.t, &m.actor, &trigger, p.paging()?)
            .await?,
    ))
}

pub async fn bindings_update(
    State(s): State<AppState>,
    m: Mgmt,
    Path(trigger): Path<String>,
    JsonObject(b): JsonObject,
) -> ApiResult<Json<BindingsUpdated>> {
    Ok(Json(
        s.extend
            .bindings_update(&m.t, &m.actor, &trigger, b)
            .await?,
    ))
}
