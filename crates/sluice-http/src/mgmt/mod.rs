//! The Management API (`/api/v2/...`) in Auth0's shapes. [`ROUTES`] is the one list of its
//! operations: the router is built from it and so is the OpenAPI document, so neither can miss
//! an operation the other has. Authorization is checked in sluice-core, first thing in each
//! operation; `scope` here documents it.

pub mod actions;
pub mod client_grants;
pub mod clients;
pub mod connections;
pub mod hooks;
pub mod logs;
pub mod resource_servers;
pub mod rules;
pub mod signing_keys;
pub mod tenant_settings;
pub mod user_blocks;
pub mod users;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{de_bool, de_opt_i64};
use axum::Router;
use axum::routing::MethodRouter;
use serde::Deserialize;
use sluice_core::CoreError;
use sluice_core::paging::{Listed, PageQuery};

/// One Management API operation.
pub struct Route {
    pub method: &'static str,
    /// Path in OpenAPI/axum template syntax, e.g. `/api/v2/clients/{id}`.
    pub path: &'static str,
    /// The scope that allows it (any one of these).
    pub scopes: &'static [&'static str],
    pub summary: &'static str,
    pub tag: &'static str,
    pub handler: fn() -> MethodRouter<AppState>,
}

macro_rules! route {
    ($m:literal, $path:literal, [$($s:literal),*], $tag:literal, $summary:literal, $method:ident($h:path)) => {
        Route { method: $m, path: $path, scopes: &[$($s),*], summary: $summary, tag: $tag, handler: || axum::routing::$method($h) }
    };
}

pub const ROUTES: &[Route] = &[
    route!(
        "GET",
        "/api/v2/clients",
        ["read:clients", "read:client_keys"],
        "clients",
        "List clients",
        get(clients::list)
    ),
    route!(
        "POST",
        "/api/v2/clients",
        ["create:clients"],
        "clients",
        "Create a client",
        post(clients::create)
    ),
    route!(
        "GET",
        "/api/v2/clients/{id}",
        ["read:clients", "read:client_keys"],
        "clients",
        "Get a client",
        get(clients::get)
    ),
    route!(
        "PATCH",
        "/api/v2/clients/{id}",
        ["update:clients"],
        "clients",
        "Update a client",
        patch(clients::update)
    ),
    route!(
        "DELETE",
        "/api/v2/clients/{id}",
        ["delete:clients"],
        "clients",
        "Delete a client",
        delete(clients::remove)
    ),
    route!(
        "POST",
        "/api/v2/clients/{id}/rotate-secret",
        ["update:client_keys"],
        "clients",
        "Rotate a client secret",
        post(clients::rotate_secret)
    ),
    route!(
        "GET",
        "/api/v2/connections",
        ["read:connections"],
        "connections",
        "List connections",
        get(connections::list)
    ),
    route!(
        "POST",
        "/api/v2/connections",
        ["create:connections"],
        "connections",
        "Create a connection",
        post(connections::create)
    ),
    route!(
        "GET",
        "/api/v2/connections/{id}",
        ["read:connections"],
        "connections",
        "Get a connection",
        get(connections::get)
    ),
    route!(
        "PATCH",
        "/api/v2/connections/{id}",
        ["update:connections"],
        "connections",
        "Update a connection",
        patch(connections::update)
    ),
    route!(
        "DELETE",
        "/api/v2/connections/{id}",
        ["delete:connections"],
        "connections",
        "Delete a connection",
        delete(connections::remove)
    ),
    route!(
        "GET",
        "/api/v2/connections/{id}/migration",
        ["read:connections"],
        "connections",
        "Migration progress of a custom database connection (Sluice extension)",
        get(connections::migration)
    ),
    route!(
        "GET",
        "/api/v2/resource-servers",
        ["read:resource_servers"],
        "resource-servers",
        "List APIs",
        get(resource_servers::list)
    ),
    route!(
        "POST",
        "/api/v2/resource-servers",
        ["create:resource_servers"],
        "resource-servers",
        "Create an API",
        post(resource_servers::create)
    ),
    route!(
        "GET",
        "/api/v2/resource-servers/{id}",
        ["read:resource_servers"],
        "resource-servers",
        "Get an API",
        get(resource_servers::get)
    ),
    route!(
        "PATCH",
        "/api/v2/resource-servers/{id}",
        ["update:resource_servers"],
        "resource-servers",
        "Update an API",
        patch(resource_servers::update)
    ),
    route!(
        "DELETE",
        "/api/v2/resource-servers/{id}",
        ["delete:resource_servers"],
        "resource-servers",
        "Delete an API",
        delete(resource_servers::remove)
    ),
    route!(
        "GET",
        "/api/v2/client-grants",
        ["read:client_grants"],
        "client-grants",
        "List client grants",
        get(client_grants::list)
    ),
    route!(
        "POST",
        "/api/v2/client-grants",
        ["create:client_grants"],
        "client-grants",
        "Create a client grant",
        post(client_grants::create)
    ),
    route!(
        "PATCH",
        "/api/v2/client-grants/{id}",
        ["update:client_grants"],
        "client-grants",
        "Update a client grant",
        patch(client_grants::update)
    ),
    route!(
        "DELETE",
        "/api/v2/client-grants/{id}",
        ["delete:client_grants"],
        "client-grants",
        "Delete a client grant",
        delete(client_grants::remove)
    ),
    route!(
        "GET",
        "/api/v2/users",
        ["read:users"],
        "users",
        "List or search users",
        get(users::list)
    ),
    route!(
        "POST",
        "/api/v2/users",
        ["create:users"],
        "users",
        "Create a user",
        post(users::create)
    ),
    route!(
        "GET",
        "/api/v2/users/{id}",
        ["read:users"],
        "users",
        "Get a user",
        get(users::get)
    ),
    route!(
        "PATCH",
        "/api/v2/users/{id}",
        ["update:users", "update:users_app_metadata"],
        "users",
        "Update a user",
        patch(users::update)
    ),
    route!(
        "DELETE",
        "/api/v2/users/{id}",
        ["delete:users"],
        "users",
        "Delete a user",
        delete(users::remove)
    ),
    route!(
        "GET",
        "/api/v2/users-by-email",
        ["read:users"],
        "users",
        "Find users by email",
        get(users::by_email)
    ),
    route!(
        "GET",
        "/api/v2/tenants/settings",
        ["read:tenant_settings"],
        "tenants",
        "Get tenant settings",
        get(tenant_settings::get)
    ),
    route!(
        "PATCH",
        "/api/v2/tenants/settings",
        ["update:tenant_settings"],
        "tenants",
        "Update tenant settings",
        patch(tenant_settings::update)
    ),
    route!(
        "GET",
        "/api/v2/logs",
        ["read:logs"],
        "logs",
        "Search tenant log events",
        get(logs::list)
    ),
    route!(
        "GET",
        "/api/v2/logs/{id}",
        ["read:logs"],
        "logs",
        "Get a log event",
        get(logs::get)
    ),
    route!(
        "GET",
        "/api/v2/user-blocks",
        ["read:users"],
        "user-blocks",
        "Get blocks by identifier",
        get(user_blocks::get_by_identifier)
    ),
    route!(
        "DELETE",
        "/api/v2/user-blocks",
        ["update:users"],
        "user-blocks",
        "Unblock by identifier",
        delete(user_blocks::remove_by_identifier)
    ),
    route!(
        "GET",
        "/api/v2/user-blocks/{id}",
        ["read:users"],
        "user-blocks",
        "Get a user's blocks",
        get(user_blocks::get)
    ),
    route!(
        "DELETE",
        "/api/v2/user-blocks/{id}",
        ["update:users"],
        "user-blocks",
        "Unblock a user",
        delete(user_blocks::remove)
    ),
    route!(
        "GET",
        "/api/v2/keys/signing",
        ["read:signing_keys"],
        "keys",
        "List the application signing keys",
        get(signing_keys::list)
    ),
    route!(
        "GET",
        "/api/v2/keys/signing/{kid}",
        ["read:signing_keys"],
        "keys",
        "Get an application signing key",
        get(signing_keys::get)
    ),
    route!(
        "POST",
        "/api/v2/keys/signing/rotate",
        ["create:signing_keys"],
        "keys",
        "Rotate the application signing key",
        post(signing_keys::rotate)
    ),
    route!(
        "PUT",
        "/api/v2/keys/signing/{kid}/revoke",
        ["update:signing_keys"],
        "keys",
        "Revoke a previous application signing key",
        put(signing_keys::revoke)
    ),
    route!(
        "GET",
        "/api/v2/rules",
        ["read:rules"],
        "rules",
        "List rules",
        get(rules::list)
    ),
    route!(
        "POST",
        "/api/v2/rules",
        ["create:rules"],
        "rules",
        "Create a rule",
        post(rules::create)
    ),
    route!(
        "GET",
        "/api/v2/rules/{id}",
        ["read:rules"],
        "rules",
        "Get a rule",
        get(rules::get)
    ),
    route!(
        "PATCH",
        "/api/v2/rules/{id}",
        ["update:rules"],
        "rules",
        "Update a rule",
        patch(rules::update)
    ),
    route!(
        "DELETE",
        "/api/v2/rules/{id}",
        ["delete:rules"],
        "rules",
        "Delete a rule",
        delete(rules::remove)
    ),
    route!(
        "GET",
        "/api/v2/rules-configs",
        ["read:rules_configs"],
        "rules-configs",
        "List rules configuration keys",
        get(rules::config_list)
    ),
    route!(
        "PUT",
        "/api/v2/rules-configs/{key}",
        ["update:rules_configs"],
        "rules-configs",
        "Set a rules configuration value",
        put(rules::config_set)
    ),
    route!(
        "DELETE",
        "/api/v2/rules-configs/{key}",
        ["delete:rules_configs"],
        "rules-configs",
        "Delete a rules configuration value",
        delete(rules::config_remove)
    ),
    route!(
        "GET",
        "/api/v2/hooks",
        ["read:hooks"],
        "hooks",
        "List hooks",
        get(hooks::list)
    ),
    route!(
        "POST",
        "/api/v2/hooks",
        ["create:hooks"],
        "hooks",
        "Create a hook",
        post(hooks::create)
    ),
    route!(
        "GET",
        "/api/v2/hooks/{id}",
        ["read:hooks"],
        "hooks",
        "Get a hook",
        get(hooks::get)
    ),
    route!(
        "PATCH",
        "/api/v2/hooks/{id}",
        ["update:hooks"],
        "hooks",
        "Update a hook",
        patch(hooks::update)
    ),
    route!(
        "DELETE",
        "/api/v2/hooks/{id}",
        ["delete:hooks"],
        "hooks",
        "Delete a hook",
        delete(hooks::remove)
    ),
    route!(
        "GET",
        "/api/v2/hooks/{id}/secrets",
        ["read:hooks"],
        "hooks",
        "Get a hook's secret names",
        get(hooks::secrets_get)
    ),
    route!(
        "POST",
        "/api/v2/hooks/{id}/secrets",
        ["create:hooks"],
        "hooks",
        "Add hook secrets",
        post(hooks::secrets_add)
    ),
    route!(
        "PATCH",
        "/api/v2/hooks/{id}/secrets",
        ["update:hooks"],
        "hooks",
        "Update hook secrets",
        patch(hooks::secrets_update)
    ),
    route!(
        "DELETE",
        "/api/v2/hooks/{id}/secrets",
        ["delete:hooks"],
        "hooks",
        "Delete hook secrets",
        delete(hooks::secrets_remove)
    ),
    route!(
        "GET",
        "/api/v2/actions/actions",
        ["read:actions"],
        "actions",
        "List actions",
        get(actions::list)
    ),
    route!(
        "POST",
        "/api/v2/actions/actions",
        ["create:actions"],
        "actions",
        "Create an action",
        post(actions::create)
    ),
    route!(
        "GET",
        "/api/v2/actions/actions/{id}",
        ["read:actions"],
        "actions",
        "Get an action",
        get(actions::get)
    ),
    route!(
        "PATCH",
        "/api/v2/actions/actions/{id}",
        ["update:actions"],
        "actions",
        "Update an action",
        patch(actions::update)
    ),
    route!(
        "DELETE",
        "/api/v2/actions/actions/{id}",
        ["delete:actions"],
        "actions",
        "Delete an action",
        delete(actions::remove)
    ),
    route!(
        "POST",
        "/api/v2/actions/actions/{id}/deploy",
        ["create:actions"],
        "actions",
        "Deploy an action",
        post(actions::deploy)
    ),
    route!(
        "GET",
        "/api/v2/actions/triggers",
        ["read:actions"],
        "actions",
        "List action triggers",
        get(actions::triggers)
    ),
    route!(
        "GET",
        "/api/v2/actions/triggers/{triggerId}/bindings",
        ["read:actions"],
        "actions",
        "Get a trigger's bindings",
        get(actions::bindings_get)
    ),
    route!(
        "PATCH",
        "/api/v2/actions/triggers/{triggerId}/bindings",
        ["update:actions"],
        "actions",
        "Replace a trigger's bindings",
        patch(actions::bindings_update)
    ),
];

pub fn router() -> Router<AppState> {
    ROUTES.iter().fold(Router::new(), |r, route| {
        r.route(route.path, (route.handler)())
    })
}

/// Paging parameters shared by list operations: offset paging (`page`, `per_page`,
/// `include_totals`) and checkpoint paging (`from`, `take`).
#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub page: Option<i64>,
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub per_page: Option<i64>,
    #[serde(default, deserialize_with = "de_bool")]
    pub include_totals: bool,
    /// Checkpoint pagination: page size.
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub take: Option<i64>,
    /// Checkpoint pagination: the `next` value of the previous page.
    #[serde(default)]
    pub from: Option<String>,
}

impl ListParams {
    /// Whether the caller uses checkpoint pagination (`from`/`take`).
    pub fn checkpoint(&self) -> bool {
        self.take.is_some() || self.from.is_some()
    }

    pub fn paging(&self) -> Result<PageQuery, ApiError> {
        if self.checkpoint() {
            let offset = match self.from.as_deref() {
                None | Some("") => 0,
                Some(f) => f.parse::<i64>().map_err(|_| {
                    ApiError(CoreError::bad_query(
                        "Query validation error: 'from' is not a valid checkpoint.",
                    ))
                })?,
            };
            return Ok(PageQuery {
                page: None,
                per_page: self.take,
                include_totals: false,
                offset: Some(offset),
            });
        }
        Ok(PageQuery {
            page: self.page,
            per_page: self.per_page,
            include_totals: self.include_totals,
            offset: None,
        })
    }
}

/// A checkpoint-paginated list: `{<key>: [...], next?}`; `next` is present while more remain.
pub fn checkpointed<T: serde::Serialize>(key: &str, l: Listed<T>) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    let end = l.start + l.items.len() as i64;
    let items = serde_json::to_value(&l.items).unwrap_or_else(|_| serde_json::json!([]));
    m.insert(key.into(), items);
    if end < l.total && !l.items.is_empty() {
        m.insert("next".into(), end.to_string().into());
    }
    serde_json::Value::Object(m)
}

/// A list as Auth0 returns it: a plain array, or `{<key>: [...], start, limit, total}` with
/// `include_totals=true`.
pub fn listed<T: serde::Serialize>(key: &str, l: Listed<T>) -> serde_json::Value {
    let items = serde_json::to_value(&l.items).unwrap_or_else(|_| serde_json::json!([]));
    if !l.include_totals {
        return items;
    }
    let mut m = serde_json::Map::new();
    m.insert(key.into(), items);
    m.insert("start".into(), l.start.into());
    m.insert("limit".into(), l.limit.into());
    m.insert("total".into(), l.total.into());
    serde_json::Value::Object(m)
}
