//! The artifact store (codes, refresh tokens, sessions, transactions) on both backends: one-use
//! taking under concurrency, replay detection, expiry, family and per-user revocation.

use serde_json::json;
use sluice_core::ports::{Artifact, ArtifactKind, ArtifactStore, Take};
use sluice_store::SqlStore;
use sluice_store::testdb::TestDatabase;

fn artifact(kind: ArtifactKind, key: &str, family: &str, user: &str, expires_at: i64) -> Artifact {
    Artifact {
        tenant_id: "t1".into(),
        kind,
        key: key.into(),
        family: family.into(),
        user_id: Some(user.into()),
        client_id: Some("c1".into()),
        body: json!({"scope": "openid"}),
        created_at: 100,
        expires_at,
        used_at: None,
    }
}

async fn one_use(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let s = std::sync::Arc::new(SqlStore::connect(&db.url).await.unwrap());
    s.artifact_insert(&artifact(ArtifactKind::Code, "k1", "f1", "u1", 200))
        .await
        .unwrap();
    // Twenty concurrent redemptions: exactly one wins, the others see a replay.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.artifact_take("t1", ArtifactKind::Code, "k1", 150)
                .await
                .unwrap()
        }));
    }
    let mut taken = 0;
    for t in tasks {
        match t.await.unwrap() {
            Take::Taken(a) => {
                taken += 1;
                assert_eq!(a.body["scope"], "openid");
                assert_eq!(a.used_at, Some(150), "marked used by this caller");
            }
            Take::AlreadyUsed(a) => assert_eq!(a.used_at, Some(150)),
            Take::Missing => panic!("a live code went missing"),
        }
    }
    assert_eq!(taken, 1);
    // Another tenant or kind cannot see it; an expired one is missing.
    assert_eq!(
        s.artifact_take("t2", ArtifactKind::Code, "k1", 150)
            .await
            .unwrap(),
        Take::Missing
    );
    assert_eq!(
        s.artifact_take("t1", ArtifactKind::Refresh, "k1", 150)
            .await
            .unwrap(),
        Take::Missing
    );
    s.artifact_insert(&artifact(ArtifactKind::Code, "k2", "f1", "u1", 200))
        .await
        .unwrap();
    assert_eq!(
        s.artifact_take("t1", ArtifactKind::Code, "k2", 200)
            .await
            .unwrap(),
        Take::Missing,
        "expired at its expiry second"
    );
    assert!(
        s.artifact_insert(&artifact(ArtifactKind::Code, "k1", "f9", "u9", 900))
            .await
            .is_err(),
        "keys are unique per tenant and kind"
    );
}
sluice_store::both_backends!(one_use_artifacts_are_taken_exactly_once, one_use);

async fn revocation(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let s = SqlStore::connect(&db.url).await.unwrap();
    for (kind, key, fam, user) in [
        (ArtifactKind::Refresh, "r1", "fa", "u1"),
        (ArtifactKind::Refresh, "r2", "fa", "u1"),
        (ArtifactKind::Refresh, "r3", "fb", "u1"),
        (ArtifactKind::Session, "s1", "s1", "u1"),
        (ArtifactKind::Refresh, "r4", "fc", "u2"),
    ] {
        s.artifact_insert(&artifact(kind, key, fam, user, 1000))
            .await
            .unwrap();
    }
    assert!(!s.artifact_family_revoked("t1", "fa").await.unwrap());
    assert_eq!(s.artifact_revoke_family("t1", "fa", 5000).await.unwrap(), 2);
    assert!(s.artifact_family_revoked("t1", "fa").await.unwrap());
    assert!(
        !s.artifact_insert_in_family(&artifact(ArtifactKind::Refresh, "r5", "fa", "u1", 1000))
            .await
            .unwrap(),
        "nothing joins a revoked family"
    );
    assert!(
        s.artifact_insert_in_family(&artifact(ArtifactKind::Refresh, "r6", "fd", "u3", 9000))
            .await
            .unwrap()
    );
    assert!(
        !s.artifact_family_revoked("t1", "fd").await.unwrap(),
        "a family that only grew is not revoked"
    );
    assert!(
        s.artifact_fetch("t1", ArtifactKind::Refresh, "r1", 10)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        s.artifact_delete_user("t1", "u1", &[ArtifactKind::Refresh])
            .await
            .unwrap(),
        1,
        "only the refresh tokens of u1 (r3)"
    );
    assert!(
        s.artifact_fetch("t1", ArtifactKind::Session, "s1", 10)
            .await
            .unwrap()
            .is_some()
    );
    let mut s1 = s
        .artifact_fetch("t1", ArtifactKind::Session, "s1", 10)
        .await
        .unwrap()
        .unwrap();
    s1.body = json!({"clients": ["c1", "c2"]});
    s1.expires_at = 5000;
    assert!(s.artifact_update(&s1).await.unwrap());
    let back = s
        .artifact_fetch("t1", ArtifactKind::Session, "s1", 2000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back.body, json!({"clients": ["c1", "c2"]}));
    assert_eq!(s.artifact_prune(1001).await.unwrap(), 1, "r4 expired");
    assert!(
        s.artifact_delete("t1", ArtifactKind::Session, "s1")
            .await
            .unwrap()
    );
    assert!(
        !s.artifact_delete("t1", ArtifactKind::Session, "s1")
            .await
            .unwrap()
    );
}
sluice_store::both_backends!(families_and_users_are_revoked_together, revocation);
