//! CORS for single-page applications. Discovery and the JWKS are public (`*`). The token,
//! userinfo and revocation endpoints answer cross-origin requests, preflights included, only
//! for an origin listed in some client's `web_origins` (or `allowed_origins`) of the tenant;
//! other origins get no CORS headers, so the browser blocks the response.

use crate::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, StatusCode, header};

const PUBLIC: &[&str] = &[
    "/.well-known/openid-configuration",
    "/.well-known/jwks.json",
];
const CREDENTIALED: &[&str] = &["/oauth/token", "/oauth/revoke", "/userinfo"];

pub async fn cors(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let Some(origin) = origin else {
        return next.run(req).await;
    };
    let allow = if PUBLIC.contains(&path.as_str()) {
        Some(HeaderValue::from_static("*"))
    } else if CREDENTIALED.contains(&path.as_str()) {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_string);
        let ok = match s.core.tenant_for_host(host.as_deref()).await {
            Ok(t) => s
                .core
                .cors_origin_allowed(&t, &origin)
                .await
                .unwrap_or(false),
            Err(_) => false,
        };
        ok.then(|| HeaderValue::from_str(&origin).ok()).flatten()
    } else {
        None
    };
    let preflight = req.method() == Method::OPTIONS;
    let mut r = if preflight && allow.is_some() {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(req).await
    };
    if let Some(v) = allow {
        let h = r.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        h.append(header::VARY, HeaderValue::from_static("Origin"));
        if preflight {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, OPTIONS"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("Authorization, Content-Type, Auth0-Client"),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("86400"),
            );
        }
    }
    r
}
