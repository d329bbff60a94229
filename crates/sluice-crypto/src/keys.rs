//! RS256 signing keys ([`SigningKey`]), their public halves
//! ([`VerifyingKey`]) and JWK / JWK Set representations ([`Jwk`], [`JwkSet`]).
//!
//! Keys are parsed once into aws-lc-rs handles and reused for every token.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, KeyPair, ParsedPublicKey, RsaKeyPair, RsaPublicKeyComponents};
use serde::{Deserialize, Serialize};

use crate::CryptoError;
use crate::b64::{url_decode, url_encode};

/// Smallest accepted RSA modulus (2048 bits), in bytes.
const MIN_MODULUS_BYTES: usize = 256;
/// Largest accepted RSA modulus (8192 bits), in bytes.
const MAX_MODULUS_BYTES: usize = 1024;

/// A public RSA key in JWK form (RFC 7517).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Jwk {
    /// Key type; always `"RSA"`.
    pub kty: String,
    /// Public key use; `"sig"`.
    #[serde(rename = "use", default)]
    pub use_: String,
    /// Algorithm; `"RS256"`.
    #[serde(default)]
    pub alg: String,
    /// Key id.
    #[serde(default)]
    pub kid: String,
    /// Modulus, base64url (no padding), big-endian, no leading zero byte.
    pub n: String,
    /// Public exponent, base64url (no padding), big-endian, no leading zero byte.
    pub e: String,
}

impl Jwk {
    /// The RFC 7638 JWK thumbprint: SHA-256 over the canonical JSON of the required members
    /// (`{"e":..,"kty":"RSA","n":..}`, lexicographic order, no whitespace). `kid`, `use` and
    /// `alg` do not enter it.
    pub fn thumbprint_sha256(&self) -> [u8; 32] {
        #[derive(Serialize)]
        struct Canonical<'a> {
            e: &'a str,
            kty: &'a str,
            n: &'a str,
        }
        let canonical = Canonical {
            e: &self.e,
            kty: &self.kty,
            n: &self.n,
        };
        // Serialising three string fields cannot fail.
        let json = serde_json::to_vec(&canonical).unwrap_or_default();
        crate::ct::sha256(&json)
    }
}

/// A JWK Set document (`/.well-known/jwks.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

/// A public RS256 verification key, parsed once. Cheap to clone.
#[derive(Clone)]
pub struct VerifyingKey {
    kid: String,
    key: Arc<ParsedPublicKey>,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .finish()
    }
}

impl VerifyingKey {
    /// Parses an RSA JWK. Rejects non-RSA keys, `use` other than `sig`,
    /// `alg` other than `RS256` (empty `use`/`alg` are accepted), and moduli
    /// outside 2048..=8192 bits.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, CryptoError> {
        if jwk.kty != "RSA" {
            return Err(CryptoError::InvalidKey(format!(
                "unsupported kty {:?}",
                jwk.kty
            )));
        }
        if !jwk.use_.is_empty() && jwk.use_ != "sig" {
            return Err(CryptoError::InvalidKey(format!(
                "unsupported use {:?}",
                jwk.use_
            )));
        }
        if !jwk.alg.is_empty() && jwk.alg != "RS256" {
            return Err(CryptoError::InvalidKey(format!(
                "unsupported alg {:?}",
                jwk.alg
            )));
        }
        let n = decode_uint(&jwk.n, "n")?;
        let e = decode_uint(&jwk.e, "e")?;
        if !(MIN_MODULUS_BYTES..=MAX_MODULUS_BYTES).contains(&n.len()) {
            return Err(CryptoError::InvalidKey(format!(
                "RSA modulus must be 2048..=8192 bits, got {} bytes",
                n.len()
            )));
        }
        if e.len() > 8 {
            return Err(CryptoError::InvalidKey("RSA exponent too large".into()));
        }
        Self::from_components(jwk.kid.clone(), &n, &e)
    }

    /// Key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    fn from_components(kid: String, n: &[u8], e: &[u8]) -> Result<Self, CryptoError> {
        let components = RsaPublicKeyComponents { n, e };
        let key = components
            .to_parsed_public_key(&signature::RSA_PKCS1_2048_8192_SHA256)
            .map_err(|err| CryptoError::InvalidKey(format!("RSA public key rejected: {err}")))?;
        Ok(Self {
            kid,
            key: Arc::new(key),
        })
    }

    /// Verifies an RS256 (PKCS#1 v1.5, SHA-256) signature over `message`.
    pub(crate) fn verify_rs256(&self, message: &[u8], sig: &[u8]) -> bool {
        self.key.verify_sig(message, sig).is_ok()
    }
}

/// Decodes a base64url big-endian unsigned integer, dropping leading zeros.
fn decode_uint(s: &str, what: &str) -> Result<Vec<u8>, CryptoError> {
    let raw = url_decode(s)
        .ok_or_else(|| CryptoError::InvalidKey(format!("JWK {what} is not base64url")))?;
    let start = raw.iter().position(|&b| b != 0).unwrap_or(raw.len());
    if start == raw.len() {
        return Err(CryptoError::InvalidKey(format!("JWK {what} is zero")));
    }
    Ok(raw[start..].to_vec())
}

/// An RSA private key used for RS256 signing, parsed once. Cheap to clone.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    pair: Arc<RsaKeyPair>,
    pkcs8: Arc<[u8]>,
    jwk: Jwk,
    verifying: VerifyingKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a fresh RSA-2048 key.
    pub fn generate(kid: String) -> Result<Self, CryptoError> {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| CryptoError::InvalidKey("RSA key generation failed".into()))?;
        Self::from_pair(kid, pair)
    }

    /// Parses a PKCS#8 DER RSA private key.
    pub fn from_pkcs8(kid: String, der: &[u8]) -> Result<Self, CryptoError> {
        let pair = RsaKeyPair::from_pkcs8(der)
            .map_err(|err| CryptoError::InvalidKey(format!("PKCS#8 RSA key rejected: {err}")))?;
        Self::from_pair(kid, pair)
    }

    fn from_pair(kid: String, pair: RsaKeyPair) -> Result<Self, CryptoError> {
        let bits = pair.public_modulus_len() * 8;
        if !(2048..=8192).contains(&bits) {
            return Err(CryptoError::InvalidKey(format!(
                "RSA key must be 2048..=8192 bits, got {bits}"
            )));
        }
        let pkcs8: Arc<[u8]> = pair
            .as_der()
            .map_err(|_| CryptoError::InvalidKey("PKCS#8 serialization failed".into()))?
            .as_ref()
            .into();
        let components = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public_key());
        let jwk = Jwk {
            kty: "RSA".into(),
            use_: "sig".into(),
            alg: "RS256".into(),
            kid: kid.clone(),
            n: url_encode(&components.n),
            e: url_encode(&components.e),
        };
        let verifying = VerifyingKey::from_components(kid.clone(), &components.n, &components.e)?;
        Ok(Self {
            kid,
            pair: Arc::new(pair),
            pkcs8,
            jwk,
            verifying,
        })
    }

    /// PKCS#8 v1 DER encoding; round-trips through [`SigningKey::from_pkcs8`].
    pub fn to_pkcs8(&self) -> Vec<u8> {
        self.pkcs8.to_vec()
    }

    /// Key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Public key as a JWK (`kty=RSA`, `use=sig`, `alg=RS256`).
    pub fn jwk(&self) -> Jwk {
        self.jwk.clone()
    }

    /// The matching public verification key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.verifying.clone()
    }

    /// RS256 (PKCS#1 v1.5, SHA-256) signature over `message`.
    pub(crate) fn sign_rs256(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut sig,
            )
            .map_err(|_| CryptoError::Sign)?;
        Ok(sig)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_jwk_shape() {
        let k = SigningKey::generate("k1".into()).unwrap();
        assert_eq!(k.kid(), "k1");
        let jwk = k.jwk();
        assert_eq!(
            (jwk.kty.as_str(), jwk.use_.as_str(), jwk.alg.as_str()),
            ("RSA", "sig", "RS256")
        );
        assert_eq!(jwk.kid, "k1");
        assert_eq!(jwk.e, "AQAB");
        let n = url_decode(&jwk.n).unwrap();
        assert_eq!(n.len(), 256);
        assert_ne!(n[0], 0);
        let json = serde_json::to_value(&jwk).unwrap();
        assert_eq!(json["use"], "sig");
        assert!(json.get("use_").is_none());
        let back: Jwk = serde_json::from_value(json).unwrap();
        assert_eq!(back, jwk);
        assert_eq!(format!("{k:?}"), "SigningKey { kid: \"k1\", .. }");
    }

    #[test]
    fn jwk_round_trip_verifies_signature() {
        let k = SigningKey::generate("k1".into()).unwrap();
        let sig = k.sign_rs256(b"msg").unwrap();
        let vk = VerifyingKey::from_jwk(&k.jwk()).unwrap();
        assert_eq!(vk.kid(), "k1");
        assert!(vk.verify_rs256(b"msg", &sig));
        assert!(!vk.verify_rs256(b"msh", &sig));
        assert!(k.verifying_key().verify_rs256(b"msg", &sig));
        // A leading zero byte in n is tolerated.
        let mut jwk = k.jwk();
        let mut n = vec![0u8];
        n.extend(url_decode(&jwk.n).unwrap());
        jwk.n = url_encode(&n);
        assert!(
            VerifyingKey::from_jwk(&jwk)
                .unwrap()
                .verify_rs256(b"msg", &sig)
        );
    }

    #[test]
    fn pkcs8_round_trip() {
        let k = SigningKey::generate("a".into()).unwrap();
        let der = k.to_pkcs8();
        let k2 = SigningKey::from_pkcs8("a".into(), &der).unwrap();
        assert_eq!(k2.jwk(), k.jwk());
        assert_eq!(k2.to_pkcs8(), der);
        let sig = k2.sign_rs256(b"data").unwrap();
        assert!(
            VerifyingKey::from_jwk(&k.jwk())
                .unwrap()
                .verify_rs256(b"data", &sig)
        );
    }

    #[test]
    fn bad_keys_rejected() {
        assert!(SigningKey::from_pkcs8("x".into(), b"garbage").is_err());
        assert!(SigningKey::from_pkcs8("x".into(), &[]).is_err());
        let good = SigningKey::generate("k".into()).unwrap().jwk();
        type Mutation = Box<dyn Fn(&mut Jwk)>;
        let cases: Vec<Mutation> = vec![
            Box::new(|j| j.kty = "EC".into()),
            Box::new(|j| j.alg = "HS256".into()),
            Box::new(|j| j.use_ = "enc".into()),
            Box::new(|j| j.n = "!!".into()),
            Box::new(|j| j.n = url_encode(&[0xff; 128])),
            Box::new(|j| j.n = "AAAA".into()),
            Box::new(|j| j.e = "".into()),
        ];
        for mutate in cases {
            let mut j = good.clone();
            mutate(&mut j);
            assert!(
                matches!(VerifyingKey::from_jwk(&j), Err(CryptoError::InvalidKey(_))),
                "{j:?}"
            );
        }
    }

    #[test]
    fn thumbprint_matches_rfc7638_example() {
        let jwk = Jwk {
            kty: "RSA".into(),
            use_: "sig".into(),
            alg: "RS256".into(),
            kid: "2011-04-29".into(),
            n: concat!(
                "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_B",
                "JECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FD",
                "W2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vM",
                "QFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
            )
            .into(),
            e: "AQAB".into(),
        };
        assert_eq!(
            url_encode(&jwk.thumbprint_sha256()),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn jwks_deserializes_without_optional_fields() {
        let set: JwkSet =
            serde_json::from_str(r#"{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}"#).unwrap();
        assert_eq!(set.keys[0].use_, "");
        assert_eq!(set.keys[0].kid, "");
    }
}
