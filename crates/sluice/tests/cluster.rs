//! Two nodes over one PostgreSQL store: a change made through one node reaches the other's
//! caches through the store's change announcements, long before the caches would expire (5 s
//! for documents, 60 s for signing keys). Each test polls the other node for up to 2 s.

use serde_json::{Value, json};
use sluice_testkit::TestServer;
use std::time::{Duration, Instant};

/// Polls `check` every 20 ms until it holds; returns how long it took, or None after `limit`.
async fn within<F, Fut>(limit: Duration, mut check: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < limit {
        if check().await {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

const LIMIT: Duration = Duration::from_secs(2);

async fn client_credentials(s: &TestServer, id: &str, secret: &str, audience: &str) -> u16 {
    s.http
        .post(format!("{}/oauth/token", s.url))
        .json(&json!({"grant_type": "client_credentials", "client_id": id,
            "client_secret": secret, "audience": audience}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn kid_of(token: &str) -> String {
    sluice_crypto::jwt::decode_unverified(token).unwrap().0["kid"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_secret_rotated_or_client_deleted_on_one_node_is_refused_by_the_other_at_once() {
    let a = TestServer::start("postgres").await;
    let b = a.peer().await;
    let admin = a.mgmt_token().await;
    let audience = format!("{}/api/v2/", a.url);
    let (st, c) = a
        .call(
            "POST",
            "/api/v2/clients",
            Some(&admin),
            Some(json!({"name": "m2m", "app_type": "non_interactive", "grant_types": ["client_credentials"]})),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    let (id, secret) = (
        c["client_id"].as_str().unwrap().to_string(),
        c["client_secret"].as_str().unwrap().to_string(),
    );
    let (st, _) = a
        .call(
            "POST",
            "/api/v2/client-grants",
            Some(&admin),
            Some(json!({"client_id": id, "audience": audience, "scope": ["read:users"]})),
        )
        .await;
    assert_eq!(st, 201);
    // B has the client cached.
    assert_eq!(client_credentials(&b, &id, &secret, &audience).await, 200);
    assert_eq!(client_credentials(&b, &id, &secret, &audience).await, 200);

    let (st, rotated) = a
        .call(
            "POST",
            &format!("/api/v2/clients/{id}/rotate-secret"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(st, 200, "{rotated}");
    let new_secret = rotated["client_secret"].as_str().unwrap().to_string();
    let took = within(LIMIT, || async {
        client_credentials(&b, &id, &secret, &audience).await == 401
    })
    .await;
    assert!(
        took.is_some(),
        "B still accepts the old secret after {LIMIT:?}"
    );
    eprintln!("secret rotation reached the other node after {took:?}");
    assert_eq!(
        client_credentials(&b, &id, &new_secret, &audience).await,
        200
    );

    let (st, _) = a
        .call(
            "DELETE",
            &format!("/api/v2/clients/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(st, 204);
    let took = within(LIMIT, || async {
        client_credentials(&b, &id, &new_secret, &audience).await == 401
    })
    .await;
    assert!(
        took.is_some(),
        "B still knows the deleted client after {LIMIT:?}"
    );
    drop(b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_on_one_node_is_refused_for_signing_and_verifying_by_the_other_at_once() {
    let a = TestServer::start("postgres").await;
    let b = a.peer().await;
    let old = a.mgmt_token().await;
    let c0 = kid_of(&old);
    // B verifies A's token with the current key, and has the tenant cached.
    let (st, _) = b
        .call("GET", "/api/v2/keys/signing", Some(&old), None)
        .await;
    assert_eq!(st, 200);
    assert_eq!(kid_of(&b.mgmt_token().await), c0);

    let (st, rotated) = a
        .call("POST", "/api/v2/keys/signing/rotate", Some(&old), None)
        .await;
    assert_eq!(st, 201, "{rotated}");
    // B signs with the promoted key at once (not after its 60 s cache)...
    let took = within(LIMIT, || async { kid_of(&b.mgmt_token().await) != c0 }).await;
    assert!(took.is_some(), "B still signs with the replaced key");
    // ...and still verifies the previous key's tokens until it is revoked.
    let (st, _) = b
        .call("GET", "/api/v2/keys/signing", Some(&old), None)
        .await;
    assert_eq!(st, 200);

    let fresh = a.mgmt_token().await;
    let (st, e) = a
        .call(
            "PUT",
            &format!("/api/v2/keys/signing/{c0}/revoke"),
            Some(&fresh),
            None,
        )
        .await;
    assert_eq!(st, 200, "{e}");
    let took = within(LIMIT, || async {
        b.call("GET", "/api/v2/keys/signing", Some(&old), None)
            .await
            .0
            == 401
    })
    .await;
    assert!(took.is_some(), "B still accepts tokens of the revoked key");
    eprintln!("key revocation reached the other node after {took:?}");
    let jwks: Value = b
        .http
        .get(format!("{}/.well-known/jwks.json", b.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        !jwks.to_string().contains(&c0),
        "B still publishes the revoked key"
    );
    drop(b);
}
