//! `POST /oauth/token`: parses a form or JSON body, client authentication by
//! `client_secret_post`, `client_secret_basic` or none (public clients), and dispatches on
//! `grant_type` to sluice-core (client credentials, password, password-realm, authorization
//! code, refresh token).

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ClientIp, Tenant};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use http::HeaderMap;
use sluice_core::CoreError;
use sluice_core::OAuthErrorKind;
use sluice_oidc::client_auth::ClientAuth;
use std::collections::HashMap;

fn invalid_request(msg: impl Into<String>) -> ApiError {
    ApiError(CoreError::oauth(OAuthErrorKind::InvalidRequest, msg))
}

/// The body as a flat string map, from `application/x-www-form-urlencoded` or JSON.
pub(crate) fn parse_params(
    headers: &HeaderMap,
    body: &Bytes,
) -> ApiResult<HashMap<String, String>> {
    let ct = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if ct.starts_with("application/json") {
        let v: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| invalid_request(format!("Invalid JSON body: {e}")))?;
        let obj = v
            .as_object()
            .ok_or_else(|| invalid_request("The body must be a JSON object"))?;
        Ok(obj
            .iter()
            .filter_map(|(k, v)| match v {
                serde_json::Value::String(s) => Some((k.clone(), s.clone())),
                serde_json::Value::Null => None,
                other => Some((k.clone(), other.to_string())),
            })
            .collect())
    } else if ct.starts_with("application/x-www-form-urlencoded") || ct.is_empty() {
        Ok(form_urlencoded::parse(body).into_owned().collect())
    } else {
        Err(invalid_request(
            "Content-Type must be application/x-www-form-urlencoded or application/json",
        ))
    }
}

/// `Authorization: Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1).
fn basic_auth(headers: &HeaderMap) -> ApiResult<Option<(String, String)>> {
    let Some(v) = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    let Some((scheme, rest)) = v.split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            ApiError(CoreError::oauth(
                OAuthErrorKind::InvalidClient,
                "Malformed Basic authorization header",
            ))
        })?;
    let (id, secret) = decoded.split_once(':').ok_or_else(|| {
        ApiError(CoreError::oauth(
            OAuthErrorKind::InvalidClient,
            "Malformed Basic authorization header",
        ))
    })?;
    let unescape = |s: &str| -> String {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((unescape(id), unescape(secret))))
}

pub(crate) fn client_auth(
    headers: &HeaderMap,
    p: &HashMap<String, String>,
) -> ApiResult<ClientAuth> {
    match basic_auth(headers)? {
        Some((id, secret)) => {
            if p.get("client_id").is_some_and(|b| *b != id) {
                return Err(invalid_request(
                    "client_id in the body does not match the Authorization header",
                ));
            }
            if p.contains_key("client_secret") {
                return Err(invalid_request(
                    "Use one client authentication method, not both",
                ));
            }
            Ok(ClientAuth {
                client_id: id,
                client_secret: Some(secret),
            })
        }
        None => {
            let id = p
                .get("client_id")
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    ApiError(CoreError::oauth(
                        OAuthErrorKind::Unauthenticated,
                        "Missing required parameter: client_id",
                    ))
                })?;
            Ok(ClientAuth {
                client_id: id.clone(),
                client_secret: p.get("client_secret").cloned(),
            })
        }
    }
}

pub async fn token(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    ClientIp(peer): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let p = parse_params(&headers, &body)?;
    let grant_type = p
        .get("grant_type")
        .filter(|g| !g.is_empty())
        .ok_or_else(|| invalid_request("Missing required parameter: grant_type"))?;
    let auth = client_auth(&headers, &p)?;
    let resp = match grant_type.as_str() {
        "client_credentials" => {
            s.oidc
                .grant_client_credentials(
                    &t,
                    &auth,
                    p.get("audience").map(String::as_str),
                    p.get("scope").map(String::as_str),
                )
                .await?
        }
        "password" | sluice_oidc::grants::password::PASSWORD_REALM => {
            let realm = (grant_type == sluice_oidc::grants::password::PASSWORD_REALM)
                .then(|| p.get("realm").map(String::as_str).unwrap_or_default());
            if realm == Some("") {
                return Err(invalid_request("Missing required parameter: realm"));
            }
            let field = |k: &str| p.get(k).map(String::as_str);
            s.oidc
                .grant_password(
                    &t,
                    sluice_oidc::grants::password::PasswordGrant {
                        client: &auth,
                        realm,
                        username: field("username").unwrap_or_default(),
                        password: field("password").unwrap_or_default(),
                        audience: field("audience"),
                        scope: field("scope"),
                        ip: peer.as_deref(),
                        forwarded_for: headers
                            .get("auth0-forwarded-for")
                            .and_then(|v| v.to_str().ok()),
                    },
                )
                .await?
        }
        "authorization_code" => {
            let field = |k: &str| p.get(k).map(String::as_str);
            s.oidc
                .grant_authorization_code(
                    &t,
                    &auth,
                    field("code").unwrap_or_default(),
                    field("redirect_uri"),
                    field("code_verifier"),
                )
                .await?
        }
        "refresh_token" => {
            s.oidc
                .grant_refresh_token(
                    &t,
                    &auth,
                    p.get("refresh_token")
                        .map(String::as_str)
                        .unwrap_or_default(),
                    p.get("scope").map(String::as_str),
                )
                .await?
        }
        other => {
            return Err(ApiError(CoreError::oauth(
                OAuthErrorKind::UnsupportedGrantType,
                format!("Unsupported grant type: {other}"),
            )));
        }
    };
    let mut r = Json(resp).into_response();
    r.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    r.headers_mut().insert(
        http::header::PRAGMA,
        http::HeaderValue::from_static("no-cache"),
    );
    Ok(r)
}
