//! Outgoing mail behind the core's `Mailer` port: chooses the transport configured in
//! `[email]` — the development outbox ([`outbox`]) or an SMTP relay ([`smtp`]).

mod outbox;
mod smtp;

pub use outbox::OutboxMailer;
pub use smtp::SmtpMailer;

use crate::config::{EmailSettings, MailTransport};
use sluice_core::ports::Mailer;
use std::path::Path;
use std::sync::Arc;

/// The mailer for `email`. `hello_name` is the name sent in SMTP's EHLO (the public URL's host
/// name when it has one). Nothing connects yet: an unreachable relay shows at the first send.
pub fn mailer(
    email: &EmailSettings,
    data_dir: &Path,
    hello_name: Option<String>,
) -> Result<Arc<dyn Mailer>, String> {
    Ok(match &email.transport {
        MailTransport::Outbox => Arc::new(OutboxMailer {
            dir: data_dir.join("outbox"),
            from: email.from.clone(),
        }),
        MailTransport::Smtp(smtp) => Arc::new(SmtpMailer::new(smtp, &email.from, hello_name)?),
    })
}

/// The transport in a few words for the start-up log (never the credentials).
pub fn describe(email: &EmailSettings) -> String {
    match &email.transport {
        MailTransport::Outbox => "outbox".into(),
        MailTransport::Smtp(s) => format!("smtp {}:{} ({:?})", s.host, s.port, s.tls),
    }
}
