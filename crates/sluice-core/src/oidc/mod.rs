//! OAuth 2.0 / OpenID Connect over the domain: `/authorize` validation, login transactions,
//! SSO sessions, authorization codes with PKCE, refresh tokens with rotation, and the token
//! issuance every user grant shares. Kept inside sluice-core (rather than a separate crate)
//! because the Authentication API's password grants and these share token issuance, refresh
//! tokens and the login flow, and `impl Core` cannot span crates.

pub mod authorize;
pub mod code;
pub mod issue;
pub mod refresh;
pub mod session;
pub mod transaction;
pub mod userinfo;
