//! `mysql` escaping (npm `sqlstring`) from scripts: hostile values round-trip through MariaDB
//! unchanged, and `escape`, `escapeId` and `format` match sqlstring.

use crate::mysql_support;

use mysql_async::prelude::Queryable;
use mysql_support::*;
use serde_json::json;

#[tokio::test]
async fn escaping_round_trips_hostile_values_unchanged() {
    let db = TestDb::new(
        "escape",
        &["CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v TEXT, b BLOB)"],
    )
    .await;
    let rt = runtime();
    let hostile = json!([
        "' OR 1=1 --",
        "\\' OR 1=1 --",
        "\\",
        "\\\\'",
        "'",
        "''",
        "\"",
        "\u{0}",
        "a\u{0}b",
        "\u{8}\t\n\r\u{1a}",
        "%_",
        "`",
        "?",
        "??",
        "; DROP TABLE t; --",
        "\\'; DROP TABLE t; -- ",
        "héllo ✓ 😀",
        "\u{7f}",
        "/* x */",
        "\\0",
        "\\Z",
        "x' AND SLEEP(5) AND 'y"
    ]);
    let r = run_body(&rt, "mysql", &db.name, &format!(r#"
      const values = {hostile};
      const c = mysql.createConnection(cfg);
      const q = (sql, v) => new Promise((res, rej) => c.query(sql, v, (e, r) => (e ? rej(e) : res(r))));
      const out = [];
      for (const v of values) {{
        const ins = await q('INSERT INTO t SET ?', {{v, b: Buffer.from(v)}});
        const found = await q('SELECT id, v, b FROM t WHERE v = ? AND b = ?', [v, Buffer.from(v)]);
        out.push({{id: ins.insertId, n: found.length, same: found.length === 1 && found[0].v === v && found[0].b.toString() === v && found[0].id === ins.insertId}});
      }}
      const tables = await q('SHOW TABLES');
      const count = await q('SELECT COUNT(*) AS n FROM ??', ['t']);
      c.end();
      cb(null, {{out, tables: tables.length, count: count[0].n}});
    "#)).await.unwrap();
    let n = hostile.as_array().unwrap().len();
    for (i, o) in r["out"].as_array().unwrap().iter().enumerate() {
        assert_eq!(o["n"], 1, "{}: {o}", hostile[i]);
        assert_eq!(o["same"], true, "{}: {o}", hostile[i]);
    }
    assert_eq!(r["tables"], 1);
    assert_eq!(r["count"], n);
    // And what MariaDB stored is byte for byte what the script sent.
    let mut c = db.conn().await;
    let rows: Vec<(String, Vec<u8>)> = c.query("SELECT v, b FROM t ORDER BY id").await.unwrap();
    c.disconnect().await.unwrap();
    for (i, (v, b)) in rows.iter().enumerate() {
        assert_eq!(v, hostile[i].as_str().unwrap());
        assert_eq!(b, hostile[i].as_str().unwrap().as_bytes());
    }
}

#[tokio::test]
async fn escape_format_and_escape_id_match_sqlstring() {
    let rt = runtime();
    let r = run_body(&rt, "mysql", "unused", r#"
      cb(null, [
        mysql.format('SELECT * FROM ?? WHERE id = ? AND n IN (?) AND x = ???', ['users', 5, [1, 2, 'x']]),
        mysql.escape("' OR 1=1 --"),
        mysql.escape('\0\b\t\n\r\x1a"\'\\'),
        mysql.escapeId('a.b`c'), mysql.escapeId('a.b', true), mysql.escapeId(['a', 'b.c']),
        mysql.escape(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6))),
        mysql.escape(new Date(NaN)),
        mysql.escape(Buffer.from([0, 255])),
        mysql.escape({a: 1, b: 'x', c: null, f() {}}),
        mysql.escape([[1, 2], [3, 'y']]),
        [mysql.escape(null), mysql.escape(undefined), mysql.escape(true), mysql.escape(false), mysql.escape(-1.5)],
        mysql.format('INSERT INTO t SET ?, ts = ?', [{a: "it's"}, mysql.raw('NOW()')]),
        mysql.format('SELECT ?', ["\\' OR 1=1 -- "]),
        mysql.format('SELECT ? AND ?', ['only one']),
        mysql.format('SELECT ?', null),
        mysql.format('SELECT ?', 'x'),
        mysql.createConnection({timezone: '+02:00'}).escape(new Date(Date.UTC(2024, 0, 1, 23, 0, 0))),
      ]);
    "#).await.unwrap();
    assert_eq!(
        r,
        json!([
            "SELECT * FROM `users` WHERE id = 5 AND n IN (1, 2, 'x') AND x = ???",
            "'\\' OR 1=1 --'",
            "'\\0\\b\\t\\n\\r\\Z\\\"\\'\\\\'",
            "`a`.`b``c`",
            "`a.b`",
            "`a`, `b`.`c`",
            "'2024-01-02 03:04:05.006'",
            "NULL",
            "X'00ff'",
            "`a` = 1, `b` = 'x', `c` = NULL",
            "(1, 2), (3, 'y')",
            ["NULL", "NULL", "true", "false", "-1.5"],
            "INSERT INTO t SET `a` = 'it\\'s', ts = NOW()",
            "SELECT '\\\\\\' OR 1=1 -- '",
            "SELECT 'only one' AND ?",
            "SELECT ?",
            "SELECT 'x'",
            "'2024-01-02 01:00:00.000'",
        ])
    );
}
