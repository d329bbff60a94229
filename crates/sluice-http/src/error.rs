//! The single mapping from `CoreError` to HTTP, for JSON and pages alike: the status of every
//! error (and, with [`oauth_status`], of every Authentication API error kind), and its body —
//! [`signup_error`] for `/dbconnections/signup`, [`user_message`] for the login pages, and else
//! ApiError's `IntoResponse`. Management API errors get Auth0's
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
            CoreError::ScriptRefused { code, message } => {
                mgmt(StatusCode::BAD_REQUEST, message, Some(&code))
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

/// `POST /dbconnections/signup`'s errors in Auth0's signup body
/// `{name, code, description, statusCode}`; anything else as [`ApiError`].
pub fn signup_error(e: CoreError) -> Response {
    let (status, name, code, description) = match e {
        CoreError::Conflict { message, .. } => (
            StatusCode::BAD_REQUEST,
            "BadRequestError",
            "user_exists".to_string(),
            message,
        ),
        CoreError::PasswordTooWeak => (
            StatusCode::BAD_REQUEST,
            "PasswordStrengthError",
            "invalid_password".into(),
            "Password is too weak".into(),
        ),
        CoreError::BadRequest { code, message } => (
            StatusCode::BAD_REQUEST,
            "BadRequestError",
            code.to_string(),
            message,
        ),
        // The script's own code and message, as Auth0 passes them to the sign-up form.
        CoreError::ScriptRefused { code, message } => {
            (StatusCode::BAD_REQUEST, "BadRequestError", code, message)
        }
        CoreError::Forbidden { code, message } => (
            StatusCode::FORBIDDEN,
            "ForbiddenError",
            code.to_string(),
            message,
        ),
        // A script or store failure: the Authentication API's shape, a generic description;
        // the detail goes to the log only.
        other @ (CoreError::Internal { .. } | CoreError::Unavailable { .. }) => {
            tracing::error!(error = %other, "signup failed");
            let status = if matches!(other, CoreError::Unavailable { .. }) {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            (
                status,
                "Error",
                "internal_error".into(),
                "Something went wrong while creating the user. Please try again later.".into(),
            )
        }
        other => return ApiError(other).into_response(),
    };
    (status, Json(serde_json::json!({"name": name, "code": code, "description": description, "statusCode": status.as_u16()}))).into_response()
}

/// What a user sees for a failed flow step, and the status of the page.
pub fn user_message(e: &CoreError) -> (StatusCode, String) {
    match e {
        CoreError::OAuth { kind, description } => {
            let code = crate::error::oauth_status(*kind);
            match kind {
                OAuthErrorKind::InvalidGrant => (code, "Wrong email or password.".into()),
                OAuthErrorKind::ServerError
                | OAuthErrorKind::ActionServerError
                | OAuthErrorKind::TemporarilyUnavailable => {
                    tracing::warn!(error = %e, "login page: flow failed");
                    (code, generic().into())
                }
                _ => (code, description.clone()),
            }
        }
        CoreError::PasswordTooWeak => {
            (StatusCode::BAD_REQUEST, "This password is too weak.".into())
        }
        CoreError::BadRequest { message, .. }
        | CoreError::Conflict { message, .. }
        | CoreError::ScriptRefused { message, .. }
        | CoreError::Forbidden { message, .. } => (StatusCode::BAD_REQUEST, message.clone()),
        other => {
            tracing::warn!(error = %other, "login page: flow failed");
            (StatusCode::INTERNAL_SERVER_ERROR, generic().into())
        }
    }
}

pub fn generic() -> &'static str {
    "Something went wrong. Please try again later."
}
