//! `CoreError`: the one error type of the domain. Each variant says what happened and carries
//! the external message (safe to show a caller) separately from internal context (logged, never
//! returned). The domain picks no HTTP status: `sluice-http/src/error.rs` maps every variant
//! (and every [`OAuthErrorKind`]) to a status and an Auth0-shaped body, once.

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
    /// An Authentication API (OAuth/OIDC) error: `{error, error_description}`.
    #[error("oauth error {}: {description}", kind.code())]
    OAuth {
        kind: OAuthErrorKind,
        description: String,
    },
    /// A custom database script refused the operation with an error of its own
    /// (`ValidationError(code, message)`, or `UnauthorizedError(message)` as code
    /// `unauthorized`): its code and message are the script author's words for the caller.
    #[error("refused by the script ({code}): {message}")]
    ScriptRefused { code: String, message: String },
    /// A password refused by the connection's strength policy (Auth0's `PasswordStrengthError`).
    #[error("PasswordStrengthError: Password is too weak")]
    PasswordTooWeak,
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
    pub fn oauth(kind: OAuthErrorKind, description: impl Into<String>) -> Self {
        CoreError::OAuth {
            kind,
            description: description.into(),
        }
    }
    /// A request body that failed to parse: Auth0's "Payload validation error".
    pub fn payload(err: impl std::fmt::Display) -> Self {
        CoreError::bad_request(format!("Payload validation error: '{err}'."))
    }
}

/// What went wrong in an Authentication API exchange: each kind is one of Auth0's `error` codes
/// in the situation Auth0 answers it (the same code can come with different statuses, so the
/// kinds are situations, not codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthErrorKind {
    /// A parameter is missing, malformed or unsupported.
    InvalidRequest,
    /// A well-formed request refused for what it asks (a refresh token of another client).
    RefusedRequest,
    UnsupportedGrantType,
    /// Client authentication failed (unknown client, wrong secret or assertion).
    InvalidClient,
    /// The presented credentials do not authenticate the caller (`Unauthorized`).
    Unauthenticated,
    /// A rule or script refused the user (`UnauthorizedError`), or the user is blocked.
    Unauthorized,
    /// Authenticated, but not allowed (a rule, hook or Action denied; an unknown API).
    AccessDenied,
    /// Wrong credentials, or an unknown, used or expired code or refresh token.
    InvalidGrant,
    InvalidScope,
    /// The client may not use this grant or connection.
    UnauthorizedClient,
    /// Brute-force protection blocked the account.
    TooManyAttempts,
    /// A connection's legacy-store rate limit refused the call.
    TooManyRequests,
    /// A credentials-exchange Action denied with `server_error`.
    ActionServerError,
    /// A script or extension failed in an unexpected way.
    ServerError,
    /// A dependency (a legacy store behind an open breaker) is unavailable for now.
    TemporarilyUnavailable,
}

impl OAuthErrorKind {
    /// Auth0's `error` code.
    pub fn code(self) -> &'static str {
        use OAuthErrorKind::*;
        match self {
            InvalidRequest | RefusedRequest => "invalid_request",
            UnsupportedGrantType => "unsupported_grant_type",
            InvalidClient => "invalid_client",
            Unauthenticated | AccessDenied => "access_denied",
            Unauthorized => "unauthorized",
            InvalidGrant => "invalid_grant",
            InvalidScope => "invalid_scope",
            UnauthorizedClient => "unauthorized_client",
            TooManyAttempts => "too_many_attempts",
            TooManyRequests => "too_many_requests",
            ActionServerError | ServerError => "server_error",
            TemporarilyUnavailable => "temporarily_unavailable",
        }
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
