//! The hostile login scripts of `hostile_server.rs`: what a script author with bad intent (or a
//! badly buggy one) writes. Each must fail its own login cleanly; the ones that try to reach
//! another connection end by reporting what they found through `UnauthorizedError` (whose message
//! Auth0 shows the client), so a leak would show in the answer.
//!
//! `configuration`: `PG_URL` (a real PostgreSQL), `HUNG_PG_URL` / `HUNG_HTTP_URL` (accept and
//! never answer), `ENDLESS_URL` (an HTTP server whose body never ends).

/// The neighbours' login: any user with password `pw`.
pub const NEIGHBOUR: &str = "function login(email, password, callback) {
  if (password !== 'pw') return callback(new WrongUsernameOrPasswordError(email));
  callback(null, { user_id: email, email: email, nickname: 'n' });
}";

pub const GET_USER: &str = "function getByEmail(email, callback) { callback(null); }";

macro_rules! login {
    ($body:literal) => {
        concat!(
            "function login(email, password, callback) {\n",
            $body,
            "\n}"
        )
    };
}

macro_rules! async_login {
    ($body:literal) => {
        concat!(
            "async function login(email, password, callback) {\n",
            $body,
            "\n}"
        )
    };
}

pub const SCRIPTS: &[(&str, &str)] = &[
    // --- CPU ---------------------------------------------------------------------------------
    ("infinite loop", login!("while (true) {}")),
    (
        "loop that catches the interrupt",
        login!("for (;;) { try { while (true) {} } catch (e) {} }"),
    ),
    (
        "catastrophic regex",
        login!("/^(a+)+$/.test('a'.repeat(40) + '!'); callback(new Error('done'));"),
    ),
    (
        "sort with a looping comparator",
        login!("[3, 2, 1].sort(() => { while (true) {} });"),
    ),
    (
        "infinite generator drained",
        login!("function* g() { for (;;) yield 1; } for (const x of g()) {}"),
    ),
    (
        "microtask loop",
        login!("const spin = () => Promise.resolve().then(spin); spin();"),
    ),
    ("async await loop", async_login!("for (;;) { await null; }")),
    (
        "deep recursion",
        login!("const f = (n) => f(n + 1) + 1; f(0);"),
    ),
    (
        "recursion in a getter",
        login!("const o = { get x() { return this.x; } }; o.x;"),
    ),
    (
        "huge function compiled",
        login!("new Function('return ' + '1+'.repeat(2000000) + '1')();"),
    ),
    // --- memory through the engine -------------------------------------------------------------
    (
        "array push bomb",
        login!("const a = []; for (;;) a.push({ i: a.length, s: 'xxxxxxxx' });"),
    ),
    ("string doubling", login!("let s = 'x'; for (;;) s += s;")),
    (
        "typed array bomb",
        login!("const k = []; for (;;) k.push(new Uint8Array(1 << 20));"),
    ),
    (
        "map bomb",
        login!("const m = new Map(); for (let i = 0; ; i++) m.set(i, [i, i, i]);"),
    ),
    (
        "JSON.parse of a huge text",
        login!("const t = '[' + '1,'.repeat(30000000) + '1]'; JSON.parse(t);"),
    ),
    (
        "huge thrown message",
        login!("throw new Error('x'.repeat(60 << 20));"),
    ),
    (
        "huge error passed to the callback",
        login!("callback(new WrongUsernameOrPasswordError(email, 'y'.repeat(40 << 20)));"),
    ),
    (
        "oversized result",
        login!("callback(null, { user_id: 'u', blob: 'z'.repeat(8 << 20) });"),
    ),
    (
        "cyclic result",
        login!("const p = { user_id: 'u' }; p.self = p; callback(null, p);"),
    ),
    (
        "deeply nested result",
        login!(
            "let p = { user_id: 'u' }; for (let i = 0; i < 100000; i++) p = { p }; callback(null, p);"
        ),
    ),
    (
        "proxy result",
        login!("callback(null, new Proxy({ user_id: 'u' }, { ownKeys() { while (true) {} } }));"),
    ),
    (
        "looping getter as the user id",
        login!(
            "const p = { email: email }; Object.defineProperty(p, 'user_id', { enumerable: true, get() { while (true) {} } }); callback(null, p); "
        ),
    ),
    // --- memory through host functions ----------------------------------------------------------
    (
        "Buffer.from(string) flood",
        login!("const c = 'x'.repeat(1 << 20), k = []; for (;;) k.push(Buffer.from(c));"),
    ),
    (
        "Buffer.alloc flood",
        login!("const k = []; for (;;) k.push(Buffer.alloc(1 << 20));"),
    ),
    (
        "Buffer.concat growth",
        login!("let b = Buffer.alloc(1 << 20); for (;;) b = Buffer.concat([b, b]);"),
    ),
    (
        "randomBytes flood",
        login!("const c = require('crypto'), k = []; for (;;) k.push(c.randomBytes(1 << 20));"),
    ),
    (
        "TextEncoder flood",
        login!(
            "const c = 'x'.repeat(1 << 20), e = new TextEncoder(), k = []; for (;;) k.push(e.encode(c));"
        ),
    ),
    (
        "base64 of a huge buffer",
        login!(
            "const b = Buffer.alloc(48 << 20, 1); const k = []; for (;;) k.push(b.toString('base64'));"
        ),
    ),
    (
        "hex digests kept",
        login!(
            "const c = require('crypto'), k = []; const big = 'x'.repeat(1 << 20); for (;;) k.push(c.createHash('sha512').update(big).digest('hex') + big);"
        ),
    ),
    (
        "hmac over huge input",
        login!(
            "const c = require('crypto'); const big = Buffer.alloc(32 << 20); for (;;) c.createHmac('sha256', 'k').update(big).digest();"
        ),
    ),
    (
        "console flood",
        login!(
            "const line = 'log '.repeat(10000); for (let i = 0; i < 1e6; i++) console.log(line, i);"
        ),
    ),
    (
        "console.log of a huge structure",
        login!(
            "const a = []; for (let i = 0; i < 200000; i++) a.push({ i, s: [i, { i }] }); for (;;) console.log(a);"
        ),
    ),
    (
        "endless HTTP body via fetch",
        async_login!("const r = await fetch(configuration.ENDLESS_URL); await r.text();"),
    ),
    (
        "endless HTTP bodies in parallel",
        async_login!(
            "await Promise.all(Array.from({ length: 20 }, () => fetch(configuration.ENDLESS_URL).then((r) => r.arrayBuffer())));"
        ),
    ),
    (
        "huge PostgreSQL results in parallel",
        async_login!(
            "const { Client } = require('pg'); const cs = []; for (let i = 0; i < 10; i++) { const c = new Client(configuration.PG_URL); await c.connect(); cs.push(c); } await Promise.all(cs.map((c) => c.query(\"SELECT repeat('x', 1048576) FROM generate_series(1, 30)\")));"
        ),
    ),
    (
        "PostgreSQL result over the cap",
        async_login!(
            "const { Client } = require('pg'); const c = new Client(configuration.PG_URL); await c.connect(); await c.query(\"SELECT repeat('x', 1048576) FROM generate_series(1, 100)\");"
        ),
    ),
    (
        "PostgreSQL connection flood",
        async_login!(
            "const { Client } = require('pg'); for (;;) { const c = new Client(configuration.PG_URL); await c.connect(); }"
        ),
    ),
    // --- native work ----------------------------------------------------------------------------
    (
        "async pbkdf2 flood",
        login!(
            "const c = require('crypto'); for (let i = 0; i < 64; i++) c.pbkdf2('pw', 'salt', 5e6, 64, 'sha512', () => {});"
        ),
    ),
    (
        "sync pbkdf2 past the deadline",
        login!("require('crypto').pbkdf2Sync('pw', 'salt', 5e7, 64, 'sha512');"),
    ),
    (
        "scrypt at its memory cap, many at once",
        login!(
            "const c = require('crypto'); for (let i = 0; i < 16; i++) c.scrypt('pw', 'salt', 64, { N: 1 << 17, r: 8, p: 1, maxmem: 256 << 20 }, () => {});"
        ),
    ),
    (
        "scryptSync over its memory cap",
        login!(
            "require('crypto').scryptSync('pw', 'salt', 64, { N: 1 << 22, r: 8, p: 1, maxmem: 8 << 30 });"
        ),
    ),
    (
        "bcrypt cost 14 flood",
        login!(
            "const b = require('bcrypt'); for (let i = 0; i < 32; i++) b.hash('pw', 14, () => {});"
        ),
    ),
    (
        "bcrypt compare flood",
        login!(
            "const b = require('bcrypt'); const h = '$2a$14$' + 'C'.repeat(53); for (let i = 0; i < 64; i++) b.compare('pw', h, () => {});"
        ),
    ),
    (
        "jwt RS256 signing loop",
        login!(
            "const { generateKeyPairSync } = require('crypto'); const jwt = require('jsonwebtoken'); const k = '-----BEGIN PRIVATE KEY-----\\nnot a key\\n-----END PRIVATE KEY-----'; for (;;) { try { jwt.sign({ a: 1 }, k, { algorithm: 'RS256' }); } catch (e) {} }"
        ),
    ),
    (
        "HMAC jwt signing loop",
        login!(
            "const jwt = require('jsonwebtoken'); for (;;) jwt.sign({ a: 'x'.repeat(1000) }, 'k');"
        ),
    ),
    // --- callback storms and warnings -----------------------------------------------------------
    (
        "callback storm",
        login!("for (let i = 0; i < 2e6; i++) callback(new Error('storm ' + i));"),
    ),
    (
        "callback storm with big errors",
        login!(
            "const m = 'w'.repeat(100000); for (let i = 0; i < 100000; i++) callback(new Error(m));"
        ),
    ),
    (
        "rejections after the callback",
        async_login!(
            "callback(new Error('first')); for (let i = 0; i < 100000; i++) Promise.reject(new Error('late ' + i)); throw new Error('thrown after');"
        ),
    ),
    // --- timers ---------------------------------------------------------------------------------
    (
        "timer flood",
        login!("for (let i = 0; i < 1e6; i++) setTimeout(() => {}, 100000);"),
    ),
    (
        "clearTimeout with ids that never existed",
        login!("for (let i = 0; i < 1e7; i++) clearTimeout(i + 1e9);"),
    ),
    (
        "zero-delay interval spinning",
        login!("setInterval(() => { for (let i = 0; i < 1e5; i++); }, 0);"),
    ),
    (
        "timers that allocate after the callback",
        login!(
            "callback(new Error('early')); const k = []; setInterval(() => k.push(new Uint8Array(1 << 20)), 0);"
        ),
    ),
    (
        "setImmediate chain",
        login!("const f = () => setImmediate(f); f();"),
    ),
    // --- a hung legacy store --------------------------------------------------------------------
    (
        "PostgreSQL that never answers",
        login!(
            "const { Client } = require('pg'); const c = new Client(configuration.HUNG_PG_URL); c.connect((e) => callback(e || new Error('connected'))); "
        ),
    ),
    (
        "HTTP API that never answers",
        async_login!("await fetch(configuration.HUNG_HTTP_URL); callback(new Error('answered'));"),
    ),
    (
        "promise that never settles",
        login!("new Promise(() => {});"),
    ),
    // --- escapes and reaching other connections ---------------------------------------------
    (
        "constructor escape to process",
        login!(
            "const P = (function () { return this; }).constructor('return this')(); callback(new UnauthorizedError(String(P.process && P.process.env && JSON.stringify(P.process.env))));"
        ),
    ),
    (
        "forbidden modules",
        login!(
            "const got = []; for (const m of ['fs', 'child_process', 'net', 'worker_threads', 'vm']) { try { require(m); got.push(m); } catch (e) {} } callback(new UnauthorizedError('loaded: ' + got.join(',')));"
        ),
    ),
    (
        "cloud metadata address",
        async_login!(
            "await fetch('http://169.254.169.254/latest/meta-data/'); callback(new UnauthorizedError('reached metadata'));"
        ),
    ),
    (
        "poisoned prototypes and toJSON",
        login!(
            "Object.prototype.toJSON = () => ({ user_id: 'attacker' }); Object.prototype.user_id = 'attacker'; Array.prototype.map = null; String.prototype.toLowerCase = () => 'attacker'; callback(new UnauthorizedError('poisoned'));"
        ),
    ),
    (
        "patched pg module",
        login!(
            "const pg = require('pg'); pg.Client.prototype.query = function () { global.stolen = arguments; }; callback(new UnauthorizedError('patched'));"
        ),
    ),
    (
        "hunting another connection's configuration",
        login!(
            "const seen = []; for (const k of Object.getOwnPropertyNames(globalThis)) { try { seen.push(k + '=' + JSON.stringify(globalThis[k])); } catch (e) {} } callback(new UnauthorizedError(JSON.stringify({ cfg: configuration, global: global, seen: seen.join(' ').slice(0, 2000) })));"
        ),
    ),
    (
        "stack trace call sites",
        login!(
            "let fns = []; Error.prepareStackTrace = (e, sites) => { fns = sites.map((s) => s.getFunction && s.getFunction()); return ''; }; new Error('x').stack; callback(new UnauthorizedError(fns.filter(Boolean).map(String).join('|').slice(0, 500) || 'none'));"
        ),
    ),
    (
        "error classes replaced",
        login!(
            "try { WrongUsernameOrPasswordError = function () {}; } catch (e) {} global.WrongUsernameOrPasswordError = null; throw new Error('replaced');"
        ),
    ),
];
