//! `CoreError`: the one error type of the domain. Each variant carries the external message
//! (safe to show a caller) separately from internal context (logged, never returned). The HTTP
//! layer maps it to a status and an Auth0-shaped body exactly once.

use crate::ports::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// 400 with Auth0's Management API body.
    #[error("bad request ({code}): {message}")]
    BadRequest { code: &'static str, message: String },
    /// 401: missing or invalid bearer token.
    #[error("unauthorized: {message}")]
    Unauthorized { message: String },
    /// 403: authenticated but not allowed.
    #[error("forbidden ({code}): {message}")]
    Forbidden { code: &'static str, message: String },
    #[error("not found ({code}): {message}")]
    NotFound { code: &'static str, message: String },
    #[error("conflict ({code}): {message}")]
    Conflict { code: &'static str, message: String },
    /// An Authentication API (OAuth) error: `{error, error_description}` with this status.
    #[error("oauth error {status} {error}: {description}")]
    OAuth {
        status: u16,
        error: &'static str,
        description: String,
    },
    /// A dependency (store) is unreachable; the caller may retry.
    #[error("service unavailable: {internal}")]
    Unavailable { internal: String },
    /// A bug or unexpected state; `internal` is logged, never returned.
    #[error("internal error: {internal}")]
    Internal { internal: String },
}

impl CoreError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        CoreError::BadRequest {
            code: "invalid_body",
            message: message.into(),
        }
    }
    pub fn bad_query(message: impl Into<String>) -> Self {
        CoreError::BadRequest {
            code: "invalid_query_string",
            message: message.into(),
        }
    }
    pub fn internal(internal: impl Into<String>) -> Self {
        CoreError::Internal {
            internal: internal.into(),
        }
    }
    pub fn oauth(status: u16, error: &'static str, description: impl Into<String>) -> Self {
        CoreError::OAuth {
            status,
            error,
            description: description.into(),
        }
    }
    /// A request body that failed to parse: Auth0's "Payload validation error".
    pub fn payload(err: impl std::fmt::Display) -> Self {
        CoreError::bad_request(format!("Payload validation error: '{err}'."))
    }
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => CoreError::Conflict {
                code: "conflict",
                message: format!("The {what} already exists."),
            },
            StoreError::Unavailable(msg) => CoreError::Unavailable { internal: msg },
            StoreError::Invalid(msg) => {
                tracing::debug!(error = %msg, "value refused by the store");
                CoreError::BadRequest {
                    code: "invalid_body",
                    message: "The request contains characters that are not allowed (such as NUL)."
                        .into(),
                }
            }
            StoreError::Stale(what) => CoreError::Conflict {
                code: "conflict",
                message: format!(
                    "The {what} was changed by another request at the same time; retry."
                ),
            },
            StoreError::Other(msg) => CoreError::Internal { internal: msg },
        }
    }
}

impl From<sluice_crypto::CryptoError> for CoreError {
    fn from(e: sluice_crypto::CryptoError) -> Self {
        CoreError::Internal {
            internal: format!("crypto: {e}"),
        }
    }
}
