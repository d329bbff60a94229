//! Ports: the traits the core needs from the outside world, and the vocabulary they speak.
//!
//! - [`store`]: persistence (`sluice-store` implements it);
//! - [`scripts`]: running and checking action scripts, Rules, Hooks and Actions
//!   (`sluice-scripts` implements it);
//! - here: the [`Clock`] (the binary's system clock; tests set their own), the [`Mailer`] and
//!   the [`KeySource`] of new signing keys.
//!
//! Everything is re-exported here, so `crate::ports::X` names any of it.

pub mod scripts;
pub mod store;

pub use scripts::*;
pub use store::*;

use async_trait::async_trait;
use sluice_crypto::CryptoError;
use sluice_crypto::keys::SigningKey;

/// The only source of "now" in the core (tests use a fixed clock).
pub trait Clock: Send + Sync {
    /// Unix time in seconds.
    fn now(&self) -> i64;
}

/// Where new RSA signing keys come from. The server generates each one fresh ([`FreshKeys`]);
/// the test kit hands out keys it generated once, because a new tenant needs two and their
/// generation was the costliest step of starting a test server.
pub trait KeySource: Send + Sync {
    /// A new key named `kid`; called on a blocking thread.
    fn generate(&self, kid: String) -> Result<SigningKey, CryptoError>;
}

/// A freshly generated RSA-2048 key every time.
pub struct FreshKeys;

impl KeySource for FreshKeys {
    fn generate(&self, kid: String) -> Result<SigningKey, CryptoError> {
        SigningKey::generate(kid)
    }
}

/// An email to send.
#[derive(Clone, PartialEq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
}

impl std::fmt::Debug for Email {
    // Bodies carry one-time links: never print them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Email")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Sends email (SMTP, or a development outbox).
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, email: Email) -> Result<(), String>;
}
