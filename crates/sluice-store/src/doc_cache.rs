//! A short-lived read cache for the documents the token path reads on every request (clients,
//! APIs, client grants, connections, rules, hooks, actions, bindings). Every write through this
//! store drops the cached entries of that tenant and kind at once, so a node always sees its own
//! writes. On PostgreSQL other nodes drop their entries when the write is announced
//! (`changes`, milliseconds); [`TTL`] bounds what a node can miss (a lost announcement, or
//! SQLite, which has no NOTIFY). (Profile: on SQLite each read is a hop to sqlx's worker
//! thread; these reads were most of the client-credentials grant's cost, see README.)

use sluice_core::model::{Doc, DocKind};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long another node's write can go unseen.
pub const TTL: Duration = Duration::from_secs(5);
/// Entries kept at most; the cache is cleared when full (simple and bounded).
const MAX_ENTRIES: usize = 10_000;

/// What a cached read returned.
#[derive(Clone)]
pub enum Cached {
    One(Option<Doc>),
    Page(Vec<Doc>, i64),
}

type Key = (String, &'static str, String);

#[derive(Default)]
pub struct DocCache {
    entries: Mutex<HashMap<Key, (Instant, Cached)>>,
    /// Bumped by every invalidation: a read that started before a write must not cache what
    /// it read (it may predate the write).
    generation: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for DocCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DocCache")
    }
}

/// Whether reads of `kind` are cached (tickets are one-time secrets: never).
pub fn cacheable(kind: DocKind) -> bool {
    !matches!(kind, DocKind::Ticket)
}

impl DocCache {
    pub fn get(&self, tenant_id: &str, kind: DocKind, what: &str) -> Option<Cached> {
        if !cacheable(kind) {
            return None;
        }
        let map = self.entries.lock().ok()?;
        let (at, v) = map.get(&(tenant_id.to_string(), kind.as_str(), what.to_string()))?;
        (at.elapsed() < TTL).then(|| v.clone())
    }

    /// The generation to pass to [`DocCache::put`], taken before the database read.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Caches a read unless a write happened since `generation` was taken.
    pub fn put(&self, tenant_id: &str, kind: DocKind, what: String, v: Cached, generation: u64) {
        if !cacheable(kind) {
            return;
        }
        if let Ok(mut map) = self.entries.lock() {
            if self.generation() != generation {
                return;
            }
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(
                (tenant_id.to_string(), kind.as_str(), what),
                (Instant::now(), v),
            );
        }
    }

    /// Drops everything cached for a tenant's documents of `kind` (after a write).
    pub fn invalidate(&self, tenant_id: &str, kind: DocKind) {
        self.invalidate_named(tenant_id, kind.as_str());
    }

    /// [`DocCache::invalidate`] by the kind's name (as another node announced it).
    pub fn invalidate_named(&self, tenant_id: &str, kind: &str) {
        if let Ok(mut map) = self.entries.lock() {
            self.generation
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            map.retain(|(t, k, _), _| !(t == tenant_id && *k == kind));
        }
    }

    /// Drops everything.
    pub fn clear(&self) {
        if let Ok(mut map) = self.entries.lock() {
            self.generation
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            map.clear();
        }
    }
}
