//! Public error bodies: the Management API's `{statusCode, error, message, errorCode}` and the
//! OAuth 2.0 / Authentication API's `{error, error_description}`.

use serde::{Deserialize, Serialize};

/// Management API error body, exactly as Auth0 returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MgmtErrorBody {
    #[serde(rename = "statusCode")]
    pub status_code: u16,
    /// The HTTP reason phrase ("Bad Request", "Forbidden", ...).
    pub error: String,
    pub message: String,
    #[serde(rename = "errorCode", skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
}

/// OAuth 2.0 error body (`/oauth/token`, `/authorize` redirects, `/userinfo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OAuthErrorBody {
    pub error: String,
    pub error_description: String,
}
