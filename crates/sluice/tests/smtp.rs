//! Email over SMTP (`[email] transport = "smtp"`): a password reset requested through the public
//! API reaches an SMTP server with the link, authenticated with the configured credentials and
//! nothing in the outbox; an unreachable or silent server; `tls = "none"` off loopback is a
//! start-up error. The SMTP server is a small sink in this file (the one external edge).

use crate::support;

use base64::Engine;
use serde_json::json;
use sluice::config::{ConfigArgs, EmailSettings, Settings};
use sluice_testkit::TestServer;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::app_and_connection;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const PASSWORD: &str = "smtp-pass-0123456789";
const RESET_SENT: &str = "We've just sent you an email to reset your password.";

/// What one SMTP session saw.
#[derive(Debug, Clone, Default)]
struct Received {
    /// The command verbs in order (`EHLO`, `AUTH`, `MAIL`, ...).
    verbs: Vec<String>,
    /// Whether a message was accepted (DATA completed).
    delivered: bool,
    /// (username, password) from AUTH PLAIN or LOGIN.
    auth: Option<(String, String)>,
    mail_from: String,
    rcpt_to: Vec<String>,
    /// The message as sent after DATA (dot-unstuffed, CRLF line ends).
    data: String,
}

/// An SMTP server on 127.0.0.1 that accepts everything and records it.
struct Sink {
    port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Sink {
    /// `silent`: accept connections and never answer.
    async fn start(silent: bool) -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = received.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sink = sink.clone();
                tokio::spawn(async move {
                    if silent {
                        tokio::time::sleep(Duration::from_secs(60)).await;
                        drop(stream);
                    } else {
                        let mut got = Received::default();
                        session(stream, &mut got).await;
                        sink.lock().unwrap().push(got);
                    }
                });
            }
        });
        Sink {
            port,
            received,
            task,
        }
    }

    /// Every session, delivered or not.
    fn sessions(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The sessions that delivered a message.
    fn messages(&self) -> Vec<Received> {
        self.sessions()
            .into_iter()
            .filter(|r| r.delivered)
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn b64_decode(s: &str) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Speaks enough SMTP for one message, recording into `got` (None: the client went away).
async fn session(stream: TcpStream, got: &mut Received) -> Option<()> {
    let (r, mut w) = stream.into_split();
    let mut lines = BufReader::new(r);
    w.write_all(b"220 sink.test ESMTP\r\n").await.ok()?;
    let mut line = String::new();
    macro_rules! read_line {
        () => {{
            line.clear();
            if lines.read_line(&mut line).await.ok()? == 0 {
                return None;
            }
            line.trim_end_matches(['\r', '\n']).to_string()
        }};
    }
    loop {
        let cmd = read_line!();
        let upper = cmd.to_ascii_uppercase();
        got.verbs
            .push(upper.split([' ', ':']).next().unwrap_or("").to_string());
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250-sink.test\r\n250 AUTH PLAIN LOGIN\r\n"
        } else if upper.starts_with("AUTH PLAIN") {
            let initial = cmd[10..].trim().to_string();
            let blob = if initial.is_empty() {
                w.write_all(b"334 \r\n").await.ok()?;
                read_line!()
            } else {
                initial
            };
            let parts: Vec<String> = b64_decode(&blob).split('\0').map(String::from).collect();
            if let [_, user, pass] = parts.as_slice() {
                got.auth = Some((user.clone(), pass.clone()));
            }
            b"235 2.7.0 Authentication successful\r\n"
        } else if upper.starts_with("AUTH LOGIN") {
            w.write_all(b"334 VXNlcm5hbWU6\r\n").await.ok()?;
            let user = b64_decode(&read_line!());
            w.write_all(b"334 UGFzc3dvcmQ6\r\n").await.ok()?;
            let pass = b64_decode(&read_line!());
            got.auth = Some((user, pass));
            b"235 2.7.0 Authentication successful\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            got.mail_from = angle(&cmd);
            b"250 2.1.0 Ok\r\n"
        } else if upper.starts_with("RCPT TO:") {
            got.rcpt_to.push(angle(&cmd));
            b"250 2.1.5 Ok\r\n"
        } else if upper == "DATA" {
            w.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await
                .ok()?;
            loop {
                let l = read_line!();
                if l == "." {
                    break;
                }
                got.data.push_str(l.strip_prefix('.').unwrap_or(&l));
                got.data.push_str("\r\n");
            }
            got.delivered = true;
            b"250 2.0.0 Ok: queued\r\n"
        } else if upper == "QUIT" {
            let _ = w.write_all(b"221 2.0.0 Bye\r\n").await;
            break;
        } else if upper == "RSET" || upper == "NOOP" {
            b"250 2.0.0 Ok\r\n"
        } else {
            b"502 5.5.2 Command not recognized\r\n"
        };
        w.write_all(reply).await.ok()?;
    }
    Some(())
}

/// The address inside `<...>`.
fn angle(cmd: &str) -> String {
    let start = cmd.find('<').map_or(0, |i| i + 1);
    let end = cmd[start..].find('>').map_or(cmd.len(), |i| start + i);
    cmd[start..end].to_string()
}

/// The value of a header (first occurrence, unfolded).
fn header<'a>(data: &'a str, name: &str) -> Option<&'a str> {
    let head = data.split("\r\n\r\n").next()?;
    head.split("\r\n").find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// The body, with its Content-Transfer-Encoding undone.
fn body_text(data: &str) -> String {
    let body = data.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    match header(data, "Content-Transfer-Encoding").map(str::to_ascii_lowercase) {
        Some(e) if e == "base64" => b64_decode(&body.replace("\r\n", "")),
        Some(e) if e == "quoted-printable" => {
            let joined = body.replace("=\r\n", "");
            let bytes = joined.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'='
                    && let Some(Ok(b)) = joined.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16))
                {
                    out.push(b);
                    i += 3;
                    continue;
                }
                out.push(bytes[i]);
                i += 1;
            }
            String::from_utf8_lossy(&out).into_owned()
        }
        _ => body.to_string(),
    }
}

/// `[email]` loaded the way the binary loads it: this TOML plus `SLUICE_SMTP_PASSWORD`.
fn email_settings(toml_email: &str) -> EmailSettings {
    let dir = std::env::temp_dir().join(format!("sluice-smtp-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sluice.toml");
    std::fs::write(&path, format!("[email]\n{toml_email}")).unwrap();
    let args = ConfigArgs {
        config: Some(path),
        ..Default::default()
    };
    let env = |k: &str| (k == "SLUICE_SMTP_PASSWORD").then(|| PASSWORD.to_string());
    let loaded = Settings::load(&args, &env).expect("valid configuration");
    let _ = std::fs::remove_dir_all(dir);
    loaded.email
}

fn smtp_toml(port: u16, timeout_seconds: u64) -> String {
    format!(
        "transport = \"smtp\"\nfrom = \"Acme Login <login@acme.test>\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nusername = \"mailer@acme.test\"\ntimeout_seconds = {timeout_seconds}\n"
    )
}

/// A server with a managed database connection `db` holding `r@example.com`.
async fn server_with_user(email: EmailSettings) -> TestServer {
    let s = TestServer::start_with("sqlite", |s| s.email = email).await;
    let tok = s.mgmt_token().await;
    app_and_connection(&s, &tok, "db", json!({"passwordPolicy": "fair"})).await;
    let (st, u) = s
        .call(
            "POST",
            "/api/v2/users",
            Some(&tok),
            Some(json!({"connection": "db", "email": "r@example.com", "password": "OldPassw0rd"})),
        )
        .await;
    assert_eq!(st, 201, "{u}");
    s
}

async fn request_reset(s: &TestServer, email: &str) -> (u16, String) {
    let r = s
        .http
        .post(format!("{}/dbconnections/change_password", s.url))
        .json(&json!({"email": email, "connection": "db"}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn outbox_files(s: &TestServer) -> usize {
    std::fs::read_dir(s.data_dir.join("outbox")).map_or(0, |d| d.count())
}

#[tokio::test]
async fn reset_link_is_delivered_over_authenticated_smtp() {
    let sink = Sink::start(false).await;
    let s = server_with_user(email_settings(&smtp_toml(sink.port, 10))).await;

    assert_eq!(
        request_reset(&s, "R@example.com").await,
        (200, RESET_SENT.into())
    );
    // Unknown users get the same answer and no email.
    assert_eq!(
        request_reset(&s, "nobody@example.com").await,
        (200, RESET_SENT.into())
    );

    // Creating the user also sent a verification email through the same relay.
    let msgs = sink.messages();
    let resets: Vec<_> = msgs
        .iter()
        .filter(|m| header(&m.data, "Subject") == Some("Reset your password"))
        .collect();
    assert_eq!(resets.len(), 1, "{msgs:#?}");
    let m = resets[0];
    assert_eq!(
        m.auth,
        Some(("mailer@acme.test".to_string(), PASSWORD.to_string()))
    );
    assert_eq!(m.mail_from, "login@acme.test");
    assert_eq!(m.rcpt_to, vec!["r@example.com".to_string()]);
    let from = header(&m.data, "From").unwrap();
    assert!(
        from.contains("Acme Login") && from.ends_with("<login@acme.test>"),
        "{from}"
    );
    assert_eq!(header(&m.data, "To"), Some("r@example.com"));
    assert_eq!(header(&m.data, "Subject"), Some("Reset your password"));
    assert!(header(&m.data, "Date").is_some(), "{}", m.data);
    let id = header(&m.data, "Message-ID").unwrap();
    assert!(id.starts_with('<') && id.ends_with("@acme.test>"), "{id}");
    assert_eq!(
        header(&m.data, "Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    assert!(!m.data.contains(PASSWORD));

    // The link in the message opens the reset page for that user.
    let text = body_text(&m.data);
    let prefix = format!("{}/lo/reset?ticket=", s.url);
    let i = text
        .find(&prefix)
        .unwrap_or_else(|| panic!("no link in: {text}"))
        + prefix.len();
    let ticket = text[i..].split_whitespace().next().unwrap();
    let page = s
        .http
        .get(format!("{prefix}{ticket}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("r@example.com"));

    assert_eq!(outbox_files(&s), 0, "nothing goes to the outbox");
}

#[tokio::test]
async fn starttls_that_the_server_does_not_offer_sends_no_credentials() {
    // The sink offers no STARTTLS: delivery must stop before AUTH, with nothing sent.
    let sink = Sink::start(false).await;
    let toml = smtp_toml(sink.port, 5).replace("tls = \"none\"", "tls = \"starttls\"");
    let s = server_with_user(email_settings(&toml)).await;
    let (status, _) = request_reset(&s, "r@example.com").await;
    assert_eq!(status, 200, "the neutral answer; the failure is logged");
    let sessions = sink.sessions();
    assert!(!sessions.is_empty());
    for r in &sessions {
        assert_eq!(r.auth, None, "{sessions:#?}");
        assert!(
            !r.verbs.iter().any(|v| v == "AUTH" || v == "MAIL"),
            "{sessions:#?}"
        );
    }
    assert_eq!(outbox_files(&s), 0);
}

#[tokio::test]
async fn unreachable_smtp_server_keeps_the_neutral_answer_and_leaks_nothing() {
    // A loopback port nobody listens on: the connection is refused.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let s = server_with_user(email_settings(&smtp_toml(port, 5))).await;
    let started = Instant::now();
    let (status, body) = request_reset(&s, "r@example.com").await;
    assert!(started.elapsed() < Duration::from_secs(5));
    // Auth0's neutral answer whatever happens to the email: a different answer while the
    // relay is down would tell which addresses have accounts. The failure goes to the log.
    assert_eq!((status, body.as_str()), (200, RESET_SENT), "{body}");
    assert!(
        !body.contains(PASSWORD) && !body.contains(&port.to_string()),
        "{body}"
    );
    assert_eq!(
        request_reset(&s, "nobody@example.com").await,
        (200, RESET_SENT.into())
    );
    assert_eq!(outbox_files(&s), 0, "no silent fallback to the outbox");
}

#[tokio::test]
async fn a_silent_smtp_server_is_given_up_after_the_timeout() {
    let sink = Sink::start(true).await;
    let s = server_with_user(email_settings(&smtp_toml(sink.port, 1))).await;
    let started = Instant::now();
    let (status, _) = request_reset(&s, "r@example.com").await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert_eq!(status, 200, "the neutral answer; the failure is logged");
    assert!(sink.messages().is_empty());
}

#[test]
fn unencrypted_smtp_to_a_remote_host_is_a_start_up_error() {
    let dir =
        std::env::temp_dir().join(format!("sluice-smtp-cfg-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("c.toml");
    std::fs::write(
        &cfg,
        "[email]\ntransport = \"smtp\"\nhost = \"smtp.example.com\"\ntls = \"none\"\nusername = \"u\"\ntimeout_seconds = 0\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.join("data"))
        .arg("--config")
        .arg(&cfg)
        .env_remove("SLUICE_CONFIG")
        .env_remove("SLUICE_SMTP_USERNAME")
        .env("SLUICE_SMTP_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "email.tls = \"none\"",
        "smtp.example.com",
        "email.timeout_seconds",
    ] {
        assert!(err.contains(needle), "missing '{needle}' in: {err}");
    }
    assert!(!err.contains(PASSWORD), "{err}");
    assert!(!dir.join("data").exists(), "nothing starts");
    let _ = std::fs::remove_dir_all(dir);
}
