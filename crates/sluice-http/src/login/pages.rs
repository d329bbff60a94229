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
use sluice_core::OAuthErrorKind;
use sluice_core::clients::StoredClient;
use sluice_core::db_connection::DbSettings;
use sluice_core::flows::login::LoginRequest;
use sluice_core::flows::signup::SignupBody;
use sluice_core::model::UserRecord;
use sluice_core::{CoreError, TenantCtx};
use sluice_oidc::code::{Completion, SignIn};
use sluice_oidc::transaction::LoginTransaction;
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

/// What every page of a login transaction works with.
struct PageCtx {
    state: String,
    txn: LoginTransaction,
    client: StoredClient,
    conn: Connection,
}

impl PageCtx {
    /// The application's name, as the pages show it.
    fn app(&self) -> &str {
        self.client.body.name.as_deref().unwrap_or_default()
    }

    fn connection_name(&self) -> String {
        self.conn.body.name.clone().unwrap_or_default()
    }
}

/// The transaction of this page (bound to this browser; with `form`, the CSRF token must
/// match), its client and its connection — or the error page to show instead.
async fn open(
    s: &AppState,
    t: &TenantCtx,
    headers: &HeaderMap,
    uri: &Uri,
    form: Option<&HashMap<String, String>>,
) -> Result<PageCtx, Response> {
    let state = state_of(uri);
    let browser = cookies::get(headers, cookies::BROWSER).unwrap_or_default();
    let r: Result<PageCtx, CoreError> = async {
        let txn = match form {
            None => s.oidc.transaction_fetch(t, &state, &browser).await?,
            Some(f) => {
                let csrf = f.get("csrf").map(String::as_str).unwrap_or_default();
                s.oidc
                    .transaction_for_form(t, &state, &browser, csrf)
                    .await?
            }
        };
        let client = s
            .core
            .client_fetch(t, &txn.request.client_id)
            .await?
            .ok_or_else(sluice_oidc::transaction::invalid_transaction)?;
        let conn = s
            .oidc
            .login_connection(t, &client, txn.request.connection.as_deref())
            .await?;
        Ok(PageCtx {
            state: state.clone(),
            txn,
            client,
            conn,
        })
    }
    .await;
    match r {
        Ok(p) => Ok(p),
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
    DbSettings::of(c).requires_username
}

fn signup_allowed(c: &Connection) -> bool {
    DbSettings::of(c).signup_allowed
}

fn policy_text(c: &Connection) -> &'static str {
    DbSettings::of(c).password_policy.describe()
}

async fn render_login(
    s: &AppState,
    t: &TenantCtx,
    p: &PageCtx,
    status: StatusCode,
    username: &str,
    error: Option<&str>,
) -> Response {
    let brand = brand(&s.core, t).await;
    let by_username = requires_username(&p.conn);
    let page = s.pages.render(
        status,
        "login.html",
        context! {
            brand,
            title => "Welcome",
            lead => format!("Log in to continue to {}.", p.app()),
            state => &p.state, csrf => &p.txn.csrf, username, error,
            identifier_label => if by_username { "Username or email address" } else { "Email address" },
            identifier_type => if by_username { "text" } else { "email" },
            signup_allowed => signup_allowed(&p.conn),
        },
    );
    allow_form_redirect(page, &p.txn.request.redirect_uri)
}

pub async fn login_page(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let p = match open(&s, &t, &headers, &uri, None).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let hint = p.txn.request.login_hint.clone().unwrap_or_default();
    render_login(&s, &t, &p, StatusCode::OK, &hint, None).await
}

/// The user authenticated: Rules and Actions, then the session and a code, back to the
/// application (or the denial, back to the application too).
async fn signed_in(
    s: &AppState,
    t: &Arc<TenantCtx>,
    p: &PageCtx,
    user: UserRecord,
    ip: Option<&str>,
    user_agent: Option<&str>,
) -> Result<Response, CoreError> {
    let connection = p.connection_name();
    let done = s
        .oidc
        .authorization_complete(
            t,
            &p.txn.request,
            &p.client,
            user,
            SignIn::Fresh {
                connection: &connection,
            },
            ip,
            user_agent,
        )
        .await?;
    s.oidc.transaction_end(t, &p.state).await?;
    Ok(match done {
        Completion::Denied(denied) => to_application(&s.pages, &denied),
        Completion::Granted {
            response,
            session_cookie,
        } => {
            let mut r = to_application(&s.pages, &response);
            if let Some(cookie) = session_cookie {
                r.headers_mut().append(
                    http::header::SET_COOKIE,
                    cookies::set(t, cookies::SESSION, &cookie, Some(7 * 86_400)),
                );
            }
            r
        }
    })
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
    let p = match open(&s, &t, &headers, &uri, Some(&f)).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let username = f.get("username").cloned().unwrap_or_default();
    let password = f.get("password").cloned().unwrap_or_default();
    let result = if username.trim().is_empty() || password.is_empty() {
        Err(CoreError::oauth(
            OAuthErrorKind::InvalidRequest,
            "Enter your email address and password.",
        ))
    } else {
        let request = LoginRequest {
            connection: &p.conn,
            identifier: username.trim(),
            password: &password,
            ip: ip.as_deref(),
            client_id: Some(&p.txn.request.client_id),
        };
        match s.core.login(&t, request).await {
            Ok(o) => signed_in(&s, &t, &p, o.user, ip.as_deref(), user_agent(&headers)).await,
            Err(e) => Err(e.into()),
        }
    };
    match result {
        Ok(r) => r,
        Err(e) => {
            let (status, msg) = user_message(&e);
            render_login(&s, &t, &p, status, &username, Some(&msg)).await
        }
    }
}

async fn render_signup(
    s: &AppState,
    t: &TenantCtx,
    p: &PageCtx,
    status: StatusCode,
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
            lead => format!("Sign up to continue to {}.", p.app()),
            state => &p.state, csrf => &p.txn.csrf, error,
            email => field("email"), username => field("username"),
            requires_username => requires_username(&p.conn),
            policy => policy_text(&p.conn),
        },
    );
    allow_form_redirect(page, &p.txn.request.redirect_uri)
}

pub async fn signup_page(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let p = match open(&s, &t, &headers, &uri, None).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if !signup_allowed(&p.conn) {
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
    if let Some(h) = &p.txn.request.login_hint {
        f.insert("email".to_string(), h.clone());
    }
    render_signup(&s, &t, &p, StatusCode::OK, &f, None).await
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
    let p = match open(&s, &t, &headers, &uri, Some(&f)).await {
        Ok(p) => p,
        Err(r) => return r,
    };
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
                client_id: Some(p.txn.request.client_id.clone()),
                connection: Some(p.connection_name()),
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
        Ok(user) => match s.core.user_record(&t, &user.user_id).await {
            Ok(rec) => signed_in(&s, &t, &p, rec, ip.as_deref(), user_agent(&headers)).await,
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    match result {
        Ok(r) => r,
        Err(e) => {
            let (status, msg) = user_message(&e);
            render_signup(&s, &t, &p, status, &f, Some(&msg)).await
        }
    }
}

async fn render_forgot(
    s: &AppState,
    t: &TenantCtx,
    p: &PageCtx,
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
            state => &p.state, csrf => &p.txn.csrf, email, sent, error,
        },
    )
}

pub async fn forgot_page(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let p = match open(&s, &t, &headers, &uri, None).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let hint = p.txn.request.login_hint.clone().unwrap_or_default();
    render_forgot(&s, &t, &p, &hint, false, None).await
}

pub async fn forgot_submit(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let f = form_of(&body);
    let p = match open(&s, &t, &headers, &uri, Some(&f)).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let email = f
        .get("email")
        .map(|e| e.trim().to_string())
        .unwrap_or_default();
    if email.is_empty() {
        let msg = "Enter your email address.";
        return render_forgot(&s, &t, &p, "", false, Some(msg)).await;
    }
    match s
        .core
        .password_reset_request(&t, &p.connection_name(), &email)
        .await
    {
        Ok(()) => render_forgot(&s, &t, &p, &email, true, None).await,
        Err(e) => {
            let (_, msg) = user_message(&e);
            render_forgot(&s, &t, &p, &email, false, Some(&msg)).await
        }
    }
}
