//! `crypto` from scripts: outputs equal known vectors, in every encoding legacy scripts use,
//! including the ASP.NET Membership template's HMAC and the old 4-argument pbkdf2.

use serde_json::{Value, json};
use sluice_core::ports::{ScriptFailure, ScriptKind, ScriptRequest, ScriptRunner};
use sluice_scripts::{Limits, ScriptRuntime};
use std::collections::BTreeMap;

async fn run(body: &str) -> Result<Value, ScriptFailure> {
    let rt = ScriptRuntime::new(Limits::default());
    let source = format!("function login(email, password, cb) {{\n{body}\n}}");
    rt.run(ScriptRequest {
        tenant_id: "t".into(),
        connection: None,
        kind: ScriptKind::Login,
        source: source.into(),
        args: vec![json!("a@b.c"), json!("pw")],
        context: None,
        configuration: BTreeMap::new(),
    })
    .await
    .result
}

#[tokio::test]
async fn hashes_and_hmacs_equal_known_vectors_in_every_encoding() {
    let r = run(r#"
      const crypto = require('crypto');
      cb(null, {
        md5: crypto.createHash('md5').update('abc').digest('hex'),
        sha1b64: crypto.createHash('sha1').update('abc').digest('base64'),
        sha256: crypto.createHash('sha256').update('a').update('bc').digest('hex'),
        sha512len: crypto.createHash('sha512').update('abc').digest().length,
        binaryIn: crypto.createHash('md5').update('\u00e9', 'binary').digest('hex'),
        binaryOut: crypto.createHash('md5').update('abc').digest('binary').length,
        hmac: crypto.createHmac('sha256', 'Jefe').update('what do ya want for nothing?').digest('hex'),
        rsaAlias: crypto.createHash('RSA-SHA256').update('abc').digest('hex').slice(0, 8),
      });
    "#).await.unwrap();
    assert_eq!(r["md5"], "900150983cd24fb0d6963f7d28e17f72");
    assert_eq!(r["sha1b64"], "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
    assert_eq!(
        r["sha256"],
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(r["sha512len"], 64);
    assert_eq!(
        r["binaryIn"],
        md5_hex(&[0xe9]),
        "binary input encoding is latin1"
    );
    assert_eq!(r["binaryOut"], 16);
    assert_eq!(
        r["hmac"],
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    assert_eq!(r["rsaAlias"], "ba7816bf");
}

fn md5_hex(b: &[u8]) -> String {
    sluice_scripts::modules::crypto::digest("md5", b)
        .unwrap()
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

#[tokio::test]
async fn aspnet_membership_template_hmac_and_pbkdf2_forms() {
    // MVC3 Universal Providers: HMACSHA256 keyed with the salt repeated, over the UCS-2 password.
    let r = run(r#"
      const crypto = require('crypto');
      const salt = Buffer.from('c2FsdHNhbHRzYWx0c2FsdA==', 'base64');
      const key = Buffer.concat([salt, salt, salt, salt]);
      const mvc3 = crypto.createHmac('sha256', key).update(Buffer.from(password, 'ucs2')).digest('hex');
      // MVC4 SimpleMembership: old 4-argument pbkdf2 (SHA-1), 0x00 + salt[16] + hash[32].
      crypto.pbkdf2(password, salt, 1000, 32, function (err, derived) {
        const sync = crypto.pbkdf2Sync(password, salt, 1000, 32, 'sha1');
        crypto.pbkdf2('password', 'salt', 2, 20, 'sha1', function (err2, v) {
          cb(null, { mvc3: mvc3, same: derived.equals(sync), len: derived.length, rfc6070: v.toString('hex') });
        });
      });
    "#).await.unwrap();
    assert_eq!(r["same"], true);
    assert_eq!(r["len"], 32);
    assert_eq!(r["rfc6070"], "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957");
    let salt = b"saltsaltsaltsalt";
    let key: Vec<u8> = salt
        .iter()
        .chain(salt)
        .chain(salt)
        .chain(salt)
        .copied()
        .collect();
    let expected =
        sluice_scripts::modules::crypto::hmac("sha256", &key, &[b'p', 0, b'w', 0]).unwrap();
    let hex: String = expected.iter().map(|x| format!("{x:02x}")).collect();
    assert_eq!(r["mvc3"], hex.as_str());
}

#[tokio::test]
async fn random_timing_safe_and_scrypt() {
    let r = run(r#"
      const crypto = require('crypto');
      const a = crypto.randomBytes(16), b = crypto.randomBytes(16);
      let threw = false;
      try { crypto.timingSafeEqual(Buffer.from('a'), Buffer.from('ab')); } catch (e) { threw = e instanceof RangeError; }
      crypto.scrypt('password', 'NaCl', 64, { N: 1024, r: 8, p: 16 }, (err, key) => cb(err, {
        len: a.length, differ: !a.equals(b),
        uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(crypto.randomUUID()),
        tse: crypto.timingSafeEqual(Buffer.from('abc'), Buffer.from('abc')), tseNo: crypto.timingSafeEqual(Buffer.from('abc'), Buffer.from('abd')),
        threw: threw, scrypt: key.toString('hex').slice(0, 16),
        int: (() => { const v = crypto.randomInt(10); return v >= 0 && v < 10; })(),
      }));
    "#).await.unwrap();
    assert_eq!(
        r,
        json!({"len": 16, "differ": true, "uuid": true, "tse": true, "tseNo": false, "threw": true, "scrypt": "fdbabe1c9d347200", "int": true})
    );
}

#[tokio::test]
async fn unsupported_digest_is_an_error_not_a_crash() {
    let r = run("try { require('crypto').createHash('whirlpool'); cb(null, {}); } catch (e) { cb(null, {m: e.message}); }").await.unwrap();
    assert!(r["m"].as_str().unwrap().contains("not supported"));
}
