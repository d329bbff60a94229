//! Sluice's OAuth 2.0 / OpenID Connect service, [`Oidc`]: a consumer of the domain core's
//! public operations (clients, connections, the login pipeline, extensibility, tenants and
//! their keys) that owns the protocol's decisions and artifacts:
//!
//! - [`authorize`]: `/authorize` validation (PKCE, `prompt`, response modes);
//! - [`transaction`], [`session`]: login transactions of the login pages, SSO sessions;
//! - [`code`]: the end of an authorization (post-login extensibility, session, code);
//! - [`client_auth`]: client authentication at the token endpoint;
//! - [`grants`]: the token endpoint's grants, one file each;
//! - [`refresh`]: refresh-token families (rotation, reuse detection, revocation);
//! - [`issue`]: the token issuance every user grant shares; [`userinfo`].
//!
//! The HTTP layer (`sluice-http`) parses requests, calls one [`Oidc`] operation and maps its
//! typed result; the core knows nothing of this crate.

pub mod authorize;
pub mod client_auth;
pub mod code;
pub mod grants;
pub mod issue;
pub mod refresh;
pub mod session;
pub mod transaction;
pub mod userinfo;

use sluice_core::Core;
use sluice_core::extend::Extensibility;
use std::sync::Arc;

/// The OAuth 2.0 / OIDC service of one server: holds the domain core it works through (the
/// ports it reaches are the core's store and clock, through the core's public fields) and the
/// extensibility service.
pub struct Oidc {
    core: Arc<Core>,
    /// Credentials-exchange Hooks and Actions run here.
    extend: Arc<Extensibility>,
}

impl Oidc {
    pub fn new(core: Arc<Core>) -> Self {
        Oidc {
            extend: core.extend.clone(),
            core,
        }
    }

    /// The domain core this service works through.
    pub fn core(&self) -> &Arc<Core> {
        &self.core
    }
}
