//! Container lifecycle: reuse, idle timeout, maximum lifetime, recycling after a limit, and a
//! saved script taking effect at the next invocation.

use serde_json::json;
use sluice_core::ports::{ScriptKind, ScriptRequest, ScriptRunner};
use sluice_scripts::{Limits, ScriptRuntime};
use std::collections::BTreeMap;
use std::time::Duration;

fn req(source: &str) -> ScriptRequest {
    ScriptRequest {
        tenant_id: "t".into(),
        connection: None,
        kind: ScriptKind::Login,
        source: source.into(),
        args: vec![json!("a"), json!("b")],
        context: None,
        configuration: BTreeMap::new(),
    }
}

/// Counts invocations in the container's `global`: 1 means a fresh container.
const COUNTER: &str =
    "function (e, p, cb) { global.n = (global.n || 0) + 1; cb(null, {n: global.n}); }";

async fn count(rt: &ScriptRuntime) -> i64 {
    rt.run(req(COUNTER)).await.result.unwrap()["n"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn containers_are_reused_then_dropped_after_the_idle_timeout() {
    let rt = ScriptRuntime::new(Limits {
        idle_timeout: Duration::from_millis(200),
        ..Limits::default()
    });
    assert_eq!(count(&rt).await, 1);
    assert_eq!(
        count(&rt).await,
        2,
        "the same container serves the next invocation"
    );
    assert_eq!(rt.idle_containers(), 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    rt.sweep();
    assert_eq!(
        rt.idle_containers(),
        0,
        "the sweep dropped the idle container"
    );
    assert_eq!(
        count(&rt).await,
        1,
        "a new container starts with an empty global"
    );
}

#[tokio::test]
async fn containers_are_retired_after_their_maximum_lifetime() {
    let rt = ScriptRuntime::new(Limits {
        max_lifetime: Duration::from_millis(200),
        ..Limits::default()
    });
    assert_eq!(count(&rt).await, 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(count(&rt).await, 1, "an old container is not reused");
}

#[tokio::test]
async fn a_container_that_hit_a_limit_is_recycled() {
    let rt = ScriptRuntime::new(Limits {
        deadline: Duration::from_millis(300),
        ..Limits::default()
    });
    assert_eq!(count(&rt).await, 1);
    let o = rt.run(req("function (e, p, cb) { while (true) {} }")).await;
    assert!(o.result.is_err());
    assert_eq!(count(&rt).await, 1, "the timed-out container was replaced");
}

#[tokio::test]
async fn a_saved_script_takes_effect_at_the_next_invocation() {
    let rt = ScriptRuntime::new(Limits::default());
    let v1 = rt
        .run(req("function (e, p, cb) { cb(null, {v: 1}); }"))
        .await
        .result
        .unwrap();
    let v2 = rt
        .run(req("function (e, p, cb) { cb(null, {v: 2}); }"))
        .await
        .result
        .unwrap();
    assert_eq!((v1["v"].as_i64(), v2["v"].as_i64()), (Some(1), Some(2)));
}
