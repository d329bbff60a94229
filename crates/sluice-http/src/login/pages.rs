//! The page handlers of a login transaction: log in, sign up, forgot password. Each GET checks
//! the transaction belongs to this browser; each POST also checks the CSRF token, runs the
//! flow in sluice-core, and on success starts the SSO session and sends the browser back to the
//! application with a code.

use super::cookies;
use super::render::{allow_form_redirect, brand, user_message};
use crate::AppState;
use crate::extract::{ClientIp, Tenant};
use crate::oidc::authorize::to_application;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use minijinja::context;
use sluice_core::flows::login::LoginRequest;
use sluice_core::flows::signup::SignupBody;
use sluice_core::model::UserRecord;
use sluice_core::oidc::transaction::LoginTransaction;
use sluice_core::{CoreError, TenantCtx};
use sluice_types::Connection;
use std::collections::HashMap;
use std::sync::Arc;

fn state_of(uri: &Uri) -> String {
    form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn form_of(body: &Bytes) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// The transaction of this page, or the error page to show instead.
async fn transaction(
    s: &AppState,
    t: &TenantCtx,
    headers: &HeaderMap,
    uri: &Uri,
    form: Option<&HashMap<String, String>>,
) -> Result<(String, LoginTransaction), Response> {
    let state = state_of(uri);
    let browser = cookies::get(headers, cookies::BROWSER).unwrap_or_default();
    let r = match form {
        None => s.core.transaction_fetch(t, &state, &browser).await,
        Some(f) => {
            let csrf = f.get("csrf").map(String::as_str).unwrap_or_default();
            s.core.transaction_for_form(t, &state, &browser, csrf).await
        }
    };
    match r {
        Ok(txn) => Ok((state, txn)),
        Err(e) => {
            let (status, msg) = user_message(&e);
            Err(s
                .pages
                .message(&s.core, t, status, "Something went wrong", Some(&msg), None)
                .await)
        }
    }
}

/// The connection and application name of a transaction's pages.
async fn setting(
    s: &AppState,
    t: &TenantCtx,
    txn: &LoginTransaction,
) -> Result<(Connection, String), Response> {
    let r: Result<_, CoreError> = async {
        let client = s
            .core
            .client_fetch(t, &txn.request.client_id)
            .await?
            .ok_or_else(sluice_core::oidc::transaction::invalid_transaction)?;
        let conn = s
            .core
            .login_connection(t, &client, txn.request.connection.as_deref())
            .await?;
        Ok((conn, client.body.name.unwrap_or_default()))
    }
    .await;
    match r {
        Ok(v) => Ok(v),
        Err(e) => {
            let (status, msg) = user_message(&e);
            Err(s
                .pages
                .message(&s.core, t, status, "Something went wrong", Some(&msg), None)
                .await)
        }
    }
}

fn requires_username(c: &Connection) -> bool {
    c.body
        .options
        .as_ref()
        .and_then(|o| o.requires_username)
        .unwrap_or(false)
}

fn signup_allowed(c: &Connection) -> bool {
    !c.body
        .options
        .as_ref()
        .and_then(|o| o.disable_signup)
        .unwrap_or(false)
}

fn policy_text(c: &Connection) -> &'static str {
    let p = c
        .body
        .options
        .as_ref()
        .and_then(|o| o.password_policy.clone())
        .unwrap_or_else(|| "good".into());
    sluice_core::password_policy::describe(&p)
}

#[allow(clippy::too_many_arguments)]
async fn render_login(
    s: &AppState,
    t: &TenantCtx,
    status: StatusCode,
    state: &str,
    txn: &LoginTransaction,
    conn: &Connection,
    app: &str,
    username: &str,
    error: Option<&str>,
) -> Response {
    let brand = brand(&s.core, t).await;
    let by_username = requires_username(conn);
    let page = s.pages.render(
        status,
        "login.html",
        context! {
            brand,
            title => "Welcome",
            lead => format!("Log in to continue to {app}."),
            state, csrf => &txn.csrf, username, error,
            identifier_label => if by_username { "Username or email address" } else { "Email address" },
            identifier_type => if by_username { "text" } else { "email" },
            signup_allowed => signup_allowed(conn),
        },
    );
    allow_form_redirect(page, &txn.request.redirect_uri)
}

pub async fn login_page(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let (state, txn) = match transaction(&s, &t, &headers, &uri, None).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (conn, app) = match setting(&s, &t, &txn).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let hint = txn.request.login_hint.clone().unwrap_or_default();
    render_login(
        &s,
        &t,
        StatusCode::OK,
        &state,
        &txn,
        &conn,
        &app,
        &hint,
        None,
    )
    .await
}

/// The user authenticated: Rules and Actions, then the session and a code, back to the
/// application (or the denial, back to the application too).
#[allow(clippy::too_many_arguments)]
async fn signed_in(
    s: &AppState,
    t: &Arc<TenantCtx>,
    state: &str,
    txn: &LoginTransaction,
    mut user: UserRecord,
    connection: &str,
    ip: Option<&str>,
    user_agent: Option<&str>,
) -> Result<Response, CoreError> {
    let client = s
        .core
        .client_fetch(t, &txn.request.client_id)
        .await?
        .ok_or_else(sluice_core::oidc::transaction::invalid_transaction)?;
    let extras = match s
        .core
        .authorize_post_login(
            t,
            &txn.request,
            &client,
            &mut user,
            connection,
            None,
            ip,
            user_agent,
        )
        .await?
    {
        Ok(x) => x,
        Err(denied) => {
            s.core.transaction_end(t, state).await?;
            return Ok(to_application(&s.pages, &denied));
        }
    };
    let (cookie, session) = s.core.session_create(t, &user, connection).await?;
    let to = s
        .core
        .code_issue(
            t,
            &txn.request,
            &user.profile,
            session.auth_time,
            Some(&session.id),
            connection,
            extras,
        )
        .await?;
    s.core.transaction_end(t, state).await?;
    let mut r = to_application(&s.pages, &to);
    r.headers_mut().append(
        http::header::SET_COOKIE,
        cookies::set(t, cookies::SESSION, &cookie, Some(7 * 86_400)),
    );
    Ok(r)
}

fn user_agent(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
}

pub async fn login_submit(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let f = form_of(&body);
    let (state, txn) = match transaction(&s, &t, &headers, &uri, Some(&f)).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (conn, app) = match setting(&s, &t, &txn).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let username = f.get("username").cloned().unwrap_or_default();
    let password = f.get("password").cloned().unwrap_or_default();
    let name = conn.body.name.clone().unwrap_or_default();
    let outcome = if username.trim().is_empty() || password.is_empty() {
        Err(CoreError::oauth(
            400,
            "invalid_request",
            "Enter your email address and password.",
        ))
    } else {
        s.core
            .login(
                &t,
                LoginRequest {
                    connection: &conn,
                    identifier: username.trim(),
                    password: &password,
                    ip: ip.as_deref(),
                    client_id: Some(&txn.request.client_id),
                },
            )
            .await
    };
    let result = match outcome {
        Ok(o) => {
            signed_in(
                &s,
                &t,
                &state,
                &txn,
                o.user,
                &name,
                ip.as_deref(),
                user_agent(&headers),
            )
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(r) => r,
        Err(e) => {
            let (status, msg) = user_message(&e);
            render_login(
                &s,
                &t,
                status,
                &state,
                &txn,
                &conn,
                &app,
                &username,
                Some(&msg),
            )
            .await
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn render_signup(
    s: &AppState,
    t: &TenantCtx,
    status: StatusCode,
    state: &str,
    txn: &LoginTransaction,
    conn: &Connection,
    app: &str,
    f: &HashMap<String, String>,
    error: Option<&str>,
) -> Response {
    let brand = brand(&s.core, t).await;
    let field = |k: &str| f.get(k).cloned().unwrap_or_default();
    let page = s.pages.render(
        status,
        "signup.html",
        context! {
            brand,
            title => "Create your account",
            lead => format!("Sign up to continue to {app}."),
            state, csrf => &txn.csrf, error,
            email => field("email"), username => field("username"),
            requires_username => requires_username(conn),
            policy => policy_text(conn),
        },
    );
    allow_form_redirect(page, &txn.request.redirect_uri)
}

pub async fn signup_page(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let (state, txn) = match transaction(&s, &t, &headers, &uri, None).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (conn, app) = match setting(&s, &t, &txn).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if !signup_allowed(&conn) {
        return s
            .pages
            .message(
                &s.core,
                &t,
                StatusCode::FORBIDDEN,
                "Sign up",
                Some("Sign up is disabled for this application."),
                None,
            )
            .await;
    }
    let mut f = HashMap::new();
    if let Some(h) = &txn.request.login_hint {
        f.insert("email".to_string(), h.clone());
    }
    render_signup(&s, &t, StatusCode::OK, &state, &txn, &conn, &app, &f, None).await
}

pub async fn signup_submit(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let f = form_of(&body);
    let (state, txn) = match transaction(&s, &t, &headers, &uri, Some(&f)).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (conn, app) = match setting(&s, &t, &txn).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let name = conn.body.name.clone().unwrap_or_default();
    let field = |k: &str| {
        f.get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let created = s
        .core
        .signup(
            &t,
            SignupBody {
                client_id: Some(txn.request.client_id.clone()),
                connection: Some(name.clone()),
                email: field("email"),
                password: f.get("password").cloned().filter(|p| !p.is_empty()),
                username: field("username"),
                given_name: None,
                family_name: None,
                name: None,
                nickname: None,
                picture: None,
                phone_number: None,
                user_metadata: None,
            },
        )
        .await;
    let result = match created {
        Ok(user) => match s.core.store.user_fetch(&t.id, &user.user_id).await {
            Ok(Some(rec)) => {
                signed_in(
                    &s,
                    &t,
                    &state,
                    &txn,
                    rec,
                    &name,
                    ip.as_deref(),
                    user_agent(&headers),
                )
                .await
            }
            Ok(None) => Err(CoreError::internal("the new user vanished")),
            Err(e) => Err(e.into()),
        },
        Err(e) => Err(e),
    };
    match result {
        Ok(r) => r,
        Err(e) => {
            let (status, msg) = user_message(&e);
            render_signup(&s, &t, status, &state, &txn, &conn, &app, &f, Some(&msg)).await
        }
    }
}

async fn render_forgot(
    s: &AppState,
    t: &TenantCtx,
    state: &str,
    txn: &LoginTransaction,
    email: &str,
    sent: bool,
    error: Option<&str>,
) -> Response {
    let brand = brand(&s.core, t).await;
    s.pages.render(
        if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK },
        "forgot.html",
        context! {
            brand,
            title => "Forgot your password?",
            lead => if sent { "Check your email." } else { "Enter your email address and we will send you a link to reset your password." },
            state, csrf => &txn.csrf, email, sent, error,
        },
    )
}

pub async fn forgot_page(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    match transaction(&s, &t, &headers, &uri, None).await {
        Ok((state, txn)) => {
            let hint = txn.request.login_hint.clone().unwrap_or_default();
            render_forgot(&s, &t, &state, &txn, &hint, false, None).await
        }
        Err(r) => r,
    }
}

pub async fn forgot_submit(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let f = form_of(&body);
    let (state, txn) = match transaction(&s, &t, &headers, &uri, Some(&f)).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (conn, _) = match setting(&s, &t, &txn).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let email = f
        .get("email")
        .map(|e| e.trim().to_string())
        .unwrap_or_default();
    if email.is_empty() {
        return render_forgot(
            &s,
            &t,
            &state,
            &txn,
            "",
            false,
            Some("Enter your email address."),
        )
        .await;
    }
    let name = conn.body.name.clone().unwrap_or_default();
    match s.core.password_reset_request(&t, &name, &email).await {
        Ok(()) => render_forgot(&s, &t, &state, &txn, &email, true, None).await,
        Err(e) => {
            let (_, msg) = user_message(&e);
            render_forgot(&s, &t, &state, &txn, &email, false, Some(&msg)).await
        }
    }
}
