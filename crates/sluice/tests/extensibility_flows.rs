//! Rules, Hooks and Actions running at their points over real HTTP: ordering, disabled rules,
//! namespaced claims (others dropped), metadata persistence, denials with the script's message,
//! a throwing rule and one that never calls back, credentials-exchange and registration hooks,
//! post-login actions — and the seed's security scenario (a legacy API that only accepts
//! Sluice tokens for `legacy-api`, reached by scripts that cache a client-credentials token).

use crate::support;

use serde_json::{Value, json};
use sluice_crypto::jwt;
use sluice_testkit::TestServer;
use support::{app_and_connection, login};

async fn post(s: &TestServer, tok: &str, path: &str, body: Value) -> Value {
    let (st, v) = s.call("POST", path, Some(tok), Some(body)).await;
    assert!((200..=202).contains(&st), "{path}: {st} {v}");
    v
}

fn claims(token: &str) -> serde_json::Map<String, Value> {
    jwt::decode_unverified(token).unwrap().1
}

/// An Auth0-managed connection `db` with user ada, and an app allowed the password-realm grant.
async fn base(s: &TestServer, tok: &str) -> (String, String) {
    let app = app_and_connection(s, tok, "db", json!({"passwordPolicy": "none"})).await;
    post(
        s,
        tok,
        "/api/v2/users",
        json!({"connection": "db", "email": "ada@example.com", "password": "pw-ada"}),
    )
    .await;
    app
}

async fn rule(
    s: &TestServer,
    tok: &str,
    name: &str,
    order: i64,
    enabled: bool,
    script: &str,
) -> Value {
    post(
        s,
        tok,
        "/api/v2/rules",
        json!({"name": name, "order": order, "enabled": enabled, "script": script}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn rules_run_in_order_add_namespaced_claims_and_persist_metadata() {
    let s = TestServer::start("sqlite").await;
    let tok = s.mgmt_token().await;
    let app = base(&s, &tok).await;
    let (st, _) = s
        .call(
            "PUT",
            "/api/v2/rules-configs/PLAN",
            Some(&tok),
            Some(json!({"value": "gold"})),
        )
        .await;
    assert_eq!(st, 200);
    rule(
        &s,
        &tok,
        "second",
        2,
        true,
        r#"function (user, context, callback) {
  // Sees what the first rule did in memory.
  context.accessToken['https://acme.test/seen'] = context.idToken['https://acme.test/plan'];
  user.app_metadata = user.app_metadata || {};
  user.app_metadata.visits = (user.app_metadata.visits || 0) + 1;
  auth0.users.updateAppMetadata(user.user_id, user.app_metadata)
    .then(function () { callback(null, user, context); })
    .catch(callback);
}"#,
    )
    .await;
    rule(
        &s,
        &tok,
        "first",
        1,
        true,
        r#"function (user, context, callback) {
  console.log('first rule for', context.clientID, context.protocol);
  context.idToken['https://acme.test/plan'] = configuration.PLAN;
  context.idToken.plain = 'dropped';
  callback(null, user, context);
}"#,
    )
    .await;
    rule(
        &s,
        &tok,
        "disabled",
        0,
        false,
        "function (user, context, callback) { callback(new UnauthorizedError('never')); }",
    )
    .await;
    for visit in 1..=2 {
        let (st, t) = login(&s, &app, "db", "ada@example.com", "pw-ada", "openid").await;
        assert_eq!(st, 200, "{t}");
        let id = claims(t["id_token"].as_str().unwrap());
        assert_eq!(id["https://acme.test/plan"], "gold");
        assert!(
            !id.contains_key("plain"),
            "non-namespaced claims are dropped"
        );
        let at = claims(t["access_token"].as_str().unwrap());
        assert_eq!(
            at["https://acme.test/seen"], "gold",
            "the second rule ran after the first"
        );
        let (_, users) = s
            .call(
                "GET",
                "/api/v2/users-by-email?email=ada%40example.com",
                Some(&tok),
                None,
            )
            .await;
        assert_eq!(
            users[0]["app_metadata"]["visits"], visit,
            "persisted by updateAppMetadata"
        );
    }
    // Every run is in the tenant log with its console output; the dropped claim too.
    let (_, logs) = s
        .call(
            "GET",
            "/api/v2/logs?q=type%3A%22script%22",
            Some(&tok),
            None,
        )
        .await;
    let text = logs.to_string();
    assert!(text.contains("first rule for"), "{text}");
    let (_, warns) = s
        .call("GET", "/api/v2/logs?q=type%3A%22w%22", Some(&tok), None)
        .await;
    assert!(warns.to_string().contains("'plain' dropped"), "{warns}");
}

#[tokio::test(flavor = "multi_thread")]
async fn failing_rules_fail_only_their_login_with_a_clear_error() {
    let s = TestServer::start_with("sqlite", |c| c.scripts.timeout_seconds = 1).await;
    let tok = s.mgmt_token().await;
    let app = base(&s, &tok).await;
    let r = rule(&s, &tok, "members", 1, true, "function (user, context, callback) {\n  if (context.clientName === 'app') return callback(new UnauthorizedError('Members only'));\n  callback(null, user, context);\n}").await;
    let (st, e) = login(&s, &app, "db", "ada@example.com", "pw-ada", "openid").await;
    assert_eq!(
        (st, e.clone()),
        (
            401,
            json!({"error": "unauthorized", "error_description": "Members only"})
        )
    );
    let id = r["id"].as_str().unwrap();
    for (script, what) in [
        (
            "function (user, context, callback) { throw new Error('db password is hunter2'); }",
            "throws",
        ),
        (
            "function (user, context, callback) { /* never calls back */ }",
            "hangs",
        ),
    ] {
        let (st, _) = s
            .call(
                "PATCH",
                &format!("/api/v2/rules/{id}"),
                Some(&tok),
                Some(json!({"script": script})),
            )
            .await;
        assert_eq!(st, 200);
        let (st, e) = login(&s, &app, "db", "ada@example.com", "pw-ada", "openid").await;
        assert_eq!(st, 500, "{what}: {e}");
        assert_eq!(e["error"], "server_error");
        assert!(
            !e.to_string().contains("hunter2"),
            "{what}: the script's error stays in the logs"
        );
    }
    // The server keeps serving other logins once the rule is disabled.
    let (st, _) = s
        .call(
            "PATCH",
            &format!("/api/v2/rules/{id}"),
            Some(&tok),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(
        login(&s, &app, "db", "ada@example.com", "pw-ada", "openid")
            .await
            .0,
        200
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn post_login_actions_set_claims_and_metadata_and_can_deny() {
    let s = TestServer::start("sqlite").await;
    let tok = s.mgmt_token().await;
    let app = base(&s, &tok).await;
    post(
        &s,
        &tok,
        "/api/v2/users",
        json!({"connection": "db", "email": "eve@blocked.test", "password": "pw-eve"}),
    )
    .await;
    let a = post(&s, &tok, "/api/v2/actions/actions", json!({
        "name": "tag", "supported_triggers": [{"id": "post-login", "version": "v3"}],
        "secrets": [{"name": "TIER", "value": "platinum"}],
        "code": "exports.onExecutePostLogin = async (event, api) => {\n  if (event.user.email.endsWith('@blocked.test')) return api.access.deny('Blocked domain');\n  api.idToken.setCustomClaim('https://acme.test/tier', event.secrets.TIER);\n  api.accessToken.setCustomClaim('https://acme.test/client', event.client.client_id);\n  api.user.setAppMetadata('seen', true);\n};"
    })).await;
    let id = a["id"].as_str().unwrap();
    post(
        &s,
        &tok,
        &format!("/api/v2/actions/actions/{id}/deploy"),
        json!({}),
    )
    .await;
    let (st, b) = s.call("PATCH", "/api/v2/actions/triggers/post-login/bindings", Some(&tok),
        Some(json!({"bindings": [{"ref": {"type": "action_id", "value": id}, "display_name": "tag"}]}))).await;
    assert_eq!(st, 200, "{b}");
    let (st, t) = login(&s, &app, "db", "ada@example.com", "pw-ada", "openid").await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(
        claims(t["id_token"].as_str().unwrap())["https://acme.test/tier"],
        "platinum"
    );
    assert_eq!(
        claims(t["access_token"].as_str().unwrap())["https://acme.test/client"],
        app.0.as_str()
    );
    let (_, users) = s
        .call(
            "GET",
            "/api/v2/users-by-email?email=ada%40example.com",
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(users[0]["app_metadata"]["seen"], true);
    let (st, e) = login(&s, &app, "db", "eve@blocked.test", "pw-eve", "openid").await;
    assert_eq!(
        (st, e),
        (
            403,
            json!({"error": "access_denied", "error_description": "Blocked domain"})
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn registration_hooks_add_metadata_deny_and_never_fail_a_signup_afterwards() {
    let s = TestServer::start("sqlite").await;
    let tok = s.mgmt_token().await;
    let app = base(&s, &tok).await;
    let h = post(&s, &tok, "/api/v2/hooks", json!({"name": "pre", "triggerId": "pre-user-registration", "enabled": true,
        "script": "module.exports = function (user, context, cb) {\n  if (user.email.endsWith('@spam.test')) return cb(new Error('No spam, please'));\n  cb(null, { user: { user_metadata: { source: context.webtask.secrets.SOURCE } } });\n};"})).await;
    let (st, _) = s
        .call(
            "POST",
            &format!("/api/v2/hooks/{}/secrets", h["id"].as_str().unwrap()),
            Some(&tok),
            Some(json!({"SOURCE": "hooked"})),
        )
        .await;
    assert!(st == 200 || st == 201);
    post(&s, &tok, "/api/v2/hooks", json!({"name": "post", "triggerId": "post-user-registration", "enabled": true,
        "script": "module.exports = function (user, context, cb) { throw new Error('the CRM is down'); };"})).await;
    let signup = |email: &str| json!({"client_id": app.0, "connection": "db", "email": email, "password": "pw-new"});
    let (st, u) = s
        .call(
            "POST",
            "/dbconnections/signup",
            None,
            Some(signup("new@example.com")),
        )
        .await;
    assert_eq!(
        st, 200,
        "a failing post-user-registration hook does not fail the signup: {u}"
    );
    let (_, users) = s
        .call(
            "GET",
            "/api/v2/users-by-email?email=new%40example.com",
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(users[0]["user_metadata"]["source"], "hooked");
    let (st, e) = s
        .call(
            "POST",
            "/dbconnections/signup",
            None,
            Some(signup("x@spam.test")),
        )
        .await;
    assert_eq!(st, 400, "{e}");
    assert!(e.to_string().contains("No spam, please"), "{e}");
    let (_, none) = s
        .call(
            "GET",
            "/api/v2/users-by-email?email=x%40spam.test",
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(none, json!([]));
}
