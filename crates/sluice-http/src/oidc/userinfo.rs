//! `GET|POST /userinfo`: the user's claims for an access token whose audience includes
//! `/userinfo`, by the token's scopes. Errors as OAuth bearer errors (RFC 6750).

use crate::AppState;
use crate::extract::{Tenant, bearer};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};

pub async fn userinfo(State(s): State<AppState>, Tenant(t): Tenant, parts: Parts) -> Response {
    let Some(token) = bearer(&parts) else {
        return unauthorized("invalid_request", "Missing bearer token");
    };
    match s.oidc.userinfo(&t, token).await {
        Ok(claims) => {
            let mut r = Json(claims).into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(sluice_core::CoreError::Unauthorized { .. }) => {
            unauthorized("invalid_token", "The access token is invalid or expired")
        }
        Err(e) => crate::error::ApiError(e).into_response(),
    }
}

fn unauthorized(code: &str, description: &str) -> Response {
    let mut r = (StatusCode::UNAUTHORIZED, description.to_string()).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "Bearer error=\"{code}\", error_description=\"{description}\""
    )) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r
}
