//! The Authentication API's database-connection endpoints: `POST /dbconnections/signup`, with
//! Auth0's signup error body `{name, code, description, statusCode}`.

use crate::AppState;
use crate::error::signup_error;
use crate::extract::{JsonObject, Tenant};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use sluice_core::CoreError;
use sluice_core::flows::signup::SignupBody;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/dbconnections/signup", post(signup))
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
