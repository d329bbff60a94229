//! The server builds its script runtime from `[scripts]`: limits, egress policy and legacy
//! globals reach scripts run through the core's runner port.

use serde_json::json;
use sluice_core::ports::{ScriptFailure, ScriptKind, ScriptRequest};
use sluice_testkit::TestServer;
use std::collections::BTreeMap;

fn req(tenant_id: &str, body: &str) -> ScriptRequest {
    ScriptRequest {
        tenant_id: tenant_id.into(),
        connection: None,
        kind: ScriptKind::Login,
        source: format!("function login(email, password, cb) {{ {body} }}").into(),
        args: vec![json!("a@b.c"), json!("pw")],
        context: None,
        configuration: BTreeMap::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_settings_from_config_reach_scripts() {
    let s = TestServer::start_with("sqlite", |st| {
        st.scripts.timeout_seconds = 1;
        st.scripts.egress.deny_cidrs = vec!["127.0.0.0/8".into()];
        st.scripts.legacy_globals_tenants = vec!["default".into()];
    })
    .await;
    let t = s.core().tenant("default").await.unwrap();
    let runner = s.core().runner.clone();
    let o = runner
        .run(req(&t.id, "cb(null, {b: typeof bcrypt});"))
        .await;
    assert_eq!(
        o.result,
        Ok(json!({"b": "object"})),
        "legacy globals are on for the default tenant"
    );
    let url = format!("{}/healthz", s.url);
    let o = runner.run(req(&t.id, &format!("fetch('{url}').then(() => cb(null, {{}}), (e) => cb(null, {{code: e.code || (e.cause && e.cause.code)}}));"))).await;
    assert_eq!(
        o.result,
        Ok(json!({"code": "EGRESS_DENIED"})),
        "the configured egress policy applies"
    );
    let o = runner.run(req(&t.id, "")).await;
    assert!(
        matches!(o.result, Err(ScriptFailure::Timeout { ref message }) if message.contains("1 s")),
        "{:?}",
        o.result
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_tenant_can_have_its_own_egress_policy() {
    let s = TestServer::start_with("sqlite", |st| {
        st.tenants.push(sluice::config::TenantEntry {
            name: "locked".into(),
            client_id: None,
            client_secret: None,
        });
        let deny_loopback = sluice::config::EgressConfig {
            deny_cidrs: vec!["127.0.0.0/8".into()],
            ..Default::default()
        };
        st.scripts
            .tenant_egress
            .insert("locked".into(), deny_loopback);
    })
    .await;
    let url = format!("{}/healthz", s.url);
    let body = format!(
        "fetch('{url}').then((r) => cb(null, {{status: r.status}}), (e) => cb(null, {{code: e.code}}));"
    );
    let open = s.core().tenant("default").await.unwrap();
    let locked = s.core().tenant("locked").await.unwrap();
    let runner = s.core().runner.clone();
    assert_eq!(
        runner.run(req(&open.id, &body)).await.result,
        Ok(json!({"status": 200})),
        "the default policy allows loopback"
    );
    assert_eq!(
        runner.run(req(&locked.id, &body)).await.result,
        Ok(json!({"code": "EGRESS_DENIED"})),
        "the tenant's own policy denies it"
    );
}
