//! `jsonwebtoken` and `crypto` signatures from scripts, checked against a known vector and
//! against OpenSSL (an independent implementation) on keys OpenSSL generated.

use serde_json::{Value, json};
use sluice_core::ports::{ScriptFailure, ScriptKind, ScriptRequest, ScriptRunner};
use sluice_scripts::{Limits, ScriptRuntime};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

async fn run(body: &str, configuration: BTreeMap<String, String>) -> Result<Value, ScriptFailure> {
    let rt = ScriptRuntime::new(Limits::default());
    let source = format!("function login(email, password, cb) {{\n{body}\n}}");
    rt.run(ScriptRequest {
        tenant_id: "t".into(),
        connection: None,
        kind: ScriptKind::Login,
        source: source.into(),
        args: vec![json!("a@b.c"), json!("pw")],
        context: None,
        configuration,
    })
    .await
    .result
}

fn openssl(args: &[&str], dir: &Path) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is installed");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Keys made by OpenSSL: RSA (PKCS#8 and PKCS#1), EC P-256 (SEC1), and their SPKI public keys.
fn keys() -> (PathBuf, BTreeMap<String, String>) {
    let dir = std::env::temp_dir().join(format!("sluice-jwt-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    openssl(
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "rsa.pem",
        ],
        &dir,
    );
    openssl(
        &["pkey", "-in", "rsa.pem", "-pubout", "-out", "rsa.pub"],
        &dir,
    );
    openssl(
        &["pkey", "-in", "rsa.pem", "-traditional", "-out", "rsa1.pem"],
        &dir,
    );
    openssl(
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "ec.pem",
        ],
        &dir,
    );
    openssl(&["ec", "-in", "ec.pem", "-pubout", "-out", "ec.pub"], &dir);
    let mut cfg = BTreeMap::new();
    for f in ["rsa.pem", "rsa.pub", "rsa1.pem", "ec.pem", "ec.pub"] {
        cfg.insert(
            f.replace('.', "_"),
            std::fs::read_to_string(dir.join(f)).unwrap(),
        );
    }
    (dir, cfg)
}

#[allow(clippy::disallowed_methods)] // a unique name, not a time the code reasons about
fn uuid_like() -> String {
    format!(
        "{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

#[tokio::test]
async fn hs256_matches_the_known_vector_and_verifies() {
    let r = run(r#"
      const jwt = require('jsonwebtoken@9.0.2');
      const t = jwt.sign({ sub: '1234567890', name: 'John Doe', iat: 1516239022 }, 'your-256-bit-secret');
      const p = jwt.verify(t, 'your-256-bit-secret', { ignoreExpiration: true });
      cb(null, { t, name: p.name, header: jwt.decode(t, { complete: true }).header });
    "#, BTreeMap::new()).await.unwrap();
    assert_eq!(
        r["t"],
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    );
    assert_eq!(r["name"], "John Doe");
    assert_eq!(r["header"], json!({"alg": "HS256", "typ": "JWT"}));
}

#[tokio::test]
async fn verify_errors_have_the_npm_names_and_messages() {
    let r = run(r#"
      const jwt = require('jsonwebtoken');
      const err = (f) => { try { f(); return null; } catch (e) { return e.name + ': ' + e.message; } };
      const expired = jwt.sign({ sub: 'x', exp: Math.floor(Date.now() / 1000) - 10 }, 's');
      const aud = jwt.sign({ sub: 'x' }, 's', { audience: 'api-a', expiresIn: '1h' });
      const none = Buffer.from('{"alg":"none"}').toString('base64url') + '.' + Buffer.from('{"sub":"x"}').toString('base64url') + '.';
      cb(null, {
        expired: err(() => jwt.verify(expired, 's')),
        wrong: err(() => jwt.verify(aud, 'other')),
        audience: err(() => jwt.verify(aud, 's', { audience: 'api-b' })),
        audienceOk: jwt.verify(aud, 's', { audience: 'api-a' }).sub,
        none: err(() => jwt.verify(none, 's')),
        malformed: err(() => jwt.verify('abc', 's')),
        exp: jwt.decode(aud).exp - jwt.decode(aud).iat,
      });
    "#, BTreeMap::new()).await.unwrap();
    assert_eq!(r["expired"], "TokenExpiredError: jwt expired");
    assert_eq!(r["wrong"], "JsonWebTokenError: invalid signature");
    assert_eq!(
        r["audience"],
        "JsonWebTokenError: jwt audience invalid. expected: api-b"
    );
    assert_eq!(r["audienceOk"], "x");
    assert!(
        r["none"].as_str().unwrap().starts_with("JsonWebTokenError"),
        "{r}"
    );
    assert_eq!(r["malformed"], "JsonWebTokenError: jwt malformed");
    assert_eq!(r["exp"], 3600);
}

#[tokio::test]
async fn rs256_and_es256_interoperate_with_openssl() {
    let (dir, cfg) = keys();
    let r = run(r#"
      const jwt = require('jsonwebtoken'), crypto = require('crypto');
      const rs = jwt.sign({ sub: 'u1' }, configuration.rsa_pem, { algorithm: 'RS256', keyid: 'k1', expiresIn: 60 });
      const rs1 = jwt.sign({ sub: 'u1' }, configuration.rsa1_pem, { algorithm: 'RS256' });
      const es = jwt.sign({ sub: 'u2' }, configuration.ec_pem, { algorithm: 'ES256' });
      const sig = crypto.createSign('RSA-SHA256').update('hello').sign(configuration.rsa1_pem, 'base64');
      let confused;
      try { jwt.verify(jwt.sign({ a: 1 }, configuration.rsa_pub), configuration.rsa_pub); confused = 'accepted'; } catch (e) { confused = e.message; }
      cb(null, {
        rs, sig, rsSub: jwt.verify(rs, configuration.rsa_pub).sub, rs1Ok: jwt.verify(rs1, configuration.rsa_pub, { algorithms: ['RS256'] }).sub,
        esSub: jwt.verify(es, configuration.ec_pub).sub, esSigLen: Buffer.from(es.split('.')[2], 'base64url').length,
        ecDer: crypto.verify('sha256', Buffer.from('m'), configuration.ec_pub, crypto.sign('sha256', Buffer.from('m'), configuration.ec_pem)),
        kid: jwt.decode(rs, { complete: true }).header.kid, confused,
      });
    "#, cfg).await.unwrap();
    assert_eq!(r["rsSub"], "u1");
    assert_eq!(r["rs1Ok"], "u1");
    assert_eq!(r["esSub"], "u2");
    assert_eq!(r["esSigLen"], 64, "JOSE ES256 signatures are raw r||s");
    assert_eq!(r["ecDer"], true);
    assert_eq!(r["kid"], "k1");
    assert_eq!(
        r["confused"], "invalid algorithm",
        "an HS256 token keyed with a public key is refused"
    );
    // OpenSSL verifies the script's RS256 signature over the JWS signing input...
    let token = r["rs"].as_str().unwrap();
    let (input, sig) = token.rsplit_once('.').unwrap();
    std::fs::write(dir.join("input"), input).unwrap();
    std::fs::write(dir.join("sig"), base64_url_decode(sig)).unwrap();
    openssl(
        &[
            "dgst",
            "-sha256",
            "-verify",
            "rsa.pub",
            "-signature",
            "sig",
            "input",
        ],
        &dir,
    );
    // ...and the createSign signature made with the PKCS#1 key.
    std::fs::write(dir.join("hello"), "hello").unwrap();
    std::fs::write(
        dir.join("sig2"),
        base64_std_decode(r["sig"].as_str().unwrap()),
    )
    .unwrap();
    openssl(
        &[
            "dgst",
            "-sha256",
            "-verify",
            "rsa.pub",
            "-signature",
            "sig2",
            "hello",
        ],
        &dir,
    );
    let _ = std::fs::remove_dir_all(dir);
}

fn base64_url_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

fn base64_std_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}
