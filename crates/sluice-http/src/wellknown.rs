//! `/.well-known/jwks.json` (the tenant's public signing keys) and
//! `/.well-known/openid-configuration` (what this server actually supports, nothing more).

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Tenant;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/jwks.json", get(jwks))
        .route("/.well-known/openid-configuration", get(discovery))
}

async fn jwks(Tenant(t): Tenant) -> Response {
    let mut r = Json(&t.jwks).into_response();
    r.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("public, max-age=300"),
    );
    r
}

async fn discovery(
    State(_s): State<AppState>,
    Tenant(t): Tenant,
) -> ApiResult<Json<serde_json::Value>> {
    let base = &t.base_url;
    Ok(Json(serde_json::json!({
        "issuer": t.issuer,
        "token_endpoint": format!("{base}/oauth/token"),
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "grant_types_supported": ["client_credentials", "password", "http://auth0.com/oauth/grant-type/password-realm"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": [],
        "subject_types_supported": ["public"],
    })))
}
