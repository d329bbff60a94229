//! SMTP delivery (`email.transport = "smtp"`) through lettre: one connection per message
//! (STARTTLS required, implicit TLS, or plain on loopback only), AUTH PLAIN/LOGIN when
//! credentials are configured, and a deadline over the whole delivery. Messages are
//! `text/plain; charset=utf-8` with From, To, Subject, Date and Message-ID built by lettre's
//! typed headers, so no header can be injected through a subject or an address. Errors carry
//! the server and lettre's reason, never the credentials; the body (one-time links) and the
//! recipient are never logged.

use crate::config::{Secret, SmtpSettings, SmtpTls};
use async_trait::async_trait;
use base64::Engine;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sluice_core::ports::{Email, Mailer};
use std::time::Duration;

pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// `host:port`, for messages.
    server: String,
    deadline: Duration,
    /// The password and the AUTH encodings that carry it, scrubbed from error text.
    secrets: Vec<String>,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// Builds the transport; nothing connects until the first message.
    pub fn new(
        cfg: &SmtpSettings,
        from: &str,
        hello_name: Option<String>,
    ) -> Result<SmtpMailer, String> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| format!("email.from: '{from}': {e}"))?;
        let tls = |host: &str| {
            TlsParameters::new(host.to_string()).map_err(|e| format!("email.tls: {e}"))
        };
        let tls = match cfg.tls {
            SmtpTls::StartTls => Tls::Required(tls(&cfg.host)?),
            SmtpTls::Tls => Tls::Wrapper(tls(&cfg.host)?),
            SmtpTls::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host)
            .port(cfg.port)
            .tls(tls)
            .timeout(Some(cfg.timeout));
        if let Some(name) = hello_name {
            builder = builder.hello_name(ClientId::Domain(name));
        }
        let mut secrets = Vec::new();
        if let Some((user, password)) = &cfg.credentials {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            ));
            secrets = secret_forms(user, password);
        }
        Ok(SmtpMailer {
            transport: builder.build(),
            from,
            server: format!("{}:{}", cfg.host, cfg.port),
            deadline: cfg.timeout,
            secrets,
        })
    }

    /// The message for `email`, with a fresh Message-ID in the sender's domain.
    fn message(&self, email: Email) -> Result<Message, String> {
        // The address is not echoed: error text ends up in logs.
        let to: Address = email
            .to
            .trim()
            .parse()
            .map_err(|e| format!("the recipient is not a valid address ({e})"))?;
        let id = format!(
            "<{}@{}>",
            sluice_crypto::random::random_hex(32),
            self.from.email.domain()
        );
        Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(email.subject)
            .date_now()
            .message_id(Some(id))
            .header(ContentType::TEXT_PLAIN)
            .body(email.text)
            .map_err(|e| format!("cannot build the message: {e}"))
    }

    fn scrub(&self, mut text: String) -> String {
        for s in &self.secrets {
            text = text.replace(s.as_str(), "[redacted]");
        }
        text
    }
}

/// What a password can look like on the wire: itself, and base64 in AUTH PLAIN and LOGIN.
fn secret_forms(user: &str, password: &Secret) -> Vec<String> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let pw = password.expose();
    [pw.to_string(), b64(pw), b64(&format!("\0{user}\0{pw}"))]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect()
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, email: Email) -> Result<(), String> {
        let message = self.message(email)?;
        match tokio::time::timeout(self.deadline, self.transport.send(message)).await {
            Ok(Ok(response)) => {
                tracing::info!(
                    server = %self.server,
                    code = %response.code(),
                    "email accepted by the SMTP server"
                );
                Ok(())
            }
            Ok(Err(e)) => Err(self.scrub(format!("smtp {}: {e}", self.server))),
            Err(_) => Err(format!(
                "smtp {}: no delivery within {} s",
                self.server,
                self.deadline.as_secs()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailer() -> SmtpMailer {
        let cfg = SmtpSettings {
            host: "127.0.0.1".into(),
            port: 2525,
            tls: SmtpTls::None,
            credentials: Some(("user".into(), Secret::new("pw-0123456789"))),
            timeout: Duration::from_secs(5),
        };
        SmtpMailer::new(&cfg, "Acme Login <login@acme.example>", None).unwrap()
    }

    fn formatted(m: &SmtpMailer, to: &str, subject: &str, text: &str) -> Result<String, String> {
        let msg = m.message(Email {
            to: to.into(),
            subject: subject.into(),
            text: text.into(),
        })?;
        Ok(String::from_utf8(msg.formatted()).unwrap())
    }

    fn headers(msg: &str) -> Vec<&str> {
        msg.split("\r\n\r\n")
            .next()
            .unwrap()
            .split("\r\n")
            .collect()
    }

    #[test]
    fn message_has_the_required_headers() {
        let m = mailer();
        let msg = formatted(&m, "r@example.com", "Reset your password", "Hello\nworld\n").unwrap();
        let h = headers(&msg);
        for prefix in [
            "From: \"Acme Login\" <login@acme.example>",
            "To: r@example.com",
            "Subject: Reset your password",
            "Date: ",
            "Content-Type: text/plain; charset=utf-8",
        ] {
            assert!(h.iter().any(|l| l.starts_with(prefix)), "{prefix}: {msg}");
        }
        let id = h.iter().find(|l| l.starts_with("Message-ID: <")).unwrap();
        assert!(id.ends_with("@acme.example>"), "{id}");
        assert_ne!(formatted(&m, "r@example.com", "s", "t").unwrap(), msg);
    }

    #[test]
    fn headers_cannot_be_injected() {
        let m = mailer();
        let msg = formatted(
            &m,
            "r@example.com",
            "Hi\r\nBcc: victim@example.com\r\nX-Evil: 1",
            "body",
        )
        .unwrap();
        let h = headers(&msg);
        assert!(
            !h.iter()
                .any(|l| l.starts_with("Bcc:") || l.starts_with("X-Evil:")),
            "{msg}"
        );
        for to in [
            "r@example.com\r\nBcc: victim@example.com",
            "r@example.com, victim@example.com",
            "Name <r@example.com>",
            "",
        ] {
            assert!(formatted(&m, to, "s", "t").is_err(), "{to:?}");
        }
    }

    #[test]
    fn utf8_text_survives() {
        let m = mailer();
        let msg = formatted(&m, "r@example.com", "Passwort zurücksetzen", "Grüße ✓").unwrap();
        let subject = headers(&msg)
            .into_iter()
            .find(|l| l.starts_with("Subject: "));
        assert!(subject.unwrap().contains("=?utf-8?"), "{msg}");
        assert!(msg.is_ascii(), "non-ASCII is transfer-encoded: {msg}");
        assert!(msg.contains("Content-Transfer-Encoding: base64"), "{msg}");
        let body = msg.split("\r\n\r\n").nth(1).unwrap().replace("\r\n", "");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap();
        assert_eq!(String::from_utf8(decoded).unwrap(), "Grüße ✓");
    }

    #[test]
    fn tls_modes_build_with_the_system_trust_store() {
        for tls in [SmtpTls::StartTls, SmtpTls::Tls] {
            let cfg = SmtpSettings {
                host: "smtp.example.com".into(),
                port: 587,
                tls,
                credentials: None,
                timeout: Duration::from_secs(5),
            };
            let m = SmtpMailer::new(
                &cfg,
                crate::config::DEFAULT_FROM,
                Some("id.example.com".into()),
            );
            assert!(m.is_ok(), "{tls:?}: {:?}", m.err());
        }
    }

    #[test]
    fn errors_never_show_the_credentials() {
        let m = mailer();
        let b64 = base64::engine::general_purpose::STANDARD.encode("\0user\0pw-0123456789");
        let text = m.scrub(format!("smtp: 535 bad pw-0123456789 {b64}"));
        assert!(
            !text.contains("pw-0123456789") && !text.contains(&b64),
            "{text}"
        );
        let debug = format!("{m:?}");
        assert!(!debug.contains("pw-0123456789"), "{debug}");
    }
}
