//! Signing-key rotation end to end (issue 5): the JWKS publishes the next key before it signs,
//! tokens signed before a rotation keep verifying, revoking the previous key unpublishes it and
//! its tokens stop working, and a second node sharing the database picks up a rotation within
//! a minute of its clock.

use serde_json::{Value, json};
use sluice_core::Core;
use sluice_core::ports::Clock;
use sluice_core::tenant::TENANT_CACHE_SECONDS;
use sluice_crypto::jwt;
use sluice_crypto::keys::{Jwk, VerifyingKey};
use sluice_testkit::{BOOTSTRAP_ID, TestServer};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

#[allow(clippy::disallowed_methods)] // the test is a client checking tokens against real time
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The `kid` in a token's header.
fn kid_of(token: &str) -> String {
    let (header, _) = jwt::decode_unverified(token).unwrap();
    header["kid"].as_str().unwrap().to_string()
}

/// The published JWKS (checking its caching header) as its kids and verifying keys.
async fn jwks(s: &TestServer) -> (Vec<String>, Vec<VerifyingKey>) {
    let r = s
        .http
        .get(format!("{}/.well-known/jwks.json", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "public, max-age=300");
    let doc: Value = r.json().await.unwrap();
    let jwks: Vec<Jwk> = serde_json::from_value(doc["keys"].clone()).unwrap();
    let kids = jwks.iter().map(|k| k.kid.clone()).collect();
    let keys = jwks
        .iter()
        .map(|k| VerifyingKey::from_jwk(k).unwrap())
        .collect();
    (kids, keys)
}

/// Verifies a Management API token the way a relying party would, with the JWKS keys.
fn verify(s: &TestServer, token: &str, keys: &[VerifyingKey]) -> Result<(), String> {
    let v = jwt::Validation {
        issuer: &format!("{}/", s.url),
        audience: &format!("{}/api/v2/", s.url),
        now: unix_now(),
        leeway: 0,
    };
    jwt::verify(token, keys, &v)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn hex_upper(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_publishes_before_signing_and_revocation_unpublishes() {
    let s = TestServer::start("sqlite").await;
    let before = s.mgmt_token().await;
    let c0 = kid_of(&before);

    // Before any rotation: the current key, then the next one, already published.
    let (kids, keys) = jwks(&s).await;
    assert_eq!(kids.len(), 2, "{kids:?}");
    assert_eq!(kids[0], c0);
    let n0 = kids[1].clone();
    verify(&s, &before, &keys).unwrap();

    let (st, list) = s
        .call("GET", "/api/v2/keys/signing", Some(&before), None)
        .await;
    assert_eq!(st, 200, "{list}");
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    let current = list.iter().find(|k| k["kid"] == c0.as_str()).unwrap();
    assert_eq!(
        (
            &current["current"],
            &current["next"],
            &current["previous"],
            &current["revoked"]
        ),
        (&json!(true), &json!(false), &json!(false), &json!(false))
    );
    assert!(current["current_since"].as_str().unwrap().ends_with('Z'));
    assert!(current.get("current_until").is_none() && current.get("cert").is_none());
    // The thumbprint is the RFC 7638 SHA-256 thumbprint of the published JWK, in hex.
    let thumb = current["thumbprint"].as_str().unwrap();
    assert_eq!(thumb.len(), 64);
    assert!(hex_upper(thumb));
    assert_eq!(
        current["fingerprint"].as_str().unwrap().replace(':', ""),
        thumb
    );
    let doc: Value = s
        .http
        .get(format!("{}/.well-known/jwks.json", s.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk: Jwk = serde_json::from_value(doc["keys"][0].clone()).unwrap();
    let expected: String = jwk
        .thumbprint_sha256()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    assert_eq!(thumb, expected);

    let (st, next) = s
        .call(
            "GET",
            &format!("/api/v2/keys/signing/{n0}"),
            Some(&before),
            None,
        )
        .await;
    assert_eq!(st, 200, "{next}");
    assert_eq!(
        (&next["next"], &next["current"]),
        (&json!(true), &json!(false))
    );
    assert!(next.get("current_since").is_none());
    let (st, e) = s
        .call("GET", "/api/v2/keys/signing/nope", Some(&before), None)
        .await;
    assert_eq!(st, 404, "{e}");

    // Neither the current nor the next key can be revoked.
    for kid in [&c0, &n0] {
        let (st, e) = s
            .call(
                "PUT",
                &format!("/api/v2/keys/signing/{kid}/revoke"),
                Some(&before),
                None,
            )
            .await;
        assert_eq!(st, 400, "{e}");
        assert_eq!(e["errorCode"], "operation_not_supported");
    }

    // Rotate: the next key signs, a new next key is published, the old key stays.
    let (st, rotated) = s
        .call("POST", "/api/v2/keys/signing/rotate", Some(&before), None)
        .await;
    assert_eq!(st, 201, "{rotated}");
    let n1 = rotated["kid"].as_str().unwrap().to_string();
    assert!(n1 != c0 && n1 != n0);
    assert!(rotated.get("cert").is_none());
    let (kids, keys) = jwks(&s).await;
    assert_eq!(kids, [n0.clone(), n1.clone(), c0.clone()]);
    verify(&s, &before, &keys).expect("a token signed before the rotation still verifies");
    let after = s.mgmt_token().await;
    assert_eq!(kid_of(&after), n0, "new tokens carry the former next kid");
    verify(&s, &after, &keys).unwrap();

    // The old token still works at the Management API, which lists the keys' new roles.
    let (st, list) = s
        .call("GET", "/api/v2/keys/signing", Some(&before), None)
        .await;
    assert_eq!(st, 200, "{list}");
    let role = |kid: &str| {
        let k = list
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid)
            .unwrap()
            .clone();
        (
            k["current"] == true,
            k["next"] == true,
            k["previous"] == true,
        )
    };
    assert_eq!(role(&c0), (false, false, true));
    assert_eq!(role(&n0), (true, false, false));
    assert_eq!(role(&n1), (false, true, false));
    let old = list
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == c0.as_str())
        .unwrap();
    assert!(old["current_until"].is_string());

    // Revoking the previous key unpublishes it; its tokens stop working.
    let (st, revoked) = s
        .call(
            "PUT",
            &format!("/api/v2/keys/signing/{c0}/revoke"),
            Some(&after),
            None,
        )
        .await;
    assert_eq!(st, 200, "{revoked}");
    assert_eq!(revoked, json!({"kid": c0}));
    let (kids, keys) = jwks(&s).await;
    assert_eq!(kids, [n0.clone(), n1.clone()]);
    assert!(verify(&s, &before, &keys).is_err());
    let (st, e) = s
        .call("GET", "/api/v2/keys/signing", Some(&before), None)
        .await;
    assert_eq!(st, 401, "a token of the revoked key is refused: {e}");
    let (st, k) = s
        .call(
            "GET",
            &format!("/api/v2/keys/signing/{c0}"),
            Some(&after),
            None,
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(
        (&k["revoked"], &k["previous"]),
        (&json!(true), &json!(true))
    );
    assert!(k["revoked_at"].is_string());
    // Revoking it again changes nothing.
    let (st, _) = s
        .call(
            "PUT",
            &format!("/api/v2/keys/signing/{c0}/revoke"),
            Some(&after),
            None,
        )
        .await;
    assert_eq!(st, 200);
    let (st, _) = s
        .call("GET", "/api/v2/keys/signing", Some(&after), None)
        .await;
    assert_eq!(st, 200);
}

/// A clock the test moves by hand.
struct ManualClock(AtomicI64);

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A second node: its own core (and tenant cache) over the server's database and encryption
/// key, with a clock the test controls.
async fn second_node(s: &TestServer, clock: Arc<ManualClock>) -> Core {
    let store = sluice_store::SqlStore::connect(s.db_url()).await.unwrap();
    let sealer = sluice::bootstrap::load_or_create_key(&s.data_dir).unwrap();
    let settings = sluice::config::Settings::for_tests(s.data_dir.clone(), s.db_url().into());
    let mailer = sluice::mail::mailer(&settings.email, &s.data_dir, None).unwrap();
    let runner = sluice_scripts::ScriptRuntime::with_default_egress(
        sluice_scripts::Limits::default(),
        sluice_scripts::EgressPolicy::allow_all(),
    );
    Core::new(
        Arc::new(store),
        clock,
        sealer,
        Arc::new(sluice_scripts::SyntaxChecker),
        Arc::new(runner),
        mailer,
        s.core().config.clone(),
    )
    .unwrap()
}

/// A Management API token signed with the current key of `t`, a node's view of the tenant
/// (the way that node would issue one).
fn token_from(t: &sluice_core::TenantCtx, now: i64) -> String {
    let mut claims = serde_json::Map::new();
    claims.insert("iss".into(), t.issuer.clone().into());
    claims.insert("sub".into(), format!("{BOOTSTRAP_ID}@clients").into());
    claims.insert("azp".into(), BOOTSTRAP_ID.into());
    claims.insert("aud".into(), t.mgmt_audience.clone().into());
    claims.insert("iat".into(), now.into());
    claims.insert("exp".into(), (now + 3600).into());
    claims.insert("scope".into(), "read:signing_keys".into());
    claims.insert("gty".into(), "client-credentials".into());
    sluice_crypto::jwt::sign(&t.signing, &claims).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_node_follows_rotation_and_revocation_within_a_minute() {
    let a = TestServer::start("postgres").await;
    let clock = Arc::new(ManualClock(AtomicI64::new(unix_now())));
    let b = second_node(&a, clock.clone()).await;
    let tenant = a.core().config.default_tenant.clone();
    let before = a.mgmt_token().await;
    let c0 = kid_of(&before);
    let t = b.tenant(&tenant).await.unwrap();
    assert_eq!(t.signing.kid(), c0);
    assert_eq!(t.jwks.keys.len(), 2);

    // Node A rotates.
    let (st, rotated) = a
        .call("POST", "/api/v2/keys/signing/rotate", Some(&before), None)
        .await;
    assert_eq!(st, 201, "{rotated}");
    let n1 = rotated["kid"].as_str().unwrap().to_string();
    let after = a.mgmt_token().await;
    let n0 = kid_of(&after);
    assert_ne!(n0, c0);

    // B has not noticed yet, yet it already accepts A's new tokens (it published their key as
    // its next key), and A accepts the tokens B still signs with the previous key.
    let t = b.tenant(&tenant).await.unwrap();
    assert_eq!(t.signing.kid(), c0);
    b.mgmt_actor(&t, &after)
        .expect("B verifies tokens of the promoted key");
    let from_b = token_from(&t, unix_now());
    assert_eq!(kid_of(&from_b), c0);
    let (st, e) = a
        .call("GET", "/api/v2/keys/signing", Some(&from_b), None)
        .await;
    assert_eq!(st, 200, "A accepts B's token: {e}");

    // Within the cache period B keeps its keys; after it, B signs with the promoted key and
    // publishes A's new next key.
    clock
        .0
        .fetch_add(TENANT_CACHE_SECONDS - 1, Ordering::SeqCst);
    assert_eq!(b.tenant(&tenant).await.unwrap().signing.kid(), c0);
    clock.0.fetch_add(1, Ordering::SeqCst);
    let t = b.tenant(&tenant).await.unwrap();
    assert_eq!(t.signing.kid(), n0);
    let kids: Vec<&str> = t.jwks.keys.iter().map(|k| k.kid.as_str()).collect();
    assert_eq!(kids, [n0.as_str(), n1.as_str(), c0.as_str()]);
    assert_eq!(kid_of(&token_from(&t, unix_now())), n0);

    // A revokes the previous key: B refuses its tokens once its cache period has passed.
    let (st, e) = a
        .call(
            "PUT",
            &format!("/api/v2/keys/signing/{c0}/revoke"),
            Some(&after),
            None,
        )
        .await;
    assert_eq!(st, 200, "{e}");
    assert!(
        b.mgmt_actor(&b.tenant(&tenant).await.unwrap(), &before)
            .is_ok()
    );
    clock.0.fetch_add(TENANT_CACHE_SECONDS, Ordering::SeqCst);
    let t = b.tenant(&tenant).await.unwrap();
    assert!(b.mgmt_actor(&t, &before).is_err());
    assert!(b.mgmt_actor(&t, &after).is_ok());
    assert_eq!(t.jwks.keys.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn previous_keys_leave_the_jwks_thirty_days_after_they_stopped_signing() {
    let a = TestServer::start("sqlite").await;
    let clock = Arc::new(ManualClock(AtomicI64::new(unix_now())));
    let b = second_node(&a, clock.clone()).await;
    let tenant = a.core().config.default_tenant.clone();
    let token = a.mgmt_token().await;
    let c0 = kid_of(&token);
    let before = unix_now();
    let (st, e) = a
        .call("POST", "/api/v2/keys/signing/rotate", Some(&token), None)
        .await;
    assert_eq!(st, 201, "{e}");
    let retired = unix_now();
    let published = |t: &sluice_core::TenantCtx| t.jwks.keys.iter().any(|k| k.kid == c0);
    clock.0.store(before + 30 * 86_400 - 1, Ordering::SeqCst);
    assert!(published(&b.tenant_refresh(&tenant).await.unwrap()));
    clock.0.store(retired + 30 * 86_400 + 1, Ordering::SeqCst);
    let t = b.tenant_refresh(&tenant).await.unwrap();
    assert!(!published(&t));
    assert_eq!(t.jwks.keys.len(), 2);
    assert_eq!(t.verifying.len(), 2);
}
