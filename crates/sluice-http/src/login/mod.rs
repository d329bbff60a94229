//! Universal Login: the server-rendered pages a browser meets during `/authorize` (log in, sign
//! up, forgot password) and from emailed links (reset password, email verified), rendered with
//! minijinja from `templates/` (compiled into the binary; no third-party assets). Every form
//! carries the login transaction's CSRF token and the transaction is bound to the browser.

pub mod cookies;
pub mod pages;
pub mod render;

pub use render::Pages;

use crate::AppState;
use axum::routing::get;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/u/login", get(pages::login_page).post(pages::login_submit))
        .route(
            "/u/signup",
            get(pages::signup_page).post(pages::signup_submit),
        )
        .route(
            "/u/reset-password/request",
            get(pages::forgot_page).post(pages::forgot_submit),
        )
}
