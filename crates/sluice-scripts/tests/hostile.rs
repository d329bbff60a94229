//! Hostile scripts: each is stopped by a limit, fails only its own invocation, and leaves the
//! runtime serving other invocations and other tenants.

use serde_json::{Value, json};
use sluice_core::ports::{ScriptFailure, ScriptKind, ScriptOutcome, ScriptRequest, ScriptRunner};
use sluice_scripts::{Limits, ScriptRuntime};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn runtime() -> ScriptRuntime {
    runtime_with_deadline(Duration::from_millis(1000))
}

/// For scripts that only spin until the deadline: a short one, since each burns a core for
/// all of it and what is tested is that the deadline stops them.
fn spinner_runtime() -> ScriptRuntime {
    runtime_with_deadline(Duration::from_millis(400))
}

/// For scripts that do real work (hundreds of MiB from PostgreSQL): a deadline that a loaded
/// machine still meets, so that what is tested is the budget, not the machine's speed.
fn runtime_with_deadline(deadline: Duration) -> ScriptRuntime {
    ScriptRuntime::new(Limits {
        deadline,
        memory_bytes: 32 * 1024 * 1024,
        console_bytes: 4096,
        ..Limits::default()
    })
}

/// The PostgreSQL database the scripts query (`SLUICE_TEST_PG_URL`, default: loopback).
fn pg_url() -> String {
    std::env::var("SLUICE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn req(tenant: &str, source: &str) -> ScriptRequest {
    ScriptRequest {
        tenant_id: tenant.into(),
        connection: None,
        kind: ScriptKind::Login,
        source: source.into(),
        args: vec![json!("a@b.c"), json!("pw")],
        context: None,
        configuration: BTreeMap::new(),
    }
}

async fn run(rt: &ScriptRuntime, tenant: &str, source: &str) -> ScriptOutcome {
    rt.run(req(tenant, source)).await
}

const OK: &str = "function (e, p, cb) { cb(null, {user_id: 'ok'}); }";

/// The runtime still serves the same tenant and another one.
async fn still_serving(rt: &ScriptRuntime, tenant: &str) {
    assert_eq!(
        run(rt, tenant, OK).await.result,
        Ok(json!({"user_id": "ok"}))
    );
    assert_eq!(
        run(rt, "bystander", OK).await.result,
        Ok(json!({"user_id": "ok"}))
    );
}

fn is_timeout(r: &Result<Value, ScriptFailure>) -> bool {
    matches!(r, Err(ScriptFailure::Timeout { .. }))
}

#[tokio::test]
async fn infinite_loop_is_stopped_at_the_deadline() {
    let rt = spinner_runtime();
    let t = Instant::now();
    let o = run(&rt, "evil", "function (e, p, cb) { while (true) {} }").await;
    assert!(is_timeout(&o.result), "{:?}", o.result);
    assert!(t.elapsed() < Duration::from_secs(3));
    still_serving(&rt, "evil").await;
}

#[tokio::test]
async fn infinite_loop_inside_try_catch_cannot_catch_the_deadline() {
    let rt = spinner_runtime();
    let o = run(
        &rt,
        "evil",
        "function (e, p, cb) { for (;;) { try { while (true) {} } catch (x) {} } }",
    )
    .await;
    assert!(is_timeout(&o.result), "{:?}", o.result);
    still_serving(&rt, "evil").await;
}

#[tokio::test]
async fn catastrophic_regex_is_stopped_at_the_deadline() {
    let rt = spinner_runtime();
    let o = run(
        &rt,
        "evil",
        "function (e, p, cb) { /^(a+)+$/.test('a'.repeat(40) + '!'); cb(null, {user_id: 'no'}); }",
    )
    .await;
    assert!(is_timeout(&o.result), "{:?}", o.result);
    still_serving(&rt, "evil").await;
}

#[tokio::test]
async fn allocation_bomb_hits_the_memory_limit() {
    let rt = runtime();
    let o = run(
        &rt,
        "evil",
        "function (e, p, cb) { const a = []; for (;;) a.push(new Array(100000).fill(1)); }",
    )
    .await;
    assert!(
        matches!(
            o.result,
            Err(ScriptFailure::Limit { .. } | ScriptFailure::Timeout { .. })
        ),
        "{:?}",
        o.result
    );
    still_serving(&rt, "evil").await;
}

#[tokio::test]
async fn string_doubling_hits_the_memory_limit() {
    let rt = runtime();
    let o = run(
        &rt,
        "evil",
        "function (e, p, cb) { let s = 'x'; for (;;) s = s + s; }",
    )
    .await;
    assert!(
        matches!(
            o.result,
            Err(ScriptFailure::Limit { .. } | ScriptFailure::Error { .. })
        ),
        "{:?}",
        o.result
    );
    still_serving(&rt, "evil").await;
}

#[tokio::test]
async fn deep_recursion_hits_the_stack_limit() {
    let rt = runtime();
    let o = run(
        &rt,
        "evil",
        "function (e, p, cb) { const f = (n) => f(n + 1) + 1; f(0); }",
    )
    .await;
    assert!(
        matches!(o.result, Err(ScriptFailure::Limit { .. })),
        "{:?}",
        o.result
    );
    still_serving(&rt, "evil").await;
}

#[tokio::test]
async fn promise_that_never_settles_ends_at_the_deadline() {
    let rt = runtime();
    let o = run(
        &rt,
        "evil",
        "async function (e, p, cb) { await new Promise(() => {}); cb(null, {}); }",
    )
    .await;
    assert!(is_timeout(&o.result), "{:?}", o.result);
    still_serving(&rt, "evil").await;
}

#[tokio::test]
async fn huge_console_output_is_capped() {
    let rt = runtime();
    let o = run(&rt, "evil", "function (e, p, cb) { for (let i = 0; i < 100000; i++) console.log('spam spam spam %d', i); cb(null, {user_id: 'ok'}); }").await;
    assert_eq!(o.result, Ok(json!({"user_id": "ok"})));
    let bytes: usize = o.console.iter().map(|l| l.text.len()).sum();
    assert!(bytes <= 4096 + 100, "{bytes} bytes captured");
    assert!(o.console.last().unwrap().text.contains("truncated"));
}

#[tokio::test]
async fn oversized_result_is_refused() {
    let rt = runtime();
    let o = run(
        &rt,
        "evil",
        "function (e, p, cb) { cb(null, {user_id: 'x', blob: 'y'.repeat(2 * 1024 * 1024)}); }",
    )
    .await;
    assert!(
        matches!(o.result, Err(ScriptFailure::Limit { .. })),
        "{:?}",
        o.result
    );
}

#[tokio::test]
async fn tampering_with_prototypes_and_error_classes_stays_in_its_tenant() {
    let rt = runtime();
    let o = run(&rt, "evil", "function (e, p, cb) { Object.prototype.user_id = 'pwned'; Array.prototype.push = null; try { WrongUsernameOrPasswordError = function () {}; } catch (x) {} global.shared = 'evil-data'; cb(null, {user_id: 'done'}); }").await;
    assert_eq!(o.result, Ok(json!({"user_id": "done"})));
    // Another tenant sees pristine built-ins, error classes and global.
    let o = run(&rt, "victim", "function (e, p, cb) { cb(new WrongUsernameOrPasswordError(e, String(({}).user_id) + ' ' + typeof [].push + ' ' + String(global.shared))); }").await;
    assert_eq!(
        o.result,
        Err(ScriptFailure::WrongCredentials {
            user_id: Some("a@b.c".into()),
            message: "undefined function undefined".into()
        })
    );
    // Error classes cannot be replaced even within the tenant.
    let o = run(
        &rt,
        "evil",
        "function (e, p, cb) { cb(new UnauthorizedError('still real')); }",
    )
    .await;
    assert_eq!(
        o.result,
        Err(ScriptFailure::Unauthorized {
            message: "still real".into()
        })
    );
}

#[tokio::test]
async fn a_busy_tenant_does_not_block_another() {
    let rt = std::sync::Arc::new(runtime());
    let r2 = rt.clone();
    let evil =
        tokio::spawn(
            async move { run(&r2, "evil", "function (e, p, cb) { while (true) {} }").await },
        );
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t = Instant::now();
    assert_eq!(
        run(&rt, "victim", OK).await.result,
        Ok(json!({"user_id": "ok"}))
    );
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "victim waited {:?}",
        t.elapsed()
    );
    assert!(is_timeout(&evil.await.unwrap().result));
}

#[tokio::test]
async fn a_tenant_is_bounded_by_its_container_pool() {
    let rt = std::sync::Arc::new(ScriptRuntime::new(Limits {
        deadline: Duration::from_millis(800),
        containers_per_tenant: 2,
        queue_wait: Duration::from_millis(100),
        ..Limits::default()
    }));
    let mut hogs = Vec::new();
    for _ in 0..2 {
        let r = rt.clone();
        hogs.push(tokio::spawn(async move {
            run(&r, "evil", "function (e, p, cb) { while (true) {} }").await
        }));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let o = run(&rt, "evil", OK).await;
    assert!(
        matches!(o.result, Err(ScriptFailure::Runtime { ref message }) if message.contains("too many")),
        "{:?}",
        o.result
    );
    assert_eq!(
        run(&rt, "other", OK).await.result,
        Ok(json!({"user_id": "ok"}))
    );
    for h in hogs {
        assert!(is_timeout(&h.await.unwrap().result));
    }
    assert_eq!(
        run(&rt, "evil", OK).await.result,
        Ok(json!({"user_id": "ok"})),
        "capacity returns"
    );
}

fn conn_req(connection: &str, source: &str, config: &[(&str, &str)]) -> ScriptRequest {
    ScriptRequest {
        connection: Some(connection.into()),
        configuration: config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..req("tenant", source)
    }
}

#[tokio::test]
async fn one_connections_script_cannot_read_or_rewrite_another_connections() {
    // One container for everything: before containers were per connection, both scripts ran
    // in it.
    let rt = ScriptRuntime::new(Limits {
        deadline: Duration::from_millis(1000),
        containers_per_tenant: 1,
        ..Limits::default()
    });
    let evil = "function (e, p, cb) {
        Object.prototype.toJSON = function () { return {user_id: 'chosen-by-a'}; };
        global.seen = 'from-a';
        cb(null, {user_id: 'a'});
    }";
    let o = rt.run(conn_req("con_a", evil, &[("A_SECRET", "a")])).await;
    assert!(o.result.is_ok(), "{:?}", o.result);
    let victim = "function (e, p, cb) {
        cb(null, {user_id: 'b', leaked: String(global.seen), toJSON: typeof ({}).toJSON});
    }";
    let o = rt
        .run(conn_req("con_b", victim, &[("DB_PASSWORD", "b-secret")]))
        .await;
    assert_eq!(
        o.result,
        Ok(json!({"user_id": "b", "leaked": "undefined", "toJSON": "undefined"}))
    );
    // Within its own connection the script keeps its global (and its own tampering), as in
    // Auth0's containers.
    let o = rt
        .run(conn_req(
            "con_a",
            "function (e, p, cb) { delete Object.prototype.toJSON; cb(null, {user_id: String(global.seen)}); }",
            &[("A_SECRET", "a")],
        ))
        .await;
    assert_eq!(o.result, Ok(json!({"user_id": "from-a"})));
}

#[tokio::test]
async fn a_hung_connection_does_not_take_the_other_connections_containers() {
    let rt = std::sync::Arc::new(ScriptRuntime::new(Limits {
        deadline: Duration::from_millis(1500),
        containers_per_tenant: 2,
        queue_wait: Duration::from_millis(100),
        ..Limits::default()
    }));
    let mut hung = Vec::new();
    for _ in 0..3 {
        let r = rt.clone();
        hung.push(tokio::spawn(async move {
            r.run(conn_req(
                "con_hung",
                "function (e, p, cb) { /* never answers */ }",
                &[],
            ))
            .await
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t = Instant::now();
    let o = rt.run(conn_req("con_ok", OK, &[])).await;
    assert_eq!(o.result, Ok(json!({"user_id": "ok"})));
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
    // Rules, hooks and actions have containers of their own too.
    assert_eq!(
        run(&rt, "tenant", OK).await.result,
        Ok(json!({"user_id": "ok"}))
    );
    for h in hung {
        let r = h.await.unwrap().result;
        assert!(
            is_timeout(&r) || matches!(r, Err(ScriptFailure::Runtime { .. })),
            "{r:?}"
        );
    }
}

#[tokio::test]
async fn a_callback_storm_keeps_the_first_warnings_and_a_count() {
    let rt = runtime();
    let o = run(
        &rt,
        "storm",
        "function (e, p, cb) { for (let i = 0; i < 200000; i++) cb(null, {user_id: 'x' + i}); }",
    )
    .await;
    assert_eq!(
        o.result,
        Ok(json!({"user_id": "x0"})),
        "the first call wins"
    );
    assert_eq!(o.warnings.len(), 51, "{:?}", &o.warnings[..3]);
    assert_eq!(o.warnings[50], "... and 199949 more warnings");
    still_serving(&rt, "storm").await;
}

#[tokio::test]
async fn pending_timers_are_capped_and_clearing_frees_them() {
    let rt = runtime();
    let o = run(
        &rt,
        "timers",
        "function (e, p, cb) {
            const ids = []; let name = null;
            for (let i = 0; i < 10001; i++) {
                try { ids.push(setTimeout(() => {}, 3600000)); } catch (x) { name = x.name; }
            }
            // Ids that never existed change nothing.
            for (let i = 0; i < 100000; i++) clearTimeout(1e9 + i);
            let after = 'refused';
            try { setTimeout(() => {}, 1); after = 'scheduled'; } catch (x) {}
            ids.forEach(clearTimeout);
            let freed = 'refused';
            try { setTimeout(() => {}, 1); freed = 'scheduled'; } catch (x) {}
            cb(null, {scheduled: ids.length, name, after, freed});
        }",
    )
    .await;
    assert_eq!(
        o.result,
        Ok(
            json!({"scheduled": 10000, "name": "RangeError", "after": "refused", "freed": "scheduled"})
        )
    );
    still_serving(&rt, "timers").await;
}

/// The resident set of this process, in bytes (Linux).
fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}

#[tokio::test]
async fn buffers_made_by_host_functions_count_against_the_memory_limit() {
    let rt = runtime(); // 32 MiB per container
    for (what, make) in [
        ("Buffer.from(string)", "Buffer.from(chunk)"),
        (
            "crypto.randomBytes",
            "require('crypto').randomBytes(1 << 20)",
        ),
        ("TextEncoder", "new TextEncoder().encode(chunk)"),
    ] {
        let before = rss_bytes();
        let o = run(
            &rt,
            "evil",
            &format!(
                "function (e, p, cb) {{
                    const chunk = 'x'.repeat(1 << 20); const kept = [];
                    for (let i = 0; i < 512; i++) kept.push({make});
                    cb(null, {{user_id: String(kept.length)}});
                }}"
            ),
        )
        .await;
        assert!(
            matches!(
                o.result,
                Err(ScriptFailure::Limit { .. } | ScriptFailure::Error { .. })
            ),
            "{what}: 512 MiB of host-made buffers were allowed: {:?}",
            o.result
        );
        let grown = rss_bytes().saturating_sub(before);
        assert!(
            grown < 200 << 20,
            "{what}: the process grew by {} MiB",
            grown >> 20
        );
        still_serving(&rt, "evil").await;
    }
}

/// The peak resident set of this process so far, in bytes (Linux `VmHWM`).
fn peak_rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let l = s.lines().find(|l| l.starts_with("VmHWM:"))?;
            l.split_whitespace().nth(1)?.parse::<usize>().ok()
        })
        .map_or(0, |kib| kib * 1024)
}

#[tokio::test]
async fn query_results_in_flight_count_against_the_containers_budget() {
    let url = pg_url();
    // 32 MiB per container: 32 MiB of results in flight.
    let rt = runtime_with_deadline(Duration::from_secs(20));
    let before = peak_rss_bytes();
    // Eight concurrent queries of 30 MiB each (each under the 32 MiB cap of one result).
    let o = rt
        .run(ScriptRequest {
            configuration: BTreeMap::from([("url".to_string(), url)]),
            ..req(
                "evil",
                "async function (e, p, cb) {
                   const pg = require('pg');
                   const clients = [];
                   for (let i = 0; i < 8; i++) { const c = new pg.Client(configuration.url); await c.connect(); clients.push(c); }
                   const outcomes = await Promise.allSettled(clients.map((c) =>
                     c.query(\"SELECT repeat('x', 1048576) AS blob FROM generate_series(1, 30)\")));
                   const refused = outcomes.filter((o) => o.status === 'rejected').map((o) => o.reason.message);
                   await Promise.all(clients.map((c) => c.end()));
                   cb(new UnauthorizedError(refused.length + ' ' + refused.join(' | ')));
                 }",
            )
        })
        .await;
    let grown = peak_rss_bytes().saturating_sub(before);
    match o.result {
        Err(ScriptFailure::Unauthorized { message }) => {
            let n: usize = message.split(' ').next().unwrap().parse().unwrap();
            assert!(n >= 4, "only {n} of 8 queries refused: {message}");
            // Refused by the host budget, or — a result that did arrive — by the script's own
            // heap limit as it becomes a JavaScript value; nothing else.
            let reasons = message.split_once(' ').map_or("", |(_, r)| r);
            assert!(
                reasons
                    .split(" | ")
                    .all(|r| r.contains("in flight") || r.contains("out of memory")),
                "{message}"
            );
        }
        // The script's own heap may run out first, which also fails cleanly.
        Err(ScriptFailure::Limit { .. }) => {}
        other => panic!("{other:?}"),
    }
    assert!(
        grown < 180 << 20,
        "240 MiB of results were held: the peak grew by {} MiB",
        grown >> 20
    );
    still_serving(&rt, "evil").await;
}

/// A parameterless text of several statements runs through the simple protocol, which
/// tokio-postgres would buffer whole: its rows are streamed and charged like any other result.
#[tokio::test]
async fn a_multi_statement_query_result_is_charged_and_capped_as_it_arrives() {
    let url = pg_url();
    let rt = runtime_with_deadline(Duration::from_secs(20));
    let before = peak_rss_bytes();
    // 200 MiB of rows after a first statement: far past the container's budget.
    let o = rt
        .run(ScriptRequest {
            configuration: BTreeMap::from([("url".to_string(), url)]),
            ..req(
                "evil",
                "async function (e, p, cb) {
                   const pg = require('pg');
                   const c = new pg.Client(configuration.url); await c.connect();
                   try {
                     await c.query(\"SELECT 1; SELECT repeat('x', 1048576) AS blob FROM generate_series(1, 200)\");
                     cb(null, { user_id: 'held' });
                   } catch (err) { cb(new UnauthorizedError(err.message)); } finally { await c.end(); }
                 }",
            )
        })
        .await;
    let grown = peak_rss_bytes().saturating_sub(before);
    assert!(
        grown < 100 << 20,
        "the 200 MiB result was held: the peak grew by {} MiB",
        grown >> 20
    );
    match o.result {
        Err(ScriptFailure::Unauthorized { message }) => {
            assert!(message.starts_with("pg: "), "{message}");
        }
        other => panic!("{other:?}"),
    }
    still_serving(&rt, "evil").await;
}

/// CPU time this process has used, in clock ticks (Linux: 100 per second).
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime is the 14th, stime 15th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
}

#[tokio::test]
async fn native_work_stops_when_its_invocation_is_over() {
    let rt = runtime();
    let o = run(
        &rt,
        "evil",
        "function (e, p, cb) {
            const c = require('crypto'), b = require('bcrypt');
            for (let i = 0; i < 4; i++) c.pbkdf2('pw', 'salt', 10000000, 64, 'sha512', () => {});
            for (let i = 0; i < 4; i++) b.hash('pw', 14).catch(() => {});
            cb(null, {user_id: 'answered'});
        }",
    )
    .await;
    assert_eq!(o.result, Ok(json!({"user_id": "answered"})));
    // Jobs already running notice within a few thousand iterations; queued ones never start.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = cpu_ticks();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let used = cpu_ticks() - before;
    assert!(
        used < 60,
        "native work burned {used} ticks (1/100 s) in the 2 s after its invocation answered"
    );
    still_serving(&rt, "evil").await;
}

#[tokio::test]
async fn stack_trace_hooks_never_reach_the_preludes_functions() {
    let rt = runtime();
    let o = run(
        &rt,
        "p",
        "function (e, p, cb) {
            let seen = [];
            Error.prepareStackTrace = (err, sites) => {
                seen = sites.map(c => [typeof c.getFunction(), typeof c.getThis(), typeof c.getLineNumber()]);
                return 'custom';
            };
            const stack = new Error('t').stack;
            cb(null, {user_id: 'x', stack, seen});
        }",
    )
    .await;
    let v = o.result.expect("the hook still works");
    assert_eq!(v["stack"], "custom");
    let seen = v["seen"].as_array().unwrap();
    assert!(!seen.is_empty());
    for s in seen {
        assert_eq!(s[0], "undefined", "{v}");
        assert_eq!(s[1], "undefined", "{v}");
    }
    // The hook cannot be redefined around the guard.
    let o = run(
        &rt,
        "p2",
        "function (e, p, cb) {
            try { Object.defineProperty(Error, 'prepareStackTrace', {value: (e, s) => s}); cb(null, {user_id: 'redefined'}); }
            catch (x) { cb(null, {user_id: x.name}); }
        }",
    )
    .await;
    assert_eq!(o.result, Ok(json!({"user_id": "TypeError"})));
}
