//! One account, one identity: two custom-database connections whose scripts return the same
//! raw user id never share an account, in legacy mode and in import mode.

use super::support::{app_and_connection, login};
use super::*;

/// A login script that accepts password `pw` for anyone and always answers user id 42: two
/// legacy stores that both number their users from 1.
const LOGIN_42: &str = "function login(email, password, callback) {\n  if (password !== 'pw') return callback(new WrongUsernameOrPasswordError(email));\n  callback(null, { user_id: '42', email: email, nickname: email.split('@')[0] });\n}";
const GET_USER_NONE: &str = "function getUser(email, callback) { callback(null, null); }";

async fn same_raw_id_in_two_connections(import: bool) {
    let s = TestServer::start("sqlite").await;
    let admin = s.mgmt_token().await;
    let options = json!({"enabledDatabaseCustomization": true, "import_mode": import,
        "customScripts": {"login": LOGIN_42, "get_user": GET_USER_NONE}});
    let app = app_and_connection(&s, &admin, "store-a", options.clone()).await;
    post(
        &s,
        &admin,
        "/api/v2/connections",
        json!({"name": "store-b", "strategy": "auth0", "enabled_clients": [app.0], "options": options}),
    )
    .await;

    let (st, t) = login(&s, &app, "store-a", "alice@a.example", "pw", "openid").await;
    assert_eq!(st, 200, "{t}");
    let alice = claims(t["id_token"].as_str().unwrap())["sub"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(alice, "auth0|42");

    // Bob of the other store, with his own (here: the same) password, is not Alice.
    let (st, e) = login(&s, &app, "store-b", "bob@b.example", "pw", "openid").await;
    assert_eq!(
        (st, e["error"].as_str()),
        (403, Some("access_denied")),
        "never Alice's account: {e}"
    );
    assert!(e.get("id_token").is_none());

    // Alice's account is untouched and she still signs in.
    let (st, u) = s
        .call("GET", "/api/v2/users/auth0%7C42", Some(&admin), None)
        .await;
    assert_eq!(st, 200);
    assert_eq!(u["email"], "alice@a.example");
    assert_eq!(u["identities"][0]["connection"], "store-a");
    let (st, _) = login(&s, &app, "store-a", "alice@a.example", "pw", "openid").await;
    assert_eq!(st, 200);

    let named = logs(&s, &admin).await.into_iter().any(|l| {
        l["description"].as_str().is_some_and(|d| {
            d.contains("User id conflict") && d.contains("'store-a'") && d.contains("'store-b'")
        })
    });
    assert!(named, "the tenant log names both connections");
}

#[tokio::test(flavor = "multi_thread")]
async fn legacy_mode_never_merges_users_of_two_connections_with_the_same_raw_id() {
    same_raw_id_in_two_connections(false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn import_mode_never_merges_users_of_two_connections_with_the_same_raw_id() {
    same_raw_id_in_two_connections(true).await;
}
