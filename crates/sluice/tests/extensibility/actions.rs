//! Actions over real HTTP: create/update/deploy with Auth0's shapes, secrets never returned and
//! sealed at rest, trigger bindings validated, and what the execution side reads.

use super::{ACTION, msg, raw_docs};
use serde_json::{Value, json};
use sluice_core::model::DocKind;
use sluice_testkit::TestServer;

async fn create_action(s: &TestServer, tok: &str, body: Value) -> (u16, Value) {
    s.call("POST", "/api/v2/actions/actions", Some(tok), Some(body))
        .await
}

fn post_login_action(name: &str) -> Value {
    json!({
        "name": name,
        "supported_triggers": [{"id": "post-login", "version": "v3"}],
        "code": ACTION,
        "dependencies": [{"name": "lodash", "version": "4.17.21"}],
        "runtime": "node18",
        "secrets": [{"name": "API_KEY", "value": "action-secret-plaintext"}],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_crud_deploy_and_secrets() {
    let s = TestServer::start("sqlite").await;
    let tok = s.mgmt_token().await;
    let (st, a) = create_action(&s, &tok, post_login_action("add claim")).await;
    assert_eq!(st, 201, "{a}");
    let id = a["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert_eq!(a["name"], "add claim");
    assert_eq!(
        a["supported_triggers"],
        json!([{"id": "post-login", "version": "v3"}])
    );
    assert_eq!(a["code"], ACTION);
    assert_eq!(
        a["dependencies"],
        json!([{"name": "lodash", "version": "4.17.21"}])
    );
    assert_eq!(a["runtime"], "node18");
    assert_eq!(a["status"], "built");
    assert_eq!(a["all_changes_deployed"], false);
    assert_eq!(a["secrets"][0]["name"], "API_KEY");
    assert!(
        a["secrets"][0]["updated_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert!(a["created_at"].is_string() && a["updated_at"].is_string());
    assert!(!a.to_string().contains("action-secret-plaintext"), "{a}");
    let raw = raw_docs(&s, DocKind::Action).await;
    assert!(
        !raw.contains("action-secret-plaintext"),
        "sealed at rest: {raw}"
    );

    for (body, what) in [
        (
            json!({"name": "t", "supported_triggers": [{"id": "send-phone-message", "version": "v2"}]}),
            "unknown trigger",
        ),
        (
            json!({"name": "t", "supported_triggers": [{"id": "post-login", "version": "v1"}]}),
            "old trigger version",
        ),
        (json!({"name": "t", "supported_triggers": []}), "no trigger"),
        (
            json!({"name": "t", "supported_triggers": [{"id": "post-login", "version": "v3"}], "runtime": "node12"}),
            "runtime",
        ),
        (
            json!({"name": "t", "supported_triggers": [{"id": "post-login", "version": "v3"}], "code": "exports.onExecutePostLogin = async (event, api) => {"}),
            "syntax",
        ),
        (
            json!({"name": "t", "supported_triggers": [{"id": "post-login", "version": "v3"}], "secrets": [{"name": "S"}]}),
            "secret without value",
        ),
        (
            json!({"name": "t", "supported_triggers": [{"id": "post-login", "version": "v3"}], "modules": []}),
            "unknown property",
        ),
    ] {
        let (st, e) = create_action(&s, &tok, body).await;
        assert_eq!(st, 400, "{what}: {e}");
        assert_eq!(e["statusCode"], 400);
    }
    let (st, _) = create_action(&s, &tok, post_login_action("add claim")).await;
    assert_eq!(st, 409, "duplicate name");

    let (st, v) = s
        .call(
            "POST",
            &format!("/api/v2/actions/actions/{id}/deploy"),
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(st, 202, "{v}");
    assert_eq!(v["action_id"], id.as_str());
    assert_eq!(v["deployed"], true);
    assert_eq!(v["number"], 1);
    assert_eq!(v["status"], "built");
    assert_eq!(v["code"], ACTION);
    assert_eq!(v["action"]["id"], id.as_str());
    let (_, got) = s
        .call(
            "GET",
            &format!("/api/v2/actions/actions/{id}"),
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(got["all_changes_deployed"], true, "{got}");
    assert_eq!(got["deployed_version"]["number"], 1);

    let draft = ACTION.replace("x'", "y'");
    let (st, upd) = s
        .call(
            "PATCH",
            &format!("/api/v2/actions/actions/{id}"),
            Some(&tok),
            Some(json!({"code": draft, "secrets": [{"name": "API_KEY"}, {"name": "NEW", "value": "new-secret-plaintext"}]})),
        )
        .await;
    assert_eq!(st, 200, "{upd}");
    assert_eq!(upd["all_changes_deployed"], false);
    assert_eq!(
        upd["deployed_version"]["code"], ACTION,
        "the deployed code stays"
    );
    let names: Vec<&str> = upd["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["API_KEY", "NEW"]);
    let raw = raw_docs(&s, DocKind::Action).await;
    assert!(!raw.contains("new-secret-plaintext"), "{raw}");

    let (st, list) = s
        .call(
            "GET",
            "/api/v2/actions/actions?triggerId=post-login&deployed=true",
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["page"], 0);
    assert_eq!(list["per_page"], 50);
    assert_eq!(list["actions"][0]["id"], id.as_str());
    let (_, list) = s
        .call(
            "GET",
            "/api/v2/actions/actions?actionName=nope",
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(list["total"], 0);

    let (st, e) = s
        .call("GET", "/api/v2/actions/actions/nope", Some(&tok), None)
        .await;
    assert_eq!(st, 404);
    assert_eq!(e["errorCode"], "inexistent_action");
    let (st, _) = s
        .call(
            "POST",
            "/api/v2/actions/actions/nope/deploy",
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(st, 404);

    let (st, tr) = s
        .call("GET", "/api/v2/actions/triggers", Some(&tok), None)
        .await;
    assert_eq!(st, 200);
    let pl = tr["triggers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "post-login")
        .unwrap();
    assert_eq!(pl["version"], "v3");
    assert_eq!(pl["status"], "CURRENT");
    assert!(
        pl["runtimes"]
            .as_array()
            .unwrap()
            .contains(&json!("node22"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trigger_bindings_are_validated_and_run_deployed_code() {
    let s = TestServer::start("sqlite").await;
    let tok = s.mgmt_token().await;
    let (_, a) = create_action(&s, &tok, post_login_action("claims")).await;
    let id = a["id"].as_str().unwrap().to_string();
    let mut other = post_login_action("registration");
    other["supported_triggers"] = json!([{"id": "pre-user-registration", "version": "v2"}]);
    other["code"] = json!("exports.onExecutePreUserRegistration = async (event, api) => {};");
    other["deploy"] = json!(true);
    let (st, b) = create_action(&s, &tok, other).await;
    assert_eq!(st, 201, "{b}");
    assert_eq!(b["all_changes_deployed"], true, "created with deploy: true");
    let bindings = "/api/v2/actions/triggers/post-login/bindings";
    let patch = |refs: Value| {
        let s = &s;
        let tok = &tok;
        async move {
            s.call(
                "PATCH",
                bindings,
                Some(tok),
                Some(json!({"bindings": refs})),
            )
            .await
        }
    };

    let (st, e) = patch(json!([{"ref": {"type": "action_id", "value": id}}])).await;
    assert_eq!(st, 400, "not deployed: {e}");
    assert!(msg(&e).contains("deployed"), "{e}");
    let (st, _) = s
        .call(
            "POST",
            &format!("/api/v2/actions/actions/{id}/deploy"),
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(st, 202);
    let (st, e) = patch(json!([{"ref": {"type": "action_name", "value": "registration"}}])).await;
    assert_eq!(st, 400, "trigger not supported: {e}");
    let (st, e) = patch(json!([{"ref": {"type": "action_id", "value": "nope"}}])).await;
    assert_eq!(st, 400, "unknown action: {e}");
    let (st, e) = patch(json!([{"ref": {"type": "binding_id", "value": id}}])).await;
    assert_eq!(st, 400, "unknown ref type: {e}");
    let (st, e) = patch(json!([
        {"ref": {"type": "action_id", "value": id}},
        {"ref": {"type": "action_name", "value": "claims"}}
    ]))
    .await;
    assert_eq!(st, 400, "bound twice: {e}");
    let (st, e) = s
        .call(
            "PATCH",
            "/api/v2/actions/triggers/send-phone-message/bindings",
            Some(&tok),
            Some(json!({"bindings": []})),
        )
        .await;
    assert_eq!(st, 404, "{e}");

    let (st, r) = patch(
        json!([{"ref": {"type": "action_name", "value": "claims"}, "display_name": "Add claims"}]),
    )
    .await;
    assert_eq!(st, 200, "{r}");
    let bound = &r["bindings"][0];
    assert_eq!(bound["trigger_id"], "post-login");
    assert_eq!(bound["display_name"], "Add claims");
    assert_eq!(bound["action"]["id"], id.as_str());
    assert_eq!(bound["action"]["name"], "claims");
    assert!(bound["id"].is_string() && bound["created_at"].is_string());
    let (st, got) = s.call("GET", bindings, Some(&tok), None).await;
    assert_eq!(st, 200);
    assert_eq!(got["total"], 1);
    assert_eq!(got["bindings"][0]["id"], bound["id"], "{got}");
    // Binding the same action again keeps its binding id.
    let (_, again) = patch(json!([{"ref": {"type": "action_id", "value": id}}])).await;
    assert_eq!(again["bindings"][0]["id"], bound["id"]);
    assert_eq!(again["bindings"][0]["display_name"], "claims");

    // A new draft does not change what runs until it is deployed.
    let (st, _) = s
        .call(
            "PATCH",
            &format!("/api/v2/actions/actions/{id}"),
            Some(&tok),
            Some(json!({"code": "exports.onExecutePostLogin = async () => {};"})),
        )
        .await;
    assert_eq!(st, 200);
    let t = s.core().tenant("default").await.unwrap();
    let run = s.core().extend.actions_for(&t, "post-login").await.unwrap();
    assert_eq!(run.len(), 1);
    assert_eq!(run[0].source, ACTION);
    assert_eq!(run[0].secrets["API_KEY"], "action-secret-plaintext");
    let (st, e) = s
        .call(
            "PATCH",
            &format!("/api/v2/actions/actions/{id}"),
            Some(&tok),
            Some(
                json!({"supported_triggers": [{"id": "post-user-registration", "version": "v2"}]}),
            ),
        )
        .await;
    assert_eq!(st, 400, "dropping a bound trigger: {e}");

    let (st, e) = s
        .call(
            "DELETE",
            &format!("/api/v2/actions/actions/{id}"),
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(st, 400, "bound: {e}");
    assert!(msg(&e).contains("force=true"), "{e}");
    let (st, _) = s
        .call(
            "DELETE",
            &format!("/api/v2/actions/actions/{id}?force=true"),
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(st, 204);
    let (_, got) = s.call("GET", bindings, Some(&tok), None).await;
    assert_eq!(got["bindings"], json!([]), "force removes the bindings");
    assert!(
        s.core()
            .extend
            .actions_for(&t, "post-login")
            .await
            .unwrap()
            .is_empty()
    );
    let (st, _) = patch(json!([])).await;
    assert_eq!(st, 200, "an empty list unbinds everything");
}
