//! Logout: `GET /v2/logout` (Auth0's: `returnTo` must be one of the client's allowed logout
//! URLs, or the tenant's when no `client_id` is given) and `/oidc/logout` (RP-initiated logout:
//! `post_logout_redirect_uri` checked against the client named by `client_id` or
//! `id_token_hint`, `state` passed back). Both end the SSO session and clear its cookie; an
//! unlisted URL gets an error page, never a redirect.

use super::authorize::{redirect, with_query};
use crate::AppState;
use crate::extract::Tenant;
use crate::login::cookies;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use sluice_core::TenantCtx;
use std::collections::HashMap;

async fn end_session(s: &AppState, t: &TenantCtx, headers: &HeaderMap) -> Result<(), Response> {
    if let Some(c) = cookies::get(headers, cookies::SESSION) {
        s.oidc
            .session_end(t, &c)
            .await
            .map_err(|e| crate::error::ApiError(e).into_response())?;
    }
    Ok(())
}

async fn finish(
    s: &AppState,
    t: &TenantCtx,
    headers: &HeaderMap,
    client_id: Option<&str>,
    to: Option<(String, Vec<(String, String)>)>,
) -> Response {
    if let Some((url, _)) = &to {
        match s.oidc.logout_url_allowed(t, client_id, url).await {
            Ok(true) => {}
            Ok(false) => {
                return s
                    .pages
                    .message(
                        &s.core,
                        t,
                        StatusCode::BAD_REQUEST,
                        "Logout",
                        Some("The logout URL is not in the list of allowed logout URLs."),
                        None,
                    )
                    .await;
            }
            Err(e) => return crate::error::ApiError(e).into_response(),
        }
    }
    if let Err(r) = end_session(s, t, headers).await {
        return r;
    }
    let mut r = match to {
        Some((url, params)) => redirect(&with_query_if(&url, &params)),
        None => {
            s.pages
                .message(
                    &s.core,
                    t,
                    StatusCode::OK,
                    "Logged out",
                    None,
                    Some("You have been logged out."),
                )
                .await
        }
    };
    r.headers_mut().append(
        header::SET_COOKIE,
        cookies::set(t, cookies::SESSION, "", Some(0)),
    );
    r
}

fn with_query_if(url: &str, params: &[(String, String)]) -> String {
    if params.is_empty() {
        url.to_string()
    } else {
        with_query(url, params)
    }
}

fn query(uri: &Uri) -> HashMap<String, String> {
    form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

pub async fn v2_logout(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let q = query(&uri);
    let to = q
        .get("returnTo")
        .filter(|u| !u.is_empty())
        .map(|u| (u.clone(), Vec::new()));
    finish(&s, &t, &headers, q.get("client_id").map(String::as_str), to).await
}

pub async fn oidc_logout(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let q = if method == Method::POST {
        form_urlencoded::parse(&body).into_owned().collect()
    } else {
        query(&uri)
    };
    let mut client_id = q.get("client_id").cloned().filter(|c| !c.is_empty());
    if let Some(hint) = q.get("id_token_hint").filter(|h| !h.is_empty()) {
        match s.oidc.id_token_hint_client(&t, hint) {
            Ok(aud) if client_id.as_deref().is_none_or(|c| c == aud) => client_id = Some(aud),
            Ok(_) | Err(_) => {
                return s
                    .pages
                    .message(
                        &s.core,
                        &t,
                        StatusCode::BAD_REQUEST,
                        "Logout",
                        Some("The id_token_hint is not valid for this client."),
                        None,
                    )
                    .await;
            }
        }
    }
    let to = q
        .get("post_logout_redirect_uri")
        .filter(|u| !u.is_empty())
        .map(|u| {
            let params = q
                .get("state")
                .map(|s| vec![("state".to_string(), s.clone())])
                .unwrap_or_default();
            (u.clone(), params)
        });
    if to.is_some() && client_id.is_none() {
        return s
            .pages
            .message(
                &s.core,
                &t,
                StatusCode::BAD_REQUEST,
                "Logout",
                Some("post_logout_redirect_uri needs client_id or id_token_hint."),
                None,
            )
            .await;
    }
    finish(&s, &t, &headers, client_id.as_deref(), to).await
}
