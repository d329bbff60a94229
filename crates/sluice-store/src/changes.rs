//! Cross-node change announcements. On PostgreSQL every write of a cached record (documents,
//! signing keys) is announced with `NOTIFY sluice_changes`, and every node listens: a change
//! drops that tenant's cached documents of that kind at once, and is passed on to the
//! subscribers of [`SqlStore::changes`] (the server drops its cached tenant keys on `keys`).
//! When the listening connection is lost, announcements may have been missed, so everything
//! cached is dropped ([`Change::All`]). SQLite has no NOTIFY: one node per file, and the caches'
//! own expiry bounds what another process could miss.

use crate::{Pool, SqlStore, doc_cache::DocCache};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::broadcast;

const CHANNEL: &str = "sluice_changes";

/// What changed on some node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Documents of `kind` (`DocKind::as_str`) of a tenant.
    Docs { tenant_id: String, kind: String },
    /// A tenant's signing keys.
    Keys { tenant_id: String },
    /// Unknown: announcements may have been missed.
    All,
}

impl Change {
    fn payload(&self) -> String {
        match self {
            Change::Docs { tenant_id, kind } => format!("docs\t{tenant_id}\t{kind}"),
            Change::Keys { tenant_id } => format!("keys\t{tenant_id}"),
            Change::All => "all".into(),
        }
    }

    fn parse(payload: &str) -> Change {
        let mut parts = payload.split('\t');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("docs"), Some(t), Some(k)) => Change::Docs {
                tenant_id: t.into(),
                kind: k.into(),
            },
            (Some("keys"), Some(t), None) => Change::Keys {
                tenant_id: t.into(),
            },
            _ => Change::All,
        }
    }
}

impl SqlStore {
    /// Announces a change to every node (PostgreSQL; nothing to do on SQLite). A failed
    /// announcement is logged: the other nodes' caches then expire on their own.
    pub(crate) async fn announce(&self, change: Change) {
        if let Pool::Postgres(p) = &self.pool {
            let sent = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(change.payload())
                .execute(p)
                .await;
            if let Err(e) = sent {
                tracing::warn!(error = %e, ?change, "could not announce a change to other nodes");
            }
        }
    }

    /// Changes made on any node (this one too), once [`SqlStore::listen_for_changes`] runs.
    pub fn changes(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// Starts listening for other nodes' announcements (PostgreSQL only). The task ends when
    /// this store and its clones are gone.
    pub async fn listen_for_changes(&self) -> Result<(), sqlx::Error> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(());
        };
        let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        let cache = Arc::downgrade(&self.doc_cache);
        let tx = self.changes.clone();
        tokio::spawn(async move {
            let mut alive = tokio::time::interval(Duration::from_secs(1));
            loop {
                let next = tokio::select! {
                    n = listener.try_recv() => n,
                    _ = alive.tick() => {
                        if cache.strong_count() == 0 {
                            break;
                        }
                        continue;
                    }
                };
                let change = match next {
                    Ok(Some(n)) => Change::parse(n.payload()),
                    // Reconnected: whatever was announced meanwhile is lost.
                    Ok(None) => Change::All,
                    Err(sqlx::Error::PoolClosed) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "change listener failed; retrying in 1 s");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        Change::All
                    }
                };
                if !apply(&cache, &change) {
                    break;
                }
                let _ = tx.send(change);
            }
        });
        Ok(())
    }
}

/// Applies a change to the document cache; false when the store is gone.
fn apply(cache: &Weak<DocCache>, change: &Change) -> bool {
    let Some(cache) = cache.upgrade() else {
        return false;
    };
    match change {
        Change::Docs { tenant_id, kind } => cache.invalidate_named(tenant_id, kind),
        Change::Keys { .. } => {}
        Change::All => cache.clear(),
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_anything_else_means_everything() {
        for c in [
            Change::Docs {
                tenant_id: "t1".into(),
                kind: "client".into(),
            },
            Change::Keys {
                tenant_id: "t1".into(),
            },
            Change::All,
        ] {
            assert_eq!(Change::parse(&c.payload()), c);
        }
        assert_eq!(Change::parse("docs\tt1"), Change::All);
        assert_eq!(Change::parse(""), Change::All);
    }
}
