//! The store ports against both backends: uniqueness rules, tenant isolation, paging totals,
//! reference deletes, idempotent migrations and error mapping.

use serde_json::json;
use sluice_core::model::{Doc, DocKind, KeyRecord, KeyState, TenantRecord, UserOrigin, UserRecord};
use sluice_core::ports::{DocStore, Page, Store, StoreError, TenantStore, UserFilter, UserStore};
use sluice_store::SqlStore;
use sluice_store::testdb::TestDatabase;
use sluice_types::{Identity, User};

fn doc(id: &str, key: &str, ref_id: Option<&str>, at: i64) -> Doc {
    Doc {
        id: id.into(),
        key: key.into(),
        ref_id: ref_id.map(str::to_string),
        body: json!({"id": id}),
        created_at: at,
        updated_at: at,
    }
}

fn user(tenant: &str, id: &str, conn: &str, email: &str, username: Option<&str>) -> UserRecord {
    UserRecord {
        tenant_id: tenant.into(),
        connection: conn.into(),
        email_key: Some(email.to_lowercase()),
        username_key: username.map(str::to_lowercase),
        password_hash: Some("$argon2id$v=19$x".into()),
        origin: UserOrigin::Migrated {
            at: "2026-11-27T00:00:00.000Z".into(),
            connection: conn.into(),
        },
        version: 0,
        profile: User {
            user_id: id.into(),
            email: Some(email.to_lowercase()),
            email_verified: false,
            username: username.map(str::to_string),
            phone_number: None,
            phone_verified: None,
            name: None,
            nickname: None,
            given_name: None,
            family_name: None,
            picture: None,
            created_at: "2026-11-27T00:00:00.000Z".into(),
            updated_at: "2026-11-27T00:00:00.000Z".into(),
            identities: vec![Identity {
                connection: conn.into(),
                user_id: id.into(),
                provider: "auth0".into(),
                is_social: false,
                access_token: None,
                refresh_token: None,
                migration: None,
            }],
            user_metadata: Default::default(),
            app_metadata: Default::default(),
            last_login: None,
            last_ip: None,
            logins_count: 0,
            blocked: None,
            last_password_reset: None,
        },
    }
}

async fn documents(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let s = SqlStore::connect(&db.url).await.unwrap();
    s.doc_insert("t1", DocKind::Connection, &doc("a", "db", None, 1))
        .await
        .unwrap();
    assert_eq!(
        s.doc_insert("t1", DocKind::Connection, &doc("b", "db", None, 2))
            .await,
        Err(StoreError::Conflict("connection".into()))
    );
    assert!(matches!(
        s.doc_insert("t1", DocKind::Connection, &doc("a", "other", None, 2))
            .await,
        Err(StoreError::Conflict(_))
    ));
    // The same key in another tenant or of another kind is fine.
    s.doc_insert("t2", DocKind::Connection, &doc("a", "db", None, 1))
        .await
        .unwrap();
    s.doc_insert("t1", DocKind::Client, &doc("a", "db", None, 1))
        .await
        .unwrap();
    for i in 0..5 {
        s.doc_insert(
            "t1",
            DocKind::ClientGrant,
            &doc(
                &format!("g{i}"),
                &format!("k{i}"),
                Some(if i < 3 { "c1" } else { "c2" }),
                10 + i,
            ),
        )
        .await
        .unwrap();
    }
    let (page, total) = s
        .doc_list(
            "t1",
            DocKind::ClientGrant,
            None,
            Page {
                offset: 1,
                limit: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!(total, 5);
    assert_eq!(
        page.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        ["g1", "g2"],
        "ordered by creation"
    );
    let (c1, total) = s
        .doc_list(
            "t1",
            DocKind::ClientGrant,
            Some("c1"),
            Page {
                offset: 0,
                limit: 50,
            },
        )
        .await
        .unwrap();
    assert_eq!((c1.len(), total), (3, 3));
    assert_eq!(
        s.doc_delete_by_ref("t1", DocKind::ClientGrant, "c1")
            .await
            .unwrap(),
        3
    );
    let fetched = s
        .doc_fetch_by_key("t1", DocKind::Connection, "db")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fetched.body, json!({"id": "a"}));
    let mut changed = fetched.clone();
    changed.key = "renamed".into();
    assert!(
        s.doc_update("t1", DocKind::Connection, &changed)
            .await
            .unwrap()
    );
    assert!(
        s.doc_fetch_by_key("t1", DocKind::Connection, "db")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !s.doc_update("t1", DocKind::Connection, &doc("zzz", "x", None, 1))
            .await
            .unwrap()
    );
    assert!(s.doc_delete("t1", DocKind::Connection, "a").await.unwrap());
    assert!(!s.doc_delete("t1", DocKind::Connection, "a").await.unwrap());
    assert!(
        s.doc_fetch("t2", DocKind::Connection, "a")
            .await
            .unwrap()
            .is_some(),
        "other tenant untouched"
    );
    s.close().await;
}
sluice_store::both_backends!(documents_keep_keys_unique_per_tenant_and_kind, documents);

async fn users(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let s = SqlStore::connect(&db.url).await.unwrap();
    s.user_insert(&user(
        "t1",
        "auth0|1",
        "db",
        "Alice@Example.com",
        Some("alice"),
    ))
    .await
    .unwrap();
    // Email and username are unique per connection, case-insensitively.
    assert_eq!(
        s.user_insert(&user("t1", "auth0|2", "db", "ALICE@example.com", None))
            .await,
        Err(StoreError::Conflict("user".into()))
    );
    assert!(
        s.user_insert(&user(
            "t1",
            "auth0|3",
            "db",
            "bob@example.com",
            Some("ALICE")
        ))
        .await
        .is_err()
    );
    assert!(
        s.user_insert(&user("t1", "auth0|1", "db2", "carol@example.com", None))
            .await
            .is_err(),
        "user_id is unique in a tenant"
    );
    // The same email in another connection or tenant is another user.
    s.user_insert(&user("t1", "auth0|4", "db2", "alice@example.com", None))
        .await
        .unwrap();
    s.user_insert(&user("t2", "auth0|1", "db", "alice@example.com", None))
        .await
        .unwrap();
    let f = UserFilter {
        email: Some("ALICE@EXAMPLE.COM".into()),
        ..Default::default()
    };
    let (found, total) = s
        .user_search(
            "t1",
            &f,
            Page {
                offset: 0,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(total, 2);
    assert_eq!(found.len(), 2);
    let f = UserFilter {
        email: Some("alice@example.com".into()),
        connection: Some("db".into()),
        ..Default::default()
    };
    let (found, _) = s
        .user_search(
            "t1",
            &f,
            Page {
                offset: 0,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(found[0].profile.user_id, "auth0|1");
    assert_eq!(
        found[0].origin,
        UserOrigin::Migrated {
            at: "2026-11-27T00:00:00.000Z".into(),
            connection: "db".into()
        }
    );
    let mut r = s.user_fetch("t1", "auth0|1").await.unwrap().unwrap();
    r.profile.name = Some("Alice".into());
    r.email_key = Some("alice2@example.com".into());
    let stale = r.clone();
    assert!(s.user_update(&mut r).await.unwrap());
    assert_eq!(r.version, 1);
    // A write made from what was read before another write is refused, not applied.
    let mut stale = stale;
    stale.profile.name = Some("Mallory".into());
    assert!(matches!(
        s.user_update(&mut stale).await,
        Err(StoreError::Stale(_))
    ));
    let again = s.user_fetch("t1", "auth0|1").await.unwrap().unwrap();
    assert_eq!(again.profile.name.as_deref(), Some("Alice"));
    assert_eq!(again.password_hash.as_deref(), Some("$argon2id$v=19$x"));
    assert!(s.user_delete("t1", "auth0|1").await.unwrap());
    assert!(s.user_fetch("t1", "auth0|1").await.unwrap().is_none());
    assert!(s.user_fetch("t2", "auth0|1").await.unwrap().is_some());
    s.close().await;
}
sluice_store::both_backends!(
    users_are_unique_per_connection_and_isolated_per_tenant,
    users
);

async fn tenants_and_migrations(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let s = SqlStore::connect(&db.url).await.unwrap();
    let t = TenantRecord {
        id: "ten_1".into(),
        name: "acme".into(),
        created_at: 5,
        settings: json!({"friendly_name": "Acme"}),
    };
    s.tenant_insert(&t).await.unwrap();
    assert!(matches!(
        s.tenant_insert(&TenantRecord {
            id: "ten_2".into(),
            ..t.clone()
        })
        .await,
        Err(StoreError::Conflict(_))
    ));
    s.key_insert(&KeyRecord {
        tenant_id: "ten_1".into(),
        kid: "k1".into(),
        sealed_pkcs8: "v1.x".into(),
        created_at: 5,
        state: KeyState::Current,
        current_since: Some(5),
        current_until: None,
        revoked_at: None,
    })
    .await
    .unwrap();
    s.close().await;
    // Connecting again re-runs migrations as a no-op and keeps the data.
    let s = SqlStore::connect(&db.url).await.unwrap();
    assert_eq!(s.tenant_fetch_by_name("acme").await.unwrap(), Some(t));
    assert_eq!(s.key_list("ten_1").await.unwrap().len(), 1);
    assert_eq!(s.tenant_list().await.unwrap().len(), 1);
    s.ping().await.unwrap();
    s.close().await;
}
sluice_store::both_backends!(
    tenants_persist_and_migrations_are_idempotent,
    tenants_and_migrations
);

#[tokio::test]
async fn unreachable_postgres_is_unavailable_not_a_panic() {
    let err = SqlStore::connect("postgres://postgres@127.0.0.1:1/nothing")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn concurrent_starts_on_postgres_migrate_once() {
    let db = TestDatabase::postgres().await.unwrap();
    let (a, b, c) = tokio::join!(
        SqlStore::connect(&db.url),
        SqlStore::connect(&db.url),
        SqlStore::connect(&db.url)
    );
    for s in [a.unwrap(), b.unwrap(), c.unwrap()] {
        s.ping().await.unwrap();
        s.close().await;
    }
}

async fn logs(backend: &str) {
    use sluice_core::ports::{LogFilter, LogRecord, LogStore};
    let db = TestDatabase::of(backend).await;
    let s = SqlStore::connect(&db.url).await.unwrap();
    for (i, ty) in ["s", "fp", "s"].iter().enumerate() {
        s.log_insert(&LogRecord {
            tenant_id: "t1".into(),
            log_id: format!("{i:020}"),
            date: 1000 * i as i64,
            log_type: ty.to_string(),
            user_id: Some("u".into()),
            body: json!({"n": i}),
        })
        .await
        .unwrap();
    }
    s.log_insert(&LogRecord {
        tenant_id: "t2".into(),
        log_id: "x".into(),
        date: 0,
        log_type: "s".into(),
        user_id: None,
        body: json!({}),
    })
    .await
    .unwrap();
    let (page, total) = s
        .log_search(
            "t1",
            &LogFilter::default(),
            Page {
                offset: 0,
                limit: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!(total, 3);
    assert_eq!(page[0].body, json!({"n": 2}), "newest first");
    let (fp, _) = s
        .log_search(
            "t1",
            &LogFilter {
                log_type: Some("fp".into()),
                ..Default::default()
            },
            Page {
                offset: 0,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(fp.len(), 1);
    assert_eq!(
        s.log_prune(1500).await.unwrap(),
        3,
        "events older than the cut-off, all tenants"
    );
    assert_eq!(
        s.log_search(
            "t1",
            &LogFilter::default(),
            Page {
                offset: 0,
                limit: 10
            }
        )
        .await
        .unwrap()
        .1,
        1
    );
    s.close().await;
}
sluice_store::both_backends!(logs_are_newest_first_filtered_and_pruned, logs);

/// Concurrent inserts are group-committed: every one lands, each is readable as soon as its
/// insert returned.
async fn concurrent_logs(backend: &str) {
    use sluice_core::ports::{LogFilter, LogRecord, LogStore};
    let db = TestDatabase::of(backend).await;
    let s = SqlStore::connect(&db.url).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..200 {
        let s = s.clone();
        tasks.spawn(async move {
            let id = format!("{i:020}");
            s.log_insert(&LogRecord {
                tenant_id: "t1".into(),
                log_id: id.clone(),
                date: i,
                log_type: "s".into(),
                user_id: None,
                body: json!({"n": i}),
            })
            .await
            .unwrap();
            s.log_fetch("t1", &id).await.unwrap().is_some()
        });
    }
    assert!(tasks.join_all().await.into_iter().all(|seen| seen));
    let (_, total) = s
        .log_search(
            "t1",
            &LogFilter::default(),
            Page {
                offset: 0,
                limit: 1,
            },
        )
        .await
        .unwrap();
    assert_eq!(total, 200);
    s.close().await;
}
sluice_store::both_backends!(
    concurrent_log_events_all_land_once_committed,
    concurrent_logs
);

/// An event the database refuses (PostgreSQL takes no NUL in text) fails alone: the events
/// group-committed with it still land.
async fn one_bad_log_event(backend: &str) {
    use sluice_core::ports::{LogRecord, LogStore};
    let db = TestDatabase::of(backend).await;
    let s = SqlStore::connect(&db.url).await.unwrap();
    for round in 0..5 {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..20 {
            let s = s.clone();
            tasks.spawn(async move {
                let id = format!("{round:04}{i:016}");
                let bad = i == 7;
                let r = s
                    .log_insert(&LogRecord {
                        tenant_id: "t1".into(),
                        log_id: id.clone(),
                        date: i,
                        log_type: "f".into(),
                        user_id: Some(if bad { "nul\0here".into() } else { "u".into() }),
                        body: json!({"n": i}),
                    })
                    .await;
                (
                    bad,
                    r.is_ok(),
                    s.log_fetch("t1", &id).await.unwrap().is_some(),
                )
            });
        }
        for (bad, ok, stored) in tasks.join_all().await {
            if !bad {
                assert!(ok && stored, "round {round}: a good event was lost");
            } else {
                assert_eq!(ok, stored);
            }
        }
    }
    s.close().await;
}
sluice_store::both_backends!(
    one_refused_log_event_never_takes_the_others_with_it,
    one_bad_log_event
);

async fn attempts(backend: &str) {
    use sluice_core::ports::AttemptStore;
    let db = TestDatabase::of(backend).await;
    let s = SqlStore::connect(&db.url).await.unwrap();
    for i in 1..=3 {
        assert!(
            s.attempt_reserve("t", "db", "a@b.c", "1.2.3.4", 3, i)
                .await
                .unwrap()
        );
        assert_eq!(
            s.attempt_fail("t", "db", "a@b.c", "1.2.3.4", 3, i)
                .await
                .unwrap(),
            i == 3,
            "blocked at the limit"
        );
    }
    assert!(
        !s.attempt_reserve("t", "db", "a@b.c", "1.2.3.4", 3, 4)
            .await
            .unwrap(),
        "no attempt past the limit"
    );
    assert_eq!(
        s.attempt_state("t", "db", "a@b.c", "1.2.3.4")
            .await
            .unwrap(),
        Some(true)
    );
    assert_eq!(
        s.attempt_state("t", "db", "a@b.c", "5.6.7.8")
            .await
            .unwrap(),
        None
    );
    s.attempt_reset("t", "db", "a@b.c", "1.2.3.4")
        .await
        .unwrap();
    assert_eq!(
        s.attempt_state("t", "db", "a@b.c", "1.2.3.4")
            .await
            .unwrap(),
        Some(true),
        "a success from elsewhere does not unblock"
    );
    assert_eq!(
        s.attempt_blocks("t", "a@b.c").await.unwrap(),
        vec![("a@b.c".to_string(), "1.2.3.4".to_string())]
    );
    assert_eq!(s.attempt_unblock("t", "a@b.c").await.unwrap(), 1);
    assert_eq!(
        s.attempt_state("t", "db", "a@b.c", "1.2.3.4")
            .await
            .unwrap(),
        None
    );
    // A reservation released (no verdict on the password) is not a failure.
    for _ in 0..5 {
        assert!(
            s.attempt_reserve("t", "db", "a@b.c", "9.9.9.9", 3, 1)
                .await
                .unwrap()
        );
        s.attempt_release("t", "db", "a@b.c", "9.9.9.9")
            .await
            .unwrap();
    }
    assert!(
        s.attempt_reserve("t", "db", "a@b.c", "9.9.9.9", 3, 1)
            .await
            .unwrap()
    );
    s.attempt_fail("t", "db", "a@b.c", "9.9.9.9", 3, 1)
        .await
        .unwrap();
    assert_eq!(
        s.attempt_state("t", "db", "a@b.c", "9.9.9.9")
            .await
            .unwrap(),
        Some(false),
        "counted, not blocked"
    );
    s.close().await;
}
sluice_store::both_backends!(login_failures_block_at_the_limit_and_unblock, attempts);

/// Many reservations at once, from two store instances (two nodes): exactly the limit win.
async fn parallel_reservations(backend: &str) {
    use sluice_core::ports::AttemptStore;
    let db = TestDatabase::of(backend).await;
    let a = SqlStore::connect(&db.url).await.unwrap();
    let b = SqlStore::connect(&db.url).await.unwrap();
    for round in 0..5 {
        let ip = format!("10.0.0.{round}");
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..40 {
            let (s, ip) = (if i % 2 == 0 { a.clone() } else { b.clone() }, ip.clone());
            tasks.spawn(async move {
                s.attempt_reserve("t", "db", "x@y.z", &ip, 10, 1)
                    .await
                    .unwrap()
            });
        }
        let won = tasks.join_all().await.into_iter().filter(|w| *w).count();
        assert_eq!(
            won, 10,
            "round {round}: reservations granted past the limit"
        );
    }
    a.close().await;
    b.close().await;
}
sluice_store::both_backends!(
    attempt_reservations_never_exceed_the_limit_across_nodes,
    parallel_reservations
);

async fn cache(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let a = SqlStore::connect(&db.url).await.unwrap();
    let b = SqlStore::connect(&db.url).await.unwrap();
    a.doc_insert("t", DocKind::Client, &doc("c1", "k1", None, 1))
        .await
        .unwrap();
    assert!(
        a.doc_fetch("t", DocKind::Client, "c1")
            .await
            .unwrap()
            .is_some()
    );
    // A node reads its own writes at once: update, delete, delete by ref, insert.
    let mut d = doc("c1", "k1", Some("r"), 1);
    d.body = json!({"v": 2});
    assert!(a.doc_update("t", DocKind::Client, &d).await.unwrap());
    assert_eq!(
        a.doc_fetch("t", DocKind::Client, "c1")
            .await
            .unwrap()
            .unwrap()
            .body,
        json!({"v": 2})
    );
    assert_eq!(
        a.doc_list(
            "t",
            DocKind::Client,
            None,
            Page {
                offset: 0,
                limit: 10
            }
        )
        .await
        .unwrap()
        .1,
        1
    );
    assert_eq!(
        a.doc_delete_by_ref("t", DocKind::Client, "r")
            .await
            .unwrap(),
        1
    );
    assert!(
        a.doc_fetch("t", DocKind::Client, "c1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        a.doc_fetch_by_key("t", DocKind::Client, "k1")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        a.doc_list(
            "t",
            DocKind::Client,
            None,
            Page {
                offset: 0,
                limit: 10
            }
        )
        .await
        .unwrap()
        .1,
        0
    );
    a.doc_insert("t", DocKind::Client, &doc("c2", "k2", None, 2))
        .await
        .unwrap();
    assert!(
        a.doc_fetch_by_key("t", DocKind::Client, "k2")
            .await
            .unwrap()
            .is_some()
    );
    // One-time tickets are never cached: another node's use of one is seen at once.
    a.doc_insert("t", DocKind::Ticket, &doc("tk", "tk", None, 3))
        .await
        .unwrap();
    assert!(
        a.doc_fetch("t", DocKind::Ticket, "tk")
            .await
            .unwrap()
            .is_some()
    );
    assert!(b.doc_delete("t", DocKind::Ticket, "tk").await.unwrap());
    assert!(
        a.doc_fetch("t", DocKind::Ticket, "tk")
            .await
            .unwrap()
            .is_none()
    );
}
sluice_store::both_backends!(a_node_reads_its_own_writes_through_the_cache, cache);
