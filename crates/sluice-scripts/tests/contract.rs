//! The Auth0 script contract, one rule per test: how scripts are called, how the callback and
//! returned promises are read, the error classes, and the globals.

use serde_json::{Value, json};
use sluice_core::ports::{ScriptFailure, ScriptKind, ScriptOutcome, ScriptRequest, ScriptRunner};
use sluice_scripts::{Limits, ScriptRuntime};
use std::collections::BTreeMap;
use std::time::Duration;

fn runtime() -> ScriptRuntime {
    ScriptRuntime::new(Limits {
        deadline: Duration::from_millis(1500),
        ..Limits::default()
    })
}

fn req(tenant: &str, kind: ScriptKind, source: &str, args: Vec<Value>) -> ScriptRequest {
    ScriptRequest {
        tenant_id: tenant.into(),
        connection: None,
        kind,
        source: source.into(),
        args,
        context: None,
        configuration: BTreeMap::new(),
    }
}

async fn login(rt: &ScriptRuntime, source: &str) -> ScriptOutcome {
    rt.run(req(
        "t1",
        ScriptKind::Login,
        source,
        vec![json!("alice@example.com"), json!("pw")],
    ))
    .await
}

#[tokio::test]
async fn named_function_is_called_with_positional_arguments() {
    let o = login(&runtime(), "function login(email, password, callback) { callback(null, { user_id: 'u1', email: email, pw: password }); }").await;
    assert_eq!(
        o.result,
        Ok(json!({"user_id": "u1", "email": "alice@example.com", "pw": "pw"}))
    );
}

#[tokio::test]
async fn anonymous_and_arrow_functions_work() {
    let rt = runtime();
    assert_eq!(
        login(&rt, "function (e, p, cb) { cb(null, {user_id: e}); }")
            .await
            .result,
        Ok(json!({"user_id": "alice@example.com"}))
    );
    assert_eq!(
        login(&rt, "(e, p, cb) => cb(null, {user_id: 'x'})")
            .await
            .result,
        Ok(json!({"user_id": "x"}))
    );
}

#[tokio::test]
async fn async_function_may_await_then_call_back() {
    let o = login(&runtime(), "async function login(e, p, cb) { const v = await new Promise(r => setTimeout(() => r(7), 10)); cb(null, {user_id: String(v)}); }").await;
    assert_eq!(o.result, Ok(json!({"user_id": "7"})));
}

#[tokio::test]
async fn callback_without_arguments_equals_callback_null() {
    assert_eq!(
        login(&runtime(), "function (e, p, cb) { cb(); }")
            .await
            .result,
        Ok(Value::Null)
    );
    assert_eq!(
        login(&runtime(), "function (e, p, cb) { cb(null); }")
            .await
            .result,
        Ok(Value::Null)
    );
}

#[tokio::test]
async fn first_callback_wins_and_later_calls_are_reported() {
    let o = login(&runtime(), "function (e, p, cb) { cb(null, {user_id: 'first'}); cb(null, {user_id: 'second'}); cb(new Error('x')); }").await;
    assert_eq!(o.result, Ok(json!({"user_id": "first"})));
    assert_eq!(o.warnings.len(), 2, "{:?}", o.warnings);
    assert!(o.warnings[0].contains("more than once"));
}

#[tokio::test]
async fn synchronous_throw_is_an_error() {
    let o = login(
        &runtime(),
        "function (e, p, cb) { throw new TypeError('boom'); }",
    )
    .await;
    assert!(
        matches!(o.result, Err(ScriptFailure::Error { ref name, ref message, .. }) if name == "TypeError" && message == "boom"),
        "{:?}",
        o.result
    );
}

#[tokio::test]
async fn rejected_promise_is_an_error() {
    let o = login(
        &runtime(),
        "async function (e, p, cb) { await null; throw new Error('db down'); }",
    )
    .await;
    assert!(
        matches!(o.result, Err(ScriptFailure::Error { ref message, .. }) if message == "db down"),
        "{:?}",
        o.result
    );
}

#[tokio::test]
async fn throwing_a_non_error_is_an_error() {
    let rt = runtime();
    let o = login(&rt, "function (e, p, cb) { throw 42; }").await;
    assert!(
        matches!(o.result, Err(ScriptFailure::Error { ref message, .. }) if message == "42"),
        "{:?}",
        o.result
    );
    let o = login(&rt, "function (e, p, cb) { cb('plain string'); }").await;
    assert!(
        matches!(o.result, Err(ScriptFailure::Error { ref message, .. }) if message == "plain string"),
        "{:?}",
        o.result
    );
    let o = login(&rt, "function (e, p, cb) { throw undefined; }").await;
    assert!(
        matches!(o.result, Err(ScriptFailure::Error { .. })),
        "{:?}",
        o.result
    );
}

#[tokio::test]
async fn script_that_never_calls_back_ends_at_the_deadline() {
    let started = std::time::Instant::now();
    let o = login(&runtime(), "function (e, p, cb) { }").await;
    assert!(
        matches!(o.result, Err(ScriptFailure::Timeout { ref message }) if message.contains("exceeded")),
        "{:?}",
        o.result
    );
    assert!(started.elapsed() >= Duration::from_millis(1500));
}

#[tokio::test]
async fn error_classes_carry_auth0_fields() {
    let rt = runtime();
    let o = login(&rt, "function (e, p, cb) { const err = new WrongUsernameOrPasswordError(e, 'bad password'); cb(err instanceof Error && err.code === 'wrongusernameorpassword' && err.statusCode === 400 ? err : new Error('shape')); }").await;
    assert_eq!(
        o.result,
        Err(ScriptFailure::WrongCredentials {
            user_id: Some("alice@example.com".into()),
            message: "bad password".into()
        })
    );
    let o = login(
        &rt,
        "function (e, p, cb) { cb(new WrongUsernameOrPasswordError()); }",
    )
    .await;
    assert_eq!(
        o.result,
        Err(ScriptFailure::WrongCredentials {
            user_id: None,
            message: "Wrong email or password.".into()
        })
    );
    let o = login(&rt, "function (e, p, cb) { const v = new ValidationError('user_exists', 'taken'); cb(v.description === 'taken' && v instanceof Error ? v : null); }").await;
    assert_eq!(
        o.result,
        Err(ScriptFailure::Validation {
            code: "user_exists".into(),
            message: "taken".into()
        })
    );
    let o = login(&rt, "function (e, p, cb) { const u = new UnauthorizedError('Your account is locked'); cb(u.code === 'unauthorized' && u.statusCode === 401 && u instanceof Error ? u : null); }").await;
    assert_eq!(
        o.result,
        Err(ScriptFailure::Unauthorized {
            message: "Your account is locked".into()
        })
    );
}

#[tokio::test]
async fn context_argument_goes_just_before_the_callback() {
    let mut r = req(
        "t1",
        ScriptKind::GetUser,
        "function (email, context, cb) { cb(null, {user_id: email, org: context.organization.id}); }",
        vec![json!("a@b.c")],
    );
    r.context = Some(json!({"organization": {"id": "org_1"}}));
    assert_eq!(
        runtime().run(r).await.result,
        Ok(json!({"user_id": "a@b.c", "org": "org_1"}))
    );
}

#[tokio::test]
async fn configuration_is_frozen_and_belongs_to_its_connection() {
    let rt = runtime();
    let mut r = req(
        "t1",
        ScriptKind::Login,
        "function (e, p, cb) { 'use strict'; let threw = false; try { configuration.API_KEY = 'changed'; } catch (x) { threw = true; } cb(null, {user_id: configuration.API_KEY, threw: threw}); }",
        vec![json!("a"), json!("b")],
    );
    r.configuration.insert("API_KEY".into(), "secret-1".into());
    assert_eq!(
        rt.run(r).await.result,
        Ok(json!({"user_id": "secret-1", "threw": true}))
    );
    // The next invocation (another connection, same container) sees only its own.
    let o = rt
        .run(req(
            "t1",
            ScriptKind::Login,
            "function (e, p, cb) { cb(null, {user_id: String(configuration.API_KEY)}); }",
            vec![json!("a"), json!("b")],
        ))
        .await;
    assert_eq!(o.result, Ok(json!({"user_id": "undefined"})));
}

#[tokio::test]
async fn global_persists_within_a_tenant_and_not_across_tenants() {
    let rt = runtime();
    let src = "function (e, p, cb) { global.hits = (global.hits || 0) + 1; cb(null, {user_id: String(global.hits)}); }";
    assert_eq!(
        rt.run(req("ta", ScriptKind::Login, src, vec![json!(1), json!(2)]))
            .await
            .result,
        Ok(json!({"user_id": "1"}))
    );
    assert_eq!(
        rt.run(req("ta", ScriptKind::Login, src, vec![json!(1), json!(2)]))
            .await
            .result,
        Ok(json!({"user_id": "2"}))
    );
    assert_eq!(
        rt.run(req("tb", ScriptKind::Login, src, vec![json!(1), json!(2)]))
            .await
            .result,
        Ok(json!({"user_id": "1"}))
    );
}

#[tokio::test]
async fn console_is_captured_per_invocation() {
    let rt = runtime();
    let o = login(&rt, "function (e, p, cb) { console.log('hello %s', e, {a: 1}); console.error(new Error('oops')); cb(null, {user_id: 'x'}); }").await;
    assert_eq!(o.console[0].level, "log");
    assert_eq!(o.console[0].text, "hello alice@example.com {\"a\":1}");
    assert_eq!(o.console[1].level, "error");
    assert!(
        o.console[1].text.starts_with("Error: oops"),
        "{:?}",
        o.console
    );
    let o = login(&rt, "function (e, p, cb) { cb(null, {user_id: 'y'}); }").await;
    assert!(
        o.console.is_empty(),
        "output does not leak into the next invocation"
    );
}

#[tokio::test]
async fn timers_fire_and_can_be_cleared() {
    let o = login(&runtime(), "function (e, p, cb) { const t = setTimeout(() => cb(new Error('cleared timer fired')), 5); clearTimeout(t); setImmediate(() => setTimeout(() => cb(null, {user_id: 'timer'}), 20)); }").await;
    assert_eq!(o.result, Ok(json!({"user_id": "timer"})));
}

#[tokio::test]
async fn process_exposes_nothing_of_the_host() {
    let o = login(&runtime(), "function (e, p, cb) { let exit = 'no'; try { process.exit(1); } catch (x) { exit = x.message; } cb(null, {user_id: 'p', env: Object.keys(process.env).length, exit: exit, v: process.version}); }").await;
    let v = o.result.unwrap();
    assert_eq!(v["env"], 0);
    assert!(v["exit"].as_str().unwrap().contains("not available"));
    assert!(v["v"].as_str().unwrap().starts_with('v'));
}

#[tokio::test]
async fn syntax_errors_name_the_script_and_line() {
    let o = login(&runtime(), "function login(e, p, cb) {\n  var x = ;\n}").await;
    match o.result {
        Err(ScriptFailure::Error { name, stack, .. }) => {
            assert_eq!(name, "SyntaxError");
            assert!(stack.unwrap_or_default().contains("login.js:2"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn runtime_errors_name_the_script_file_and_line() {
    let o = login(
        &runtime(),
        "function login(e, p, cb) {\n  const o = null;\n  cb(null, o.x);\n}",
    )
    .await;
    match o.result {
        Err(ScriptFailure::Error { stack, .. }) => assert!(
            stack.unwrap_or_default().contains("login.js:3"),
            "stack names login.js:3"
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn results_are_marshaled_by_the_engine_not_by_script_globals() {
    let o = login(&runtime(), "function (e, p, cb) { JSON.stringify = () => '{\"user_id\":\"forged\"}'; cb(null, {user_id: 'real'}); }").await;
    assert_eq!(o.result, Ok(json!({"user_id": "real"})));
}

#[tokio::test]
async fn non_function_script_is_a_clear_error() {
    let o = login(&runtime(), "42").await;
    assert!(
        matches!(o.result, Err(ScriptFailure::Error { ref message, .. }) if message.contains("must be a function")),
        "{:?}",
        o.result
    );
}

#[tokio::test]
async fn configuration_cannot_be_deleted_or_redefined_by_a_script() {
    let rt = runtime();
    let mut r = req(
        "t1",
        ScriptKind::Login,
        "function (e, p, cb) { try { delete globalThis.configuration; } catch (x) {} try { Object.defineProperty(globalThis, 'configuration', {value: {API_KEY: 'forged'}}); } catch (x) {} configuration = {API_KEY: 'assigned'}; cb(null, {user_id: configuration.API_KEY}); }",
        vec![json!("a"), json!("b")],
    );
    r.configuration.insert("API_KEY".into(), "real".into());
    assert_eq!(
        rt.run(r.clone()).await.result,
        Ok(json!({"user_id": "real"}))
    );
    // The next invocation with the same configuration still sees it.
    r.source = "function (e, p, cb) { cb(null, {user_id: configuration.API_KEY}); }".into();
    assert_eq!(rt.run(r).await.result, Ok(json!({"user_id": "real"})));
}

/// The runtime's own notes about a script never depend on globals the script can break: a
/// script that sabotages `Object.freeze` and `JSON` and then throws after answering still gets
/// its answer, with the warning.
#[tokio::test]
async fn a_script_that_breaks_globals_and_throws_after_answering_keeps_its_answer() {
    let rt = runtime();
    let o = login(
        &rt,
        "function (e, p, cb) { Object.freeze = undefined; JSON.stringify = null; cb(null, {user_id: 'x'}); throw new Error('late'); }",
    )
    .await;
    assert_eq!(o.result, Ok(json!({"user_id": "x"})));
    assert!(
        o.warnings
            .iter()
            .any(|w| w.contains("threw after calling the callback")),
        "{:?}",
        o.warnings
    );
}
