//! The multi-tenant proxy: a custom database in tenant A whose login script authenticates its
//! users against tenant B's `/oauth/token` (password-realm), with `fetch`.

use crate::support;

use serde_json::json;
use sluice::config::TenantEntry;
use sluice_testkit::TestServer;
use support::{app_and_connection, login, wrong};

const PROXY_LOGIN: &str = r#"async function login(email, password, callback) {
  const res = await fetch(configuration.TOKEN_URL, {
    method: 'POST',
    headers: { 'content-type': 'application/json', host: configuration.HOST },
    body: JSON.stringify({
      grant_type: 'http://auth0.com/oauth/grant-type/password-realm', realm: 'b-users',
      client_id: configuration.CLIENT_ID, client_secret: configuration.CLIENT_SECRET,
      username: email, password: password, scope: 'openid email',
    }),
  });
  if (res.status === 403) return callback(new WrongUsernameOrPasswordError(email));
  if (!res.ok) return callback(new Error('tenant B answered ' + res.status));
  const body = await res.json();
  const claims = JSON.parse(Buffer.from(body.id_token.split('.')[1], 'base64url').toString());
  callback(null, { user_id: 'b-' + claims.sub.replace('auth0|', ''), email: claims.email });
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_script_in_one_tenant_authenticates_against_another() {
    let s = TestServer::start_with("sqlite", |st| {
        st.tenants.push(TenantEntry {
            name: "tenant-b".into(),
            client_id: Some("b-admin".into()),
            client_secret: Some("b-admin-secret-0123456789".into()),
        });
    })
    .await;
    let port = s.url.rsplit(':').next().unwrap().to_string();
    let b_host = format!("tenant-b.localhost:{port}");
    // Tenant B: a user store of its own and an application allowed password-realm.
    let r = s.http.post(format!("{}/oauth/token", s.url)).header("host", &b_host)
        .json(&json!({"grant_type": "client_credentials", "client_id": "b-admin", "client_secret": "b-admin-secret-0123456789", "audience": format!("http://{b_host}/api/v2/")}))
        .send().await.unwrap();
    let b_tok = r.json::<serde_json::Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let (st, c) = s.call_host("POST", "/api/v2/clients", Some(&b_tok), Some(json!({"name": "proxy", "grant_types": ["http://auth0.com/oauth/grant-type/password-realm"]})), Some(&b_host)).await;
    assert_eq!(st, 201, "{c}");
    let (b_id, b_secret) = (
        c["client_id"].as_str().unwrap().to_string(),
        c["client_secret"].as_str().unwrap().to_string(),
    );
    let (st, _) = s.call_host("POST", "/api/v2/connections", Some(&b_tok), Some(json!({"name": "b-users", "strategy": "auth0", "enabled_clients": [b_id], "options": {"passwordPolicy": "none"}})), Some(&b_host)).await;
    assert_eq!(st, 201);
    let (st, bu) = s
        .call_host(
            "POST",
            "/api/v2/users",
            Some(&b_tok),
            Some(
                json!({"connection": "b-users", "email": "bea@example.com", "password": "bea-pw"}),
            ),
            Some(&b_host),
        )
        .await;
    assert_eq!(st, 201, "{bu}");
    // Tenant A: a custom database (legacy mode) whose login script asks tenant B.
    let a_tok = s.mgmt_token().await;
    let options = json!({
        "enabledDatabaseCustomization": true,
        "customScripts": {"login": PROXY_LOGIN, "get_user": "function (email, cb) { cb(null); }"},
        "configuration": {"TOKEN_URL": format!("{}/oauth/token", s.url), "HOST": b_host, "CLIENT_ID": b_id, "CLIENT_SECRET": b_secret},
    });
    let app = app_and_connection(&s, &a_tok, "via-b", options).await;
    let (st, t) = login(
        &s,
        &app,
        "via-b",
        "bea@example.com",
        "bea-pw",
        "openid email",
    )
    .await;
    assert_eq!(st, 200, "{t}");
    let (_, id) = sluice_crypto::jwt::decode_unverified(t["id_token"].as_str().unwrap()).unwrap();
    let b_raw = bu["user_id"]
        .as_str()
        .unwrap()
        .trim_start_matches("auth0|")
        .to_string();
    assert_eq!(
        id["sub"],
        format!("auth0|b-{b_raw}"),
        "tenant A's user is tenant B's user"
    );
    assert_eq!(id["iss"], format!("{}/", s.url), "issued by tenant A");
    assert_eq!(
        login(&s, &app, "via-b", "bea@example.com", "wrong", "openid").await,
        (403, wrong())
    );
}
