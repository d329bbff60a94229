//! `[email]`: how outgoing mail (password-reset and verification links) leaves the server — the
//! development outbox or an SMTP relay. Read from the TOML file, with the SMTP credentials also
//! from `SLUICE_SMTP_USERNAME` / `SLUICE_SMTP_PASSWORD` (environment beats file), and validated
//! at start-up with every problem reported. The password never appears in a `Debug` output.

use serde::Deserialize;
use std::net::IpAddr;
use std::time::Duration;

/// The sender when `email.from` is not set.
pub const DEFAULT_FROM: &str = "Sluice <no-reply@localhost>";
/// The SMTP port when `email.port` is not set (submission; 465 with `tls = "tls"`).
pub const DEFAULT_PORT: u16 = 587;
/// Implicit-TLS submission port, the default with `tls = "tls"`.
pub const DEFAULT_TLS_PORT: u16 = 465;
/// Deadline of one delivery (connect, TLS, authentication, sending) when not set.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 15;

/// A string that `Debug` prints as `[redacted]`.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The secret itself: only for handing it to the SMTP client.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// `[email]` as written in the file. Numbers are wide and names are strings so that a wrong
/// value becomes one reported problem rather than a failed parse of the whole file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EmailFile {
    /// `outbox` (default) or `smtp`.
    pub transport: Option<String>,
    /// The From header, e.g. `Acme <login@acme.example>`.
    pub from: Option<String>,
    pub host: Option<String>,
    pub port: Option<i64>,
    /// `starttls` (default), `tls` (implicit TLS) or `none` (loopback hosts only).
    pub tls: Option<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub timeout_seconds: Option<i64>,
}

/// Validated `[email]`.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailSettings {
    pub from: String,
    pub transport: MailTransport,
}

impl Default for EmailSettings {
    fn default() -> Self {
        EmailSettings {
            from: DEFAULT_FROM.into(),
            transport: MailTransport::Outbox,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum MailTransport {
    /// Each message is written to `<data-dir>/outbox/` (development).
    Outbox,
    Smtp(SmtpSettings),
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connect, then STARTTLS; delivery fails if the server cannot upgrade.
    StartTls,
    /// TLS from the first byte (SMTPS).
    Tls,
    /// No encryption: only for a relay on the same machine.
    None,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// Username and password for AUTH (PLAIN or LOGIN); none: no authentication.
    pub credentials: Option<(String, Secret)>,
    /// Deadline of one delivery.
    pub timeout: Duration,
}

/// Whether `host` is this machine: `localhost` or a loopback address.
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl EmailFile {
    /// Applies the environment and defaults; pushes every problem onto `errors`.
    pub fn validate(
        self,
        env: &dyn Fn(&str) -> Option<String>,
        errors: &mut Vec<String>,
    ) -> EmailSettings {
        let set = |k: &str| env(k).filter(|v| !v.is_empty());
        let from = self.from.unwrap_or_else(|| DEFAULT_FROM.into());
        if let Err(e) = from.parse::<lettre::message::Mailbox>() {
            errors.push(format!(
                "email.from: '{from}' is not an address like Acme <login@acme.example> ({e})"
            ));
        }
        let transport = self.transport.unwrap_or_else(|| "outbox".into());
        let transport = match transport.as_str() {
            "outbox" => MailTransport::Outbox,
            "smtp" => {
                let smtp = SmtpFields {
                    host: self.host,
                    port: self.port,
                    tls: self.tls,
                    username: set("SLUICE_SMTP_USERNAME").or(self.username),
                    password: set("SLUICE_SMTP_PASSWORD").map(Secret).or(self.password),
                    timeout_seconds: self.timeout_seconds,
                };
                match smtp.validate(errors) {
                    Some(s) => MailTransport::Smtp(s),
                    None => MailTransport::Outbox,
                }
            }
            other => {
                errors.push(format!("email.transport: '{other}' must be outbox or smtp"));
                MailTransport::Outbox
            }
        };
        EmailSettings { from, transport }
    }
}

/// The SMTP fields after the environment is applied.
struct SmtpFields {
    host: Option<String>,
    port: Option<i64>,
    tls: Option<String>,
    username: Option<String>,
    password: Option<Secret>,
    timeout_seconds: Option<i64>,
}

impl SmtpFields {
    fn validate(self, errors: &mut Vec<String>) -> Option<SmtpSettings> {
        let before = errors.len();
        let host = self.host.unwrap_or_default();
        if host.is_empty() {
            errors.push("email.host is required with email.transport = \"smtp\"".into());
        } else if host.contains(|c: char| c.is_whitespace() || c == '/' || c.is_control()) {
            errors.push(format!(
                "email.host: '{host}' must be a host name or an address"
            ));
        }
        let tls_s = self.tls.unwrap_or_else(|| "starttls".into());
        let tls = match tls_s.as_str() {
            "starttls" => SmtpTls::StartTls,
            "tls" => SmtpTls::Tls,
            "none" => SmtpTls::None,
            other => {
                errors.push(format!(
                    "email.tls: '{other}' must be starttls, tls or none"
                ));
                SmtpTls::StartTls
            }
        };
        if tls == SmtpTls::None && !host.is_empty() && !is_loopback_host(&host) {
            errors.push(format!(
                "email.tls = \"none\" is only allowed for a loopback host (localhost, 127.0.0.1, ::1); '{host}' needs starttls or tls"
            ));
        }
        let default_port = match tls {
            SmtpTls::Tls => DEFAULT_TLS_PORT,
            _ => DEFAULT_PORT,
        };
        let port = match self.port {
            None => default_port,
            Some(p) => u16::try_from(p)
                .ok()
                .filter(|p| *p != 0)
                .unwrap_or_else(|| {
                    errors.push(format!("email.port: {p} must be 1 to 65535"));
                    default_port
                }),
        };
        let credentials = match (self.username, self.password) {
            (Some(u), Some(p)) => {
                if u.is_empty() || p.expose().is_empty() {
                    errors.push("email.username and email.password must not be empty".into());
                }
                Some((u, p))
            }
            (None, None) => None,
            (Some(_), None) => {
                errors.push(
                    "email.username needs a password (email.password or SLUICE_SMTP_PASSWORD)"
                        .into(),
                );
                None
            }
            (None, Some(_)) => {
                errors.push(
                    "email.password needs a username (email.username or SLUICE_SMTP_USERNAME)"
                        .into(),
                );
                None
            }
        };
        let timeout_seconds = self
            .timeout_seconds
            .unwrap_or(DEFAULT_TIMEOUT_SECONDS as i64);
        if !(1..=300).contains(&timeout_seconds) {
            errors.push("email.timeout_seconds must be 1 to 300".into());
        }
        (errors.len() == before).then(|| SmtpSettings {
            host,
            port,
            tls,
            credentials,
            timeout: Duration::from_secs(timeout_seconds.clamp(1, 300) as u64),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(
        toml_text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> (EmailSettings, Vec<String>) {
        #[derive(Deserialize)]
        struct F {
            email: EmailFile,
        }
        let f: F = toml::from_str(toml_text).unwrap();
        let mut errors = Vec::new();
        (f.email.validate(env, &mut errors), errors)
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn outbox_is_the_default() {
        let mut errors = Vec::new();
        let s = EmailFile::default().validate(&no_env, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(s, EmailSettings::default());
    }

    #[test]
    fn smtp_defaults_and_credentials_from_the_environment() {
        let env = |k: &str| match k {
            "SLUICE_SMTP_PASSWORD" => Some("from-env".to_string()),
            _ => None,
        };
        let (s, errors) = parse(
            "[email]\ntransport = \"smtp\"\nhost = \"smtp.example.com\"\nusername = \"u\"\npassword = \"from-file\"\n",
            &env,
        );
        assert!(errors.is_empty(), "{errors:?}");
        let MailTransport::Smtp(smtp) = s.transport else {
            panic!("smtp expected")
        };
        assert_eq!((smtp.port, smtp.tls), (587, SmtpTls::StartTls));
        assert_eq!(smtp.timeout, Duration::from_secs(DEFAULT_TIMEOUT_SECONDS));
        let (user, pw) = smtp.credentials.unwrap();
        assert_eq!((user.as_str(), pw.expose()), ("u", "from-env"));
        let (s, _) = parse(
            "[email]\ntransport = \"smtp\"\nhost = \"smtp.example.com\"\ntls = \"tls\"\n",
            &no_env,
        );
        assert!(matches!(
            s.transport,
            MailTransport::Smtp(SmtpSettings { port: 465, .. })
        ));
    }

    #[test]
    fn every_smtp_problem_is_reported() {
        let (_, errors) = parse(
            "[email]\ntransport = \"smtp\"\nfrom = \"not an address\"\nhost = \"smtp.example.com\"\ntls = \"none\"\nport = 70000\nusername = \"u\"\ntimeout_seconds = 0\n",
            &no_env,
        );
        assert_eq!(errors.len(), 5, "{errors:#?}");
        for needle in [
            "email.from",
            "loopback",
            "email.port",
            "email.username",
            "timeout",
        ] {
            assert!(
                errors.iter().any(|e| e.contains(needle)),
                "{needle}: {errors:#?}"
            );
        }
        let (_, errors) = parse("[email]\ntransport = \"smtp\"\ntls = \"maybe\"\n", &no_env);
        assert_eq!(errors.len(), 2, "{errors:#?}");
        let (_, errors) = parse("[email]\ntransport = \"pigeon\"\n", &no_env);
        assert_eq!(errors.len(), 1, "{errors:#?}");
    }

    #[test]
    fn no_tls_is_allowed_on_loopback_only() {
        for host in ["localhost", "127.0.0.1", "127.0.0.53", "::1", "[::1]"] {
            assert!(is_loopback_host(host), "{host}");
            let (_, errors) = parse(
                &format!("[email]\ntransport = \"smtp\"\nhost = \"{host}\"\ntls = \"none\"\n"),
                &no_env,
            );
            assert!(errors.is_empty(), "{host}: {errors:?}");
        }
        for host in [
            "10.0.0.1",
            "smtp.example.com",
            "localhost.example.com",
            "0.0.0.0",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn debug_never_shows_the_password() {
        let (s, errors) = parse(
            "[email]\ntransport = \"smtp\"\nhost = \"localhost\"\nusername = \"u\"\npassword = \"hunter2-secret\"\n",
            &no_env,
        );
        assert!(errors.is_empty(), "{errors:?}");
        let raw: EmailFile = toml::from_str("password = \"hunter2-secret\"\n").unwrap();
        for text in [format!("{s:?}"), format!("{s:#?}"), format!("{raw:?}")] {
            assert!(!text.contains("hunter2"), "{text}");
            assert!(text.contains("[redacted]"), "{text}");
        }
    }
}
