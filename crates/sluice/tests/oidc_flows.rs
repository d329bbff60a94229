//! The OpenID Connect provider over real HTTP: authorization code + PKCE through the login
//! page, tokens and their claims, userinfo, refresh rotation with reuse detection, SSO and
//! `prompt=none`, logout, revocation, and every error path of `/authorize` and the code grant.

use crate::support;

use serde_json::{Value, json};
use sluice_crypto::jwt;
use sluice_testkit::TestServer;
use support::browser::{Browser, hidden, param, pkce};

const CALLBACK: &str = "https://app.example.com/callback";

/// A public SPA client (PKCE, no secret) and a confidential web app, both enabled on an
/// Auth0-managed connection `db` with user `ada@example.com`.
async fn setup(s: &TestServer) -> (String, (String, String)) {
    let tok = s.mgmt_token().await;
    let (st, spa) = s
        .call(
            "POST",
            "/api/v2/clients",
            Some(&tok),
            Some(json!({
                "name": "Ada's SPA", "app_type": "spa", "token_endpoint_auth_method": "none",
                "callbacks": [CALLBACK], "allowed_logout_urls": ["https://app.example.com/bye"],
                "grant_types": ["authorization_code", "refresh_token"]
            })),
        )
        .await;
    assert_eq!(st, 201, "{spa}");
    let (st, web) = s
        .call(
            "POST",
            "/api/v2/clients",
            Some(&tok),
            Some(json!({
                "name": "Web", "app_type": "regular_web", "callbacks": [CALLBACK],
                "grant_types": ["authorization_code", "refresh_token"]
            })),
        )
        .await;
    assert_eq!(st, 201, "{web}");
    let spa_id = spa["client_id"].as_str().unwrap().to_string();
    let web = (
        web["client_id"].as_str().unwrap().to_string(),
        web["client_secret"].as_str().unwrap().to_string(),
    );
    let (st, c) = s
        .call(
            "POST",
            "/api/v2/connections",
            Some(&tok),
            Some(json!({
                "name": "db", "strategy": "auth0", "enabled_clients": [spa_id, web.0],
                "options": {"passwordPolicy": "low"}
            })),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    let (st, u) = s
        .call(
            "POST",
            "/api/v2/users",
            Some(&tok),
            Some(json!({
                "connection": "db", "email": "ada@example.com", "password": "lovelace-1815",
                "name": "Ada Lovelace", "email_verified": true
            })),
        )
        .await;
    assert_eq!(st, 201, "{u}");
    (spa_id, web)
}

fn authorize_url(s: &TestServer, client_id: &str, challenge: &str, extra: &str) -> String {
    format!(
        "{}/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=openid%20profile%20email%20offline_access&state=st-123&nonce=n-456&code_challenge={challenge}&code_challenge_method=S256{extra}",
        s.url,
        urlencode(CALLBACK)
    )
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Runs `/authorize` → login page → credentials; returns the callback URL.
async fn sign_in(s: &TestServer, b: &mut Browser, url: &str, user: &str, pw: &str) -> String {
    let r = b.get(url).await;
    assert_eq!(r.status, 302, "{}", r.body);
    let to = r.location.unwrap();
    assert!(to.starts_with("/u/login?state="), "{to}");
    let page = b.get(&format!("{}{to}", s.url)).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Ada&#x27;s SPA")
            || page.body.contains("Ada's SPA")
            || page.body.contains("Web")
    );
    let csrf = hidden(&page.body, "csrf").expect("a CSRF field");
    let r = b
        .post_form(
            &format!("{}{to}", s.url),
            &[("csrf", &csrf), ("username", user), ("password", pw)],
        )
        .await;
    assert_eq!(r.status, 302, "{}", r.body);
    r.location.unwrap()
}

async fn exchange(s: &TestServer, fields: &[(&str, &str)]) -> (u16, Value) {
    let r = s
        .http
        .post(format!("{}/oauth/token", s.url))
        .form(fields)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn verify(s: &TestServer, token: &str, aud: &str) -> serde_json::Map<String, Value> {
    let t = futures_lite_block(s.core().tenant("default")).unwrap();
    jwt::verify(
        token,
        &t.verifying,
        &jwt::Validation {
            issuer: &t.issuer,
            audience: aud,
            now: s.core().now(),
            leeway: 0,
        },
    )
    .expect("a valid token")
}

fn futures_lite_block<F: std::future::Future>(f: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

#[tokio::test(flavor = "multi_thread")]
async fn code_flow_with_pkce_issues_verifiable_tokens_and_rotates_refresh_tokens() {
    let s = TestServer::start("sqlite").await;
    let (spa, _) = setup(&s).await;
    let (verifier, challenge) = pkce();
    let mut b = Browser::new();
    let back = sign_in(
        &s,
        &mut b,
        &authorize_url(&s, &spa, &challenge, ""),
        "ada@example.com",
        "lovelace-1815",
    )
    .await;
    assert!(back.starts_with(CALLBACK), "{back}");
    assert_eq!(param(&back, "state").as_deref(), Some("st-123"));
    let code = param(&back, "code").expect("a code");
    assert!(b.cookies.contains_key("sluice_session"), "SSO cookie set");

    let (st, tokens) = exchange(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &spa),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(st, 200, "{tokens}");
    let id = verify(&s, tokens["id_token"].as_str().unwrap(), &spa);
    assert_eq!(id["nonce"], "n-456");
    assert_eq!(id["email"], "ada@example.com");
    assert_eq!(id["name"], "Ada Lovelace");
    assert!(id["auth_time"].is_i64() && id["sid"].is_string());
    let at = tokens["access_token"].as_str().unwrap();
    verify(&s, at, &format!("{}/userinfo", s.url));

    // userinfo answers for the token's scopes.
    let ui: Value = s
        .http
        .get(format!("{}/userinfo", s.url))
        .bearer_auth(at)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ui["sub"], id["sub"]);
    assert_eq!(ui["email"], "ada@example.com");
    let r = s
        .http
        .get(format!("{}/userinfo", s.url))
        .bearer_auth("garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );

    // The code works once; its replay also revokes the refresh token it produced.
    let (st, again) = exchange(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &spa),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!((st, again["error"].as_str()), (403, Some("invalid_grant")));
    let rt0 = tokens["refresh_token"].as_str().unwrap();
    let (st, e) = exchange(
        &s,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &spa),
            ("refresh_token", rt0),
        ],
    )
    .await;
    assert_eq!(
        (st, e["error"].as_str()),
        (403, Some("invalid_grant")),
        "revoked by the code replay"
    );

    // A fresh sign-in: SSO answers without the login page.
    let (verifier, challenge) = pkce();
    let r = b.get(&authorize_url(&s, &spa, &challenge, "")).await;
    assert_eq!(r.status, 302);
    let back = r.location.unwrap();
    assert!(
        back.starts_with(CALLBACK),
        "SSO skips the login page: {back}"
    );
    let code = param(&back, "code").unwrap();
    let (st, tokens) = exchange(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &spa),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(st, 200, "{tokens}");
    // Rotation: each refresh returns a new token; the old one then fails and kills the family.
    let rt1 = tokens["refresh_token"].as_str().unwrap().to_string();
    let (st, t2) = exchange(
        &s,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &spa),
            ("refresh_token", &rt1),
        ],
    )
    .await;
    assert_eq!(st, 200, "{t2}");
    let rt2 = t2["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt1, rt2);
    assert!(t2["id_token"].is_string() && t2["access_token"].is_string());
    let (st, _) = exchange(
        &s,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &spa),
            ("refresh_token", &rt1),
        ],
    )
    .await;
    assert_eq!(st, 403, "reuse of a rotated token");
    let (st, _) = exchange(
        &s,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &spa),
            ("refresh_token", &rt2),
        ],
    )
    .await;
    assert_eq!(st, 403, "reuse revoked the whole family");

    // Logout ends the session: prompt=none now answers login_required.
    let r = b
        .get(&format!(
            "{}/v2/logout?client_id={spa}&returnTo={}",
            s.url,
            urlencode("https://app.example.com/bye")
        ))
        .await;
    assert_eq!(
        (r.status, r.location.as_deref()),
        (302, Some("https://app.example.com/bye"))
    );
    let r = b
        .get(&format!(
            "{}/v2/logout?client_id={spa}&returnTo={}",
            s.url,
            urlencode("https://evil.example/")
        ))
        .await;
    assert_eq!(r.status, 400, "no open redirect");
    let (_, challenge) = pkce();
    let r = b
        .get(&authorize_url(&s, &spa, &challenge, "&prompt=none"))
        .await;
    let back = r.location.unwrap();
    assert_eq!(
        param(&back, "error").as_deref(),
        Some("login_required"),
        "{back}"
    );
    assert_eq!(param(&back, "state").as_deref(), Some("st-123"));
}

#[tokio::test(flavor = "multi_thread")]
async fn confidential_clients_authenticate_and_revoke() {
    let s = TestServer::start("sqlite").await;
    let (_, web) = setup(&s).await;
    let url = format!(
        "{}/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid%20offline_access&state=s1",
        s.url,
        web.0,
        urlencode(CALLBACK)
    );
    let mut b = Browser::new();
    let back = sign_in(&s, &mut b, &url, "ada@example.com", "lovelace-1815").await;
    let code = param(&back, "code").unwrap();
    let (st, e) = exchange(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &web.0),
            ("client_secret", "wrong"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
        ],
    )
    .await;
    assert_eq!(st, 401, "{e}");
    // The failed attempt did not spend the code (client authentication comes first).
    let (st, e) = exchange(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &web.0),
            ("client_secret", &web.1),
            ("code", &code),
            ("redirect_uri", "https://app.example.com/other"),
        ],
    )
    .await;
    assert_eq!(
        (st, e["error"].as_str()),
        (403, Some("invalid_grant")),
        "redirect_uri must match"
    );
    // That one did spend it (a code is single-use whatever the outcome).
    let back = sign_in(
        &s,
        &mut Browser::new(),
        &url,
        "ada@example.com",
        "lovelace-1815",
    )
    .await;
    let code = param(&back, "code").unwrap();
    let (st, tokens) = exchange(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &web.0),
            ("client_secret", &web.1),
            ("code", &code),
            ("redirect_uri", CALLBACK),
        ],
    )
    .await;
    assert_eq!(st, 200, "{tokens}");
    let rt = tokens["refresh_token"].as_str().unwrap();
    let r = s
        .http
        .post(format!("{}/oauth/revoke", s.url))
        .json(&json!({"client_id": web.0, "client_secret": web.1, "token": rt}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (st, _) = exchange(
        &s,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &web.0),
            ("client_secret", &web.1),
            ("refresh_token", rt),
        ],
    )
    .await;
    assert_eq!(st, 403, "revoked");
}

#[tokio::test(flavor = "multi_thread")]
async fn authorize_errors_go_to_the_application_only_when_its_redirect_uri_is_trusted() {
    let s = TestServer::start("sqlite").await;
    let (spa, _) = setup(&s).await;
    let mut b = Browser::new();
    let base = format!(
        "{}/authorize?response_type=code&redirect_uri={}&state=x",
        s.url,
        urlencode(CALLBACK)
    );
    // Unknown client, or a redirect URI not registered: an error page, never a redirect.
    let r = b.get(&format!("{base}&client_id=nope")).await;
    assert_eq!((r.status, r.location), (400, None));
    let r = b
        .get(&format!(
            "{}/authorize?response_type=code&client_id={spa}&redirect_uri={}",
            s.url,
            urlencode("https://evil.example/cb")
        ))
        .await;
    assert_eq!((r.status, r.location), (400, None));
    assert!(r.body.contains("Callback URL mismatch"));
    // Other errors go back to the application with the state.
    for (extra, error) in [
        ("", "invalid_request"), // public client without PKCE
        (
            "&code_challenge=abc&code_challenge_method=plain",
            "invalid_request",
        ),
        (
            "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&audience=https://nope",
            "access_denied",
        ),
    ] {
        let r = b.get(&format!("{base}&client_id={spa}{extra}")).await;
        assert_eq!(r.status, 302, "{extra}");
        let loc = r.location.unwrap();
        assert!(loc.starts_with(CALLBACK));
        assert_eq!(
            param(&loc, "error").as_deref(),
            Some(error),
            "{extra}: {loc}"
        );
        assert_eq!(param(&loc, "state").as_deref(), Some("x"));
    }
    let r = b
        .get(&format!(
            "{}/authorize?response_type=token&client_id={spa}&redirect_uri={}",
            s.url,
            urlencode(CALLBACK)
        ))
        .await;
    assert_eq!(
        param(&r.location.unwrap(), "error").as_deref(),
        Some("unsupported_response_type")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn login_transactions_are_bound_to_the_browser_and_need_the_csrf_token() {
    let s = TestServer::start("sqlite").await;
    let (spa, _) = setup(&s).await;
    let (_, challenge) = pkce();
    let mut victim = Browser::new();
    let r = victim.get(&authorize_url(&s, &spa, &challenge, "")).await;
    let page_url = format!("{}{}", s.url, r.location.unwrap());
    let page = victim.get(&page_url).await;
    let csrf = hidden(&page.body, "csrf").unwrap();
    // Another browser cannot use the transaction, even with its CSRF token.
    let mut attacker = Browser::new();
    let r = attacker
        .post_form(
            &page_url,
            &[
                ("csrf", &csrf),
                ("username", "ada@example.com"),
                ("password", "lovelace-1815"),
            ],
        )
        .await;
    assert_eq!((r.status, r.location), (400, None));
    // The right browser without the token is refused too.
    let r = victim
        .post_form(
            &page_url,
            &[
                ("csrf", "forged"),
                ("username", "ada@example.com"),
                ("password", "lovelace-1815"),
            ],
        )
        .await;
    assert_eq!((r.status, r.location), (400, None));
    // Wrong password: the page says so, and nothing goes to the application.
    let r = victim
        .post_form(
            &page_url,
            &[
                ("csrf", &csrf),
                ("username", "ada@example.com"),
                ("password", "nope"),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("Wrong email or password."), "{}", r.body);
    assert!(r.body.contains("role=\"alert\""));
    let r = victim
        .post_form(
            &page_url,
            &[
                ("csrf", &csrf),
                ("username", "ada@example.com"),
                ("password", "lovelace-1815"),
            ],
        )
        .await;
    assert_eq!(r.status, 302);
    // The transaction ended with the sign-in: its page is gone.
    assert_eq!(victim.get(&page_url).await.status, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn discovery_describes_the_endpoints_that_exist() {
    let s = TestServer::start("sqlite").await;
    let d: Value = s
        .http
        .get(format!("{}/.well-known/openid-configuration", s.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["issuer"], format!("{}/", s.url));
    for k in [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "revocation_endpoint",
        "end_session_endpoint",
    ] {
        let url = d[k].as_str().unwrap();
        let path = url.strip_prefix(&s.url).unwrap();
        let method = if k == "token_endpoint" || k == "revocation_endpoint" {
            reqwest::Method::POST
        } else {
            reqwest::Method::GET
        };
        let r = Browser::new()
            .http
            .request(method, format!("{}{path}", s.url))
            .send()
            .await
            .unwrap();
        assert_ne!(r.status(), 404, "{k} exists");
    }
    assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn only_registered_web_origins_may_call_the_token_endpoint_from_a_browser() {
    let s = TestServer::start("sqlite").await;
    let tok = s.mgmt_token().await;
    let (st, _) = s
        .call(
            "POST",
            "/api/v2/clients",
            Some(&tok),
            Some(
                json!({"name": "spa", "app_type": "spa", "token_endpoint_auth_method": "none",
                        "callbacks": [CALLBACK], "web_origins": ["https://app.example.com"]}),
            ),
        )
        .await;
    assert_eq!(st, 201);
    let http = reqwest::Client::new();
    let preflight = |origin: &'static str| {
        http.request(reqwest::Method::OPTIONS, format!("{}/oauth/token", s.url))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let ok = preflight("https://app.example.com").await.unwrap();
    assert_eq!(ok.status(), 204);
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    // A real (failing) token request from the allowed origin is readable by the SPA.
    let r = http
        .post(format!("{}/oauth/token", s.url))
        .header("origin", "https://app.example.com")
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", "nope"),
            ("code", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    // Discovery and keys are public.
    let d = http
        .get(format!("{}/.well-known/jwks.json", s.url))
        .header("origin", "https://anyone.example")
        .send()
        .await
        .unwrap();
    assert_eq!(d.headers()["access-control-allow-origin"], "*");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_code_is_refused() {
    use sluice_core::ports::{Artifact, ArtifactKind};
    let s = TestServer::start("sqlite").await;
    let (_, web) = setup(&s).await;
    let t = s.core().tenant("default").await.unwrap();
    let (_, users) = s
        .call(
            "GET",
            "/api/v2/users-by-email?email=ada%40example.com",
            Some(&s.mgmt_token().await),
            None,
        )
        .await;
    let user_id = users[0]["user_id"].as_str().unwrap().to_string();
    let now = s.core().now();
    // Two codes as /authorize stores them: one live (the control), one past its lifetime.
    for (code, expires_at) in [("live-code", now + 60), ("expired-code", now - 1)] {
        s.core()
            .store
            .artifact_insert(&Artifact {
                tenant_id: t.id.clone(),
                kind: ArtifactKind::Code,
                key: sluice_crypto::ct::sha256_hex(code.as_bytes()),
                family: format!("fam-{code}"),
                user_id: Some(user_id.clone()),
                client_id: Some(web.0.clone()),
                body: json!({"request": {"client_id": web.0, "redirect_uri": CALLBACK, "scope": "openid"},
                             "auth_time": now - 300, "session_id": null, "connection": "db"}),
                created_at: now - 300,
                expires_at,
                used_at: None,
            })
            .await
            .unwrap();
    }
    async fn redeem(s: &TestServer, web: &(String, String), code: &str) -> (u16, Value) {
        exchange(
            s,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", &web.0),
                ("client_secret", &web.1),
                ("code", code),
                ("redirect_uri", CALLBACK),
            ],
        )
        .await
    }
    let (st, ok) = redeem(&s, &web, "live-code").await;
    assert_eq!(st, 200, "{ok}");
    let (st, e) = redeem(&s, &web, "expired-code").await;
    assert_eq!(
        (st, e["error"].as_str()),
        (403, Some("invalid_grant")),
        "{e}"
    );
}
