//! `GET /authorize`: validates the request and asks the core what comes next
//! (`Oidc::authorize_next`: the SSO session answers, `login_required` for `prompt=none`, or the
//! login pages), then either sends the browser back to the application or starts a login
//! transaction bound to this browser and sends it to the login (or signup) page.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ClientIp, Tenant};
use crate::login::{Pages, cookies, render::user_message};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use sluice_oidc::authorize::{AuthorizeError, AuthorizeParams};
use sluice_oidc::code::AuthorizeResponse;
use sluice_oidc::code::{AuthorizeNext, Completion};

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

pub async fn authorize(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let p = params_of(&uri);
    let (client, req) = match s.oidc.authorize_validate(&t, &p).await {
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
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let cookie = cookies::get(&headers, cookies::SESSION);
    let next = s
        .oidc
        .authorize_next(&t, &req, &client, cookie.as_deref(), ip.as_deref(), ua)
        .await;
    let signup = match next {
        Ok(AuthorizeNext::Completed(Completion::Denied(to)))
        | Ok(AuthorizeNext::Completed(Completion::Granted { response: to, .. }))
        | Ok(AuthorizeNext::LoginRequired(to)) => return to_application(&s.pages, &to),
        Ok(AuthorizeNext::NoLoginConnection(e)) => {
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
        Ok(AuthorizeNext::SignIn { signup }) => signup,
        Err(e) => return ApiError(e).into_response(),
    };
    let (browser, new_browser) = match cookies::get(&headers, cookies::BROWSER) {
        Some(b) => (b, false),
        None => (sluice_crypto::random::random_token(24), true),
    };
    let state = match s.oidc.transaction_begin(&t, &req, &browser).await {
        Ok((state, _)) => state,
        Err(e) => return ApiError(e).into_response(),
    };
    let page = if signup { "/u/signup" } else { "/u/login" };
    let mut r = redirect(&with_query(page, &[("state".into(), state)]));
    if new_browser {
        r.headers_mut().append(
            header::SET_COOKIE,
            cookies::set(&t, cookies::BROWSER, &browser, None),
        );
    }
    r
}
