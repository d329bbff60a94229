//! `GET /api/v2/openapi.json`: an OpenAPI 3.1 document of the Management API, generated from
//! [`crate::mgmt::ROUTES`] (the same table the router is built from).

use crate::AppState;
use crate::mgmt::ROUTES;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v2/openapi.json", get(|| async { Json(document()) }))
}

/// The document; `x-required-scopes` lists the scopes of each operation (any one suffices).
pub fn document() -> Value {
    let mut paths = Map::new();
    for r in ROUTES {
        let entry = paths.entry(r.path.to_string()).or_insert_with(|| json!({}));
        let params: Vec<Value> = r
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut op = json!({
            "summary": r.summary,
            "tags": [r.tag],
            "operationId": format!("{}_{}", r.method.to_lowercase(), r.path.trim_start_matches("/api/v2/").replace(['/', '-'], "_").replace(['{', '}'], "")),
            "security": [{"bearerAuth": r.scopes}],
            "x-required-scopes": r.scopes,
            "responses": {
                "400": {"$ref": "#/components/responses/Error"},
                "401": {"$ref": "#/components/responses/Error"},
                "403": {"$ref": "#/components/responses/Error"},
            },
        });
        if !params.is_empty() {
            op["parameters"] = Value::Array(params);
        }
        if matches!(r.method, "POST" | "PATCH") {
            op["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"type": "object"}}}});
        }
        let ok = match r.method {
            "POST" if r.path.ends_with("/deploy") => "202",
            "PATCH" if r.path.ends_with("/secrets") => "201",
            "POST" if !r.path.ends_with("rotate-secret") => "201",
            "DELETE" => "204",
            _ => "200",
        };
        op["responses"][ok] = json!({"description": "Success"});
        entry[r.method.to_lowercase()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Sluice Management API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Auth0 Management API v2 compatible subset served by Sluice."},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": {"Error": {"type": "object", "required": ["statusCode", "error", "message"], "properties": {
                "statusCode": {"type": "integer"}, "error": {"type": "string"},
                "message": {"type": "string"}, "errorCode": {"type": "string"}}}},
            "responses": {"Error": {"description": "Auth0-shaped error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
        },
    })
}
