//! `require` and the host modules: resolution rules, Buffer, bcrypt/bcryptjs.

use serde_json::{Value, json};
use sluice_core::ports::{ScriptFailure, ScriptKind, ScriptRequest, ScriptRunner};
use sluice_scripts::{Limits, ScriptRuntime};
use std::collections::BTreeMap;
use std::time::Duration;

fn runtime() -> ScriptRuntime {
    ScriptRuntime::new(Limits {
        deadline: Duration::from_secs(10),
        ..Limits::default()
    })
}

/// Runs `body` as the inside of `function (email, password, cb) { ... }`.
async fn run(rt: &ScriptRuntime, body: &str) -> Result<Value, ScriptFailure> {
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
async fn require_accepts_versions_and_node_prefix_and_caches() {
    let rt = runtime();
    let r = run(&rt, "const a = require('bcrypt'); cb(null, {same: a === require('bcrypt@5.1.0') && a === require('node:bcrypt'), scoped: typeof require('bcryptjs@2.4.3').hash});").await;
    assert_eq!(r, Ok(json!({"same": true, "scoped": "function"})));
}

/// `util`, `structuredClone`, `TextEncoder` and `TextDecoder` are loaded on first use (a
/// container that never touches them does not hold them); they behave the same either way.
#[tokio::test]
async fn util_and_web_globals_load_on_first_use_and_behave_as_in_node() {
    let rt = runtime();
    let r = run(&rt, r#"
      const src = { d: new Date(0), m: new Map([['k', [1, 2]]]), s: new Set(['x']), n: { deep: true } };
      src.self = src;
      const c = structuredClone(src);
      const util = require('util');
      let threw = false;
      try { structuredClone({ f() {} }); } catch (e) { threw = true; }
      cb(null, {
        copied: c !== src && c.self === c && c.n !== src.n && c.n.deep === true,
        date: c.d instanceof Date && c.d.getTime() === 0, map: c.m.get('k'), set: c.s.has('x'),
        fnRefused: threw,
        same: util === require('node:util') && util.TextEncoder === TextEncoder && util.TextDecoder === TextDecoder,
        types: require('util/types') === util.types && util.types.isDate(new Date()),
        format: util.format('%s=%d %j', 'a', 42, { b: 1 }, 'rest'),
        inspect: util.inspect({ a: [1, 'x'] }),
        encoded: Array.from(new TextEncoder().encode('✓')),
      });
    "#).await.unwrap();
    assert_eq!(r["copied"], true, "{r}");
    assert_eq!(r["date"], true);
    assert_eq!(r["map"], json!([1, 2]));
    assert_eq!(r["set"], true);
    assert_eq!(r["fnRefused"], true);
    assert_eq!(r["same"], true);
    assert_eq!(r["types"], true);
    assert_eq!(r["format"], "a=42 {\"b\":1} rest");
    assert_eq!(r["inspect"], "{\"a\":[1,\"x\"]}");
    assert_eq!(r["encoded"], json!([226, 156, 147]));
}

#[tokio::test]
async fn forbidden_and_unknown_modules_fail_with_module_not_found() {
    let rt = runtime();
    for (m, needle) in [
        ("fs", "not available to action scripts"),
        ("child_process", "not available"),
        ("net", "not available"),
        ("left-pad", "Cannot find module 'left-pad'"),
        // The host's own modules behind globals are not requireable.
        ("sluice:structuredClone", "Cannot find module"),
    ] {
        let r = run(&rt, &format!("try {{ require('{m}'); cb(null, {{}}); }} catch (e) {{ cb(null, {{code: e.code, message: e.message}}); }}")).await.unwrap();
        assert_eq!(r["code"], "MODULE_NOT_FOUND", "{m}");
        assert!(r["message"].as_str().unwrap().contains(needle), "{m}: {r}");
    }
}

#[tokio::test]
async fn buffer_encodings_round_trip() {
    let rt = runtime();
    let r = run(&rt, r#"
      const b = Buffer.from('héllo wörld ✓', 'utf8');
      const out = {
        len: b.length, byteLength: Buffer.byteLength('✓'),
        hex: Buffer.from('hi').toString('hex'), fromHex: Buffer.from('6869', 'hex').toString(),
        b64: Buffer.from('hello').toString('base64'), fromB64: Buffer.from('aGVsbG8=', 'base64').toString(),
        b64url: Buffer.from([251, 255]).toString('base64url'), fromB64url: Array.from(Buffer.from('-_8', 'base64url')),
        latin1: Array.from(Buffer.from('\u00e9', 'latin1')), binary: Buffer.from([233]).toString('binary') === '\u00e9',
        ucs2: Buffer.from('ab', 'ucs2').toString('hex'), utf16le: Buffer.from('6100', 'hex').toString('utf16le'),
        utf8: b.toString('utf8') === 'héllo wörld ✓',
        concat: Buffer.concat([Buffer.from('a'), Buffer.from('bc')]).toString(),
        isBuffer: Buffer.isBuffer(b) && !Buffer.isBuffer('x'),
        slice: b.slice(0, 5).toString(), sub: Buffer.from('abcdef').subarray(2, 4).toString(),
        equals: Buffer.from('x').equals(Buffer.from('x')), compare: Buffer.compare(Buffer.from('a'), Buffer.from('b')),
        ints: (() => { const x = Buffer.alloc(8); x.writeUInt32BE(0xdeadbeef, 0); x.writeUInt16LE(0x1234, 4); return [x.readUInt32BE(0), x.readUInt16LE(4), x.readUInt8(0), x.toString('hex')]; })(),
        alloc: Buffer.alloc(3, 'ab').toString(), json: JSON.stringify(Buffer.from([1, 2])),
        atob: atob(btoa('bin\u00ff')) === 'bin\u00ff', te: Array.from(new TextEncoder().encode('é')), td: new TextDecoder().decode(new Uint8Array([0xe2, 0x9c, 0x93])),
      };
      cb(null, out);
    "#).await.unwrap();
    assert_eq!(r["len"], 17);
    assert_eq!(r["byteLength"], 3);
    assert_eq!(r["hex"], "6869");
    assert_eq!(r["fromHex"], "hi");
    assert_eq!(r["b64"], "aGVsbG8=");
    assert_eq!(r["fromB64"], "hello");
    assert_eq!(r["b64url"], "-_8");
    assert_eq!(r["fromB64url"], json!([251, 255]));
    assert_eq!(r["latin1"], json!([233]));
    assert_eq!(r["binary"], true);
    assert_eq!(r["ucs2"], "61006200");
    assert_eq!(r["utf16le"], "a");
    assert_eq!(r["utf8"], true);
    assert_eq!(r["concat"], "abc");
    assert_eq!(r["isBuffer"], true);
    assert_eq!(r["slice"], "héll");
    assert_eq!(r["sub"], "cd");
    assert_eq!(r["equals"], true);
    assert_eq!(r["compare"], -1);
    assert_eq!(
        r["ints"],
        json!([3735928559u32, 4660, 222, "deadbeef34120000"])
    );
    assert_eq!(r["alloc"], "aba");
    assert_eq!(r["json"], r#"{"type":"Buffer","data":[1,2]}"#);
    assert_eq!(r["atob"], true);
    assert_eq!(r["te"], json!([195, 169]));
    assert_eq!(r["td"], "✓");
}

/// Vectors from other implementations (OpenBSD/crypt_blowfish `$2a$`, and the same hash under
/// the `$2b$` and `$2y$` prefixes, which compute identically for these inputs).
const VECTORS: &[(&str, &str)] = &[
    (
        "U*U",
        "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
    ),
    (
        "U*U*",
        "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK",
    ),
    (
        "",
        "$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy",
    ),
    (
        "U*U",
        "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
    ),
    (
        "U*U",
        "$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
    ),
];

#[tokio::test]
async fn bcrypt_verifies_hashes_made_by_other_implementations() {
    let rt = runtime();
    for (pw, hash) in VECTORS {
        let body = format!(
            "const b = require('bcrypt'); b.compare({pw:?}, {hash:?}, (err, ok) => cb(err, {{ok, sync: b.compareSync({pw:?}, {hash:?}), wrong: b.compareSync('nope', {hash:?})}}));"
        );
        assert_eq!(
            run(&rt, &body).await,
            Ok(json!({"ok": true, "sync": true, "wrong": false})),
            "{hash}"
        );
    }
}

#[tokio::test]
async fn bcrypt_callback_and_promise_forms() {
    let rt = runtime();
    let r = run(&rt, r#"
      const bcrypt = require('bcrypt');
      bcrypt.genSalt(4, (err, salt) => {
        bcrypt.hash(password, salt, async (err2, hash) => {
          const viaPromise = await bcrypt.compare(password, hash);
          const hash2 = await bcrypt.hash('other', 4);
          cb(null, {salt: salt.slice(0, 7), prefix: hash.slice(0, 29) === salt, ok: viaPromise,
                    rounds: bcrypt.getRounds(hash2), sync: bcrypt.compareSync('other', bcrypt.hashSync('other', 4)),
                    bad: await bcrypt.compare('pw', 'garbage')});
        });
      });
    "#).await;
    assert_eq!(
        r,
        Ok(
            json!({"salt": "$2b$04$", "prefix": true, "ok": true, "rounds": 4, "sync": true, "bad": false})
        )
    );
}

#[tokio::test]
async fn bcrypt_rejects_invalid_rounds_with_an_error() {
    let r = run(
        &runtime(),
        "require('bcrypt').hash('pw', 99, (err) => cb(null, {msg: err && err.message}));",
    )
    .await
    .unwrap();
    assert!(r["msg"].as_str().unwrap().contains("Invalid rounds"), "{r}");
}

#[tokio::test]
async fn bcrypt_hashing_does_not_block_timers() {
    // While a cost-12 hash runs on the blocking pool, a 10 ms timer still fires first.
    let r = run(&runtime(), "const order = []; require('bcrypt').hash('pw', 12).then(() => { order.push('hash'); cb(null, {order}); }); setTimeout(() => order.push('timer'), 10);").await;
    assert_eq!(r, Ok(json!({"order": ["timer", "hash"]})));
}

#[tokio::test]
async fn util_events_and_uuid() {
    let rt = runtime();
    let r = run(&rt, r#"
      const util = require('util'), EventEmitter = require('events'), uuid = require('uuid@9.0.0');
      function Legacy() { EventEmitter.call(this); }
      util.inherits(Legacy, EventEmitter);
      class Modern extends EventEmitter {}
      const seen = [];
      const a = new Legacy(); a.on('x', (v) => seen.push('legacy:' + v)); a.emit('x', 1);
      const b = new Modern(); b.once('y', (v) => seen.push('modern:' + v)); b.emit('y', 2); b.emit('y', 3);
      const sleep = util.promisify((ms, done) => setTimeout(() => done(null, ms), ms));
      sleep(5).then((ms) => cb(null, {
        seen, ms, fmt: util.format('%s=%d %j', 'a', 42, {b: 1}),
        v4: uuid.validate(uuid.v4()) && uuid.version(uuid.v4()) === 4, v7: uuid.version(uuid.v7()), callable: uuid.validate(uuid()),
        isDate: util.types.isDate(new Date()), sameUtil: require('util') === util,
      }));
    "#).await;
    assert_eq!(
        r,
        Ok(
            json!({"seen": ["legacy:1", "modern:2"], "ms": 5, "fmt": "a=42 {\"b\":1}", "v4": true, "v7": 7, "callable": true, "isDate": true, "sameUtil": true})
        )
    );
}

#[tokio::test]
async fn legacy_globals_are_off_by_default_and_per_tenant_when_on() {
    let rt = runtime();
    let probe = "cb(null, {bcrypt: typeof bcrypt, jwt: typeof jwt, mysql: typeof mysql, postgres: typeof postgres, uuid: typeof uuid});";
    assert_eq!(
        run(&rt, probe).await,
        Ok(
            json!({"bcrypt": "undefined", "jwt": "undefined", "mysql": "undefined", "postgres": "undefined", "uuid": "undefined"})
        )
    );
    rt.set_legacy_globals("t", true);
    assert_eq!(
        run(&rt, probe).await,
        Ok(
            json!({"bcrypt": "object", "jwt": "object", "mysql": "function", "postgres": "function", "uuid": "function"})
        )
    );
    let r = run(&rt, "cb(null, {ok: bcrypt.compareSync('U*U', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'), tok: jwt.verify(jwt.sign({a: 1}, 'k'), 'k').a});").await;
    assert_eq!(r, Ok(json!({"ok": true, "tok": 1})));
    rt.set_legacy_globals("t", false);
    assert_eq!(
        run(&rt, "cb(null, {bcrypt: typeof bcrypt});").await,
        Ok(json!({"bcrypt": "undefined"}))
    );
}

#[tokio::test]
async fn legacy_postgres_and_mysql_globals_reach_real_databases() {
    let rt = runtime();
    rt.set_legacy_globals("t", true);
    let r = run(&rt, "postgres('postgres://postgres@127.0.0.1:5432/test', function (err, client) { if (err) return cb(err); client.query('SELECT 1 AS one', function (e, res) { client.end(); cb(e, res && res.rows[0]); }); });").await;
    assert_eq!(r, Ok(json!({"one": 1})));
    let r = run(&rt, "const c = mysql({host: '127.0.0.1', user: 'root', password: '', database: 'test'}); c.query('SELECT 1 AS one', function (e, rows) { c.end(); cb(e, rows && rows[0]); });").await;
    assert_eq!(r, Ok(json!({"one": 1})));
}

#[tokio::test]
async fn pg_results_are_capped_while_they_stream_in() {
    let rt = runtime();
    let r = run(&rt, "const { Client } = require('pg'); const c = new Client('postgres://postgres@127.0.0.1:5432/test'); c.connect().then(() => c.query(\"SELECT repeat('x', 1000000) AS blob FROM generate_series(1, 40)\")).then(() => cb(null, {ok: true}), (e) => { c.end(); cb(null, {message: e.message}); });").await.unwrap();
    assert!(
        r["message"]
            .as_str()
            .unwrap_or_default()
            .contains("larger than 32 MiB"),
        "{r}"
    );
    let r = run(&rt, "const { Client } = require('pg'); const c = new Client('postgres://postgres@127.0.0.1:5432/test'); c.connect().then(() => c.query(\"SELECT repeat('x', 1000) AS blob FROM generate_series(1, 10)\")).then((res) => { c.end(); cb(null, {rows: res.rowCount}); }, cb);").await;
    assert_eq!(r, Ok(json!({"rows": 10})));
}
