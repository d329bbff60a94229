//! Account links over HTTP: `POST /dbconnections/change_password` (Auth0's neutral answer), the
//! page the emailed reset link opens, `GET|POST /lo/reset?ticket=...` (a form that works
//! without JavaScript), and the email verification link `GET /lo/verify?ticket=...`. Pages are
//! the Universal Login templates.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{JsonObject, Tenant};
use crate::login::render::{brand, user_message};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::context;
use sluice_core::flows::reset::RESET_SENT;
use sluice_core::{CoreError, TenantCtx};

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/dbconnections/change_password", post(request))
        .route("/lo/reset", get(page).post(submit))
        .route("/lo/verify", get(verify))
}

/// The email verification link.
async fn verify(State(s): State<AppState>, Tenant(t): Tenant, uri: Uri) -> Response {
    match s.core.email_verify(&t, &ticket_of(uri.query())).await {
        Ok(email) => {
            s.pages
                .message(
                    &s.core,
                    &t,
                    StatusCode::OK,
                    "Email verified",
                    None,
                    Some(&format!("Thank you: {email} is verified.")),
                )
                .await
        }
        Err(e) => failure(&s, &t, "Email verification", e).await,
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

async fn form(
    s: &AppState,
    t: &TenantCtx,
    status: StatusCode,
    ticket: &str,
    email: &str,
    error: Option<&str>,
) -> Response {
    let policy = s
        .core
        .password_reset_policy(t, ticket)
        .await
        .unwrap_or(sluice_core::password_policy::PasswordPolicy::None);
    let brand = brand(&s.core, t).await;
    s.pages.render(
        status,
        "reset.html",
        context! {
            brand,
            title => "Change your password",
            lead => format!("Enter a new password for {email}."),
            ticket, error,
            policy => policy.describe(),
        },
    )
}

fn ticket_of(query: Option<&str>) -> String {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "ticket")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

async fn failure(s: &AppState, t: &TenantCtx, title: &str, e: CoreError) -> Response {
    let (status, message) = match &e {
        CoreError::BadRequest { message, .. } => (StatusCode::BAD_REQUEST, message.clone()),
        _ => user_message(&e),
    };
    s.pages
        .message(&s.core, t, status, title, Some(&message), None)
        .await
}

async fn page(State(s): State<AppState>, Tenant(t): Tenant, uri: Uri) -> Response {
    let ticket = ticket_of(uri.query());
    match s.core.password_reset_check(&t, &ticket).await {
        Ok(email) => form(&s, &t, StatusCode::OK, &ticket, &email, None).await,
        Err(e) => failure(&s, &t, "Change your password", e).await,
    }
}

async fn submit(State(s): State<AppState>, Tenant(t): Tenant, body: Bytes) -> Response {
    let fields: std::collections::HashMap<String, String> =
        form_urlencoded::parse(&body).into_owned().collect();
    let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
    let ticket = get("ticket");
    let email = match s.core.password_reset_check(&t, &ticket).await {
        Ok(e) => e,
        Err(e) => return failure(&s, &t, "Change your password", e).await,
    };
    if get("password") != get("confirm") {
        let msg = "The passwords do not match.";
        return form(&s, &t, StatusCode::BAD_REQUEST, &ticket, &email, Some(msg)).await;
    }
    match s.core.password_reset(&t, &ticket, &get("password")).await {
        Ok(()) => {
            s.pages
                .message(
                    &s.core,
                    &t,
                    StatusCode::OK,
                    "Password changed",
                    None,
                    Some("Your password has been changed. You can now log in with it."),
                )
                .await
        }
        Err(CoreError::PasswordTooWeak) => {
            // The ticket was not used: the user can try a stronger password.
            let msg = "This password is too weak.";
            form(&s, &t, StatusCode::BAD_REQUEST, &ticket, &email, Some(msg)).await
        }
        Err(e) => failure(&s, &t, "Change your password", e).await,
    }
}
