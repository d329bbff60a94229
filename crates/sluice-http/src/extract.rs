//! Request extractors: the tenant a request addresses (Host header), the authenticated
//! Management API caller (bearer token), a JSON object body and query strings — each rejecting
//! bad input with Auth0's error body instead of axum's plain-text rejections.

use crate::AppState;
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use http::request::Parts;
use serde::de::DeserializeOwned;
use sluice_core::authz::Actor;
use sluice_core::{CoreError, TenantCtx};
use sluice_types::JsonMap;
use std::sync::Arc;

/// The tenant addressed by the request's Host header.
pub struct Tenant(pub Arc<TenantCtx>);

impl<S> FromRequestParts<S> for Tenant
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let app = AppState::from_ref(state);
        let host = parts
            .headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| parts.uri.authority().map(|a| a.as_str()));
        Ok(Tenant(app.core.tenant_for_host(host).await?))
    }
}

/// A Management API call: its tenant and the caller, authenticated by a bearer token of that
/// tenant for the Management API audience.
pub struct Mgmt {
    pub t: Arc<TenantCtx>,
    pub actor: Actor,
}

/// The bearer token of an `Authorization` header, if any.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts
        .headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl<S> FromRequestParts<S> for Mgmt
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Tenant(t) = Tenant::from_request_parts(parts, state).await?;
        let token = bearer(parts).ok_or_else(|| CoreError::Unauthorized {
            message: "Missing authentication".into(),
        })?;
        let app = AppState::from_ref(state);
        let actor = app.core.mgmt_actor(&t, token)?;
        Ok(Mgmt { t, actor })
    }
}

/// A JSON object request body.
pub struct JsonObject(pub JsonMap);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            ApiError(CoreError::BadRequest {
                code: "invalid_body",
                message: format!("Invalid request body: {e}"),
            })
        })?;
        if bytes.is_empty() {
            return Ok(JsonObject(JsonMap::new()));
        }
        match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(serde_json::Value::Object(m)) => Ok(JsonObject(m)),
            Ok(other) => Err(ApiError(CoreError::payload(format!(
                "Expected type object but found type {}",
                json_type(&other)
            )))),
            Err(e) => Err(ApiError(CoreError::BadRequest {
                code: "invalid_body",
                message: format!("Invalid JSON: {e}"),
            })),
        }
    }
}

fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// A query string parsed into `T`, with Auth0's "Query validation error" on failure.
pub struct Q<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or_default();
        let pairs: Vec<(String, String)> =
            form_urlencoded::parse(q.as_bytes()).into_owned().collect();
        let map: JsonMap = pairs
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        serde_json::from_value(serde_json::Value::Object(map))
            .map(Q)
            .map_err(|e| ApiError(CoreError::bad_query(format!("Query validation error: {e}"))))
    }
}

/// Parses "true"/"false" query values (query strings carry strings only).
pub fn de_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let s: Option<String> = serde::Deserialize::deserialize(d)?;
    match s.as_deref() {
        None | Some("false") | Some("") => Ok(false),
        Some("true") => Ok(true),
        Some(o) => Err(serde::de::Error::custom(format!(
            "expected true or false, got '{o}'"
        ))),
    }
}

/// Parses an optional "true"/"false" query value (absent: no filter).
pub fn de_opt_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let s: Option<String> = serde::Deserialize::deserialize(d)?;
    match s.as_deref() {
        None | Some("") => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(o) => Err(serde::de::Error::custom(format!(
            "expected true or false, got '{o}'"
        ))),
    }
}

/// Parses an optional integer query value.
pub fn de_opt_i64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let s: Option<String> = serde::Deserialize::deserialize(d)?;
    match s.as_deref() {
        None | Some("") => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("'{v}' is not an integer"))),
    }
}

/// The peer's IP address, when the server was started with connection info (the real server
/// always is; in-process router tests are not).
pub struct ClientIp(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip().to_string()),
        ))
    }
}
