//! The Authentication API's OAuth 2.0 endpoints. One file per endpoint; the grant types
//! themselves live in sluice-core.

pub mod revoke;
pub mod token;

use crate::AppState;
use axum::Router;
use axum::routing::post;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/oauth/token", post(token::token))
        .route("/oauth/revoke", post(revoke::revoke))
}
