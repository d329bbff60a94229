//! Script runtime benchmark (run by `bench/scripts.sh`, release mode): warm dispatch of a
//! trivial Auth0-style login script, cold container start, and memory per warm container.
//! Prints one JSON object; the shell script adds the Node.js `vm` baseline from the same run.

use serde_json::json;
use sluice_core::ports::{ScriptKind, ScriptRequest, ScriptRunner};
use sluice_scripts::container::Container;
use sluice_scripts::{EgressPolicy, Limits, ModuleEnv, ScriptRuntime};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const LOGIN: &str = r#"function login(email, password, callback) {
  if (email !== 'alice@example.com' || password !== 'secret') {
    return callback(new WrongUsernameOrPasswordError(email, 'Wrong email or password.'));
  }
  callback(null, { user_id: 'legacy|1', email: email, nickname: 'alice', email_verified: true,
                   app_metadata: { plan: 'gold' }, user_metadata: { lang: 'en' } });
}"#;

fn req(tenant: &str) -> ScriptRequest {
    ScriptRequest {
        tenant_id: tenant.into(),
        connection: None,
        kind: ScriptKind::Login,
        source: LOGIN.into(),
        args: vec![json!("alice@example.com"), json!("secret")],
        context: None,
        configuration: BTreeMap::from([("API_KEY".to_string(), "k".to_string())]),
    }
}

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse()
                    .unwrap_or(0)
            })
        })
        .unwrap_or(0)
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let env = ModuleEnv { tenant_id: "bench".into(), egress: Arc::new(EgressPolicy::allow_all()), packages: None, legacy_globals: false, native: Arc::new(sluice_scripts::native::NativeGate::default()).for_container("bench"), buffers: sluice_scripts::budget::HostBuffers::new(64 << 20) };
        // In-container dispatch: the contract, marshaling in and out, no thread hop.
        let c = Container::new(Limits::default(), env.clone()).await.expect("container");
        let r = req("bench");
        for _ in 0..1000 {
            let _ = c.run(&r, Instant::now() + Duration::from_secs(20)).await;
            let _ = c.take_output();
        }
        let mut inner = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            let (res, _) = c.run(&r, Instant::now() + Duration::from_secs(20)).await;
            let _ = c.take_output();
            inner.push(t.elapsed().as_secs_f64() * 1e6);
            assert!(res.is_ok());
        }
        // Through the ScriptRunner port: pool checkout, hop to the container thread and back.
        let runtime = ScriptRuntime::new(Limits::default());
        for _ in 0..1000 {
            let _ = runtime.run(r.clone()).await;
        }
        let mut port = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            let o = runtime.run(r.clone()).await;
            port.push(t.elapsed().as_secs_f64() * 1e6);
            assert!(o.result.is_ok());
        }
        // Cold container: runtime, context, prelude, compile, first call.
        let bytecode = Arc::new(sluice_scripts::container::compile_prelude().expect("prelude"));
        let mut cold = Vec::new();
        for _ in 0..200 {
            let t = Instant::now();
            let c = Container::with_prelude(Limits::default(), env.clone(), Some(bytecode.clone())).await.expect("container");
            let (res, _) = c.run(&r, Instant::now() + Duration::from_secs(20)).await;
            cold.push(t.elapsed().as_secs_f64() * 1e6);
            assert!(res.is_ok());
        }
        // Engine only: a bare runtime and full context (what every container pays first).
        let mut bare = Vec::new();
        for _ in 0..200 {
            let t = Instant::now();
            let r = rquickjs::AsyncRuntime::new().expect("rt");
            let c = rquickjs::AsyncContext::full(&r).await.expect("ctx");
            bare.push(t.elapsed().as_secs_f64() * 1e6);
            drop(c);
        }
        // What QuickJS itself holds for one warm container (the rest of a container's RSS is
        // its thread's stack pages and allocator overhead).
        let heap_kib = c.heap_bytes().await as f64 / 1024.0;
        // Memory per warm container: 100 tenants, each with a container that ran the script.
        let before = rss_kib();
        let many = ScriptRuntime::new(Limits::default());
        for i in 0..100 {
            let o = many.run(req(&format!("tenant-{i}"))).await;
            assert!(o.result.is_ok());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let per_container = (rss_kib().saturating_sub(before)) as f64 / 100.0;
        println!(
            "{}",
            json!({
                "warm_in_container_p50_us": pct(inner.clone(), 0.5), "warm_in_container_p99_us": pct(inner, 0.99),
                "warm_via_port_p50_us": pct(port.clone(), 0.5), "warm_via_port_p99_us": pct(port, 0.99),
                "cold_container_p50_us": pct(cold.clone(), 0.5), "bare_engine_p50_us": pct(bare, 0.5), "cold_container_p99_us": pct(cold, 0.99),
                "rss_per_warm_container_kib": per_container, "containers": many.idle_containers(),
                "js_heap_per_warm_container_kib": heap_kib,
            })
        );
    });
}
