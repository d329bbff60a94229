//! `mysql` / `mysql2` / `mysql2/promise` against a real MariaDB at 127.0.0.1:3306 (user root,
//! empty password). Each test creates its own database and drops it when done (even on panic).
//! Escaping tests are in `mysql_escaping.rs`.

use crate::mysql_support;

use mysql_async::prelude::Queryable;
use mysql_support::*;
use serde_json::{Value, json};
use sluice_core::ports::{ScriptFailure, ScriptKind};
use sluice_scripts::egress::{Cidr, EgressPolicy};
use sluice_scripts::{Limits, ScriptRuntime};
use std::time::{Duration, Instant};
const LOGIN_TEMPLATE: &str = r#"function login(email, password, callback) {
  const mysql = require('mysql');
  const bcrypt = require('bcrypt');

  const connection = mysql.createConnection({
    host: configuration.MYSQL_HOST,
    user: 'root',
    password: '',
    database: configuration.MYSQL_DB
  });

  connection.connect();

  const query = 'SELECT id, nickname, email, password FROM users WHERE email = ?';

  connection.query(query, [ email ], function(err, results) {
    if (err) return callback(err);
    if (results.length === 0) return callback(new WrongUsernameOrPasswordError(email));
    const user = results[0];

    bcrypt.compare(password, user.password, function(err, isValid) {
      if (err || !isValid) return callback(err || new WrongUsernameOrPasswordError(email));

      callback(null, {
        user_id: user.id.toString(),
        nickname: user.nickname,
        email: user.email
      });
    });
  });
}"#;

const CREATE_TEMPLATE: &str = r#"function create(user, callback) {
  const mysql = require('mysql');
  const bcrypt = require('bcrypt');

  const connection = mysql.createConnection({
    host: configuration.MYSQL_HOST,
    user: 'root',
    password: '',
    database: configuration.MYSQL_DB
  });

  connection.connect();

  const query = 'INSERT INTO users SET ?';

  bcrypt.hash(user.password, 10, function(err, hash) {
    if (err) return callback(err);

    const insert = {
      password: hash,
      email: user.email
    };

    connection.query(query, insert, function(err, results) {
      if (err) return callback(err);
      if (results.length === 0) return callback();
      callback(null);
    });
  });
}"#;

const CHANGE_PASSWORD_TEMPLATE: &str = r#"function changePassword(email, newPassword, callback) {
  const mysql = require('mysql');
  const bcrypt = require('bcrypt');

  const connection = mysql.createConnection({
    host: configuration.MYSQL_HOST,
    user: 'root',
    password: '',
    database: configuration.MYSQL_DB
  });

  connection.connect();

  const query = 'UPDATE users SET password = ? WHERE email = ?';

  bcrypt.hash(newPassword, 10, function(err, hash) {
    if (err) return callback(err);

    connection.query(query, [ hash, email ], function(err, results) {
      if (err) return callback(err);
      callback(null, results.length > 0);
    });
  });
}"#;

#[tokio::test]
async fn auth0_login_template_checks_the_bcrypt_hash() {
    let db = TestDb::new("login", &[USERS]).await;
    let rt = runtime();
    let hash = run_body(
        &rt,
        "mysql",
        &db.name,
        "cb(null, {hash: require('bcrypt').hashSync('s3cret!', 4)});",
    )
    .await
    .unwrap()["hash"]
        .as_str()
        .unwrap()
        .to_string();
    let mut c = db.conn().await;
    c.exec_drop(
        "INSERT INTO users (nickname, email, password) VALUES (?, ?, ?)",
        ("jane", "jane@example.com", hash.as_str()),
    )
    .await
    .unwrap();
    c.disconnect().await.unwrap();

    let login = |email: &str, pw: &str| {
        run_script(
            &rt,
            ScriptKind::Login,
            LOGIN_TEMPLATE,
            vec![json!(email), json!(pw)],
            &db.name,
        )
    };
    assert_eq!(
        login("jane@example.com", "s3cret!").await,
        Ok(json!({"user_id": "1", "nickname": "jane", "email": "jane@example.com"}))
    );
    for (email, pw) in [
        ("jane@example.com", "wrong"),
        ("nobody@example.com", "s3cret!"),
        ("' OR 1=1 --", "s3cret!"),
        ("' OR '1'='1", "x"),
    ] {
        assert!(
            matches!(
                login(email, pw).await,
                Err(ScriptFailure::WrongCredentials { .. })
            ),
            "{email}"
        );
    }
}

#[tokio::test]
async fn create_template_inserts_an_object_and_duplicates_fail_with_er_dup_entry() {
    let db = TestDb::new("create", &[USERS]).await;
    let rt = runtime();
    let user = json!({"email": "new@example.com", "password": "Pa55word!"});
    let r = run_script(
        &rt,
        ScriptKind::Create,
        CREATE_TEMPLATE,
        vec![user.clone()],
        &db.name,
    )
    .await;
    assert_eq!(r, Ok(Value::Null));
    let mut c = db.conn().await;
    let (email, pw): (String, String) = c
        .query_first("SELECT email, password FROM users")
        .await
        .unwrap()
        .unwrap();
    c.disconnect().await.unwrap();
    assert_eq!(email, "new@example.com");
    assert!(sluice_scripts::modules::bcrypt::verify("Pa55word!", &pw));

    // The same insert again: the script sees ER_DUP_ENTRY with npm mysql's fields.
    let r = run_body(&rt, "mysql", &db.name, r#"
      const connection = mysql.createConnection(cfg);
      connection.query('INSERT INTO users SET ?', {email: 'new@example.com', password: 'x'}, (err, res) => {
        cb(null, {code: err.code, errno: err.errno, sqlState: err.sqlState, fatal: err.fatal, isError: err instanceof Error,
                  message: err.message, sqlMessage: err.sqlMessage, sql: err.sql, res: res === undefined});
        connection.end();
      });
    "#).await.unwrap();
    assert_eq!(r["code"], "ER_DUP_ENTRY");
    assert_eq!(r["errno"], 1062);
    assert_eq!(r["sqlState"], "23000");
    assert_eq!(r["fatal"], false);
    assert_eq!(r["isError"], true);
    assert_eq!(r["res"], true);
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .starts_with("ER_DUP_ENTRY: Duplicate entry 'new@example.com'"),
        "{r}"
    );
    assert_eq!(
        r["sql"],
        "INSERT INTO users SET `email` = 'new@example.com', `password` = 'x'"
    );
}

#[tokio::test]
async fn update_gives_an_ok_packet_with_affected_and_changed_rows() {
    let db = TestDb::new(
        "update",
        &[
            USERS,
            "INSERT INTO users (email, password) VALUES ('a@x.io', 'old'), ('b@x.io', 'old')",
        ],
    )
    .await;
    let rt = runtime();
    // Auth0's change_password template checks `results.length > 0`: an OkPacket has no length,
    // so the template answers false, exactly as with npm mysql.
    let r = run_script(
        &rt,
        ScriptKind::ChangePassword,
        CHANGE_PASSWORD_TEMPLATE,
        vec![json!("a@x.io"), json!("newpw")],
        &db.name,
    )
    .await;
    assert_eq!(r, Ok(json!(false)));

    let r = run_body(&rt, "mysql", &db.name, r#"
      const c = mysql.createConnection(cfg);
      const q = (sql, v) => new Promise((res, rej) => c.query(sql, v, (e, r) => (e ? rej(e) : res(r))));
      const changed = await q('UPDATE users SET password = ? WHERE email LIKE ?', ['new', '%@x.io']);
      const same = await q('UPDATE users SET password = ? WHERE email = ?', ['new', 'a@x.io']);
      const none = await q('UPDATE users SET password = ? WHERE email = ?', ['new', 'zz@x.io']);
      const ins = await q('INSERT INTO users (email, password) VALUES (?, ?)', ['c@x.io', 'p']);
      const del = await q('DELETE FROM users WHERE email = ?', 'c@x.io');
      c.end();
      cb(null, {changed, same, none, ins, del, hasLength: 'length' in changed, ctor: changed.constructor.name});
    "#).await.unwrap();
    assert_eq!(r["changed"]["affectedRows"], 2);
    assert_eq!(r["changed"]["changedRows"], 2);
    assert_eq!(r["changed"]["fieldCount"], 0);
    assert_eq!(r["changed"]["warningCount"], 0);
    assert!(
        r["changed"]["message"]
            .as_str()
            .unwrap()
            .contains("Rows matched: 2")
    );
    // npm mysql sets FOUND_ROWS: a matched row counts as affected even when unchanged.
    assert_eq!(r["same"]["affectedRows"], 1);
    assert_eq!(r["same"]["changedRows"], 0);
    assert_eq!(r["none"]["affectedRows"], 0);
    assert_eq!(r["ins"]["insertId"], 3);
    assert_eq!(r["ins"]["affectedRows"], 1);
    assert_eq!(r["del"]["affectedRows"], 1);
    assert_eq!(r["hasLength"], false);
    assert_eq!(r["ctor"], "OkPacket");
}

#[tokio::test]
async fn select_types_values_like_npm_mysql() {
    let db = TestDb::new("types", &[
        "CREATE TABLE t (i INT, ti TINYINT, big BIGINT, ubig BIGINT UNSIGNED, dec_ DECIMAL(10,2), f DOUBLE, s VARCHAR(20), d DATE, dt DATETIME(3), bl BLOB, vb VARBINARY(8), n INT NULL, zf INT(5) ZEROFILL, j TEXT)",
        "INSERT INTO t VALUES (-7, 1, 9007199254740993, 18446744073709551615, 12.50, 1.25, 'héllo ✓', '2024-02-29', '2024-01-02 03:04:05.678', X'00FF10', X'DEAD', NULL, 42, '{}')",
    ]).await;
    let rt = runtime();
    let r = run_body(&rt, "mysql", &db.name, r#"
      const c = mysql.createConnection(cfg);
      c.query('SELECT * FROM t', (err, rows, fields) => {
        if (err) return cb(err);
        const row = rows[0];
        const out = {};
        for (const k of Object.keys(row)) {
          const v = row[k];
          out[k] = v instanceof Date ? {date: v.toISOString()} : Buffer.isBuffer(v) ? {hex: v.toString('hex')} : {[typeof v]: v};
        }
        c.end();
        cb(null, {out, ctor: row.constructor.name, fields: fields.map((f) => [f.name, f.type]), isArray: Array.isArray(rows)});
      });
    "#).await.unwrap();
    let out = json!({
        "i": {"number": -7}, "ti": {"number": 1}, "big": {"string": "9007199254740993"},
        "ubig": {"string": "18446744073709551615"}, "dec_": {"string": "12.50"},
        "f": {"number": 1.25}, "s": {"string": "héllo ✓"},
        "d": {"date": "2024-02-29T00:00:00.000Z"}, "dt": {"date": "2024-01-02T03:04:05.678Z"},
        "bl": {"hex": "00ff10"}, "vb": {"hex": "dead"}, "n": {"object": null},
        "zf": {"string": "00042"}, "j": {"string": "{}"}
    });
    assert_eq!(r["out"], out);
    assert_eq!(r["ctor"], "RowDataPacket");
    assert_eq!(r["isArray"], true);
    let f = &r["fields"];
    assert_eq!(
        [&f[0], &f[2], &f[4]],
        [&json!(["i", 3]), &json!(["big", 8]), &json!(["dec_", 246])]
    );
    assert_eq!(f.as_array().unwrap().len(), 14);
}

#[tokio::test]
async fn multiple_statements_are_refused_unless_enabled() {
    let db = TestDb::new("multi", &["CREATE TABLE t (id INT)"]).await;
    let rt = runtime();
    let r = run_body(&rt, "mysql", &db.name, r#"
      const c = mysql.createConnection(cfg);
      c.query('SELECT 1; DROP TABLE t', (err) => {
        c.query('SHOW TABLES', (err2, tables) => {
          const m = mysql.createConnection(Object.assign({multipleStatements: true}, cfg));
          m.query('SELECT 1 AS a; SELECT 2 AS b', (err3, results, fields) => {
            c.end(); m.end();
            cb(err2 || err3, {code: err.code, errno: err.errno, tables: tables.length, results, names: fields.map((f) => f[0].name)});
          });
        });
      });
    "#).await.unwrap();
    assert_eq!(r["code"], "ER_PARSE_ERROR");
    assert_eq!(r["errno"], 1064);
    assert_eq!(r["tables"], 1);
    assert_eq!(r["results"], json!([[{"a": 1}], [{"b": 2}]]));
    assert_eq!(r["names"], json!(["a", "b"]));
}

#[tokio::test]
async fn pools_share_connections_and_get_connection_releases() {
    let db = TestDb::new(
        "pool",
        &[
            "CREATE TABLE t (id INT)",
            "INSERT INTO t VALUES (1), (2), (3)",
        ],
    )
    .await;
    let rt = runtime();
    let r = run_body(&rt, "mysql", &db.name, r#"
      const pool = mysql.createPool(Object.assign({connectionLimit: 2}, cfg));
      const events = {acquire: 0, release: 0, connection: 0, enqueue: 0};
      for (const e of Object.keys(events)) pool.on(e, () => events[e]++);
      const q = (sql, v) => new Promise((res, rej) => pool.query(sql, v, (e, r) => (e ? rej(e) : res(r))));
      const ids = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => q('SELECT CONNECTION_ID() AS id, ? AS n', [n])));
      const threads = new Set(ids.map((r) => r[0].id));
      pool.getConnection((err, conn) => {
        if (err) return cb(err);
        conn.query('SELECT SUM(id) AS s FROM t', (err2, rows) => {
          conn.release();
          pool.end((err3) => cb(err2 || err3, {threads: threads.size, ns: ids.map((r) => r[0].n), sum: rows[0].s, events,
            released: typeof conn.release}));
        });
      });
    "#).await.unwrap();
    assert_eq!(r["threads"], 2);
    assert_eq!(r["ns"], json!([1, 2, 3, 4, 5, 6]));
    assert_eq!(r["sum"], "6"); // SUM of INT is DECIMAL: a string
    assert_eq!(r["events"]["connection"], 2);
    assert!(r["events"]["enqueue"].as_u64().unwrap() >= 1, "{r}");
    assert_eq!(r["events"]["acquire"], r["events"]["release"]);
}

#[tokio::test]
async fn mysql2_promise_with_async_await() {
    let db = TestDb::new("mysql2", &[USERS]).await;
    let rt = runtime();
    let r = run_body(&rt, "mysql2/promise", &db.name, r#"
      const conn = await mysql.createConnection(cfg);
      const [ins] = await conn.execute('INSERT INTO users (email, password) VALUES (?, ?)', ['p@x.io', 'h']);
      const [rows, fields] = await conn.query('SELECT id, email FROM users WHERE email = ?', ['p@x.io']);
      await conn.end();
      const pool = mysql.createPool(cfg);
      const [[one]] = await pool.query('SELECT 1 + ? AS two', [1]);
      const pc = await pool.getConnection();
      const [[who]] = await pc.execute('SELECT email FROM users WHERE id = ?', [ins.insertId]);
      pc.release();
      await pool.end();
      let err = null;
      try { await mysql.createConnection(Object.assign({}, cfg, {database: 'no_such_db_x'})); } catch (e) { err = e.code; }
      // mysql2's callback flavour, with .promise()
      const cbConn = require('mysql2').createConnection(cfg);
      const [[viaPromise]] = await cbConn.promise().query('SELECT ? AS v', ['ok']);
      cbConn.end();
      cb(null, {ins, rows, field: fields[0].name, one, who, err, viaPromise, header: ins.constructor.name});
    "#).await.unwrap();
    assert_eq!(r["ins"]["affectedRows"], 1);
    assert_eq!(r["ins"]["insertId"], 1);
    let rest = json!({
        "header": "ResultSetHeader", "rows": [{"id": 1, "email": "p@x.io"}], "field": "id",
        "one": {"two": 2}, "who": {"email": "p@x.io"}, "err": "ER_BAD_DB_ERROR",
        "viaPromise": {"v": "ok"}
    });
    for (k, v) in rest.as_object().unwrap() {
        assert_eq!(&r[k], v, "{k}");
    }
}

#[tokio::test]
async fn server_errors_carry_codes_and_connection_urls_work() {
    let db = TestDb::new("errors", &[]).await;
    let rt = runtime();
    let r = run_body(&rt, "mysql", &db.name, r#"
      const c = mysql.createConnection('mysql://root:@127.0.0.1:3306/' + configuration.MYSQL_DB);
      c.query('SELECT * FROM missing', (err) => {
        c.query('SELECT DATABASE() AS db', (err2, rows) => {
          const bad = mysql.createConnection(Object.assign({}, cfg, {user: 'no_such_user_x', password: 'nope'}));
          bad.connect((err3) => {
            bad.query('SELECT 1', (err4) => {
              c.end();
              cb(err2, {missing: [err.code, err.errno, err.sqlState, err.fatal], db: rows[0].db,
                        denied: [err3.code, err3.errno, err3.fatal], after: [err4.code, err4 === err3]});
            });
          });
        });
      });
    "#).await.unwrap();
    assert_eq!(
        r["missing"],
        json!(["ER_NO_SUCH_TABLE", 1146, "42S02", false])
    );
    assert_eq!(r["db"], db.name.as_str());
    assert_eq!(r["denied"], json!(["ER_ACCESS_DENIED_ERROR", 1045, true]));
    assert_eq!(
        r["after"],
        json!(["PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR", false])
    );
}

#[tokio::test]
async fn a_refused_connection_fails_fast_with_econnrefused_and_ssl_is_refused() {
    let rt = runtime();
    let started = Instant::now();
    let r = run_body(&rt, "mysql", "test", r#"
      const c = mysql.createConnection({host: '127.0.0.1', port: 1, user: 'root'});
      c.connect();
      c.query('SELECT 1', (err) => {
        // TLS is not supported: asking for it fails with a clear error.
        mysql.createConnection(Object.assign({ssl: {rejectUnauthorized: true}}, cfg)).connect((e2) =>
          cb(null, {code: err.code, errno: err.errno, fatal: err.fatal, syscall: err.syscall, port: err.port,
                    message: err.message, ssl: [e2.code, e2.message.includes('TLS')]}));
      });
    "#).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    let want = json!({"code": "ECONNREFUSED", "errno": -111, "fatal": true, "syscall": "connect",
                      "port": 1, "message": "connect ECONNREFUSED 127.0.0.1:1",
                      "ssl": ["HANDSHAKE_NO_SSL_SUPPORT", true]});
    assert_eq!(r, want);
}

#[tokio::test]
async fn egress_policy_denies_the_database_host() {
    let rt = ScriptRuntime::with_default_egress(
        limits(),
        EgressPolicy {
            deny_cidrs: vec![Cidr::parse("127.0.0.0/8").unwrap()],
            default_allow: true,
            ..Default::default()
        },
    );
    let r = run_body(&rt, "mysql", "test", r#"
      const c = mysql.createConnection(cfg);
      c.query('SELECT 1', (err) => {
        require('mysql2/promise').createConnection(cfg).then(() => cb(new Error('connected')), (e2) =>
          cb(null, {code: err.code, fatal: err.fatal, message: err.message, code2: e2.code}));
      });
    "#).await.unwrap();
    assert_eq!(r["code"], "EGRESS_DENIED");
    assert_eq!(r["code2"], "EGRESS_DENIED");
    assert_eq!(r["fatal"], true);
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("not allowed by the tenant's egress policy"),
        "{r}"
    );
}

#[tokio::test]
async fn a_container_caps_open_connections_by_closing_the_least_recently_used() {
    let rt = runtime();
    let r = run_body(&rt, "mysql", "test", r#"
      const q = (c, sql) => new Promise((res, rej) => c.query(sql, (e, r) => (e ? rej(e) : res(r))));
      const conns = [];
      for (let i = 0; i < 20; i++) { const c = mysql.createConnection(cfg); await q(c, 'SELECT 1'); conns.push(c); }
      let first = null;
      try { await q(conns[0], 'SELECT 1'); } catch (e) { first = e.code; }
      const last = await q(conns[19], 'SELECT 2 AS two');
      conns.forEach((c) => c.destroy());
      cb(null, {first, last: last[0].two});
    "#).await.unwrap();
    assert_eq!(r, json!({"first": "PROTOCOL_CONNECTION_LOST", "last": 2}));
}

#[tokio::test]
async fn an_exception_in_a_query_callback_fails_the_invocation_at_once() {
    let rt = runtime();
    let started = Instant::now();
    let r = run_body(&rt, "mysql", "test", r#"
      mysql.createConnection(cfg).query('SELECT 1', () => { throw new TypeError('boom in callback'); });
    "#).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    match r {
        Err(ScriptFailure::Error { name, message, .. }) => {
            assert_eq!(name, "TypeError");
            assert_eq!(message, "boom in callback");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn query_objects_type_cast_and_date_strings() {
    let db = TestDb::new(
        "options",
        &[
            "CREATE TABLE t (flag TINYINT(1), d DATETIME, z DATETIME)",
            "INSERT INTO t VALUES (1, '2024-05-06 07:08:09', '0000-00-00 00:00:00')",
        ],
    )
    .await;
    let rt = runtime();
    let r = run_body(&rt, "mysql", &db.name, r#"
      const c = mysql.createConnection(Object.assign({dateStrings: ['DATETIME']}, cfg));
      const typeCast = (field, next) => (field.type === 'TINY' && field.length === 1 ? field.string() === '1' : next());
      c.query({sql: 'SELECT flag, d, z FROM t WHERE flag = ?', values: [1], typeCast}, (err, rows) => {
        if (err) return cb(err);
        c.query({sql: 'SELECT ? AS a, ?? AS b FROM t', nestTables: '_'}, ['x', 'flag'], (err2, rows2) => {
          c.end();
          cb(err2, {row: rows[0], nested: rows2[0]});
        });
      });
    "#).await.unwrap();
    assert_eq!(
        r["row"],
        json!({"flag": true, "d": "2024-05-06 07:08:09", "z": "0000-00-00 00:00:00"})
    );
    assert_eq!(r["nested"], json!({"_a": "x", "t_b": 1}));
}

#[tokio::test]
async fn a_query_past_the_deadline_times_out_and_the_runtime_recovers() {
    let rt = ScriptRuntime::new(Limits {
        deadline: Duration::from_secs(2),
        ..Limits::default()
    });
    let r = run_body(
        &rt,
        "mysql",
        "test",
        "mysql.createConnection(cfg).query('SELECT SLEEP(30)', (e) => cb(e));",
    )
    .await;
    assert!(matches!(r, Err(ScriptFailure::Timeout { .. })), "{r:?}");
    let r = run_body(&rt, "mysql2/promise", "test", "const c = await mysql.createConnection(cfg); const [[row]] = await c.query('SELECT 41 + 1 AS n'); await c.end(); cb(null, row);").await;
    assert_eq!(r, Ok(json!({"n": 42})));
}

/// Auth0's templates never call `connection.end()`: dropped connections are closed (garbage
/// collection and the facade's FinalizationRegistry), so they do not pile up on the server.
#[tokio::test]
async fn connections_scripts_never_end_do_not_pile_up() {
    let db = TestDb::new("leak", &[USERS]).await;
    let rt = runtime();
    for _ in 0..30 {
        let r = run_script(
            &rt,
            ScriptKind::Login,
            LOGIN_TEMPLATE,
            vec![json!("x@y.z"), json!("pw")],
            &db.name,
        )
        .await;
        assert!(matches!(r, Err(ScriptFailure::WrongCredentials { .. })));
    }
    // The admin connection, plus at most the MAX_OPEN / 2 (8) left before a collection runs;
    // the server sees closed connections go a moment after they are closed.
    let limit = 1 + 8;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let open = loop {
        let mut c = db.conn().await;
        let open: Option<u64> = c
            .exec_first(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = ?",
                (db.name.as_str(),),
            )
            .await
            .unwrap();
        c.disconnect().await.unwrap();
        let open = open.unwrap();
        if open <= limit || std::time::Instant::now() > deadline {
            break open;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(open <= limit, "{open} connections still open");
}
