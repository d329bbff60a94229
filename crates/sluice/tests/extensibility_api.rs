//! Management API for Rules, rules-configs, Hooks and Actions over real HTTP: Auth0's shapes and
//! errors, syntax checks, one enabled hook per trigger, secrets never returned and sealed at
//! rest, deploy and trigger bindings.

use serde_json::{Value, json};
use sluice_core::model::DocKind;
use sluice_testkit::TestServer;

#[path = "extensibility/actions.rs"]
mod actions;

const RULE: &str = "function (user, context, callback) {\n  callback(null, user, context);\n}";
const HOOK: &str = "module.exports = function (client, scope, audience, context, cb) {\n  cb(null, { accessToken: {} });\n};";
const ACTION: &str = "exports.onExecutePostLogin = async (event, api) => {\n  api.idToken.setCustomClaim('https://example.com/x', event.secrets.API_KEY);\n};";

/// The stored body of every document of `kind`, as text (to look for plaintext secrets).
async fn raw_docs(s: &TestServer, kind: DocKind) -> String {
    let t = s.core().tenant("default").await.unwrap();
    let (docs, _) = s
        .core()
        .store
        .doc_list(
            &t.id,
            kind,
            None,
            sluice_core::ports::Page {
                offset: 0,
                limit: 1000,
            },
        )
        .await
        .unwrap();
    docs.iter()
        .map(|d| d.body.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn msg(e: &Value) -> &str {
    e["message"].as_str().unwrap_or_default()
}

async fn rules_crud(backend: &str) {
    let s = TestServer::start(backend).await;
    let tok = s.mgmt_token().await;
    let (st, r) = s
        .call(
            "POST",
            "/api/v2/rules",
            Some(&tok),
            Some(json!({"name": "add roles", "script": RULE})),
        )
        .await;
    assert_eq!(st, 201, "{r}");
    let id = r["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("rul_") && id.len() == 20, "{id}");
    assert_eq!(
        r,
        json!({"id": id, "name": "add roles", "script": RULE, "order": 1, "enabled": true, "stage": "login_success"})
    );
    let (st, r2) = s
        .call(
            "POST",
            "/api/v2/rules",
            Some(&tok),
            Some(json!({"name": "second", "script": RULE, "enabled": false})),
        )
        .await;
    assert_eq!(st, 201, "{r2}");
    assert_eq!(r2["order"], 2, "default order is max + 1");
    let (st, r0) = s
        .call(
            "POST",
            "/api/v2/rules",
            Some(&tok),
            Some(json!({"name": "first", "script": RULE, "order": 0})),
        )
        .await;
    assert_eq!(st, 201, "{r0}");

    let (st, e) = s
        .call(
            "POST",
            "/api/v2/rules",
            Some(&tok),
            Some(json!({"name": "add roles", "script": RULE})),
        )
        .await;
    assert_eq!(st, 409, "duplicate name: {e}");
    assert_eq!(e["statusCode"], 409);
    let (st, e) = s
        .call(
            "POST",
            "/api/v2/rules",
            Some(&tok),
            Some(json!({"name": "other", "script": RULE, "order": 2})),
        )
        .await;
    assert_eq!(st, 409, "duplicate order: {e}");

    let (st, list) = s.call("GET", "/api/v2/rules", Some(&tok), None).await;
    assert_eq!(st, 200);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["first", "add roles", "second"],
        "in execution order"
    );
    let (_, list) = s
        .call("GET", "/api/v2/rules?enabled=false", Some(&tok), None)
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["name"], "second");
    let (st, list) = s
        .call(
            "GET",
            "/api/v2/rules?include_totals=true&per_page=2&page=1",
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(list["total"], 3);
    assert_eq!(list["start"], 2);
    assert_eq!(list["rules"].as_array().unwrap().len(), 1);

    let (st, upd) = s
        .call(
            "PATCH",
            &format!("/api/v2/rules/{id}"),
            Some(&tok),
            Some(json!({"enabled": false, "name": "renamed"})),
        )
        .await;
    assert_eq!(st, 200, "{upd}");
    assert_eq!(upd["enabled"], false);
    assert_eq!(upd["script"], RULE, "PATCH keeps what it does not name");
    let (st, got) = s
        .call("GET", &format!("/api/v2/rules/{id}"), Some(&tok), None)
        .await;
    assert_eq!(st, 200);
    assert_eq!(got["name"], "renamed");
    let (st, e) = s
        .call(
            "PATCH",
            &format!("/api/v2/rules/{id}"),
            Some(&tok),
            Some(json!({"name": "second"})),
        )
        .await;
    assert_eq!(st, 409, "rename onto another rule's name: {e}");
    let (st, e) = s
        .call(
            "PATCH",
            &format!("/api/v2/rules/{id}"),
            Some(&tok),
            Some(json!({"stage": "login_failure"})),
        )
        .await;
    assert_eq!(st, 400, "{e}");
    assert!(msg(&e).starts_with("Payload validation error"), "{e}");

    let (st, _) = s
        .call("DELETE", &format!("/api/v2/rules/{id}"), Some(&tok), None)
        .await;
    assert_eq!(st, 204);
    let (st, e) = s
        .call("GET", &format!("/api/v2/rules/{id}"), Some(&tok), None)
        .await;
    assert_eq!(st, 404);
    assert_eq!(
        e,
        json!({"statusCode": 404, "error": "Not Found", "message": "The rule does not exist.", "errorCode": "inexistent_rule"})
    );
    let (st, _) = s
        .call("DELETE", &format!("/api/v2/rules/{id}"), Some(&tok), None)
        .await;
    assert_eq!(st, 404);

    // What the execution side reads: enabled rules, in order.
    let t = s.core().tenant("default").await.unwrap();
    let enabled = s.core().extend.rules_enabled(&t).await.unwrap();
    let names: Vec<&str> = enabled.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["first"]);
}
sluice_store::both_backends!(rules_crud_works, rules_crud);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_are_validated_with_auth0_messages() {
    let s = TestServer::start("sqlite").await;
    let tok = s.mgmt_token().await;
    let post = |body: Value| {
        let s = &s;
        let tok = &tok;
        async move { s.call("POST", "/api/v2/rules", Some(tok), Some(body)).await }
    };
    let (st, e) = post(json!({"name": "bad!name", "script": RULE})).await;
    assert_eq!(st, 400);
    assert_eq!(e["errorCode"], "invalid_body");
    assert!(
        msg(&e).starts_with("Payload validation error: 'String does not match pattern")
            && msg(&e).contains("on property name"),
        "{e}"
    );
    let (st, e) = post(json!({"name": "x"})).await;
    assert_eq!(st, 400);
    assert!(msg(&e).starts_with("Payload validation error"), "{e}");
    let (st, e) = post(json!({"name": "x", "script": RULE, "nope": 1})).await;
    assert_eq!(st, 400, "unknown property: {e}");
    let (st, e) = post(json!({"name": "x", "script": "x".repeat(100 * 1024 + 1)})).await;
    assert_eq!(st, 400, "{e}");
    assert!(msg(&e).contains("too long"), "{e}");
    let (st, e) = post(json!({"name": "x", "script": "function (user, context, callback) {\n  callback(null, user, context;\n}"})).await;
    assert_eq!(st, 400, "syntax error: {e}");
    assert!(
        msg(&e).starts_with("script: ") && msg(&e).contains("(line 2)"),
        "{e}"
    );
    let (st, e) = post(json!({"name": "x", "script": RULE, "stage": "pre_authorize"})).await;
    assert_eq!(st, 400, "{e}");
    let (st, e) = post(json!({"name": "x", "script": RULE, "stage": "login_success"})).await;
    assert_eq!(st, 201, "{e}");
}

async fn rules_configs(backend: &str) {
    let s = TestServer::start(backend).await;
    let tok = s.mgmt_token().await;
    let (st, v) = s
        .call(
            "PUT",
            "/api/v2/rules-configs/API_KEY",
            Some(&tok),
            Some(json!({"value": "plaintext-config-value"})),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        v,
        json!({"key": "API_KEY", "value": "plaintext-config-value"})
    );
    let (st, v) = s
        .call(
            "PUT",
            "/api/v2/rules-configs/API_KEY",
            Some(&tok),
            Some(json!({"value": "replaced-config-value"})),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let (st, _) = s
        .call(
            "PUT",
            "/api/v2/rules-configs/other:key@1",
            Some(&tok),
            Some(json!({"value": "v2"})),
        )
        .await;
    assert_eq!(st, 200);
    let (st, list) = s
        .call("GET", "/api/v2/rules-configs", Some(&tok), None)
        .await;
    assert_eq!(st, 200);
    assert_eq!(list, json!([{"key": "API_KEY"}, {"key": "other:key@1"}]));

    let raw = raw_docs(&s, DocKind::RulesConfig).await;
    assert!(raw.contains("API_KEY"));
    assert!(
        !raw.contains("replaced-config-value") && !raw.contains("plaintext-config-value"),
        "sealed at rest: {raw}"
    );
    let t = s.core().tenant("default").await.unwrap();
    let cfg = s.core().extend.rules_configuration(&t).await.unwrap();
    assert_eq!(cfg["API_KEY"], "replaced-config-value");

    let (st, e) = s
        .call(
            "PUT",
            "/api/v2/rules-configs/bad%20key",
            Some(&tok),
            Some(json!({"value": "v"})),
        )
        .await;
    assert_eq!(st, 400);
    assert_eq!(e["errorCode"], "invalid_uri", "{e}");
    let (st, e) = s
        .call(
            "PUT",
            "/api/v2/rules-configs/K",
            Some(&tok),
            Some(json!({})),
        )
        .await;
    assert_eq!(st, 400);
    assert!(msg(&e).contains("Missing required property: value"), "{e}");
    let (st, _) = s
        .call(
            "PUT",
            "/api/v2/rules-configs/K",
            Some(&tok),
            Some(json!({"value": 5})),
        )
        .await;
    assert_eq!(st, 400);

    let (st, _) = s
        .call("DELETE", "/api/v2/rules-configs/API_KEY", Some(&tok), None)
        .await;
    assert_eq!(st, 204);
    let (st, _) = s
        .call("DELETE", "/api/v2/rules-configs/API_KEY", Some(&tok), None)
        .await;
    assert_eq!(st, 204, "deleting an absent key succeeds");
    let (_, list) = s
        .call("GET", "/api/v2/rules-configs", Some(&tok), None)
        .await;
    assert_eq!(list, json!([{"key": "other:key@1"}]));
}
sluice_store::both_backends!(rules_configs_are_sealed_and_never_returned, rules_configs);

async fn create_hook(s: &TestServer, tok: &str, body: Value) -> (u16, Value) {
    s.call("POST", "/api/v2/hooks", Some(tok), Some(body)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_crud_and_one_enabled_hook_per_trigger() {
    let s = TestServer::start("sqlite").await;
    let tok = s.mgmt_token().await;
    let (st, h) = create_hook(
        &s,
        &tok,
        json!({"name": "my-hook", "script": HOOK, "triggerId": "credentials-exchange", "dependencies": {"lodash": "4.17.21"}}),
    )
    .await;
    assert_eq!(st, 201, "{h}");
    let id = h["id"].as_str().unwrap().to_string();
    assert_eq!(
        h,
        json!({"id": id, "name": "my-hook", "script": HOOK, "triggerId": "credentials-exchange", "enabled": false, "dependencies": {"lodash": "4.17.21"}})
    );
    let (st, e) = create_hook(
        &s,
        &tok,
        json!({"name": "x", "script": HOOK, "triggerId": "post-login"}),
    )
    .await;
    assert_eq!(st, 400, "unknown trigger: {e}");
    assert!(msg(&e).contains("triggerId"), "{e}");
    let (st, e) = create_hook(
        &s,
        &tok,
        json!({"name": "x", "script": "module.exports = function (", "triggerId": "pre-user-registration"}),
    )
    .await;
    assert_eq!(st, 400, "syntax error: {e}");
    assert!(msg(&e).starts_with("script: "), "{e}");
    let (st, _) = create_hook(
        &s,
        &tok,
        json!({"name": "my-hook", "script": HOOK, "triggerId": "pre-user-registration"}),
    )
    .await;
    assert_eq!(st, 409, "duplicate name");

    // One enabled hook per trigger.
    let (st, a) = create_hook(
        &s,
        &tok,
        json!({"name": "enabled-one", "script": HOOK, "triggerId": "credentials-exchange", "enabled": true}),
    )
    .await;
    assert_eq!(st, 201, "{a}");
    let (st, e) = create_hook(
        &s,
        &tok,
        json!({"name": "enabled-two", "script": HOOK, "triggerId": "credentials-exchange", "enabled": true}),
    )
    .await;
    assert_eq!(st, 409, "{e}");
    assert_eq!(e["statusCode"], 409);
    let (st, e) = s
        .call(
            "PATCH",
            &format!("/api/v2/hooks/{id}"),
            Some(&tok),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(st, 409, "enabling a second hook: {e}");
    let (st, _) = create_hook(
        &s,
        &tok,
        json!({"name": "other-trigger", "script": HOOK, "triggerId": "post-change-password", "enabled": true}),
    )
    .await;
    assert_eq!(st, 201, "another trigger is independent");
    let a_id = a["id"].as_str().unwrap();
    let (st, _) = s
        .call(
            "PATCH",
            &format!("/api/v2/hooks/{a_id}"),
            Some(&tok),
            Some(json!({"enabled": "false"})),
        )
        .await;
    assert_eq!(st, 200, "Auth0's documented string form");
    let (st, upd) = s
        .call(
            "PATCH",
            &format!("/api/v2/hooks/{id}"),
            Some(&tok),
            Some(json!({"enabled": true, "script": HOOK})),
        )
        .await;
    assert_eq!(st, 200, "{upd}");
    assert_eq!(upd["enabled"], true);
    let (st, e) = s
        .call(
            "PATCH",
            &format!("/api/v2/hooks/{id}"),
            Some(&tok),
            Some(json!({"triggerId": "post-change-password"})),
        )
        .await;
    assert_eq!(st, 400, "the trigger cannot change: {e}");

    let (_, list) = s
        .call(
            "GET",
            "/api/v2/hooks?triggerId=credentials-exchange&enabled=true",
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["id"], id.as_str());
    let (_, list) = s
        .call("GET", "/api/v2/hooks?include_totals=true", Some(&tok), None)
        .await;
    assert_eq!(list["total"], 3, "{list}");
    assert_eq!(list["hooks"].as_array().unwrap().len(), 3);

    let (st, _) = s
        .call("DELETE", &format!("/api/v2/hooks/{a_id}"), Some(&tok), None)
        .await;
    assert_eq!(st, 204);
    let (st, e) = s
        .call("GET", &format!("/api/v2/hooks/{a_id}"), Some(&tok), None)
        .await;
    assert_eq!(st, 404);
    assert_eq!(e["errorCode"], "inexistent_hook");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hook_secrets_are_sealed_and_never_returned() {
    let s = TestServer::start("sqlite").await;
    let tok = s.mgmt_token().await;
    let (_, h) = create_hook(
        &s,
        &tok,
        json!({"name": "h", "script": HOOK, "triggerId": "credentials-exchange", "enabled": true}),
    )
    .await;
    let path = format!("/api/v2/hooks/{}/secrets", h["id"].as_str().unwrap());
    let (st, body) = s
        .call(
            "POST",
            &path,
            Some(&tok),
            Some(json!({"API_KEY": "hook-secret-plaintext", "OTHER": "x"})),
        )
        .await;
    assert_eq!(st, 201, "{body}");
    let (st, got) = s.call("GET", &path, Some(&tok), None).await;
    assert_eq!(st, 200);
    assert_eq!(
        got,
        json!({"API_KEY": "_VALUE_NOT_SHOWN_", "OTHER": "_VALUE_NOT_SHOWN_"})
    );
    let (st, e) = s
        .call("POST", &path, Some(&tok), Some(json!({"API_KEY": "again"})))
        .await;
    assert_eq!(st, 409, "{e}");
    let (st, e) = s
        .call("PATCH", &path, Some(&tok), Some(json!({"NOPE": "v"})))
        .await;
    assert_eq!(st, 404, "{e}");
    let (st, _) = s
        .call(
            "PATCH",
            &path,
            Some(&tok),
            Some(json!({"API_KEY": "hook-secret-updated"})),
        )
        .await;
    assert_eq!(st, 201);
    let (st, e) = s
        .call("POST", &path, Some(&tok), Some(json!({"N": 1})))
        .await;
    assert_eq!(st, 400, "values are strings: {e}");

    let raw = raw_docs(&s, DocKind::Hook).await;
    assert!(raw.contains("API_KEY"));
    assert!(
        !raw.contains("hook-secret-plaintext") && !raw.contains("hook-secret-updated"),
        "sealed at rest: {raw}"
    );
    let (_, hook) = s
        .call(
            "GET",
            &format!("/api/v2/hooks/{}", h["id"].as_str().unwrap()),
            Some(&tok),
            None,
        )
        .await;
    assert!(!hook.to_string().contains("hook-secret"), "{hook}");
    let t = s.core().tenant("default").await.unwrap();
    let run = s
        .core()
        .extend
        .hooks_for(&t, "credentials-exchange")
        .await
        .unwrap();
    assert_eq!(run.len(), 1);
    assert_eq!(run[0].secrets["API_KEY"], "hook-secret-updated");

    let many: serde_json::Map<String, Value> =
        (0..19).map(|i| (format!("S{i}"), json!("v"))).collect();
    let (st, e) = s
        .call("POST", &path, Some(&tok), Some(Value::Object(many)))
        .await;
    assert_eq!(st, 400, "more than 20 secrets: {e}");

    let (st, _) = s
        .call(
            "DELETE",
            &path,
            Some(&tok),
            Some(json!(["API_KEY", "ABSENT"])),
        )
        .await;
    assert_eq!(st, 204);
    let (_, got) = s.call("GET", &path, Some(&tok), None).await;
    assert_eq!(got, json!({"OTHER": "_VALUE_NOT_SHOWN_"}));
    let (st, _) = s
        .call("DELETE", &path, Some(&tok), Some(json!({"API_KEY": 1})))
        .await;
    assert_eq!(st, 400, "the body is an array of names");
    let (st, _) = s
        .call("GET", "/api/v2/hooks/nope/secrets", Some(&tok), None)
        .await;
    assert_eq!(st, 404);
}
