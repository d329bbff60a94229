//! Encryption of secrets at rest: [`SecretBox`], AES-256-GCM with a fresh
//! random 96-bit nonce per message, serialized as
//! `"v1." + base64url(nonce || ciphertext || tag)`.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

use crate::CryptoError;
use crate::b64::{url_decode, url_encode};

const PREFIX: &str = "v1.";
const TAG_LEN: usize = 16;
const KEY_LEN: usize = 32;

/// An AES-256-GCM key for sealing secrets at rest. Cheap to clone.
#[derive(Clone)]
pub struct SecretBox {
    key: Arc<RandomizedNonceKey>,
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBox { key: <redacted> }")
    }
}

impl SecretBox {
    /// Builds a box from a raw 32-byte key.
    pub fn from_key_bytes(key: &[u8]) -> Result<Self, CryptoError> {
        if key.len() != KEY_LEN {
            return Err(CryptoError::InvalidKey(format!(
                "secretbox key must be {KEY_LEN} bytes, got {}",
                key.len()
            )));
        }
        let key = RandomizedNonceKey::new(&AES_256_GCM, key)
            .map_err(|_| CryptoError::InvalidKey("AES-256-GCM key rejected".into()))?;
        Ok(Self { key: Arc::new(key) })
    }

    /// Builds a box from a standard or URL-safe base64 encoding (padded or
    /// not) of a 32-byte key. Surrounding whitespace is ignored.
    pub fn from_base64(s: &str) -> Result<Self, CryptoError> {
        let s = s.trim();
        let bytes = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(s).ok())
            .ok_or_else(|| CryptoError::InvalidKey("secretbox key is not valid base64".into()))?;
        Self::from_key_bytes(&bytes)
    }

    /// Generates a fresh random 32-byte key.
    pub fn generate_key() -> [u8; 32] {
        let mut key = [0u8; KEY_LEN];
        crate::random::fill(&mut key);
        key
    }

    /// Encrypts `plaintext` bound to `aad`. Every call uses a fresh random
    /// nonce, so sealing the same plaintext twice gives different tokens.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> String {
        let mut in_out = plaintext.to_vec();
        // Sealing only fails for plaintexts beyond AES-GCM's ~64 GiB limit
        // or an RNG failure, neither of which is reachable in practice.
        let nonce = self
            .key
            .seal_in_place_append_tag(Aad::from(aad), &mut in_out)
            .expect("AES-256-GCM seal failed");
        let mut out = Vec::with_capacity(NONCE_LEN + in_out.len());
        out.extend_from_slice(nonce.as_ref());
        out.extend_from_slice(&in_out);
        format!("{PREFIX}{}", url_encode(&out))
    }

    /// Decrypts a token produced by [`SecretBox::seal`] with the same `aad`.
    /// Any failure (malformed, wrong key, wrong AAD, tampering) is
    /// [`CryptoError::Decrypt`].
    pub fn open(&self, token: &str, aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut raw = decode_token(token).ok_or(CryptoError::Decrypt)?;
        let (nonce, body) = raw.split_at_mut(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Decrypt)?;
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad), body)
            .map_err(|_| CryptoError::Decrypt)?;
        Ok(plain.to_vec())
    }

    /// Syntactic check only: `s` starts with `"v1."` and its payload decodes
    /// to at least nonce + tag bytes. Does not authenticate anything.
    pub fn is_sealed_token(s: &str) -> bool {
        decode_token(s).is_some()
    }
}

/// Strips the prefix and decodes; `None` unless at least nonce + tag long.
fn decode_token(token: &str) -> Option<Vec<u8>> {
    let raw = url_decode(token.strip_prefix(PREFIX)?)?;
    (raw.len() >= NONCE_LEN + TAG_LEN).then_some(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> SecretBox {
        SecretBox::from_key_bytes(&SecretBox::generate_key()).unwrap()
    }

    #[test]
    fn round_trip() {
        let b = fresh();
        let t = b.seal(b"client-secret", b"client:abc");
        assert!(t.starts_with("v1."));
        assert!(SecretBox::is_sealed_token(&t));
        assert_eq!(b.open(&t, b"client:abc").unwrap(), b"client-secret");
        let empty = b.seal(b"", b"");
        assert_eq!(b.open(&empty, b"").unwrap(), b"");
    }

    #[test]
    fn seals_differ() {
        let b = fresh();
        assert_ne!(b.seal(b"same", b"aad"), b.seal(b"same", b"aad"));
    }

    #[test]
    fn wrong_aad_fails() {
        let b = fresh();
        let t = b.seal(b"x", b"aad-1");
        assert_eq!(b.open(&t, b"aad-2"), Err(CryptoError::Decrypt));
    }

    #[test]
    fn wrong_key_fails() {
        let t = fresh().seal(b"x", b"");
        assert_eq!(fresh().open(&t, b""), Err(CryptoError::Decrypt));
    }

    #[test]
    fn flipped_byte_fails() {
        let b = fresh();
        let t = b.seal(b"hello world", b"");
        let mut raw = url_decode(&t[3..]).unwrap();
        for i in [0, NONCE_LEN, raw.len() - 1] {
            raw[i] ^= 0x01;
            let bad = format!("v1.{}", url_encode(&raw));
            assert_eq!(b.open(&bad, b""), Err(CryptoError::Decrypt));
            raw[i] ^= 0x01;
        }
    }

    #[test]
    fn malformed_tokens_fail() {
        let b = fresh();
        for bad in ["", "v1.", "v2.AAAA", "v1.!!!!", "v1.AAAA", "plain"] {
            assert_eq!(b.open(bad, b""), Err(CryptoError::Decrypt), "{bad}");
            assert!(!SecretBox::is_sealed_token(bad));
        }
    }

    #[test]
    fn key_parsing() {
        assert!(SecretBox::from_key_bytes(&[0u8; 31]).is_err());
        assert!(SecretBox::from_key_bytes(&[0u8; 33]).is_err());
        let key = [0xfbu8; 32];
        let std = STANDARD.encode(key);
        let url = URL_SAFE_NO_PAD.encode(key);
        assert!(std.contains('/') || std.contains('+'));
        let a = SecretBox::from_base64(&format!("  {std}\n")).unwrap();
        let b = SecretBox::from_base64(&url).unwrap();
        let t = a.seal(b"k", b"");
        assert_eq!(b.open(&t, b"").unwrap(), b"k");
        assert!(SecretBox::from_base64("not base64 !").is_err());
        assert!(SecretBox::from_base64(&STANDARD.encode([1u8; 16])).is_err());
    }

    #[test]
    fn debug_hides_key() {
        let key = [0x41u8; 32];
        let dbg = format!("{:?}", SecretBox::from_key_bytes(&key).unwrap());
        assert!(!dbg.contains("65") && !dbg.contains("AAAA"));
        assert!(dbg.contains("redacted"));
    }
}
