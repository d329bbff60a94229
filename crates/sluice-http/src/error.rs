//! The single mapping from `CoreError` to HTTP: Management API errors get Auth0's
//! `{statusCode, error, message, errorCode}`, Authentication API errors `{error,
//! error_description}`. Internal details are logged with the request's span, never returned.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use sluice_core::CoreError;
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
            CoreError::OAuth {
                status,
                error,
                description,
            } => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
                let mut r = (
                    status,
                    Json(OAuthErrorBody {
                        error: error.into(),
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

/// 404 for unknown paths, in the Management API's shape.
pub async fn not_found_fallback() -> Response {
    mgmt(StatusCode::NOT_FOUND, "Not Found".into(), None)
}
