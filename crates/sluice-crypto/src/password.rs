//! Password hashing with argon2id ([`PasswordHasher`]), producing and
//! verifying PHC strings (`$argon2id$v=19$m=..,t=..,p=..$salt$hash`).

use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::CryptoError;
use crate::ct::ct_eq;

const SALT_LEN: usize = 16;
const HASH_LEN: usize = 32;
/// Upper bounds guarding against resource exhaustion from hostile PHC strings.
const MAX_MEMORY_KIB: u32 = 1024 * 1024;
const MAX_ITERATIONS: u32 = 64;
const MAX_PARALLELISM: u32 = 64;

/// argon2 cost parameters.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct Argon2Params {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Argon2Params {
    /// OWASP recommendation: 19 MiB, 2 iterations, 1 lane.
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl Argon2Params {
    fn validate(&self) -> Result<Params, CryptoError> {
        if self.memory_kib > MAX_MEMORY_KIB
            || self.iterations > MAX_ITERATIONS
            || self.parallelism > MAX_PARALLELISM
        {
            return Err(CryptoError::Hash(format!(
                "argon2 parameters exceed limits (m<={MAX_MEMORY_KIB}, t<={MAX_ITERATIONS}, p<={MAX_PARALLELISM})"
            )));
        }
        Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| CryptoError::Hash(format!("invalid argon2 parameters: {e}")))
    }
}

/// Hashes and verifies passwords with argon2id.
///
/// Each computation needs `memory_kib` of working memory (19 MiB by default). Freshly
/// allocating it every time on whichever blocking thread runs the check made the allocator
/// keep hundreds of MiB under load, so finished buffers go back to a small pool and are
/// reused. The caller bounds how many run at once (`Core` uses one slot per core).
#[derive(Clone, Debug)]
pub struct PasswordHasher {
    params: Argon2Params,
    scratch: std::sync::Arc<std::sync::Mutex<Vec<Vec<argon2::Block>>>>,
}

/// Buffers kept for reuse (each is `memory_kib` KiB).
const SCRATCH_KEPT: usize = 4;
/// Buffers larger than this (from unusual PHC parameters) are not kept.
const SCRATCH_MAX_BLOCKS: usize = 64 * 1024;

/// A parsed PHC string.
struct Phc {
    algorithm: Algorithm,
    version: Version,
    params: Argon2Params,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl PasswordHasher {
    /// Creates a hasher after validating `params`.
    pub fn new(params: Argon2Params) -> Result<Self, CryptoError> {
        params.validate()?;
        Ok(Self {
            params,
            scratch: Default::default(),
        })
    }

    /// Hashes `password` with a fresh 16-byte random salt into a PHC string.
    pub fn hash(&self, password: &str) -> Result<String, CryptoError> {
        let mut salt = [0u8; SALT_LEN];
        crate::random::fill(&mut salt);
        let mut out = [0u8; HASH_LEN];
        self.compute(
            Algorithm::Argon2id,
            Version::V0x13,
            &self.params,
            password,
            &salt,
            &mut out,
        )?;
        let p = &self.params;
        Ok(format!(
            "$argon2id$v=19$m={},t={},p={}${}${}",
            p.memory_kib,
            p.iterations,
            p.parallelism,
            STANDARD_NO_PAD.encode(salt),
            STANDARD_NO_PAD.encode(out)
        ))
    }

    /// Drops the pooled working buffers (after a one-off computation, so that an idle server
    /// does not hold them).
    pub fn release_scratch(&self) {
        if let Ok(mut pool) = self.scratch.lock() {
            pool.clear();
        }
    }

    /// Checks `password` against `phc`, using the parameters recorded in the
    /// PHC string. `Ok(false)` on mismatch; `Err` if `phc` is malformed.
    pub fn verify(&self, password: &str, phc: &str) -> Result<bool, CryptoError> {
        let phc = parse_phc(phc)?;
        let mut out = vec![0u8; phc.hash.len()];
        self.compute(
            phc.algorithm,
            phc.version,
            &phc.params,
            password,
            &phc.salt,
            &mut out,
        )?;
        Ok(ct_eq(&out, &phc.hash))
    }

    /// True if `phc` should be re-hashed: not argon2id v19, different
    /// parameters from this hasher, or unparseable.
    pub fn needs_rehash(&self, phc: &str) -> bool {
        match parse_phc(phc) {
            Ok(p) => {
                p.algorithm != Algorithm::Argon2id
                    || p.version != Version::V0x13
                    || p.params != self.params
                    || p.hash.len() != HASH_LEN
            }
            Err(_) => true,
        }
    }
}

impl PasswordHasher {
    fn compute(
        &self,
        algorithm: Algorithm,
        version: Version,
        params: &Argon2Params,
        password: &str,
        salt: &[u8],
        out: &mut [u8],
    ) -> Result<(), CryptoError> {
        let p = params.validate()?;
        let blocks = p.block_count();
        let argon = Argon2::new(algorithm, version, p);
        let mut buf = self
            .scratch
            .lock()
            .ok()
            .and_then(|mut pool| pool.pop())
            .unwrap_or_default();
        if buf.len() < blocks {
            buf.resize(blocks, argon2::Block::default());
        }
        let r = argon
            .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut buf[..blocks])
            .map_err(|e| CryptoError::Hash(format!("argon2 failed: {e}")));
        if buf.len() <= SCRATCH_MAX_BLOCKS
            && let Ok(mut pool) = self.scratch.lock()
            && pool.len() < SCRATCH_KEPT
        {
            pool.push(buf);
        }
        r
    }
}

fn malformed(why: &str) -> CryptoError {
    CryptoError::Malformed(format!("PHC string: {why}"))
}

fn parse_phc(s: &str) -> Result<Phc, CryptoError> {
    let fields: Vec<&str> = s.split('$').collect();
    let (alg, rest) = match fields.as_slice() {
        ["", alg, rest @ ..] => (*alg, rest),
        _ => return Err(malformed("must start with '$'")),
    };
    let algorithm = match alg {
        "argon2id" => Algorithm::Argon2id,
        "argon2i" => Algorithm::Argon2i,
        "argon2d" => Algorithm::Argon2d,
        _ => return Err(malformed("unsupported algorithm")),
    };
    let (version, params, salt, hash) = match rest {
        ["v=19", params, salt, hash] => (Version::V0x13, *params, *salt, *hash),
        ["v=16", params, salt, hash] | [params, salt, hash] => {
            (Version::V0x10, *params, *salt, *hash)
        }
        _ => return Err(malformed("wrong number of fields or unsupported version")),
    };
    let mut m = None;
    let mut t = None;
    let mut p = None;
    for kv in params.split(',') {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| malformed("bad parameter"))?;
        let slot = match k {
            "m" => &mut m,
            "t" => &mut t,
            "p" => &mut p,
            _ => return Err(malformed("unsupported parameter")),
        };
        if slot.is_some() || v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed("bad parameter value"));
        }
        *slot = Some(
            v.parse::<u32>()
                .map_err(|_| malformed("parameter out of range"))?,
        );
    }
    let (Some(memory_kib), Some(iterations), Some(parallelism)) = (m, t, p) else {
        return Err(malformed("missing m, t or p"));
    };
    let params = Argon2Params {
        memory_kib,
        iterations,
        parallelism,
    };
    params
        .validate()
        .map_err(|_| malformed("invalid parameters"))?;
    let salt = STANDARD_NO_PAD
        .decode(salt)
        .map_err(|_| malformed("salt is not base64"))?;
    let hash = STANDARD_NO_PAD
        .decode(hash)
        .map_err(|_| malformed("hash is not base64"))?;
    if !(8..=64).contains(&salt.len()) {
        return Err(malformed("salt length must be 8..=64 bytes"));
    }
    if !(4..=64).contains(&hash.len()) {
        return Err(malformed("hash length must be 4..=64 bytes"));
    }
    Ok(Phc {
        algorithm,
        version,
        params,
        salt,
        hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> PasswordHasher {
        PasswordHasher::new(Argon2Params {
            memory_kib: 256,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap()
    }

    #[test]
    fn default_params_are_owasp() {
        let d = Argon2Params::default();
        assert_eq!((d.memory_kib, d.iterations, d.parallelism), (19_456, 2, 1));
    }

    #[test]
    fn hash_and_verify() {
        let h = PasswordHasher::new(Argon2Params::default()).unwrap();
        let phc = h.hash("hunter2").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(h.verify("hunter2", &phc).unwrap());
        assert!(!h.verify("hunter3", &phc).unwrap());
        assert!(!h.needs_rehash(&phc));
    }

    #[test]
    fn salts_are_random() {
        let h = fast();
        let (a, b) = (h.hash("pw").unwrap(), h.hash("pw").unwrap());
        assert_ne!(a, b);
        assert!(h.verify("pw", &a).unwrap() && h.verify("pw", &b).unwrap());
    }

    #[test]
    fn known_vectors_from_reference_implementation() {
        // Reference argon2 CLI: password "password", salt "somesalt", 32-byte output.
        let id =
            "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4";
        assert!(fast().verify("password", id).unwrap());
        assert!(!fast().verify("passwore", id).unwrap());
        let i16 =
            "$argon2i$v=16$m=256,t=2,p=1$c29tZXNhbHQ$/U3YPXYsSb3q9XxHvc0MLxur+GP960kN9j7emXX8zwY";
        assert!(fast().verify("password", i16).unwrap());
        assert!(
            fast()
                .verify("password", &i16.replace("v=16$", ""))
                .unwrap()
        );
        assert!(fast().needs_rehash(i16));
    }

    #[test]
    fn verify_uses_params_from_phc() {
        let other = PasswordHasher::new(Argon2Params {
            memory_kib: 512,
            iterations: 2,
            parallelism: 2,
        })
        .unwrap();
        let phc = other.hash("pw").unwrap();
        assert!(fast().verify("pw", &phc).unwrap());
        assert!(fast().needs_rehash(&phc));
        assert!(!other.needs_rehash(&phc));
    }

    #[test]
    fn needs_rehash_cases() {
        let h = fast();
        let phc = h.hash("pw").unwrap();
        assert!(!h.needs_rehash(&phc));
        assert!(h.needs_rehash(&phc.replace("$argon2id$", "$argon2i$")));
        assert!(h.needs_rehash(&phc.replace("t=1", "t=2")));
        assert!(h.needs_rehash("$2b$10$abcdefghijklmnopqrstuv"));
        assert!(h.needs_rehash("garbage"));
    }

    #[test]
    fn malformed_phc_is_err() {
        let h = fast();
        let good = h.hash("pw").unwrap();
        let bad = [
            "",
            "plain",
            "$2b$10$abcdefghijklmnopqrstuvwxyz0123456789abcdefghijk",
            "$argon2id$v=19$m=256,t=1,p=1$c29tZXNhbHQ",
            "$argon2id$v=18$m=256,t=1,p=1$c29tZXNhbHQ$AAAAAAAA",
            "$argon2id$v=19$m=256,t=1$c29tZXNhbHQ$AAAAAAAA",
            "$argon2id$v=19$m=256,t=1,p=1,x=2$c29tZXNhbHQ$AAAAAAAA",
            "$argon2id$v=19$m=256,t=1,p=1,m=5$c29tZXNhbHQ$AAAAAAAA",
            "$argon2id$v=19$m=+256,t=1,p=1$c29tZXNhbHQ$AAAAAAAA",
            "$argon2id$v=19$m=4294967295,t=1,p=1$c29tZXNhbHQ$AAAAAAAA",
            "$argon2id$v=19$m=256,t=0,p=1$c29tZXNhbHQ$AAAAAAAA",
            "$argon2id$v=19$m=256,t=1,p=1$c29t$AAAAAAAA",
            "$argon2id$v=19$m=256,t=1,p=1$c29tZXNhbHQ$!!!!",
            "$argon2id$v=19$m=256,t=1,p=1$c29tZXNhbHQ$AA",
        ];
        for b in bad {
            assert!(h.verify("pw", b).is_err(), "{b}");
        }
        assert!(h.verify("pw", &format!("{good}$extra")).is_err());
    }

    #[test]
    fn invalid_params_rejected() {
        let p = |m, t, p| Argon2Params {
            memory_kib: m,
            iterations: t,
            parallelism: p,
        };
        assert!(PasswordHasher::new(p(4, 1, 1)).is_err());
        assert!(PasswordHasher::new(p(256, 0, 1)).is_err());
        assert!(PasswordHasher::new(p(256, 1, 0)).is_err());
        assert!(PasswordHasher::new(p(16, 1, 4)).is_err());
        assert!(PasswordHasher::new(p(MAX_MEMORY_KIB + 1, 1, 1)).is_err());
        assert!(matches!(
            PasswordHasher::new(p(4, 1, 1)),
            Err(CryptoError::Hash(_))
        ));
    }
}
