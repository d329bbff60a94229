//! What a script hands back is read as plain data: the host never runs a method the script
//! planted (`toJSON`, getters, proxy traps, replaced Date methods), so a result cannot change
//! between reads, take the host's time, or be rewritten by code from elsewhere in the container.

use serde_json::json;
use sluice_core::ports::{ScriptFailure, ScriptKind, ScriptRequest, ScriptRunner};
use sluice_scripts::{Limits, ScriptRuntime};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn runtime() -> ScriptRuntime {
    ScriptRuntime::new(Limits {
        deadline: Duration::from_millis(1500),
        ..Limits::default()
    })
}

async fn run(rt: &ScriptRuntime, source: &str) -> Result<serde_json::Value, ScriptFailure> {
    rt.run(ScriptRequest {
        tenant_id: "t".into(),
        connection: Some("con_a".into()),
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
async fn planted_to_json_methods_never_rewrite_a_result() {
    let rt = runtime();
    let r = run(
        &rt,
        "function (e, p, cb) {
           Object.prototype.toJSON = function () { return { user_id: 'attacker' }; };
           Number.prototype.toJSON = function () { return 'n'; };
           String.prototype.toJSON = function () { return 's'; };
           Array.prototype.toJSON = function () { return 'a'; };
           cb(null, { user_id: 'legacy|1', logins: 3, roles: ['x', 2] });
         }",
    )
    .await;
    assert_eq!(
        r,
        Ok(json!({"user_id": "legacy|1", "logins": 3, "roles": ["x", 2]}))
    );
}

#[tokio::test]
async fn getters_in_a_result_are_never_called() {
    let rt = runtime();
    let t = Instant::now();
    // Were the host to call the getter, it would loop until the deadline and then throw.
    let r = run(
        &rt,
        "function (e, p, cb) {
           const profile = { user_id: 'legacy|1' };
           Object.defineProperty(profile, 'email', { enumerable: true, get() { while (true) {} } });
           Object.defineProperty(Object.prototype, 'nickname', { enumerable: true, get() { throw new Error('called'); } });
           cb(null, profile);
         }",
    )
    .await;
    assert_eq!(r, Ok(json!({"user_id": "legacy|1"})));
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
}

#[tokio::test]
async fn a_proxy_result_is_refused_without_running_its_traps() {
    let rt = runtime();
    let r = run(
        &rt,
        "function (e, p, cb) {
           let reads = 0;
           const profile = new Proxy({ user_id: 'legacy|1' }, {
             get(t, k) { reads++; return reads > 1 ? 'other' : t[k]; },
             ownKeys(t) { while (true) {} },
           });
           cb(null, { user: profile });
         }",
    )
    .await;
    match r {
        Err(ScriptFailure::Error { name, message, .. }) => {
            assert_eq!(name, "TypeError");
            assert!(message.contains("Proxy"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn dates_are_iso_strings_even_when_date_methods_are_replaced() {
    let rt = runtime();
    let r = run(
        &rt,
        "function (e, p, cb) {
           Date.prototype.toJSON = function () { return 'forged'; };
           Date.prototype.toISOString = function () { return 'forged'; };
           Date.prototype.getTime = function () { return 0; };
           cb(null, { user_id: '1', created_at: new Date(Date.UTC(2020, 0, 2, 3, 4, 5)), bad: new Date(NaN) });
         }",
    )
    .await;
    assert_eq!(
        r,
        Ok(json!({"user_id": "1", "created_at": "2020-01-02T03:04:05.000Z", "bad": null}))
    );
}

#[tokio::test]
async fn results_serialise_like_json_for_plain_data() {
    let rt = runtime();
    let r = run(
        &rt,
        "function (e, p, cb) {
           const sparse = [1]; sparse[3] = 4;
           cb(null, { user_id: 'u', skip: undefined, f() {}, [Symbol('s')]: 1, inf: Infinity,
                      arr: [undefined, () => 1, NaN], sparse, nested: { deep: { er: -0, big: 2 ** 40 } },
                      text: 'é\\u0000' });
         }",
    )
    .await;
    assert_eq!(
        r,
        Ok(
            json!({"user_id": "u", "inf": null, "arr": [null, null, null], "sparse": [1, null, null, 4],
                  "nested": {"deep": {"er": 0, "big": 1099511627776u64}}, "text": "é\u{0}"})
        )
    );
    let cyclic = run(
        &rt,
        "function (e, p, cb) { const o = { user_id: 'u' }; o.self = o; cb(null, o); }",
    )
    .await;
    assert!(
        matches!(&cyclic, Err(ScriptFailure::Error { message, .. }) if message.contains("circular")),
        "{cyclic:?}"
    );
    let big = run(&rt, "function (e, p, cb) { cb(null, { n: 10n }); }").await;
    assert!(
        matches!(&big, Err(ScriptFailure::Error { name, .. }) if name == "TypeError"),
        "{big:?}"
    );
}

#[tokio::test]
async fn an_errors_fields_are_read_without_running_its_getters() {
    let rt = runtime();
    let t = Instant::now();
    let r = run(
        &rt,
        "function (e, p, cb) {
           const err = new WrongUsernameOrPasswordError(e, 'Wrong email or password.');
           Object.defineProperty(err, 'user_id', { get() { while (true) {} } });
           cb(err);
         }",
    )
    .await;
    assert_eq!(
        r,
        Err(ScriptFailure::WrongCredentials {
            user_id: None,
            message: "Wrong email or password.".into()
        })
    );
    assert!(t.elapsed() < Duration::from_secs(1));
    let r = run(
        &rt,
        "function (e, p, cb) { Number.prototype.toJSON = function () { while (true) {} }; cb(42); }",
    )
    .await;
    assert!(
        matches!(&r, Err(ScriptFailure::Error { message, .. }) if message == "42"),
        "{r:?}"
    );
}

#[tokio::test]
async fn an_error_stack_is_read_without_running_a_planted_accessor() {
    let rt = runtime();
    let t = Instant::now();
    let r = run(
        &rt,
        "function (e, p, cb) {
           try { Object.defineProperty(Error.prototype, 'stack', { get() { while (true) {} } }); } catch (x) {}
           class Mine extends Error {}
           Object.defineProperty(Mine.prototype, 'stack', { get() { while (true) {} } });
           const err = new Error('plain');
           cb(err);
         }",
    )
    .await;
    match r {
        Err(ScriptFailure::Error { message, stack, .. }) => {
            assert_eq!(message, "plain");
            assert!(stack.unwrap_or_default().contains("login.js"));
        }
        other => panic!("{other:?}"),
    }
    let r = run(
        &rt,
        "function (e, p, cb) { class Mine extends Error {}
           Object.defineProperty(Mine.prototype, 'stack', { get() { while (true) {} } });
           cb(new Mine('mine')); }",
    )
    .await;
    assert!(
        matches!(&r, Err(ScriptFailure::Error { message, stack: None, .. }) if message == "mine"),
        "{r:?}"
    );
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
}
