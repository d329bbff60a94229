//! Asymmetric signatures for `crypto.createSign`/`createVerify`/`sign`/`verify` and
//! `jsonwebtoken` (RS*, PS*, ES*): PEM keys (PKCS#8, PKCS#1, SEC1, SPKI) parsed with aws-lc-rs
//! once per container and cached; ECDSA signatures in DER (Node's default) or IEEE P1363 (JOSE).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair, UnparsedPublicKey};
use base64::Engine;
use std::collections::HashMap;
use std::sync::Arc;

/// A parsed key.
pub enum Key {
    RsaPrivate(Arc<RsaKeyPair>),
    /// The same key parsed for DER (ASN.1) and for P1363 (fixed) signatures.
    EcPrivate {
        pair: Arc<EcdsaKeyPair>,
        fixed: Arc<EcdsaKeyPair>,
        curve: Curve,
    },
    RsaPublic(Vec<u8>),
    EcPublic {
        der: Vec<u8>,
        curve: Curve,
    },
}

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Curve {
    P256,
    P384,
}

/// Parsed keys by PEM text (per container; scripts reuse a handful of keys).
#[derive(Default)]
pub struct KeyCache(HashMap<String, Arc<Key>>);

impl KeyCache {
    pub fn get(&mut self, pem: &str) -> Result<Arc<Key>, String> {
        if let Some(k) = self.0.get(pem) {
            return Ok(k.clone());
        }
        let k = Arc::new(parse_pem(pem)?);
        if self.0.len() >= 32 {
            self.0.clear();
        }
        self.0.insert(pem.to_string(), k.clone());
        Ok(k)
    }
}

fn pem_der(pem: &str) -> Result<(String, Vec<u8>), String> {
    let begin = pem
        .find("-----BEGIN ")
        .ok_or("the key is not PEM (no -----BEGIN line)")?;
    let rest = &pem[begin + 11..];
    let label_end = rest.find("-----").ok_or("malformed PEM header")?;
    let label = rest[..label_end].to_string();
    let body_start = label_end + 5;
    let end = rest
        .find("-----END ")
        .ok_or("malformed PEM: no -----END line")?;
    let b64: String = rest[body_start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| "malformed PEM body")?;
    Ok((label, der))
}

fn parse_pem(pem: &str) -> Result<Key, String> {
    let (label, der) = pem_der(pem)?;
    let bad = |e: aws_lc_rs::error::KeyRejected| format!("unsupported or invalid {label}: {e}");
    match label.as_str() {
        "RSA PRIVATE KEY" => Ok(Key::RsaPrivate(Arc::new(
            RsaKeyPair::from_der(&der).map_err(bad)?,
        ))),
        "PRIVATE KEY" => {
            if let Ok(k) = RsaKeyPair::from_pkcs8(&der) {
                return Ok(Key::RsaPrivate(Arc::new(k)));
            }
            ec_private(&der).ok_or_else(|| format!("unsupported or invalid {label}"))
        }
        "EC PRIVATE KEY" => {
            ec_private(&der).ok_or_else(|| format!("unsupported or invalid {label}"))
        }
        "PUBLIC KEY" | "RSA PUBLIC KEY" => {
            if let Ok(k) = aws_lc_rs::rsa::PublicKey::from_der(&der) {
                return Ok(Key::RsaPublic(k.as_ref().to_vec()));
            }
            match ec_curve_of_spki(&der) {
                Some(curve) => Ok(Key::EcPublic { der, curve }),
                None => Err(format!("unsupported or invalid {label}")),
            }
        }
        other => Err(format!("unsupported PEM type: {other}")),
    }
}

/// The curve named in an EC SubjectPublicKeyInfo (by its OID bytes).
fn ec_curve_of_spki(der: &[u8]) -> Option<Curve> {
    const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
    if der.windows(P256.len()).any(|w| w == P256) {
        Some(Curve::P256)
    } else if der.windows(P384.len()).any(|w| w == P384) {
        Some(Curve::P384)
    } else {
        None
    }
}

fn ec_private(der: &[u8]) -> Option<Key> {
    for (curve, alg, fixed) in [
        (
            Curve::P256,
            &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        ),
        (
            Curve::P384,
            &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
        ),
    ] {
        if let (Ok(k), Ok(f)) = (
            EcdsaKeyPair::from_private_key_der(alg, der),
            EcdsaKeyPair::from_private_key_der(fixed, der),
        ) {
            return Some(Key::EcPrivate {
                pair: Arc::new(k),
                fixed: Arc::new(f),
                curve,
            });
        }
    }
    None
}

/// Signs `data`; `hash` is sha256/384/512, `pss` selects RSA-PSS, `p1363` raw r||s for ECDSA.
pub fn sign(key: &Key, hash: &str, data: &[u8], pss: bool, p1363: bool) -> Result<Vec<u8>, String> {
    let rng = SystemRandom::new();
    match key {
        Key::RsaPrivate(k) => {
            let enc: &'static dyn signature::RsaEncoding = match (hash, pss) {
                ("sha256", false) => &signature::RSA_PKCS1_SHA256,
                ("sha384", false) => &signature::RSA_PKCS1_SHA384,
                ("sha512", false) => &signature::RSA_PKCS1_SHA512,
                ("sha256", true) => &signature::RSA_PSS_SHA256,
                ("sha384", true) => &signature::RSA_PSS_SHA384,
                ("sha512", true) => &signature::RSA_PSS_SHA512,
                _ => return Err(format!("unsupported RSA digest: {hash}")),
            };
            let mut sig = vec![0u8; k.public_modulus_len()];
            k.sign(enc, &rng, data, &mut sig)
                .map_err(|_| "signing failed".to_string())?;
            Ok(sig)
        }
        Key::EcPrivate { pair, fixed, .. } => {
            let k = if p1363 { fixed } else { pair };
            k.sign(&rng, data)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| "signing failed".into())
        }
        _ => Err("a private key is required to sign".into()),
    }
}

/// Verifies `sig` over `data` with a public key (or the public half of a private key).
pub fn verify(
    key: &Key,
    hash: &str,
    data: &[u8],
    sig: &[u8],
    pss: bool,
    p1363: bool,
) -> Result<bool, String> {
    type Alg = &'static dyn signature::VerificationAlgorithm;
    let rsa_alg = || -> Result<Alg, String> {
        Ok(match (hash, pss) {
            ("sha256", false) => &signature::RSA_PKCS1_2048_8192_SHA256,
            ("sha384", false) => &signature::RSA_PKCS1_2048_8192_SHA384,
            ("sha512", false) => &signature::RSA_PKCS1_2048_8192_SHA512,
            ("sha256", true) => &signature::RSA_PSS_2048_8192_SHA256,
            ("sha384", true) => &signature::RSA_PSS_2048_8192_SHA384,
            ("sha512", true) => &signature::RSA_PSS_2048_8192_SHA512,
            _ => return Err(format!("unsupported RSA digest: {hash}")),
        })
    };
    let ec_alg = |curve: Curve| -> Alg {
        match (curve, p1363) {
            (Curve::P256, false) => &signature::ECDSA_P256_SHA256_ASN1,
            (Curve::P256, true) => &signature::ECDSA_P256_SHA256_FIXED,
            (Curve::P384, false) => &signature::ECDSA_P384_SHA384_ASN1,
            (Curve::P384, true) => &signature::ECDSA_P384_SHA384_FIXED,
        }
    };
    let (alg, der): (Alg, Vec<u8>) = match key {
        Key::RsaPrivate(k) => (rsa_alg()?, k.public_key().as_ref().to_vec()),
        Key::RsaPublic(der) => (rsa_alg()?, der.clone()),
        Key::EcPrivate { pair, curve, .. } => (ec_alg(*curve), pair.public_key().as_ref().to_vec()),
        Key::EcPublic { der, curve } => (ec_alg(*curve), der.clone()),
    };
    Ok(UnparsedPublicKey::new(alg, der).verify(data, sig).is_ok())
}
