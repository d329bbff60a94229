//! The cookies of the browser flows: `sluice_session` (the SSO session) and `sluice_browser`
//! (binds login transactions to the browser that started them). Both HttpOnly, SameSite=Lax,
//! host-only (so per tenant), and Secure when the tenant is served over HTTPS.

use http::HeaderMap;
use sluice_core::TenantCtx;

pub const SESSION: &str = "sluice_session";
pub const BROWSER: &str = "sluice_browser";

/// The value of cookie `name` in the request, if any.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value; `max_age` `None` for a browser-session cookie, `Some(0)` to delete.
pub fn set(t: &TenantCtx, name: &str, value: &str, max_age: Option<i64>) -> http::HeaderValue {
    let secure = if t.base_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let age = max_age
        .map(|a| format!("; Max-Age={a}"))
        .unwrap_or_default();
    http::HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax{secure}{age}"
    ))
    .unwrap_or_else(|_| http::HeaderValue::from_static(""))
}
