//! Compact JWS (JWT) signing and verification, RS256 only, hand-built on
//! [`SigningKey`] / [`VerifyingKey`] handles so keys are never re-parsed per
//! token.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::CryptoError;
use crate::b64::{url_decode, url_encode};
use crate::keys::{SigningKey, VerifyingKey};

/// JSON object type used for headers and claims.
pub type JsonMap = Map<String, Value>;

/// Largest token accepted by [`verify`] / [`decode_unverified`] (bytes).
const MAX_TOKEN_LEN: usize = 64 * 1024;

/// Header emitted by [`sign`]; field order is `alg`, `typ`, `kid`.
#[derive(Serialize)]
struct Header<'a> {
    alg: &'a str,
    typ: &'a str,
    kid: &'a str,
}

/// What [`verify`] requires of the claims besides a good signature.
#[derive(Clone, Copy, Debug)]
pub struct Validation<'a> {
    /// Required exact `iss`.
    pub issuer: &'a str,
    /// Required `aud` (a string equal to it or an array containing it).
    pub audience: &'a str,
    /// Current time, unix seconds.
    pub now: i64,
    /// Allowed clock skew in seconds for `exp` and `nbf`.
    pub leeway: i64,
}

/// Signs `claims` as an RS256 compact JWS with header
/// `{"alg":"RS256","typ":"JWT","kid":<kid>}`.
pub fn sign(key: &SigningKey, claims: &JsonMap) -> Result<String, CryptoError> {
    let header = Header {
        alg: "RS256",
        typ: "JWT",
        kid: key.kid(),
    };
    let header = serde_json::to_vec(&header).map_err(|_| CryptoError::Sign)?;
    let claims = serde_json::to_vec(claims).map_err(|_| CryptoError::Sign)?;
    let mut out = format!("{}.{}", url_encode(&header), url_encode(&claims));
    let sig = key.sign_rs256(out.as_bytes())?;
    out.push('.');
    out.push_str(&url_encode(&sig));
    Ok(out)
}

/// The three decoded parts of a compact JWS.
struct Parts<'t> {
    signing_input: &'t str,
    header: JsonMap,
    claims_b64: &'t str,
    signature: Vec<u8>,
}

fn split(token: &str) -> Result<Parts<'_>, CryptoError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(CryptoError::Malformed("token too large".into()));
    }
    let mut it = token.split('.');
    let (Some(h), Some(c), Some(s), None) = (it.next(), it.next(), it.next(), it.next()) else {
        return Err(CryptoError::Malformed("token must have 3 parts".into()));
    };
    let header = decode_json(h, "header")?;
    let signature =
        url_decode(s).ok_or_else(|| CryptoError::Malformed("signature is not base64url".into()))?;
    Ok(Parts {
        signing_input: &token[..h.len() + 1 + c.len()],
        header,
        claims_b64: c,
        signature,
    })
}

fn decode_json(part: &str, what: &str) -> Result<JsonMap, CryptoError> {
    let raw = url_decode(part)
        .ok_or_else(|| CryptoError::Malformed(format!("{what} is not base64url")))?;
    serde_json::from_slice(&raw)
        .map_err(|_| CryptoError::Malformed(format!("{what} is not a JSON object")))
}

/// Decodes `(header, claims)` WITHOUT verifying anything. For diagnostics
/// and tests only; never trust the result.
pub fn decode_unverified(token: &str) -> Result<(JsonMap, JsonMap), CryptoError> {
    let parts = split(token)?;
    let claims = decode_json(parts.claims_b64, "claims")?;
    Ok((parts.header, claims))
}

/// Verifies an RS256 compact JWS against `keys` and validates its claims;
/// returns the claims on success.
///
/// Key selection: if the header has a `kid`, only keys with that kid are
/// tried ([`CryptoError::UnknownKid`] if none); otherwise every key is tried.
pub fn verify(
    token: &str,
    keys: &[VerifyingKey],
    v: &Validation<'_>,
) -> Result<JsonMap, CryptoError> {
    let parts = split(token)?;
    match parts.header.get("alg") {
        Some(Value::String(alg)) if alg == "RS256" => {}
        Some(Value::String(alg)) => {
            return Err(CryptoError::Malformed(format!("unsupported alg {alg:?}")));
        }
        _ => return Err(CryptoError::Malformed("missing alg".into())),
    }
    if parts.header.contains_key("crit") {
        return Err(CryptoError::Malformed("unsupported crit header".into()));
    }
    let kid = match parts.header.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.as_str()),
        Some(_) => return Err(CryptoError::Malformed("kid is not a string".into())),
    };
    let mut candidates = keys
        .iter()
        .filter(|k| kid.is_none_or(|kid| k.kid() == kid))
        .peekable();
    if candidates.peek().is_none() {
        return Err(CryptoError::UnknownKid(kid.unwrap_or_default().to_owned()));
    }
    let message = parts.signing_input.as_bytes();
    if !candidates.any(|k| k.verify_rs256(message, &parts.signature)) {
        return Err(CryptoError::BadSignature);
    }
    let claims = decode_json(parts.claims_b64, "claims")?;
    validate_claims(&claims, v)?;
    Ok(claims)
}

/// Reads a NumericDate claim; `Ok(None)` if absent.
fn numeric_date(claims: &JsonMap, name: &str) -> Result<Option<i64>, CryptoError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            // Saturating float-to-int conversion; fractional seconds truncate.
            .or_else(|| n.as_f64().map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| CryptoError::Claim(format!("{name} is not a number"))),
        Some(_) => Err(CryptoError::Claim(format!("{name} is not a number"))),
    }
}

fn validate_claims(claims: &JsonMap, v: &Validation<'_>) -> Result<(), CryptoError> {
    let exp = numeric_date(claims, "exp")?.ok_or(CryptoError::Expired)?;
    if exp.saturating_add(v.leeway) <= v.now {
        return Err(CryptoError::Expired);
    }
    if let Some(nbf) = numeric_date(claims, "nbf")?
        && nbf > v.now.saturating_add(v.leeway)
    {
        return Err(CryptoError::NotYetValid);
    }
    match claims.get("iss") {
        Some(Value::String(iss)) if iss == v.issuer => {}
        _ => return Err(CryptoError::Claim("iss does not match".into())),
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == v.audience,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(v.audience)),
        _ => false,
    };
    if !aud_ok {
        return Err(CryptoError::Claim("aud does not match".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_700_000_000;

    fn validation() -> Validation<'static> {
        Validation {
            issuer: "https://sluice.test/",
            audience: "api",
            now: NOW,
            leeway: 60,
        }
    }

    fn claims(extra: Value) -> JsonMap {
        let mut base = json!({
            "iss": "https://sluice.test/",
            "sub": "user|1",
            "aud": "api",
            "iat": NOW,
            "exp": NOW + 3600,
        });
        if let (Value::Object(b), Value::Object(e)) = (&mut base, extra) {
            b.extend(e);
        }
        match base {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    fn forge(header: Value, claims: &JsonMap, sig: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            url_encode(header.to_string().as_bytes()),
            url_encode(&serde_json::to_vec(claims).unwrap()),
            url_encode(sig)
        )
    }

    fn key(kid: &str) -> SigningKey {
        SigningKey::generate(kid.into()).unwrap()
    }

    #[test]
    fn round_trip_and_header_order() {
        let k = key("k1");
        let c = claims(json!({}));
        let t = sign(&k, &c).unwrap();
        let header = String::from_utf8(url_decode(t.split('.').next().unwrap()).unwrap()).unwrap();
        assert_eq!(header, r#"{"alg":"RS256","typ":"JWT","kid":"k1"}"#);
        assert_eq!(verify(&t, &[k.verifying_key()], &validation()).unwrap(), c);
        let (h, c2) = decode_unverified(&t).unwrap();
        assert_eq!(h["kid"], "k1");
        assert_eq!(c2, c);
    }

    #[test]
    fn jwk_verifies_token() {
        let k = key("k1");
        let t = sign(&k, &claims(json!({}))).unwrap();
        let from_jwk = VerifyingKey::from_jwk(&k.jwk()).unwrap();
        assert!(verify(&t, &[from_jwk], &validation()).is_ok());
    }

    #[test]
    fn pkcs8_copy_signs_verifiable_tokens() {
        let k = key("k1");
        let copy = SigningKey::from_pkcs8("k1".into(), &k.to_pkcs8()).unwrap();
        let t = sign(&copy, &claims(json!({}))).unwrap();
        let vk = VerifyingKey::from_jwk(&k.jwk()).unwrap();
        assert!(verify(&t, &[vk], &validation()).is_ok());
    }

    #[test]
    fn rejects_tampering() {
        let k = key("k1");
        let keys = [k.verifying_key()];
        let t = sign(&k, &claims(json!({}))).unwrap();
        let parts: Vec<&str> = t.split('.').collect();
        let evil = claims(json!({"sub": "admin"}));
        let tampered_payload = format!(
            "{}.{}.{}",
            parts[0],
            url_encode(&serde_json::to_vec(&evil).unwrap()),
            parts[2]
        );
        assert_eq!(
            verify(&tampered_payload, &keys, &validation()),
            Err(CryptoError::BadSignature)
        );
        let mut sig = url_decode(parts[2]).unwrap();
        sig[10] ^= 1;
        let tampered_sig = format!("{}.{}.{}", parts[0], parts[1], url_encode(&sig));
        assert_eq!(
            verify(&tampered_sig, &keys, &validation()),
            Err(CryptoError::BadSignature)
        );
    }

    #[test]
    fn rejects_alg_none_and_hs256() {
        let k = key("k1");
        let keys = [k.verifying_key()];
        let c = claims(json!({}));
        let none = forge(json!({"alg":"none","typ":"JWT","kid":"k1"}), &c, b"");
        assert!(matches!(
            verify(&none, &keys, &validation()),
            Err(CryptoError::Malformed(_))
        ));
        let none_no_sig = format!("{}.", &none[..none.len() - 1]);
        assert!(verify(&none_no_sig, &keys, &validation()).is_err());
        let hs = forge(
            json!({"alg":"HS256","typ":"JWT","kid":"k1"}),
            &c,
            &[7u8; 32],
        );
        assert!(matches!(
            verify(&hs, &keys, &validation()),
            Err(CryptoError::Malformed(_))
        ));
        // Even a real RS256 signature under an HS256 header is refused.
        let t = sign(&k, &c).unwrap();
        let sig = url_decode(t.rsplit('.').next().unwrap()).unwrap();
        let relabeled = forge(json!({"alg":"HS256","kid":"k1"}), &c, &sig);
        assert!(verify(&relabeled, &keys, &validation()).is_err());
    }

    #[test]
    fn kid_selection() {
        let k1 = key("k1");
        let k2 = key("k2");
        let c = claims(json!({}));
        let t = sign(&k1, &c).unwrap();
        // Wrong kid.
        assert_eq!(
            verify(&t, &[k2.verifying_key()], &validation()),
            Err(CryptoError::UnknownKid("k1".into()))
        );
        // Same kid, different key material: bad signature.
        let imposter = key("k1");
        assert_eq!(
            verify(&t, &[imposter.verifying_key()], &validation()),
            Err(CryptoError::BadSignature)
        );
        // Right key among several.
        let set = [k2.verifying_key(), k1.verifying_key()];
        assert!(verify(&t, &set, &validation()).is_ok());
        // No kid in header: every key is tried.
        let sig_input = format!(
            "{}.{}",
            url_encode(br#"{"alg":"RS256","typ":"JWT"}"#),
            url_encode(&serde_json::to_vec(&c).unwrap())
        );
        let sig = k1.sign_rs256(sig_input.as_bytes()).unwrap();
        let no_kid = format!("{sig_input}.{}", url_encode(&sig));
        assert!(verify(&no_kid, &set, &validation()).is_ok());
        assert_eq!(
            verify(&no_kid, &[k2.verifying_key()], &validation()),
            Err(CryptoError::BadSignature)
        );
        assert!(verify(&no_kid, &[], &validation()).is_err());
    }

    #[test]
    fn time_claims() {
        let k = key("k1");
        let keys = [k.verifying_key()];
        let check = |extra: Value| verify(&sign(&k, &claims(extra)).unwrap(), &keys, &validation());
        assert_eq!(check(json!({"exp": NOW - 61})), Err(CryptoError::Expired));
        assert_eq!(check(json!({"exp": NOW - 60})), Err(CryptoError::Expired));
        assert!(check(json!({"exp": NOW - 59})).is_ok());
        assert!(check(json!({"exp": (NOW + 10) as f64 + 0.5})).is_ok());
        assert!(matches!(
            check(json!({"exp": "soon"})),
            Err(CryptoError::Claim(_))
        ));
        assert_eq!(
            check(json!({"nbf": NOW + 61})),
            Err(CryptoError::NotYetValid)
        );
        assert!(check(json!({"nbf": NOW + 60})).is_ok());
        let mut no_exp = claims(json!({}));
        no_exp.remove("exp");
        assert_eq!(
            verify(&sign(&k, &no_exp).unwrap(), &keys, &validation()),
            Err(CryptoError::Expired)
        );
    }

    #[test]
    fn iss_and_aud() {
        let k = key("k1");
        let keys = [k.verifying_key()];
        let check = |extra: Value| verify(&sign(&k, &claims(extra)).unwrap(), &keys, &validation());
        let err = check(json!({"iss": "https://evil/"})).unwrap_err();
        assert!(matches!(&err, CryptoError::Claim(m) if m.contains("iss")));
        let err = check(json!({"aud": "other"})).unwrap_err();
        assert!(matches!(&err, CryptoError::Claim(m) if m.contains("aud")));
        assert!(check(json!({"aud": ["other", "api"]})).is_ok());
        assert!(check(json!({"aud": ["other", 5]})).is_err());
        let mut no_aud = claims(json!({}));
        no_aud.remove("aud");
        assert!(matches!(
            verify(&sign(&k, &no_aud).unwrap(), &keys, &validation()),
            Err(CryptoError::Claim(_))
        ));
    }

    #[test]
    fn malformed_tokens() {
        let k = key("k1");
        let keys = [k.verifying_key()];
        let t = sign(&k, &claims(json!({}))).unwrap();
        let bad = [
            String::new(),
            "a.b".into(),
            format!("{t}.x"),
            "!!!.e30.AAAA".into(),
            format!("{}.e30.AAAA", url_encode(b"[1]")),
            format!("{}.e30.AAAA", url_encode(b"not json")),
            "x".repeat(MAX_TOKEN_LEN + 1),
        ];
        for b in &bad {
            assert!(
                matches!(
                    verify(b, &keys, &validation()),
                    Err(CryptoError::Malformed(_))
                ),
                "{b:.40}"
            );
            assert!(decode_unverified(b).is_err());
        }
        let crit = forge(
            json!({"alg":"RS256","kid":"k1","crit":["x"]}),
            &claims(json!({})),
            b"s",
        );
        assert!(verify(&crit, &keys, &validation()).is_err());
    }
}
