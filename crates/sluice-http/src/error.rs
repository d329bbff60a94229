//! The single mapping from `CoreError` to HTTP status (and, with [`oauth_status`], of every
//! Authentication API error kind): Management API errors get Auth0's
//! `{statusCode, error, message, errorCode}`, Authentication API errors `{error,
//! error_description}`. Internal details are logged with the request's span, never returned.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use sluice_core::{CoreError, OAuthErrorKind};
use sluice_types::{MgmtErrorBody, OAuthErrorBody};

/// An error on its way out of a handler.
#[derive(Debug)]
pub struct ApiError(pub CoreError);

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        ApiError(e)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

fn mgmt(status: StatusCode, message: String, code: Option<&str>) -> Response {
    let body = MgmtErrorBody {
        status_code: status.as_u16(),
        error: status.canonical_reason().unwrap_or("Error").to_string(),
        message,
        error_code: code.map(str::to_string),
    };
    (status, Json(body)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self.0 {
            CoreError::BadRequest { code, message } => {
                mgmt(StatusCode::BAD_REQUEST, message, Some(code))
            }
            CoreError::Unauthorized { message } => mgmt(StatusCode::UNAUTHORIZED, message, None),
            CoreError::Forbidden { code, message } => {
                mgmt(StatusCode::FORBIDDEN, message, Some(code))
            }
            CoreError::NotFound { code, message } => {
                mgmt(StatusCode::NOT_FOUND, message, Some(code))
            }
            CoreError::Conflict { code, message } => {
                mgmt(StatusCode::CONFLICT, message, Some(code))
            }
            CoreError::OAuth { kind, description } => {
                let mut r = (
                    oauth_status(kind),
                    Json(OAuthErrorBody {
                        error: kind.code().into(),
                        error_description: description,
                    }),
                )
                    .into_response();
                r.headers_mut().insert(
                    http::header::CACHE_CONTROL,
                    http::HeaderValue::from_static("no-store"),
                );
                r
            }
            CoreError::PasswordTooWeak => mgmt(
                StatusCode::BAD_REQUEST,
                "PasswordStrengthError: Password is too weak".into(),
                Some("invalid_body"),
            ),
            CoreError::Unavailable { internal } => {
                tracing::error!(error = %internal, "dependency unavailable");
                mgmt(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The service is temporarily unavailable.".into(),
                    Some("unavailable"),
                )
            }
            CoreError::Internal { internal } => {
                tracing::error!(error = %internal, "internal error");
                mgmt(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal error.".into(),
                    Some("internal_error"),
                )
            }
        }
    }
}

/// The status Auth0 answers each Authentication API error with.
pub fn oauth_status(kind: OAuthErrorKind) -> StatusCode {
    use OAuthErrorKind::*;
    match kind {
        InvalidRequest | UnsupportedGrantType => StatusCode::BAD_REQUEST,
        InvalidClient | Unauthenticated | Unauthorized => StatusCode::UNAUTHORIZED,
        RefusedRequest | AccessDenied | InvalidGrant | InvalidScope | UnauthorizedClient
        | ActionServerError => StatusCode::FORBIDDEN,
        TooManyAttempts | TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// 404 for unknown paths, in the Management API's shape.
pub async fn not_found_fallback() -> Response {
    mgmt(StatusCode::NOT_FOUND, "Not Found".into(), None)
}
