//! Signing keys for test servers, generated once. Every new tenant gets two RSA-2048 keys, and
//! generating them was the costliest step of starting a test server (about 80 ms of CPU each).
//! The kit generates [`POOL_SIZE`] keys once per target directory, keeps them in a file
//! (`target/<profile>/sluice-test-keys-v1.txt`, one base64url PKCS#8 key per line), and hands
//! them out in order: within one test process no key is handed out twice; past the pool's end
//! each key is generated fresh. The binary itself always generates fresh keys
//! (`sluice_core::ports::FreshKeys`); tests that run it as a process exercise that path.

use sluice_core::ports::KeySource;
use sluice_crypto::CryptoError;
use sluice_crypto::keys::SigningKey;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// How many keys the pool holds: more than any one test process uses.
pub const POOL_SIZE: usize = 48;

/// The pool, shared by every server of this test process.
pub fn pooled() -> Arc<dyn KeySource> {
    static POOL: OnceLock<Arc<PooledKeys>> = OnceLock::new();
    POOL.get_or_init(|| {
        Arc::new(PooledKeys {
            keys: load_or_generate(),
            next: AtomicUsize::new(0),
        })
    })
    .clone()
}

/// Hands out the pool's keys in order, then fresh ones.
struct PooledKeys {
    keys: Vec<Vec<u8>>,
    next: AtomicUsize,
}

impl KeySource for PooledKeys {
    fn generate(&self, kid: String) -> Result<SigningKey, CryptoError> {
        match self.keys.get(self.next.fetch_add(1, Ordering::Relaxed)) {
            Some(der) => SigningKey::from_pkcs8(kid, der),
            None => SigningKey::generate(kid),
        }
    }
}

/// `target/<profile>/` of the running test binary (`target/<profile>/deps/<test>`), or the
/// temporary directory.
fn pool_file() -> PathBuf {
    let dir = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.to_path_buf()))
        .filter(|d| d.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    dir.join("sluice-test-keys-v1.txt")
}

/// Reads the pool, generating it first (under a file lock, so that parallel test processes
/// generate it once) when it is missing or unreadable.
fn load_or_generate() -> Vec<Vec<u8>> {
    let path = pool_file();
    if let Some(keys) = read(&path) {
        return keys;
    }
    let lock = std::fs::File::create(path.with_extension("lock")).expect("key pool lock file");
    lock.lock().expect("key pool lock");
    if let Some(keys) = read(&path) {
        return keys;
    }
    // Two threads: the machines this runs on have at least two cores.
    let keys: Vec<Vec<u8>> = std::thread::scope(|s| {
        let halves: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    (0..POOL_SIZE / 2)
                        .map(|i| {
                            SigningKey::generate(format!("pool{i}"))
                                .expect("RSA key generation")
                                .to_pkcs8()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        halves
            .into_iter()
            .flat_map(|h| h.join().expect("key generation thread"))
            .collect()
    });
    let text: String = keys
        .iter()
        .map(|k| sluice_crypto::b64::url_encode(k) + "\n")
        .collect();
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).expect("key pool written");
    std::fs::rename(&tmp, &path).expect("key pool in place");
    keys
}

/// The pool in `path` if it is whole and every key parses.
fn read(path: &std::path::Path) -> Option<Vec<Vec<u8>>> {
    let text = std::fs::read_to_string(path).ok()?;
    let keys: Vec<Vec<u8>> = text
        .lines()
        .map(sluice_crypto::b64::url_decode)
        .collect::<Option<_>>()?;
    let whole = keys.len() == POOL_SIZE
        && keys
            .iter()
            .all(|k| SigningKey::from_pkcs8("check".into(), k).is_ok());
    whole.then_some(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_hands_out_distinct_working_keys_then_fresh_ones() {
        let pool = PooledKeys {
            keys: (0..2)
                .map(|i| SigningKey::generate(format!("{i}")).unwrap().to_pkcs8())
                .collect(),
            next: AtomicUsize::new(0),
        };
        let jwks: Vec<_> = (0..3)
            .map(|i| {
                let k = pool.generate(format!("kid{i}")).unwrap();
                assert_eq!(k.kid(), format!("kid{i}"), "the key carries the asked kid");
                k.jwk().n
            })
            .collect();
        assert_ne!(jwks[0], jwks[1]);
        assert_ne!(jwks[1], jwks[2], "past the pool's end, a fresh key");
        assert_ne!(jwks[0], jwks[2]);
    }
}
