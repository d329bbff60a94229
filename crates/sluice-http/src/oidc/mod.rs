//! The browser-facing OpenID Connect endpoints: `/authorize`, `/userinfo`, and logout
//! (`/v2/logout`, `/oidc/logout`). Protocol decisions live in `sluice_oidc`.

pub mod authorize;
pub mod logout;
pub mod userinfo;

use crate::AppState;
use axum::routing::get;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/authorize", get(authorize::authorize))
        .route(
            "/userinfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route("/v2/logout", get(logout::v2_logout))
        .route(
            "/oidc/logout",
            get(logout::oidc_logout).post(logout::oidc_logout),
        )
}
