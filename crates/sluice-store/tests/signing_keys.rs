//! Signing-key rotation and revocation in the store, against both backends: rotation promotes
//! the oldest next key in one transaction (concurrent rotations serialise), revocation only
//! touches previous keys of the tenant named.

use serde_json::json;
use sluice_core::model::{KeyRecord, KeyState, TenantRecord};
use sluice_core::ports::TenantStore;
use sluice_store::SqlStore;
use sluice_store::testdb::TestDatabase;

fn key(tenant: &str, kid: &str, state: KeyState, created_at: i64) -> KeyRecord {
    KeyRecord {
        tenant_id: tenant.into(),
        kid: kid.into(),
        sealed_pkcs8: format!("sealed-{kid}"),
        created_at,
        state,
        current_since: (state == KeyState::Current).then_some(created_at),
        current_until: None,
        revoked_at: None,
    }
}

async fn tenant(s: &SqlStore, id: &str) {
    s.tenant_insert(&TenantRecord {
        id: id.into(),
        name: format!("name-{id}"),
        created_at: 1,
        settings: json!({}),
    })
    .await
    .unwrap();
}

fn find<'a>(keys: &'a [KeyRecord], kid: &str) -> &'a KeyRecord {
    keys.iter().find(|k| k.kid == kid).unwrap()
}

async fn rotation(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let s = SqlStore::connect(&db.url).await.unwrap();
    tenant(&s, "t1").await;
    tenant(&s, "t2").await;
    for k in [
        key("t1", "c1", KeyState::Current, 1),
        key("t1", "n2", KeyState::Next, 3),
        key("t1", "n1", KeyState::Next, 2),
        key("t2", "other", KeyState::Current, 1),
    ] {
        s.key_insert(&k).await.unwrap();
    }

    // The oldest next key is promoted; the current one retires; the new key is next.
    let promoted = s
        .key_rotate("t1", &key("t1", "n3", KeyState::Next, 100), 100)
        .await
        .unwrap();
    assert_eq!(promoted.as_deref(), Some("n1"));
    let keys = s.key_list("t1").await.unwrap();
    assert_eq!(keys.len(), 4);
    let c1 = find(&keys, "c1");
    assert_eq!(
        (c1.state, c1.current_since, c1.current_until),
        (KeyState::Previous, Some(1), Some(100))
    );
    let n1 = find(&keys, "n1");
    assert_eq!(
        (n1.state, n1.current_since, n1.current_until),
        (KeyState::Current, Some(100), None)
    );
    assert_eq!(find(&keys, "n2").state, KeyState::Next);
    assert_eq!(find(&keys, "n3").state, KeyState::Next);
    assert_eq!(find(&keys, "n3").sealed_pkcs8, "sealed-n3");
    // The other tenant is untouched.
    let other = s.key_list("t2").await.unwrap();
    assert_eq!(other.len(), 1);
    assert_eq!(other[0].state, KeyState::Current);

    // Without a next key nothing changes (and the new key is not inserted).
    assert_eq!(
        s.key_rotate("t2", &key("t2", "x", KeyState::Next, 100), 100)
            .await
            .unwrap(),
        None
    );
    assert_eq!(s.key_list("t2").await.unwrap().len(), 1);

    // Concurrent rotations of one tenant serialise: each promotes a different next key and
    // exactly one key is current afterwards.
    let (ka, kb) = (
        key("t1", "a", KeyState::Next, 200),
        key("t1", "b", KeyState::Next, 201),
    );
    let (a, b) = tokio::join!(s.key_rotate("t1", &ka, 200), s.key_rotate("t1", &kb, 201));
    let (a, b) = (a.unwrap().unwrap(), b.unwrap().unwrap());
    assert_ne!(a, b);
    let mut promoted = [a, b];
    promoted.sort();
    assert_eq!(promoted, ["n2".to_string(), "n3".to_string()]);
    let keys = s.key_list("t1").await.unwrap();
    let current: Vec<_> = keys
        .iter()
        .filter(|k| k.state == KeyState::Current)
        .collect();
    assert_eq!(current.len(), 1, "{keys:?}");
    assert_eq!(
        keys.iter()
            .filter(|k| k.state == KeyState::Previous)
            .count(),
        3
    );
    assert_eq!(keys.iter().filter(|k| k.state == KeyState::Next).count(), 2);
    s.close().await;
}
sluice_store::both_backends!(rotation_promotes_the_oldest_next_key_atomically, rotation);

async fn revocation(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let s = SqlStore::connect(&db.url).await.unwrap();
    tenant(&s, "t1").await;
    s.key_insert(&key("t1", "c1", KeyState::Current, 1))
        .await
        .unwrap();
    s.key_insert(&key("t1", "n1", KeyState::Next, 2))
        .await
        .unwrap();
    s.key_rotate("t1", &key("t1", "n2", KeyState::Next, 50), 50)
        .await
        .unwrap();
    // Only a previous key can be revoked, and only in its own tenant.
    assert!(!s.key_revoke("t1", "n1", 60).await.unwrap(), "current");
    assert!(!s.key_revoke("t1", "n2", 60).await.unwrap(), "next");
    assert!(!s.key_revoke("t2", "c1", 60).await.unwrap(), "other tenant");
    assert!(!s.key_revoke("t1", "nope", 60).await.unwrap(), "unknown");
    assert!(s.key_revoke("t1", "c1", 60).await.unwrap());
    let keys = s.key_list("t1").await.unwrap();
    let c1 = find(&keys, "c1");
    assert_eq!(
        (c1.state, c1.current_until, c1.revoked_at),
        (KeyState::Revoked, Some(50), Some(60))
    );
    // A second revocation changes nothing.
    assert!(!s.key_revoke("t1", "c1", 70).await.unwrap());
    assert_eq!(
        find(&s.key_list("t1").await.unwrap(), "c1").revoked_at,
        Some(60)
    );
    s.close().await;
}
sluice_store::both_backends!(only_previous_keys_are_revoked, revocation);

/// Runs `statements` on the database at `url` directly (no migrations).
async fn raw(url: &str, statements: &[&'static str]) {
    use sqlx::Connection;
    if url.starts_with("sqlite:") {
        let opts = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(url)
            .unwrap()
            .create_if_missing(true);
        let mut c = sqlx::sqlite::SqliteConnection::connect_with(&opts)
            .await
            .unwrap();
        for s in statements {
            sqlx::query(*s).execute(&mut c).await.unwrap();
        }
        c.close().await.unwrap();
    } else {
        let mut c = sqlx::postgres::PgConnection::connect(url).await.unwrap();
        for s in statements {
            sqlx::query(*s).execute(&mut c).await.unwrap();
        }
        c.close().await.unwrap();
    }
}

async fn upgrade(backend: &str) {
    let db = TestDatabase::of(backend).await;
    // A database of the release before key rotation: migrations 1-4 and one current key.
    let mut old: Vec<&'static str> = vec![
        "CREATE TABLE sluice_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        "INSERT INTO sluice_migrations (version, applied_at) VALUES (1, 0), (2, 0), (3, 0), (4, 0)",
    ];
    for (version, statements) in sluice_store::schema::MIGRATIONS {
        if *version <= 4 {
            old.extend_from_slice(statements);
        }
    }
    old.push("INSERT INTO tenants (id, name, created_at, settings) VALUES ('t1', 'acme', 7, '{}')");
    old.push("INSERT INTO signing_keys (tenant_id, kid, sealed_pkcs8, created_at, state) VALUES ('t1', 'k1', 'x', 7, 'current')");
    raw(&db.url, &old).await;
    let s = SqlStore::connect(&db.url).await.unwrap();
    let keys = s.key_list("t1").await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(
        (
            keys[0].state,
            keys[0].current_since,
            keys[0].current_until,
            keys[0].revoked_at
        ),
        (KeyState::Current, Some(7), None, None)
    );
    s.close().await;
}
sluice_store::both_backends!(upgrade_marks_existing_keys_current_since_creation, upgrade);
