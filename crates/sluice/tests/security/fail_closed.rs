//! What Sluice does not implement refuses the login instead of silently skipping the step, and
//! no extension can lock the administrators out of the Management API.

use super::support::browser::{Browser, param, pkce};
use super::*;
use sluice_testkit::{BOOTSTRAP_ID, BOOTSTRAP_SECRET};

#[tokio::test(flavor = "multi_thread")]
async fn rules_and_actions_that_require_mfa_or_a_redirect_refuse_the_login() {
    let s = TestServer::start("sqlite").await;
    let admin = s.mgmt_token().await;
    let spa = public_spa(&s, &admin).await;
    for who in [
        "plain",
        "rule-mfa",
        "rule-redirect",
        "action-mfa",
        "action-redirect",
    ] {
        sign_up(&s, &spa, &format!("{who}@example.com"), "pw").await;
    }
    post(&s, &admin, "/api/v2/rules", json!({"name": "guardian", "enabled": true, "order": 1,
        "script": "function (user, context, callback) {\n  if (user.email === 'rule-mfa@example.com') context.multifactor = { provider: 'any', allowRememberBrowser: false };\n  if (user.email === 'rule-redirect@example.com') context.redirect = { url: 'https://consent.example.com' };\n  callback(null, user, context);\n}"})).await;
    bind_action(&s, &admin, "post-login", "step-up",
        "exports.onExecutePostLogin = async (event, api) => {\n  if (event.user.email === 'action-mfa@example.com') api.multifactor.enable('any');\n  if (event.user.email === 'action-redirect@example.com') api.redirect.sendUserTo('https://x.example.com');\n};").await;

    let (st, t) = user_token(&s, &spa, "plain@example.com", "pw", "", "openid").await;
    assert_eq!(st, 200, "the rule and the action let other users in: {t}");
    for who in ["rule-mfa", "rule-redirect", "action-mfa", "action-redirect"] {
        let (st, e) = user_token(&s, &spa, &format!("{who}@example.com"), "pw", "", "openid").await;
        assert_eq!(
            (st, e["error"].as_str()),
            (403, Some("access_denied")),
            "{who}: {e}"
        );
        assert!(e.get("access_token").is_none());
    }
    let events = logs(&s, &admin).await;
    for what in [
        "rule 'guardian' requires multi-factor",
        "rule 'guardian' requires a redirect",
        "action 'step-up' requires api.multifactor.enable",
        "action 'step-up' requires api.redirect.sendUserTo",
    ] {
        assert!(
            events
                .iter()
                .any(|l| l["description"].as_str().is_some_and(|d| d.contains(what))),
            "a log event says: {what}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn authorize_refuses_what_it_cannot_honour() {
    let s = TestServer::start("sqlite").await;
    let admin = s.mgmt_token().await;
    let spa = public_spa(&s, &admin).await;
    let third = post(
        &s,
        &admin,
        "/api/v2/clients",
        json!({"name": "partner", "app_type": "spa", "is_first_party": false,
               "token_endpoint_auth_method": "none", "callbacks": [CALLBACK],
               "grant_types": ["authorization_code", PASSWORD_REALM]}),
    )
    .await["client_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, challenge) = pkce();
    let base = |client: &str| {
        format!(
            "{}/authorize?response_type=code&client_id={client}&redirect_uri={}&scope=openid&state=st&code_challenge={challenge}&code_challenge_method=S256",
            s.url,
            url::form_urlencoded::byte_serialize(CALLBACK.as_bytes()).collect::<String>()
        )
    };
    let mut b = Browser::new();
    // The control: a plain request goes to the login page.
    let r = b.get(&base(&spa)).await;
    assert_eq!(r.status, 302);
    assert!(r.location.unwrap().starts_with("/u/login"));
    for (client, extra, error) in [
        (
            spa.as_str(),
            "&acr_values=http%3A%2F%2Fschemas.openid.net%2Fpape%2Fpolicies%2F2007%2F06%2Fmulti-factor",
            "unmet_authentication_requirements",
        ),
        (
            spa.as_str(),
            "&request=eyJhbGciOiJub25lIn0.e30.",
            "request_not_supported",
        ),
        (
            spa.as_str(),
            "&request_uri=https%3A%2F%2Fevil.example.com%2Freq",
            "request_uri_not_supported",
        ),
        (third.as_str(), "", "unauthorized_client"),
    ] {
        let r = b.get(&format!("{}{extra}", base(client))).await;
        assert_eq!(r.status, 302, "{extra}: {}", r.body);
        let to = r.location.unwrap();
        assert!(to.starts_with(CALLBACK), "{to}");
        assert_eq!(param(&to, "error").as_deref(), Some(error), "{to}");
        assert_eq!(param(&to, "state").as_deref(), Some("st"));
    }
    // Nor does a third-party application get a user's password.
    let (st, e) = {
        let r = s
            .http
            .post(format!("{}/oauth/token", s.url))
            .form(&[
                ("grant_type", PASSWORD_REALM),
                ("client_id", third.as_str()),
                ("realm", "db"),
                ("username", "a@example.com"),
                ("password", "pw"),
            ])
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    };
    assert_eq!(
        (st, e["error"].as_str()),
        (403, Some("unauthorized_client"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_credentials_exchange_hook_or_action_never_locks_out_the_administrators() {
    let s = TestServer::start("sqlite").await;
    let admin = s.mgmt_token().await;
    let other = post(
        &s,
        &admin,
        "/api/v2/clients",
        json!({"name": "m2m", "app_type": "non_interactive", "grant_types": ["client_credentials"]}),
    )
    .await;
    let (id, secret) = (
        other["client_id"].as_str().unwrap().to_string(),
        other["client_secret"].as_str().unwrap().to_string(),
    );
    post(
        &s,
        &admin,
        "/api/v2/client-grants",
        json!({"client_id": id, "audience": mgmt_audience(&s), "scope": ["read:users"]}),
    )
    .await;
    let hook = post(&s, &admin, "/api/v2/hooks", json!({"name": "broken", "triggerId": "credentials-exchange", "enabled": true,
        "script": "module.exports = function (client, scope, audience, context, cb) { throw new Error('oops'); };"})).await;
    bind_action(
        &s,
        &admin,
        "credentials-exchange",
        "deny-all",
        "exports.onExecuteCredentialsExchange = async (event, api) => { api.access.deny('invalid_request', 'nobody'); };",
    )
    .await;
    let token_status = |id: String, secret: String| {
        let s = &s;
        async move {
            s.http
                .post(format!("{}/oauth/token", s.url))
                .json(&json!({"grant_type": "client_credentials", "client_id": id,
                              "client_secret": secret, "audience": mgmt_audience(s)}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // The extensions do run: the other application is refused.
    assert_eq!(token_status(id.clone(), secret.clone()).await, 403);
    // The bootstrap client still gets in, and can repair the tenant.
    assert_eq!(
        token_status(BOOTSTRAP_ID.into(), BOOTSTRAP_SECRET.into()).await,
        200
    );
    let fresh = s.mgmt_token().await;
    let (st, _) = s
        .call(
            "DELETE",
            &format!("/api/v2/hooks/{}", hook["id"].as_str().unwrap()),
            Some(&fresh),
            None,
        )
        .await;
    assert_eq!(st, 204);
    let (st, _) = s
        .call(
            "PATCH",
            "/api/v2/actions/triggers/credentials-exchange/bindings",
            Some(&fresh),
            Some(json!({"bindings": []})),
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(token_status(id, secret).await, 200);
}
