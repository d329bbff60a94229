//! Ports: the traits the core needs from the outside world, and the vocabulary they speak.
//!
//! - [`store`]: persistence (`sluice-store` implements it);
//! - [`scripts`]: running and checking action scripts, Rules, Hooks and Actions
//!   (`sluice-scripts` implements it);
//! - here: the [`Clock`] (the binary's system clock; tests set their own) and the [`Mailer`].
//!
//! Everything is re-exported here, so `crate::ports::X` names any of it.

pub mod scripts;
pub mod store;

pub use scripts::*;
pub use store::*;

use async_trait::async_trait;

/// The only source of "now" in the core (tests use a fixed clock).
pub trait Clock: Send + Sync {
    /// Unix time in seconds.
    fn now(&self) -> i64;
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
