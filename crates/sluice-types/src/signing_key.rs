//! Management API `keys/signing`: a tenant's application signing keys in Auth0's shape.
//!
//! Differences from Auth0: Sluice keys have no X.509 certificate, so `cert` and `pkcs7` are
//! absent; `thumbprint` is the RFC 7638 SHA-256 JWK thumbprint in upper-case hex (Auth0 uses the
//! certificate's SHA-1) and `fingerprint` the same digest as colon-separated hex pairs.

use serde::{Deserialize, Serialize};

/// One signing key (`GET /api/v2/keys/signing`, `GET /api/v2/keys/signing/{kid}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SigningKey {
    pub kid: String,
    /// PEM certificate; Sluice has none (see the module docs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<String>,
    pub fingerprint: String,
    pub thumbprint: String,
    /// Signs tokens now.
    pub current: bool,
    /// Published in the JWKS; signs after the next rotation.
    pub next: bool,
    /// Signed before a rotation; published until its tokens expire or it is revoked.
    pub previous: bool,
    /// When the key started signing (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_since: Option<String>,
    /// When the key stopped signing (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_until: Option<String>,
    pub revoked: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

/// The answer of `POST /api/v2/keys/signing/rotate` (the new next key) and of
/// `PUT /api/v2/keys/signing/{kid}/revoke` (the revoked key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SigningKeyRef {
    /// PEM certificate; Sluice has none (see the module docs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<String>,
    pub kid: String,
}
