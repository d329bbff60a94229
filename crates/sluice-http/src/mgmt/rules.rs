//! `/api/v2/rules` and `/api/v2/rules-configs` handlers.

use super::{ListParams, listed};
use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{JsonObject, Mgmt, Q, de_opt_bool};
use axum::Json;
use axum::extract::{Path, State};
use http::StatusCode;
use serde::Deserialize;
use sluice_core::extend::rules::RuleFilter;
use sluice_types::extend::{Rule, RulesConfigKey, RulesConfigValue};

#[derive(Debug, Deserialize)]
pub struct RuleQuery {
    #[serde(flatten)]
    pub list: ListParams,
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub enabled: Option<bool>,
    pub stage: Option<String>,
}

pub async fn list(
    State(s): State<AppState>,
    m: Mgmt,
    Q(q): Q<RuleQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let filter = RuleFilter {
        enabled: q.enabled,
        stage: q.stage,
    };
    let l = s
        .extend
        .rule_list(&m.t, &m.actor, filter, q.list.paging()?)
        .await?;
    Ok(Json(listed("rules", l)))
}

pub async fn create(
    State(s): State<AppState>,
    m: Mgmt,
    JsonObject(b): JsonObject,
) -> ApiResult<(StatusCode, Json<Rule>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.extend.rule_create(&m.t, &m.actor, b).await?),
    ))
}

pub async fn get(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
) -> ApiResult<Json<Rule>> {
    Ok(Json(s.extend.rule_get(&m.t, &m.actor, &id).await?))
}

pub async fn update(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
    JsonObject(b): JsonObject,
) -> ApiResult<Json<Rule>> {
    Ok(Json(s.extend.rule_update(&m.t, &m.actor, &id, b).await?))
}

pub async fn remove(
    State(s): State<AppState>,
    m: Mgmt,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.extend.rule_delete(&m.t, &m.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn config_list(
    State(s): State<AppState>,
    m: Mgmt,
) -> ApiResult<Json<Vec<RulesConfigKey>>> {
    Ok(Json(s.extend.rules_config_list(&m.t, &m.actor).await?))
}

pub async fn config_set(
    State(s): State<AppState>,
    m: Mgmt,
    Path(key): Path<String>,
    JsonObject(b): JsonObject,
) -> ApiResult<Json<RulesConfigValue>> {
    Ok(Json(
        s.extend.rules_config_set(&m.t, &m.actor, &key, b).await?,
    ))
}

pub async fn config_remove(
    State(s): State<AppState>,
    m: Mgmt,
    Path(key): Path<String>,
) -> ApiResult<StatusCode> {
    s.extend.rules_config_delete(&m.t, &m.actor, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}
