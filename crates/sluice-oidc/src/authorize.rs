//! `GET /authorize` request validation (authorization code flow): the client, the exact
//! redirect URI, the response type, PKCE (`S256` only; required for public clients), the API,
//! the connection and the prompt. Errors carry where they must go: an error page when the
//! redirect URI cannot be trusted, otherwise back to the application.

use crate::Oidc;
use serde::{Deserialize, Serialize};
use sluice_core::clients::StoredClient;
use sluice_core::error::CoreError;
use sluice_core::tenant::TenantCtx;

/// The query of `/authorize`, as received.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub response_mode: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub audience: Option<String>,
    pub connection: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub screen_hint: Option<String>,
    pub login_hint: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    /// Refused when set: Sluice cannot satisfy an authentication context (such as Auth0's
    /// multi-factor policy) and never pretends to.
    pub acr_values: Option<String>,
    /// Request objects are not supported (the discovery document says so): refused, never
    /// silently ignored with the parameters inside them.
    pub request: Option<String>,
    pub request_uri: Option<String>,
}

/// A validated request: what the login transaction and the code remember.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AuthorizeRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub response_mode: Option<String>,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub audience: Option<String>,
    /// The connection named in the request, if any.
    pub connection: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<i64>,
    pub screen_hint: Option<String>,
    pub login_hint: Option<String>,
    pub code_challenge: Option<String>,
}

/// Why `/authorize` refused, and where to say so.
#[derive(Debug)]
pub enum AuthorizeError {
    /// The redirect URI cannot be trusted: show an error page.
    Page { error: String, description: String },
    /// Send `error`, `error_description` and `state` back to the application.
    Redirect {
        redirect_uri: String,
        response_mode: Option<String>,
        error: String,
        description: String,
        state: Option<String>,
    },
    /// The store or another dependency failed.
    Core(CoreError),
}

impl From<CoreError> for AuthorizeError {
    fn from(e: CoreError) -> Self {
        AuthorizeError::Core(e)
    }
}

/// Whether `uri` is exactly one of the client's allowed callback URLs.
pub fn callback_allowed(client: &StoredClient, uri: &str) -> bool {
    client
        .body
        .callbacks
        .as_deref()
        .unwrap_or_default()
        .iter()
        .any(|c| c == uri)
}

fn page(error: &str, description: impl Into<String>) -> AuthorizeError {
    AuthorizeError::Page {
        error: error.into(),
        description: description.into(),
    }
}

impl AuthorizeRequest {
    /// An error to send back to the application.
    pub fn error(&self, error: &str, description: impl Into<String>) -> AuthorizeError {
        AuthorizeError::Redirect {
            redirect_uri: self.redirect_uri.clone(),
            response_mode: self.response_mode.clone(),
            error: error.into(),
            description: description.into(),
            state: self.state.clone(),
        }
    }

    pub fn scopes(&self) -> Vec<&str> {
        self.scope.split_whitespace().collect()
    }
}

impl Oidc {
    /// Validates an `/authorize` request.
    pub async fn authorize_validate(
        &self,
        t: &TenantCtx,
        p: &AuthorizeParams,
    ) -> Result<(StoredClient, AuthorizeRequest), AuthorizeError> {
        let client_id = p
            .client_id
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| page("invalid_request", "Missing required parameter: client_id"))?;
        let client = self.core.client_fetch(t, client_id).await?.ok_or_else(|| {
            page(
                "invalid_request",
                "Unknown client: the client_id is not valid",
            )
        })?;
        let redirect_uri = p
            .redirect_uri
            .as_deref()
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                page(
                    "invalid_request",
                    "Missing required parameter: redirect_uri",
                )
            })?;
        if !callback_allowed(&client, redirect_uri) {
            return Err(page(
                "invalid_request",
                format!(
                    "Callback URL mismatch. {redirect_uri} is not in the list of allowed callback URLs"
                ),
            ));
        }
        let response_mode = match p.response_mode.as_deref() {
            None | Some("") | Some("query") => None,
            Some("form_post") => Some("form_post".to_string()),
            Some(other) => {
                return Err(page(
                    "invalid_request",
                    format!("Unsupported response_mode: {other}"),
                ));
            }
        };
        let req = AuthorizeRequest {
            client_id: client.client_id.clone(),
            redirect_uri: redirect_uri.to_string(),
            response_mode,
            scope: p.scope.clone().unwrap_or_else(|| "openid".into()),
            state: p.state.clone(),
            nonce: p.nonce.clone().filter(|n| !n.is_empty()),
            audience: p.audience.clone().filter(|a| !a.is_empty()),
            connection: p.connection.clone().filter(|c| !c.is_empty()),
            prompt: p.prompt.clone().filter(|c| !c.is_empty()),
            max_age: None,
            screen_hint: p.screen_hint.clone().filter(|c| !c.is_empty()),
            login_hint: p.login_hint.clone().filter(|c| !c.is_empty()),
            code_challenge: None,
        };
        match p.response_type.as_deref() {
            Some("code") => {}
            None | Some("") => {
                return Err(req.error(
                    "invalid_request",
                    "Missing required parameter: response_type",
                ));
            }
            Some(other) => {
                return Err(req.error(
                    "unsupported_response_type",
                    format!("Unsupported response type: {other}"),
                ));
            }
        }
        if !client.allows_grant("authorization_code") {
            return Err(req.error(
                "unauthorized_client",
                "Grant type 'authorization_code' not allowed for the client.",
            ));
        }
        let mut req = req;
        match (
            p.code_challenge.as_deref(),
            p.code_challenge_method.as_deref(),
        ) {
            (Some(c), Some("S256")) if is_s256_challenge(c) => {
                req.code_challenge = Some(c.to_string());
            }
            (Some(_), Some("S256")) => {
                return Err(req.error(
                    "invalid_request",
                    "Invalid code_challenge: expected 43 base64url characters",
                ));
            }
            (Some(_), Some("plain") | None) => {
                return Err(req.error(
                    "invalid_request",
                    "Unsupported code_challenge_method: only S256 is allowed",
                ));
            }
            (Some(_), Some(other)) => {
                return Err(req.error(
                    "invalid_request",
                    format!("Unsupported code_challenge_method: {other}"),
                ));
            }
            (None, Some(_)) => {
                return Err(req.error(
                    "invalid_request",
                    "Missing required parameter: code_challenge",
                ));
            }
            (None, None) if client.is_public() => {
                return Err(req.error(
                    "invalid_request",
                    "Public clients must use PKCE: code_challenge and code_challenge_method=S256 are required",
                ));
            }
            (None, None) => {}
        }
        if let Some(m) = p.max_age.as_deref().filter(|m| !m.is_empty()) {
            req.max_age = Some(m.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| {
                req.error("invalid_request", "max_age must be a non-negative integer")
            })?);
        }
        if p.request.as_deref().is_some_and(|r| !r.is_empty()) {
            return Err(req.error(
                "request_not_supported",
                "Request objects (the request parameter) are not supported",
            ));
        }
        if p.request_uri.as_deref().is_some_and(|r| !r.is_empty()) {
            return Err(req.error(
                "request_uri_not_supported",
                "The request_uri parameter is not supported",
            ));
        }
        if let Some(acr) = p.acr_values.as_deref().filter(|a| !a.trim().is_empty()) {
            return Err(req.error(
                "unmet_authentication_requirements",
                format!(
                    "The requested authentication context ({acr}) cannot be met: this server does not support multi-factor authentication"
                ),
            ));
        }
        if client.body.is_first_party == Some(false) {
            return Err(req.error(
                "unauthorized_client",
                "Third-party applications need the user's consent, which this server does not support yet",
            ));
        }
        if let Some(prompt) = req.prompt.as_deref()
            && !prompt
                .split_whitespace()
                .all(|p| ["none", "login", "consent", "select_account"].contains(&p))
        {
            return Err(req.error("invalid_request", format!("Unsupported prompt: {prompt}")));
        }
        match self.user_token_api(t, req.audience.as_deref()).await {
            Ok(_) => {}
            Err(CoreError::OAuth { kind, description }) => {
                return Err(req.error(kind.code(), description));
            }
            Err(e) => return Err(e.into()),
        }
        if let Some(c) = req.connection.clone() {
            match self.connection_for_client(t, &client, &c).await {
                Ok(_) => {}
                Err(CoreError::OAuth { description, .. }) => {
                    return Err(req.error("invalid_request", description));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok((client, req))
    }
}

/// An S256 challenge is the base64url (unpadded) SHA-256 of the verifier: 43 characters.
fn is_s256_challenge(c: &str) -> bool {
    c.len() == 43
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Checks a PKCE verifier (RFC 7636: 43-128 unreserved characters) against an S256 challenge.
pub fn pkce_verifies(verifier: &str, challenge: &str) -> bool {
    let ok_chars = verifier
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if !(43..=128).contains(&verifier.len()) || !ok_chars {
        return false;
    }
    let digest = sluice_crypto::ct::sha256(verifier.as_bytes());
    let computed = sluice_crypto::b64::url_encode(&digest);
    sluice_crypto::ct::ct_eq(computed.as_bytes(), challenge.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_accepts_the_rfc7636_example_and_nothing_else() {
        // RFC 7636 appendix B.
        let v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let c = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_verifies(v, c));
        assert!(is_s256_challenge(c));
        assert!(!pkce_verifies(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj",
            c
        ));
        assert!(!pkce_verifies("short", c));
        assert!(!pkce_verifies(c, c), "the challenge is not a verifier");
    }
}
