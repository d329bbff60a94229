//! The `pg` host module against a real PostgreSQL (`SLUICE_TEST_PG_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`): each test works in a throw-away database of its
//! own, dropped at the end.

use serde_json::{Value, json};
use sluice_core::ports::{ScriptFailure, ScriptKind, ScriptRequest, ScriptRunner};
use sluice_scripts::egress::{Cidr, EgressPolicy};
use sluice_scripts::{Limits, ScriptRuntime};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use tokio_postgres::NoTls;

fn admin_url() -> String {
    std::env::var("SLUICE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {url}: {e}"));
    tokio::spawn(conn);
    client
}

/// A database of its own for one test, dropped with this value.
struct TestDb {
    name: String,
    url: String,
}

impl TestDb {
    async fn new(setup: &str) -> TestDb {
        static N: AtomicU32 = AtomicU32::new(0);
        #[allow(clippy::disallowed_methods)] // a unique database name
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "sluice_pg_{}_{}_{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let admin = admin_url();
        connect(&admin)
            .await
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create the test database");
        let base = admin
            .rsplit_once('/')
            .map_or(admin.clone(), |(b, _)| b.into());
        let url = format!("{base}/{name}");
        if !setup.is_empty() {
            connect(&url)
                .await
                .batch_execute(setup)
                .await
                .expect("set up the test database");
        }
        TestDb { name, url }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(async {
                    if let Ok((c, conn)) = tokio_postgres::connect(&admin_url(), NoTls).await {
                        tokio::spawn(conn);
                        let _ = c
                            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .await;
                    }
                });
            }
        })
        .join();
    }
}

fn limits() -> Limits {
    Limits {
        deadline: Duration::from_secs(10),
        ..Limits::default()
    }
}

/// Runs `source` (a whole script function) as a login with `configuration.conString = url`.
async fn run_script(
    rt: &ScriptRuntime,
    source: &str,
    args: Vec<Value>,
    url: &str,
) -> Result<Value, ScriptFailure> {
    let mut configuration = BTreeMap::new();
    configuration.insert("conString".to_string(), url.to_string());
    if let Ok(cfg) = url.parse::<tokio_postgres::Config>() {
        if let Some(tokio_postgres::config::Host::Tcp(h)) = cfg.get_hosts().first() {
            configuration.insert("host".into(), h.clone());
        }
        let port = cfg.get_ports().first().copied().unwrap_or(5432);
        configuration.insert("port".into(), port.to_string());
        configuration.insert("user".into(), cfg.get_user().unwrap_or("postgres").into());
        configuration.insert("database".into(), cfg.get_dbname().unwrap_or("").into());
    }
    rt.run(ScriptRequest {
        tenant_id: "t".into(),
        connection: None,
        kind: ScriptKind::Login,
        source: source.into(),
        args,
        context: None,
        configuration,
    })
    .await
    .result
}

/// Runs `body` as the inside of `async function (email, password, cb) { ... }`.
async fn run(rt: &ScriptRuntime, body: &str, url: &str) -> Result<Value, ScriptFailure> {
    let source = format!("async function login(email, password, cb) {{\n{body}\n}}");
    run_script(rt, &source, vec![json!("a@b.c"), json!("pw")], url).await
}

/// Auth0's PostgreSQL login template (pg <= 6 pool API), as shipped in the dashboard.
const AUTH0_LOGIN_TEMPLATE: &str = r#"function login(email, password, callback) {
  //this example uses the "pg" library
  //more info here: https://github.com/brianc/node-postgres

  const bcrypt = require('bcrypt');
  const postgres = require('pg');

  const conString = configuration.conString;
  postgres.connect(conString, function (err, client, done) {
    if (err) return callback(err);

    const query = 'SELECT id, nickname, email, password FROM users WHERE email = $1';
    client.query(query, [email], function (err, result) {
      // NOTE: always call `done()` here to close
      // the connection to the database
      done();

      if (err || result.rows.length === 0) return callback(err || new WrongUsernameOrPasswordError(email));

      const user = result.rows[0];

      bcrypt.compare(password, user.password, function (err, isValid) {
        if (err || !isValid) return callback(err || new WrongUsernameOrPasswordError(email));

        return callback(null, {
          user_id: user.id,
          nickname: user.nickname,
          email: user.email
        });
      });
    });
  });
}"#;

#[tokio::test]
async fn auth0_postgres_login_template_works_and_reuses_its_pooled_connection() {
    let db = TestDb::new(
        "CREATE TABLE users (id serial PRIMARY KEY, nickname text, email text UNIQUE, password text)",
    )
    .await;
    let hash = bcrypt::hash("s3cret", 4).expect("bcrypt");
    connect(&db.url)
        .await
        .execute(
            "INSERT INTO users (nickname, email, password) VALUES ('ann', 'ann@example.com', $1)",
            &[&hash],
        )
        .await
        .expect("insert");
    let rt = ScriptRuntime::new(limits());
    let login = |email: &str, pw: &str| {
        run_script(
            &rt,
            AUTH0_LOGIN_TEMPLATE,
            vec![json!(email), json!(pw)],
            &db.url,
        )
    };
    for _ in 0..3 {
        assert_eq!(
            login("ann@example.com", "s3cret").await,
            Ok(json!({"user_id": 1, "nickname": "ann", "email": "ann@example.com"}))
        );
    }
    assert!(matches!(
        login("ann@example.com", "wrong").await,
        Err(ScriptFailure::WrongCredentials { .. })
    ));
    assert!(matches!(
        login("nobody@example.com", "s3cret").await,
        Err(ScriptFailure::WrongCredentials { .. })
    ));
    // The legacy pool kept one connection across the invocations of one container.
    let n: i64 = connect(&admin_url())
        .await
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1",
            &[&db.name],
        )
        .await
        .expect("pg_stat_activity")
        .get(0);
    assert_eq!(n, 1);
}

#[tokio::test]
async fn a_hash_made_by_the_script_verifies_through_the_template() {
    let db = TestDb::new(
        "CREATE TABLE users (id serial PRIMARY KEY, nickname text, email text UNIQUE, password text)",
    )
    .await;
    let rt = ScriptRuntime::new(limits());
    let r = run(&rt, r#"
      const pg = require('pg');
      const hash = require('bcrypt').hashSync('pw2', 4);
      const client = new pg.Client(configuration.conString);
      await client.connect();
      const r = await client.query('INSERT INTO users (nickname, email, password) VALUES ($1, $2, $3) RETURNING id', ['bo', 'bo@example.com', hash]);
      await client.end();
      cb(null, r.rows[0]);
    "#, &db.url).await;
    assert_eq!(r, Ok(json!({"id": 1})));
    let r = run_script(
        &rt,
        AUTH0_LOGIN_TEMPLATE,
        vec![json!("bo@example.com"), json!("pw2")],
        &db.url,
    )
    .await;
    assert_eq!(r.expect("login")["nickname"], "bo");
}

#[tokio::test]
async fn client_supports_promises_callbacks_config_objects_and_row_modes() {
    let db = TestDb::new("").await;
    let rt = ScriptRuntime::new(limits());
    let r = run(&rt, r#"
      const pg = require('pg');
      const { host, port, user, database } = configuration;
      const client = new pg.Client({ host, port, user, database });
      client.on('error', () => {});
      await client.connect();
      const a = await client.query('SELECT $1::int + 1 AS n, $2 AS s', [41, 'x']);
      const b = await client.query({ text: 'SELECT $1::text AS t, 2 AS two', values: ['y'], rowMode: 'array' });
      const c = await new Promise((resolve, reject) => client.query('SELECT 3 AS three', (err, res) => err ? reject(err) : resolve(res)));
      let again;
      try { await client.connect(); } catch (e) { again = e.message; }
      await client.end();
      let closed;
      try { await client.query('SELECT 1'); } catch (e) { closed = e.message; }
      // The callback forms, with a connection string.
      const d = await new Promise((resolve, reject) => {
        const c2 = new pg.Client(configuration.conString);
        c2.connect((err, same) => {
          if (err) return reject(err);
          c2.query('SELECT current_database() AS db', [], (err, res) => {
            c2.end(() => err ? reject(err) : resolve({ db: res.rows[0].db, same: same === c2 }));
          });
        });
      });
      // Connection strings: percent-decoding, query parameters, a password trust auth ignores.
      const cs = configuration.conString.replace('postgres://postgres@', 'postgresql://postgres:p%40ss%3Aword@');
      const c3 = new pg.Client({ connectionString: cs + '?application_name=my%20app&sslmode=disable', host: 'ignored.invalid' });
      await c3.connect();
      const app = (await c3.query("SELECT current_setting('application_name') AS app")).rows[0].app;
      await c3.end();
      cb(null, {
        app,
        n: a.rows[0].n, s: a.rows[0].s, command: a.command, rowCount: a.rowCount,
        fields: a.fields.map((f) => [f.name, f.dataTypeID]),
        arrayRow: b.rows[0], rowAsArray: b.rowAsArray, three: c.rows[0].three, again, closed, d,
      });
    "#, &db.url).await.expect("script");
    assert_eq!(r["app"], "my app");
    assert_eq!(r["n"], 42);
    assert_eq!(r["s"], "x");
    assert_eq!(r["command"], "SELECT");
    assert_eq!(r["rowCount"], 1);
    assert_eq!(r["fields"], json!([["n", 23], ["s", 25]]));
    assert_eq!(r["arrayRow"], json!(["y", 2]));
    assert_eq!(r["rowAsArray"], true);
    assert_eq!(r["three"], 3);
    assert!(
        r["again"]
            .as_str()
            .unwrap_or("")
            .contains("already been connected"),
        "{r}"
    );
    assert!(
        r["closed"].as_str().unwrap_or("").contains("not queryable"),
        "{r}"
    );
    assert_eq!(r["d"], json!({"db": db.name, "same": true}));
}

#[tokio::test]
async fn pool_queries_leases_and_bounds_its_clients() {
    let db = TestDb::new("CREATE TABLE t (v int)").await;
    let rt = ScriptRuntime::new(limits());
    let r = run(&rt, r#"
      const { Pool } = require('pg');
      const pool = new Pool({ connectionString: configuration.conString, max: 2 });
      pool.on('error', () => {});
      const many = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => pool.query('INSERT INTO t (v) SELECT $1::int FROM pg_sleep(0.02) RETURNING v', [i])));
      const total = pool.totalCount;
      const viaCb = await new Promise((resolve, reject) => pool.query('SELECT sum(v)::int AS s FROM t', (err, res) => err ? reject(err) : resolve(res.rows[0].s)));
      const leased = await new Promise((resolve, reject) => pool.connect((err, client, release) => {
        if (err) return reject(err);
        client.query('SELECT 7 AS x', (err, res) => { release(); err ? reject(err) : resolve(res.rows[0].x); });
      }));
      const client = await pool.connect();
      const idleWhileLeased = pool.idleCount;
      await client.query('SELECT 1');
      client.release();
      let doubled;
      try { client.release(); } catch (e) { doubled = e.message; }
      await pool.end();
      let ended;
      try { await pool.query('SELECT 1'); } catch (e) { ended = e.message; }
      cb(null, { values: many.map((r) => r.rows[0].v), total, viaCb, leased, idleWhileLeased, doubled, ended });
    "#, &db.url).await.expect("script");
    assert_eq!(r["values"], json!([1, 2, 3, 4, 5, 6]));
    assert_eq!(r["total"], 2);
    assert_eq!(r["viaCb"], 21);
    assert_eq!(r["leased"], 7);
    assert_eq!(r["idleWhileLeased"], 1);
    assert!(
        r["doubled"]
            .as_str()
            .unwrap_or("")
            .contains("already been released"),
        "{r}"
    );
    assert!(
        r["ended"]
            .as_str()
            .unwrap_or("")
            .contains("after calling end"),
        "{r}"
    );
}

#[tokio::test]
async fn insert_returning_and_row_counts_follow_the_command() {
    let db = TestDb::new("").await;
    let rt = ScriptRuntime::new(limits());
    let r = run(&rt, r#"
      const pg = require('pg');
      const c = new pg.Client(configuration.conString);
      await c.connect();
      const q = async (text, values) => { const r = await c.query(text, values); return [r.command, r.rowCount, r.rows]; };
      const out = {
        create: await q('CREATE TABLE users (id serial PRIMARY KEY, email text UNIQUE, n int)'),
        returning: await q('INSERT INTO users (email, n) VALUES ($1, $2) RETURNING id, email', ['a@x', 1]),
        insert: await q('INSERT INTO users (email, n) VALUES ($1, 2), ($2, 3)', ['b@x', 'c@x']),
        update: await q('UPDATE users SET n = n + 10 WHERE n >= $1', [2]),
        withUpdate: await q('WITH x AS (SELECT 1) UPDATE users SET n = 0 WHERE email = $1', ['a@x']),
        del: await q('DELETE FROM users WHERE email = $1', ['nobody']),
        none: await q('SELECT id FROM users WHERE email = $1', ['nobody']),
      };
      const empty = await c.query('SELECT id, email FROM users WHERE false');
      out.emptyFields = empty.fields.map((f) => f.name);
      const multi = await c.query('SELECT 1 AS a; SELECT 2 AS b, NULL AS c');
      out.multi = multi.map((r) => [r.rowCount, r.rows]);
      await c.end();
      cb(null, out);
    "#, &db.url).await.expect("script");
    assert_eq!(r["create"], json!(["CREATE", null, []]));
    assert_eq!(
        r["returning"],
        json!(["INSERT", 1, [{"id": 1, "email": "a@x"}]])
    );
    assert_eq!(r["insert"], json!(["INSERT", 2, []]));
    assert_eq!(r["update"], json!(["UPDATE", 2, []]));
    assert_eq!(r["withUpdate"], json!(["UPDATE", 1, []]));
    assert_eq!(r["del"], json!(["DELETE", 0, []]));
    assert_eq!(r["none"], json!(["SELECT", 0, []]));
    assert_eq!(r["emptyFields"], json!(["id", "email"]));
    assert_eq!(
        r["multi"],
        json!([[1, [{"a": "1"}]], [1, [{"b": "2", "c": null}]]])
    );
}

#[tokio::test]
async fn typed_parameters_and_values_round_trip() {
    let db = TestDb::new(
        "CREATE TABLE v (i int, b bigint, ok bool, n text, j json, jb jsonb, ts timestamptz, \
         d date, num numeric(10,2), bin bytea, u uuid, f float8, ints int[], texts text[])",
    )
    .await;
    let rt = ScriptRuntime::new(limits());
    let r = run(&rt, r#"
      const pg = require('pg');
      const c = new pg.Client(configuration.conString);
      await c.connect();
      const when = new Date('2024-05-06T07:08:09.123Z');
      await c.query('INSERT INTO v VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)', [
        42, '9007199254740993', true, null, { a: [1, 'two'] }, JSON.stringify([1, { b: null }]), when,
        '2024-02-29', 12.5, Buffer.from([0, 1, 254, 255]), 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 1.25,
        [1, 2, null], ['a', 'b"c', 'd\\e'],
      ]);
      await c.query('INSERT INTO v (i, ok, n) VALUES ($1, $2, $3)', [undefined, false, '']);
      const r = (await c.query('SELECT * FROM v ORDER BY i NULLS LAST')).rows;
      const x = r[0];
      const lit = (await c.query("SELECT '1 year 2 mons 3 days 04:05:06.5'::interval AS iv, '10.0.0.1/8'::inet AS ip, " +
        "'12:34:56'::time AS t, '(1,2)'::point AS pt, 'infinity'::timestamptz AS inf, 'NaN'::numeric AS nan, " +
        "0.000123::numeric AS small, -12345.678::numeric AS neg, 1.5::float4 AS f4, 'x'::name AS nm, " +
        "ARRAY[now(), now()] AS tss, ARRAY[[1,2],[3,4]] AS grid, '{\"k\": 1}'::jsonb AS k, 2::int2 AS small2, " +
        "'2024-02-29 10:11:12'::timestamp AS local, NULL::int AS nothing")).rows[0];
      pg.types.setTypeParser(20, (s) => parseInt(s, 10));
      const parsed = (await c.query('SELECT 5::bigint AS big')).rows[0].big;
      await c.end();
      cb(null, {
        i: x.i, b: x.b, ok: x.ok, n: x.n, j: x.j, jb: x.jb, tsIsDate: x.ts instanceof Date, ts: x.ts.getTime() === when.getTime(),
        d: [x.d instanceof Date, x.d.getFullYear(), x.d.getMonth(), x.d.getDate(), x.d.getHours()],
        num: x.num, bin: [Buffer.isBuffer(x.bin), x.bin.toString('hex')], u: x.u, f: x.f, ints: x.ints, texts: x.texts,
        second: [r[1].i, r[1].ok, r[1].n, r[1].b],
        iv: lit.iv, ip: lit.ip, t: lit.t, pt: lit.pt, inf: lit.inf === Infinity, nan: lit.nan, small: lit.small, neg: lit.neg,
        f4: lit.f4, nm: lit.nm, tss: lit.tss.map((d) => d instanceof Date), grid: lit.grid, k: lit.k, small2: lit.small2,
        local: [lit.local.getFullYear(), lit.local.getMonth(), lit.local.getDate(), lit.local.getHours(), lit.local.getMinutes()],
        nothing: lit.nothing, parsed,
      });
    "#, &db.url).await.expect("script");
    let expected = json!({
        "i": 42, "b": "9007199254740993", "ok": true, "n": null,
        "j": {"a": [1, "two"]}, "jb": [1, {"b": null}], "tsIsDate": true, "ts": true,
        "d": [true, 2024, 1, 29, 0], "num": "12.50", "bin": [true, "0001feff"],
        "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "f": 1.25, "ints": [1, 2, null],
        "texts": ["a", "b\"c", "d\\e"], "second": [null, false, "", null],
        "iv": {"years": 1, "months": 2, "days": 3, "hours": 4, "minutes": 5, "seconds": 6, "milliseconds": 500},
        "ip": "10.0.0.1/8", "t": "12:34:56", "pt": "(1,2)", "inf": true, "nan": "NaN",
        "small": "0.000123", "neg": "-12345.678", "f4": 1.5, "nm": "x", "tss": [true, true],
        "grid": [[1, 2], [3, 4]], "k": {"k": 1}, "small2": 2,
        "local": [2024, 1, 29, 10, 11], "nothing": null, "parsed": 5,
    });
    assert_eq!(r, expected);
}

#[tokio::test]
async fn sql_errors_carry_their_sqlstate_and_details() {
    let db = TestDb::new("CREATE TABLE u (email text CONSTRAINT u_email UNIQUE)").await;
    let rt = ScriptRuntime::new(limits());
    let r = run(&rt, r#"
      const pg = require('pg');
      const pick = (e) => ({ isError: e instanceof Error, name: e.name, code: e.code, severity: e.severity, message: e.message, detail: e.detail, constraint: e.constraint, table: e.table });
      const c = new pg.Client(configuration.conString);
      await c.connect();
      let missing, dup, params;
      try { await c.query('SELECT * FROM nope'); } catch (e) { missing = pick(e); }
      await c.query('INSERT INTO u VALUES ($1)', ['a@x']);
      dup = await new Promise((resolve) => c.query('INSERT INTO u VALUES ($1)', ['a@x'], (err) => resolve(pick(err))));
      try { await c.query('SELECT $1::int, $2::int', [1]); } catch (e) { params = pick(e); }
      const after = (await c.query('SELECT 1 AS ok')).rows[0].ok;
      await c.end();
      cb(null, { missing, dup, params, after });
    "#, &db.url).await.expect("script");
    assert_eq!(r["missing"]["isError"], true);
    assert_eq!(r["missing"]["name"], "error");
    assert_eq!(r["missing"]["code"], "42P01");
    assert_eq!(r["missing"]["severity"], "ERROR");
    assert!(
        r["missing"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("does not exist"),
        "{r}"
    );
    assert_eq!(r["dup"]["code"], "23505");
    assert_eq!(r["dup"]["constraint"], "u_email");
    assert_eq!(r["dup"]["table"], "u");
    assert!(
        r["dup"]["detail"]
            .as_str()
            .unwrap_or("")
            .contains("already exists"),
        "{r}"
    );
    assert_eq!(r["params"]["code"], "08P01");
    assert_eq!(r["after"], 1);
}

#[tokio::test]
async fn a_refused_connection_fails_fast_with_econnrefused() {
    let rt = ScriptRuntime::new(limits());
    let started = Instant::now();
    let r = run(&rt, r#"
      const pg = require('pg');
      const c = new pg.Client({ host: '127.0.0.1', port: 1, user: 'postgres', database: 'test' });
      c.connect((err) => {
        pg.connect('postgres://postgres@127.0.0.1:1/test', (err2, client, done) => {
          done();
          cb(null, { code: err && err.code, message: err && err.message, legacy: err2 && err2.code, client: client === undefined });
        });
      });
    "#, "").await.expect("script");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(r["code"], "ECONNREFUSED");
    assert_eq!(r["legacy"], "ECONNREFUSED");
    assert_eq!(r["client"], true);
    assert!(
        r["message"].as_str().unwrap_or("").contains("127.0.0.1:1"),
        "{r}"
    );
}

#[tokio::test]
async fn the_tenant_egress_policy_is_enforced() {
    let rt = ScriptRuntime::with_default_egress(
        limits(),
        EgressPolicy {
            deny_cidrs: vec![Cidr::parse("127.0.0.0/8").expect("cidr")],
            default_allow: true,
            ..Default::default()
        },
    );
    for host in ["127.0.0.1", "localhost"] {
        let r = run(&rt, &format!(r#"
          const pg = require('pg');
          const c = new pg.Client({{ host: '{host}', port: 5432, user: 'postgres', database: 'test' }});
          try {{ await c.connect(); cb(null, {{ connected: true }}); }}
          catch (e) {{ cb(null, {{ message: e.message, code: e.code }}); }}
        "#), "").await.expect("script");
        assert!(
            r["message"]
                .as_str()
                .unwrap_or("")
                .contains("not allowed by the tenant's egress policy"),
            "{host}: {r}"
        );
        assert_eq!(r["code"], "EGRESS_DENIED", "{host}");
    }
    // An unhandled refusal reaches the script's callback as its error.
    let r = run_script(
        &rt,
        AUTH0_LOGIN_TEMPLATE,
        vec![json!("a@b.c"), json!("pw")],
        "postgres://postgres@127.0.0.1:5432/test",
    )
    .await;
    match r {
        Err(ScriptFailure::Error { message, .. }) => {
            assert!(message.contains("egress policy"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn tls_and_unix_sockets_are_refused_with_a_clear_message() {
    let db = TestDb::new("").await;
    let rt = ScriptRuntime::new(limits());
    let r = run(&rt, r#"
      const pg = require('pg');
      const fail = async (cfg) => { try { await new pg.Client(cfg).connect(); return 'connected'; } catch (e) { return e.message; } };
      cb(null, [
        await fail({ connectionString: configuration.conString, ssl: { rejectUnauthorized: false } }),
        await fail(configuration.conString + '?sslmode=require'),
        await fail({ host: '/var/run/postgresql', user: 'postgres' }),
        await fail(configuration.conString + '?sslmode=disable'),
      ]);
    "#, &db.url).await.expect("script");
    assert!(r[0].as_str().unwrap_or("").contains("TLS (ssl)"), "{r}");
    assert!(r[1].as_str().unwrap_or("").contains("not supported"), "{r}");
    assert!(
        r[2].as_str().unwrap_or("").contains("Unix-domain sockets"),
        "{r}"
    );
    assert_eq!(r[3], "connected");
}

#[tokio::test]
async fn a_throw_inside_a_query_callback_fails_the_invocation_at_once() {
    let db = TestDb::new("").await;
    let rt = ScriptRuntime::new(limits());
    let started = Instant::now();
    let r = run(
        &rt,
        r#"
      require('pg').connect(configuration.conString, (err, client, done) => {
        client.query('SELECT 1', (err, result) => { done(); result.rows[0].missing.field; });
      });
    "#,
        &db.url,
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(5));
    match r {
        Err(ScriptFailure::Error { name, .. }) => assert_eq!(name, "TypeError"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn connections_per_container_are_bounded() {
    let db = TestDb::new("").await;
    let rt = ScriptRuntime::new(limits());
    let r = run(
        &rt,
        r#"
      const pg = require('pg');
      const clients = [];
      let error;
      for (let i = 0; i < 25 && !error; i++) {
        const c = new pg.Client(configuration.conString);
        try { await c.connect(); clients.push(c); } catch (e) { error = e.message; }
      }
      const open = clients.length;
      await Promise.all(clients.map((c) => c.end()));
      const c = new pg.Client(configuration.conString);
      await c.connect();
      const after = (await c.query('SELECT 1 AS one')).rows[0].one;
      await c.end();
      cb(null, { open, error, after });
    "#,
        &db.url,
    )
    .await
    .expect("script");
    assert_eq!(r["open"], 20);
    assert!(
        r["error"]
            .as_str()
            .unwrap_or("")
            .contains("too many open PostgreSQL connections"),
        "{r}"
    );
    assert_eq!(r["after"], 1);
}

async fn connections_to(db: &TestDb) -> i64 {
    connect(&admin_url())
        .await
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1",
            &[&db.name],
        )
        .await
        .map_or(-1, |r| r.get(0))
}

#[tokio::test]
async fn forgotten_clients_are_closed_when_collected_and_with_their_container() {
    let db = TestDb::new("").await;
    let rt = ScriptRuntime::new(limits());
    // More clients than a container may hold, none ended: each is closed once collected.
    let r = run(
        &rt,
        r#"
      const pg = require('pg');
      for (let i = 0; i < 30; i++) {
        const c = new pg.Client(configuration.conString);
        await c.connect();
        await c.query('SELECT 1');
      }
      const pool = new pg.Pool({ connectionString: configuration.conString });
      await pool.query('SELECT 1');
      cb(null, 'ok');
    "#,
        &db.url,
    )
    .await;
    assert_eq!(r, Ok(json!("ok")));
    assert!(connections_to(&db).await >= 1);
    drop(rt);
    let deadline = Instant::now() + Duration::from_secs(5);
    while connections_to(&db).await != 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(connections_to(&db).await, 0);
}

/// One container, so that consecutive runs share it.
fn one_container() -> ScriptRuntime {
    ScriptRuntime::with_default_egress(
        Limits {
            containers_per_tenant: 1,
            ..limits()
        },
        EgressPolicy::allow_all(),
    )
}

const DIRTY_SESSION: &str = r#"
  const pg = require('pg');
  const c = new pg.Client(configuration.conString);
  await c.connect();
  await c.query('CREATE TEMP TABLE scratch (x int)');
  await c.query("SET search_path TO pg_catalog");
  await c.query("SELECT pg_advisory_lock(42)");
  const r = await c.query('SELECT pg_backend_pid() AS pid');
  await c.end();
  cb(null, { pid: r.rows[0].pid });
"#;

const INSPECT_SESSION: &str = r#"
  const pg = require('pg');
  const c = new pg.Client(configuration.conString);
  await c.connect();
  const r = await c.query(`SELECT pg_backend_pid() AS pid,
      to_regclass('pg_temp.scratch') IS NULL AS no_temp_table,
      current_setting('search_path') AS search_path,
      (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid())::int AS advisory_locks`);
  await c.end();
  cb(null, r.rows[0]);
"#;

#[tokio::test]
async fn an_ended_connection_is_reused_only_with_a_clean_session() {
    let db = TestDb::new("").await;
    let rt = one_container();
    let first = run(&rt, DIRTY_SESSION, &db.url).await.expect("first");
    let second = run(&rt, INSPECT_SESSION, &db.url).await.expect("second");
    assert_eq!(second["pid"], first["pid"], "the connection was reused");
    assert_eq!(second["no_temp_table"], true, "{second}");
    assert_eq!(second["search_path"], "\"$user\", public", "{second}");
    assert_eq!(second["advisory_locks"], 0, "{second}");

    // A connection ended inside a transaction cannot be reset: a new one is opened.
    let r = run(
        &rt,
        r#"
      const pg = require('pg');
      const c = new pg.Client(configuration.conString);
      await c.connect();
      await c.query('BEGIN');
      const r = await c.query('SELECT pg_backend_pid() AS pid');
      await c.end();
      cb(null, { pid: r.rows[0].pid });
    "#,
        &db.url,
    )
    .await
    .expect("in a transaction");
    let after = run(&rt, INSPECT_SESSION, &db.url).await.expect("after");
    assert_ne!(
        after["pid"], r["pid"],
        "a session in a transaction was reused"
    );
}

#[tokio::test]
async fn a_changed_egress_policy_never_reuses_a_connection_opened_under_the_old_one() {
    let db = TestDb::new("").await;
    let rt = one_container();
    run(&rt, DIRTY_SESSION, &db.url).await.expect("first");
    rt.set_egress_policy(
        "t",
        EgressPolicy {
            deny_cidrs: vec![Cidr::parse("127.0.0.0/8").expect("cidr")],
            default_allow: true,
            ..Default::default()
        },
    );
    let r = run(
        &rt,
        r#"
      const pg = require('pg');
      const c = new pg.Client(configuration.conString);
      try { await c.connect(); cb(null, { connected: true }); }
      catch (e) { cb(null, { code: e.code }); }
    "#,
        &db.url,
    )
    .await
    .expect("script");
    assert_eq!(r["code"], "EGRESS_DENIED", "{r}");
}
