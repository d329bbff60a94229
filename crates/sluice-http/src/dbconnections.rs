//! The Authentication API's database-connection endpoints: `POST /dbconnections/signup`, with
//! Auth0's signup error body `{name, code, description, statusCode}`.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{JsonObject, Tenant};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http::StatusCode;
use sluice_core::CoreError;
use sluice_core::flows::signup::SignupBody;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/dbconnections/signup", post(signup))
}

fn signup_error(e: CoreError) -> Response {
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

async fn signup(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    JsonObject(b): JsonObject,
) -> Response {
    let body: SignupBody = match serde_json::from_value(serde_json::Value::Object(b)) {
        Ok(b) => b,
        Err(e) => return signup_error(CoreError::bad_request(format!("Invalid signup body: {e}"))),
    };
    match s.core.signup(&t, body).await {
        Ok(u) => {
            let raw = u
                .identities
                .first()
                .map(|i| i.user_id.clone())
                .unwrap_or_default();
            let mut out = serde_json::json!({"_id": raw, "email_verified": u.email_verified, "email": u.email});
            for (k, v) in [
                ("username", &u.username),
                ("given_name", &u.given_name),
                ("family_name", &u.family_name),
                ("name", &u.name),
                ("nickname", &u.nickname),
                ("picture", &u.picture),
            ] {
                if let Some(v) = v {
                    out[k] = v.clone().into();
                }
            }
            if !u.user_metadata.is_empty() {
                out["user_metadata"] = serde_json::Value::Object(u.user_metadata.clone());
            }
            Json(out).into_response()
        }
        Err(e) => signup_error(e),
    }
}
