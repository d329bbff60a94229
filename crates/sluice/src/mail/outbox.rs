//! The development outbox (`email.transport = "outbox"`, the default): each message is written
//! to `<data-dir>/outbox/<time>-<n>.eml` (mode 0600). The message holds one-time links, so only
//! the file's path is logged, never its content.

use async_trait::async_trait;
use sluice_core::ports::{Email, Mailer};
use std::path::PathBuf;

pub struct OutboxMailer {
    pub dir: PathBuf,
    pub from: String,
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, email: Email) -> Result<(), String> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| format!("outbox {}: {e}", self.dir.display()))?;
        #[allow(clippy::disallowed_methods)] // a file name that sorts by arrival
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros())
            .unwrap_or(0);
        let path = self.dir.join(format!(
            "{micros}-{}.eml",
            sluice_crypto::random::random_hex(6)
        ));
        let clean = |s: &str| s.replace(['\r', '\n'], " ");
        let text = format!(
            "From: {}\r\nTo: {}\r\nSubject: {}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}",
            clean(&self.from),
            clean(&email.to),
            clean(&email.subject),
            email.text
        );
        crate::bootstrap::write_private(&path, text.as_bytes())
            .map_err(|e| format!("outbox {}: {e}", path.display()))?;
        tracing::info!(path = %path.display(), "email written to the outbox");
        Ok(())
    }
}
