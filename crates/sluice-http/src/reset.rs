//! Account links over HTTP: `POST /dbconnections/change_password` (Auth0's neutral answer), the
//! page the emailed reset link opens, `GET|POST /lo/reset?ticket=...` (a plain, accessible form
//! that works without JavaScript), and the email verification link `GET /lo/verify?ticket=...`.
//! (The full Universal Login pages come with the OIDC work.)

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{JsonObject, Tenant};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use sluice_core::CoreError;
use sluice_core::flows::reset::RESET_SENT;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/dbconnections/change_password", post(request))
        .route("/lo/reset", get(page).post(submit))
        .route("/lo/verify", get(verify))
}

/// The email verification link.
async fn verify(State(s): State<AppState>, Tenant(t): Tenant, uri: Uri) -> Response {
    match s.core.email_verify(&t, &ticket_of(uri.query())).await {
        Ok(email) => page_html(
            "Email verified",
            &format!(
                "<p role=\"status\">Thank you: {} is verified.</p>",
                escape(&email)
            ),
        ),
        Err(e) => failure(e),
    }
}

async fn request(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    JsonObject(b): JsonObject,
) -> Response {
    let field = |k: &str| {
        b.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    match s
        .core
        .password_reset_request(&t, &field("connection"), &field("email"))
        .await
    {
        Ok(()) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            RESET_SENT,
        )
            .into_response(),
        Err(e) => ApiError(e).into_response(),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page_html(title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{t}</title>\
<style>body{{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#1f2933}}label{{display:block;margin:.8rem 0 .2rem}}input{{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}}button{{margin-top:1rem;padding:.6rem 1rem;font-size:1rem}}[role=alert]{{color:#b3261e}}</style></head>\
<body><main><h1>{t}</h1>{body}</main></body></html>",
        t = escape(title)
    );
    let mut r = Html(html).into_response();
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
        ),
    );
    r
}

fn form(ticket: &str, email: &str, error: Option<&str>) -> Response {
    let alert = error
        .map(|e| format!("<p role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    page_html(
        "Choose a new password",
        &format!(
            "<p>For {email}.</p>{alert}<form method=\"post\" action=\"/lo/reset\"><input type=\"hidden\" name=\"ticket\" value=\"{ticket}\">\
<label for=\"password\">New password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" required autofocus>\
<label for=\"confirm\">Confirm new password</label><input id=\"confirm\" name=\"confirm\" type=\"password\" autocomplete=\"new-password\" required>\
<button type=\"submit\">Set password</button></form>",
            email = escape(email),
            ticket = escape(ticket)
        ),
    )
}

fn ticket_of(query: Option<&str>) -> String {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "ticket")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn failure(e: CoreError) -> Response {
    let message = match &e {
        CoreError::BadRequest { message, .. } => message.clone(),
        _ => "Something went wrong. Please try again later.".into(),
    };
    if !matches!(e, CoreError::BadRequest { .. }) {
        tracing::warn!(error = %e, "password reset failed");
    }
    let mut r = page_html(
        "Password reset",
        &format!("<p role=\"alert\">{}</p>", escape(&message)),
    );
    *r.status_mut() = StatusCode::BAD_REQUEST;
    r
}

async fn page(State(s): State<AppState>, Tenant(t): Tenant, uri: Uri) -> Response {
    let ticket = ticket_of(uri.query());
    match s.core.password_reset_check(&t, &ticket).await {
        Ok(email) => form(&ticket, &email, None),
        Err(e) => failure(e),
    }
}

async fn submit(State(s): State<AppState>, Tenant(t): Tenant, body: Bytes) -> Response {
    let fields: std::collections::HashMap<String, String> =
        form_urlencoded::parse(&body).into_owned().collect();
    let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
    let ticket = get("ticket");
    let email = match s.core.password_reset_check(&t, &ticket).await {
        Ok(e) => e,
        Err(e) => return failure(e),
    };
    if get("password") != get("confirm") {
        return form(&ticket, &email, Some("The passwords do not match."));
    }
    match s.core.password_reset(&t, &ticket, &get("password")).await {
        Ok(()) => page_html(
            "Password changed",
            "<p role=\"status\">Your password has been changed. You can now sign in with it.</p>",
        ),
        Err(CoreError::BadRequest { message, .. })
            if message.starts_with("PasswordStrengthError") =>
        {
            // The ticket was not used: the user can try a stronger password.
            form(
                &ticket,
                &email,
                Some(
                    "This password is too weak. Use a longer one with letters, digits and symbols.",
                ),
            )
        }
        Err(e) => failure(e),
    }
}
