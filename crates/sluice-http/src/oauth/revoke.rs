//! `POST /oauth/revoke` (RFC 7009, Auth0's shape): revokes a refresh token and the tokens
//! issued with it. Answers 200 for unknown tokens too, so that token validity cannot be probed.

use super::token::{client_auth, parse_params};
use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Tenant;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use sluice_core::CoreError;
use sluice_core::OAuthErrorKind;

pub async fn revoke(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let p = parse_params(&headers, &body)?;
    let auth = client_auth(&headers, &p)?;
    let token = p.get("token").filter(|t| !t.is_empty()).ok_or_else(|| {
        CoreError::oauth(
            OAuthErrorKind::InvalidRequest,
            "Missing required parameter: token",
        )
    })?;
    s.oidc.refresh_token_revoke(&t, &auth, token).await?;
    Ok(StatusCode::OK.into_response())
}
