//! Operations endpoints: health, readiness (store reachable), Prometheus metrics by route and
//! status, request ids, and the OpenAPI document.

use sluice_testkit::TestServer;

async fn ops_endpoints(backend: &str) {
    let s = TestServer::start(backend).await;
    let r = s
        .http
        .get(format!("{}/healthz", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers().get("x-request-id").is_some(),
        "every response carries a request id"
    );
    let r = s
        .http
        .get(format!("{}/readyz", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let _ = s.mgmt_token().await;
    let _ = s.call("GET", "/api/v2/clients", None, None).await;
    let text = s
        .http
        .get(format!("{}/metrics", s.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(r#"http_requests_total{route="/oauth/token",method="POST",status="200"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"http_requests_total{route="/api/v2/clients",method="GET",status="401"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "latency is a histogram: {text}"
    );
    assert!(
        text.contains("\nscript_containers_idle "),
        "the script runtime's idle containers are a gauge: {text}"
    );
    assert!(
        !text.contains("testkit-bootstrap-secret"),
        "no secrets in metrics"
    );
}
sluice_store::both_backends!(health_readiness_and_metrics, ops_endpoints);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_fails_when_the_store_is_gone_and_errors_do_not_leak_internals() {
    let s = TestServer::start("postgres").await;
    let tok = s.mgmt_token().await;
    let (db_base, db_name) = s
        .db_url()
        .rsplit_once('/')
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .unwrap();
    let mut admin =
        <sqlx::PgConnection as sqlx::Connection>::connect(&format!("{db_base}/postgres"))
            .await
            .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {db_name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    let r = s
        .http
        .get(format!("{}/readyz", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(
        s.http
            .get(format!("{}/healthz", s.url))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let (st, e) = s.call("GET", "/api/v2/clients", Some(&tok), None).await;
    assert!(st == 503 || st == 500, "{st} {e}");
    let msg = e["message"].as_str().unwrap_or_default();
    assert!(
        !msg.contains(&db_name) && !msg.contains("postgres"),
        "no internals in: {e}"
    );
}
