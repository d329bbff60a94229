//! `GET /authorize`: validates the request, then either answers at once from the SSO session
//! (or with `login_required` for `prompt=none`), or starts a login transaction bound to this
//! browser and sends it to the login (or signup) page.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ClientIp, Tenant};
use crate::login::{Pages, cookies, render::user_message};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use sluice_core::clients::StoredClient;
use sluice_core::oidc::authorize::{AuthorizeError, AuthorizeParams, AuthorizeRequest};
use sluice_core::oidc::code::AuthorizeResponse;
use sluice_core::oidc::code::{Completion, SignIn};
use sluice_core::oidc::session::Session;
use sluice_core::{CoreError, TenantCtx};

/// A redirect (302) without caching.
pub fn redirect(to: &str) -> Response {
    match HeaderValue::from_str(to) {
        Ok(v) => {
            let mut r = StatusCode::FOUND.into_response();
            r.headers_mut().insert(header::LOCATION, v);
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(_) => (StatusCode::BAD_REQUEST, "Invalid redirect").into_response(),
    }
}

/// `uri` with `params` added to its query.
pub fn with_query(uri: &str, params: &[(String, String)]) -> String {
    // Redirect URIs carry no fragment (RFC 6749 §3.1.2); drop one rather than misplace it.
    let base = uri.split('#').next().unwrap_or(uri);
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        q.append_pair(k, v);
    }
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{}", q.finish())
}

/// Sends the browser back to the application: a redirect with the parameters in the query, or
/// an auto-submitting form for `response_mode=form_post`.
pub fn to_application(pages: &Pages, to: &AuthorizeResponse) -> Response {
    if to.response_mode.as_deref() == Some("form_post") {
        return pages.render(
            StatusCode::OK,
            "form_post.html",
            context! { action => &to.redirect_uri, params => &to.params },
        );
    }
    redirect(&with_query(&to.redirect_uri, &to.params))
}

fn params_of(uri: &Uri) -> AuthorizeParams {
    let map: serde_json::Map<String, serde_json::Value> =
        form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
    serde_json::from_value(serde_json::Value::Object(map)).unwrap_or_default()
}

/// Answers from a live SSO session: Rules and Actions run again (as in Auth0), then a code.
async fn sso(
    s: &AppState,
    t: &TenantCtx,
    req: &AuthorizeRequest,
    client: &StoredClient,
    session: Session,
    ip: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, CoreError> {
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let Session {
        id,
        user,
        auth_time,
        connection,
    } = session;
    let sign_in = SignIn::Session {
        id: &id,
        auth_time,
        connection: &connection,
    };
    let done = s
        .core
        .authorization_complete(t, req, client, user, sign_in, ip, ua)
        .await?;
    Ok(match done {
        Completion::Denied(denied) => to_application(&s.pages, &denied),
        Completion::Granted { response, .. } => to_application(&s.pages, &response),
    })
}

pub async fn authorize(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let p = params_of(&uri);
    let (client, req) = match s.core.authorize_validate(&t, &p).await {
        Ok(v) => v,
        Err(AuthorizeError::Page { error, description }) => {
            tracing::info!(%error, %description, "authorize refused");
            return s
                .pages
                .message(
                    &s.core,
                    &t,
                    StatusCode::BAD_REQUEST,
                    "Something went wrong",
                    Some(&description),
                    None,
                )
                .await;
        }
        Err(AuthorizeError::Redirect {
            redirect_uri,
            response_mode,
            error,
            description,
            state,
        }) => {
            let mut params = vec![
                ("error".to_string(), error),
                ("error_description".to_string(), description),
            ];
            if let Some(st) = state {
                params.push(("state".into(), st));
            }
            return to_application(
                &s.pages,
                &AuthorizeResponse {
                    redirect_uri,
                    response_mode,
                    params,
                },
            );
        }
        Err(AuthorizeError::Core(e)) => return ApiError(e).into_response(),
    };
    let prompts: Vec<&str> = req
        .prompt
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    // The SSO session answers unless the application asks for a fresh login.
    if !prompts.contains(&"login")
        && let Some(cookie) = cookies::get(&headers, cookies::SESSION)
    {
        match s.core.session_find(&t, &cookie).await {
            Ok(Some(session))
                if req
                    .max_age
                    .is_none_or(|m| session.auth_time + m >= s.core.now())
                    && req
                        .connection
                        .as_deref()
                        .is_none_or(|c| c == session.connection) =>
            {
                let conn_ok = s
                    .core
                    .connection_for_client(&t, &client, &session.connection)
                    .await
                    .is_ok();
                if conn_ok {
                    return match sso(&s, &t, &req, &client, session, ip.as_deref(), &headers).await
                    {
                        Ok(r) => r,
                        Err(e) => ApiError(e).into_response(),
                    };
                }
            }
            Ok(_) => {}
            Err(e) => return ApiError(e).into_response(),
        }
    }
    if prompts.contains(&"none") {
        let mut params = vec![
            ("error".to_string(), "login_required".to_string()),
            (
                "error_description".to_string(),
                "Login required".to_string(),
            ),
        ];
        if let Some(st) = &req.state {
            params.push(("state".into(), st.clone()));
        }
        return to_application(
            &s.pages,
            &AuthorizeResponse {
                redirect_uri: req.redirect_uri.clone(),
                response_mode: req.response_mode.clone(),
                params,
            },
        );
    }
    // The pages need a database connection for this client: fail early, on the page.
    if let Err(e) = s
        .core
        .login_connection(&t, &client, req.connection.as_deref())
        .await
    {
        let (status, msg) = user_message(&e);
        return s
            .pages
            .message(
                &s.core,
                &t,
                status,
                "Something went wrong",
                Some(&msg),
                None,
            )
            .await;
    }
    let (browser, new_browser) = match cookies::get(&headers, cookies::BROWSER) {
        Some(b) => (b, false),
        None => (sluice_crypto::random::random_token(24), true),
    };
    let state = match s.core.transaction_begin(&t, &req, &browser).await {
        Ok((state, _)) => state,
        Err(e) => return ApiError(e).into_response(),
    };
    let page = if req.screen_hint.as_deref() == Some("signup") {
        "/u/signup"
    } else {
        "/u/login"
    };
    let mut r = redirect(&with_query(page, &[("state".into(), state)]));
    if new_browser {
        r.headers_mut().append(
            header::SET_COOKIE,
            cookies::set(&t, cookies::BROWSER, &browser, None),
        );
    }
    r
}
