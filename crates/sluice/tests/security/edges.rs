//! What a client controls at the edges: the forwarding header, the characters of an identifier,
//! the case of a host name; and a replayed authorization code.

use super::support::browser::{Browser, hidden, param, pkce};
use super::support::{app_and_connection, login};
use super::*;

async fn attempt(s: &TestServer, app: &(String, String), pw: &str, forwarded: &str) -> u16 {
    s.http
        .post(format!("{}/oauth/token", s.url))
        .header("auth0-forwarded-for", forwarded)
        .form(&[
            ("grant_type", PASSWORD_REALM),
            ("client_id", app.0.as_str()),
            ("client_secret", app.1.as_str()),
            ("realm", "db"),
            ("username", "victim@example.com"),
            ("password", pw),
        ])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn auth0_forwarded_for_is_honoured_only_from_a_trusted_confidential_client() {
    let s = TestServer::start("sqlite").await;
    let admin = s.mgmt_token().await;
    let app = app_and_connection(&s, &admin, "db", json!({"passwordPolicy": "none"})).await;
    post(
        &s,
        &admin,
        "/api/v2/users",
        json!({"connection": "db", "email": "victim@example.com", "password": "right"}),
    )
    .await;
    // Untrusted (Auth0's default): 30 wrong passwords, each "from" another address, are all one
    // attacker at the peer address, blocked after ten.
    let mut statuses = Vec::new();
    for i in 0..30 {
        statuses.push(attempt(&s, &app, "wrong", &format!("203.0.113.{}", i + 1)).await);
    }
    assert_eq!(&statuses[..10], &[403; 10]);
    assert!(statuses[10..].iter().all(|st| *st == 429), "{statuses:?}");
    assert_eq!(attempt(&s, &app, "right", "198.51.100.99").await, 429);

    // Trusted: the header names the end user, whose own failures count.
    let (st, _) = s
        .call(
            "DELETE",
            "/api/v2/user-blocks?identifier=victim%40example.com",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(st, 204);
    let (st, e) = s
        .call(
            "PATCH",
            &format!("/api/v2/clients/{}", app.0),
            Some(&admin),
            Some(json!({"is_token_endpoint_ip_header_trusted": true})),
        )
        .await;
    assert_eq!(st, 200, "{e}");
    for _ in 0..10 {
        assert_eq!(attempt(&s, &app, "wrong", "203.0.113.200").await, 403);
    }
    assert_eq!(attempt(&s, &app, "right", "203.0.113.200").await, 429);
    assert_eq!(attempt(&s, &app, "right", "198.51.100.7").await, 200);
    // A header that is no IP address is not an address to key on: the peer is used.
    assert_eq!(attempt(&s, &app, "right", "not-an-ip").await, 200);
}

async fn control_characters(backend: &str) {
    let s = TestServer::start(backend).await;
    let admin = s.mgmt_token().await;
    let app = app_and_connection(&s, &admin, "db", json!({"passwordPolicy": "none"})).await;
    for bad in [
        "nul\0@example.com",
        "bell\u{7}@example.com",
        "line\nfeed@example.com",
    ] {
        let (st, e) = login(&s, &app, "db", bad, "pw", "openid").await;
        assert_eq!(
            (st, e["error"].as_str()),
            (400, Some("invalid_request")),
            "token endpoint, {bad:?}: {e}"
        );
        let (st, e) = support::signup(&s, &app.0, "db", bad, "pw").await;
        assert!((400..500).contains(&st), "signup {bad:?}: {st} {e}");
        let (st, e) = s
            .call(
                "POST",
                "/dbconnections/change_password",
                None,
                Some(json!({"email": bad, "connection": "db"})),
            )
            .await;
        assert!(
            (400..500).contains(&st),
            "change_password {bad:?}: {st} {e}"
        );
        let (st, e) = s
            .call(
                "POST",
                "/api/v2/users",
                Some(&admin),
                Some(json!({"connection": "db", "email": bad, "password": "pw"})),
            )
            .await;
        assert!((400..500).contains(&st), "create user {bad:?}: {st} {e}");
        let q: String = url::form_urlencoded::byte_serialize(bad.as_bytes()).collect();
        for path in [
            format!("/api/v2/users-by-email?email={q}"),
            format!("/api/v2/users?q=email%3A%22{q}%22"),
            format!("/api/v2/user-blocks?identifier={q}"),
        ] {
            let (st, e) = s.call("GET", &path, Some(&admin), None).await;
            assert!(st < 500, "{path}: {st} {e}");
        }
    }
    // The server is fine afterwards.
    let (st, _) = s.call("GET", "/api/v2/users", Some(&admin), None).await;
    assert_eq!(st, 200);
}
sluice_store::both_backends!(
    control_characters_in_identifiers_are_a_client_error_never_a_500,
    control_characters
);

#[tokio::test(flavor = "multi_thread")]
async fn tenant_routing_by_host_is_case_insensitive() {
    use sluice::config::TenantEntry;
    let s = TestServer::start_with("sqlite", |st| {
        st.tenants.push(TenantEntry {
            name: "acme".into(),
            client_id: Some("acme-client".into()),
            client_secret: Some("acme-secret-0123456789".into()),
        });
    })
    .await;
    let port = s.url.rsplit(':').next().unwrap().to_string();
    for host in [
        "acme.localhost",
        "ACME.localhost",
        "Acme.LocalHost",
        "acme.localhost.",
    ] {
        let r = s
            .http
            .get(format!("{}/.well-known/openid-configuration", s.url))
            .header("host", format!("{host}:{port}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{host}");
        let doc: Value = r.json().await.unwrap();
        assert_eq!(
            doc["issuer"],
            format!("http://acme.localhost:{port}/"),
            "{host} is tenant acme"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replayed_code_revokes_the_access_token_it_produced() {
    let s = TestServer::start("sqlite").await;
    let admin = s.mgmt_token().await;
    let spa = public_spa(&s, &admin).await;
    sign_up(&s, &spa, "ada@example.com", "ada-pw").await;
    let (verifier, challenge) = pkce();
    let url = format!(
        "{}/authorize?response_type=code&client_id={spa}&redirect_uri={}&scope=openid%20email&state=s&code_challenge={challenge}&code_challenge_method=S256",
        s.url,
        url::form_urlencoded::byte_serialize(CALLBACK.as_bytes()).collect::<String>()
    );
    let mut b = Browser::new();
    let r = b.get(&url).await;
    let page_url = format!("{}{}", s.url, r.location.unwrap());
    let page = b.get(&page_url).await;
    let csrf = hidden(&page.body, "csrf").unwrap();
    let r = b
        .post_form(
            &page_url,
            &[
                ("csrf", &csrf),
                ("username", "ada@example.com"),
                ("password", "ada-pw"),
            ],
        )
        .await;
    let code = param(&r.location.unwrap(), "code").unwrap();
    let redeem = || {
        let (s, spa, code, verifier) = (&s, spa.clone(), code.clone(), verifier.clone());
        async move {
            let r = s
                .http
                .post(format!("{}/oauth/token", s.url))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("client_id", spa.as_str()),
                    ("code", code.as_str()),
                    ("redirect_uri", CALLBACK),
                    ("code_verifier", verifier.as_str()),
                ])
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let userinfo = |tok: String| {
        let s = &s;
        async move {
            s.http
                .get(format!("{}/userinfo", s.url))
                .bearer_auth(tok)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let (st, t) = redeem().await;
    assert_eq!(st, 200, "{t}");
    let at = t["access_token"].as_str().unwrap().to_string();
    assert_eq!(userinfo(at.clone()).await, 200);
    let (st, _) = redeem().await;
    assert_eq!(st, 403, "a code works once");
    assert_eq!(
        userinfo(at).await,
        401,
        "the replay revoked what the code produced"
    );
}
