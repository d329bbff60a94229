//! OAuth 2.0 / OpenID Connect over the domain:
//!
//! - [`authorize`]: `/authorize` validation (PKCE, `prompt`, response modes);
//! - [`transaction`], [`session`]: login transactions of the login pages, SSO sessions;
//! - [`code`]: the end of an authorization (post-login extensibility, session, code);
//! - [`client_auth`]: client authentication at the token endpoint;
//! - [`grants`]: the token endpoint's grants, one file each;
//! - [`refresh`]: refresh-token families (rotation, reuse detection, revocation);
//! - [`issue`]: the token issuance every user grant shares; [`userinfo`].
//!
//! Kept inside sluice-core for now (issue 14 moves it to a `sluice-oidc` crate once `Core` is
//! split into services): the grants share token issuance, refresh tokens and the login flow,
//! and `impl Core` cannot span crates.

pub mod authorize;
pub mod client_auth;
pub mod code;
pub mod grants;
pub mod issue;
pub mod refresh;
pub mod session;
pub mod transaction;
pub mod userinfo;
