//! Running Rules, Hooks and Actions at their points, with Auth0's semantics:
//!
//! - post-login (Rules in order, then Actions bound to `post-login`): custom claims for the ID
//!   and access tokens (namespaced only: others are dropped and the drop is logged), metadata
//!   persisted through `auth0.users.update*Metadata` / `api.user.set*Metadata`, and denial —
//!   `UnauthorizedError(msg)` is `unauthorized` with `msg`, `api.access.deny(reason)` is
//!   `access_denied`; any other failure or timeout fails only this login.
//! - credentials-exchange (Hooks, then Actions): extra access-token claims and scope; an error
//!   or `api.access.deny` refuses the token.
//! - pre-user-registration: metadata for the new user, or a denied signup.
//! - post-user-registration / post-change-password: notifications; failures are logged only.
//!
//! Every run is a `script` event in the tenant log with its console output.

use super::Extensibility;
use crate::clients::StoredClient;
use crate::error::CoreError;
use crate::error::OAuthErrorKind;
use crate::extend::output::{
    CredentialsAction, CredentialsHook, PostLoginAction, Registration, RuleResult, scope_list,
};
use crate::extend::stored::Runnable;
use crate::model::UserRecord;
use crate::ports::{ScriptFailure, ScriptKind, ScriptOutcome, ScriptRequest, Trigger};
use crate::tenant::TenantCtx;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sluice_types::{JsonMap, User};
use std::collections::BTreeMap;

/// What post-login Rules and Actions set on the user's metadata (keys set to `null` are
/// removed), to be merged into the stored user.
#[derive(Debug, Default)]
pub struct MetadataChanges {
    pub app_metadata: Option<JsonMap>,
    pub user_metadata: Option<JsonMap>,
}

/// What post-login extensibility adds to the tokens of one login.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoginExtras {
    #[serde(default)]
    pub id_token: JsonMap,
    #[serde(default)]
    pub access_token: JsonMap,
    /// The access token's scopes as Rules set them (`context.accessToken.scope`), replacing
    /// the granted ones; `None` when no rule changed them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Vec<String>>,
    /// Scopes Actions added (`api.accessToken.addScope`) and removed (`removeScope`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes_added: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes_removed: Vec<String>,
}

/// The login a post-login point runs for.
pub struct PostLogin<'a> {
    pub client: &'a StoredClient,
    pub connection: &'a str,
    pub protocol: &'a str,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub query: JsonMap,
    pub scope: &'a str,
    pub audience: Option<&'a str>,
    pub session_id: Option<&'a str>,
}

/// Claims a token must not take from extensibility code.
const RESERVED: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "azp",
    "nonce",
    "auth_time",
    "scope",
    "gty",
    "sid",
    "at_hash",
    "c_hash",
];

/// Auth0's rule: a custom claim is a URL outside Auth0's own domains.
pub fn is_namespaced(claim: &str) -> bool {
    let Some(rest) = claim
        .strip_prefix("https://")
        .or_else(|| claim.strip_prefix("http://"))
    else {
        return false;
    };
    let host = rest
        .split('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    !host.is_empty()
        && !["auth0.com", "webtask.io", "webtask.run"]
            .iter()
            .any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

fn failed(what: &str, name: &str) -> CoreError {
    CoreError::oauth(
        OAuthErrorKind::ServerError,
        format!("The {what} '{name}' failed; the details are in the tenant logs."),
    )
}

impl Extensibility {
    /// Runs one extensibility script and logs the run.
    async fn run_extension(
        &self,
        t: &TenantCtx,
        kind: ScriptKind,
        r: &Runnable,
        args: Vec<Value>,
        configuration: BTreeMap<String, String>,
    ) -> Result<Value, ScriptFailure> {
        let out: ScriptOutcome = self
            .runner
            .run(ScriptRequest {
                tenant_id: t.id.clone(),
                connection: None,
                kind,
                source: r.source.as_str().into(),
                args,
                context: None,
                configuration,
            })
            .await;
        self.log
            .script_run(
                t,
                kind.key(),
                &format!("{} '{}'", kind.key(), r.name),
                None,
                &out,
            )
            .await;
        out.result
    }

    /// Keeps the namespaced, non-reserved claims of `from` in `into`; logs the others.
    async fn merge_claims(&self, t: &TenantCtx, into: &mut JsonMap, from: &JsonMap, who: &str) {
        for (k, v) in from {
            if is_namespaced(k) && !RESERVED.contains(&k.as_str()) {
                into.insert(k.clone(), v.clone());
            } else {
                self.log.event(
                    t,
                    crate::logs::LogEvent {
                        log_type: "w",
                        description: format!(
                            "{who}: custom claim '{k}' dropped: custom claims must be namespaced (https://example.com/{k})"
                        ),
                        ..Default::default()
                    },
                )
                .await;
            }
        }
    }

    /// A login that extensibility code made depend on something Sluice does not implement
    /// (multi-factor authentication, redirects) fails closed: refused, with a tenant log event
    /// naming the code, never tokens issued without what it required.
    async fn refuse_unsupported(&self, t: &TenantCtx, who: &str, what: &str) -> CoreError {
        self.log.event(
            t,
            crate::logs::LogEvent {
                log_type: "f",
                description: format!(
                    "Login refused: the {who} requires {what}, which this server does not support"
                ),
                ..Default::default()
            },
        )
        .await;
        CoreError::oauth(
            OAuthErrorKind::AccessDenied,
            "This login requires a step this server does not support (such as multi-factor authentication); it was refused. The details are in the tenant logs.",
        )
    }

    /// Rules, then post-login Actions, for a user who just authenticated: the claims they add
    /// and the metadata they set, which the caller persists (`Core::post_login`).
    pub async fn post_login(
        &self,
        t: &TenantCtx,
        user: &UserRecord,
        p: PostLogin<'_>,
    ) -> Result<(LoginExtras, MetadataChanges), CoreError> {
        let rules = self.rules_enabled(t).await?;
        let actions = self.actions_for(t, Trigger::PostLogin.id()).await?;
        let mut extras = LoginExtras::default();
        if rules.is_empty() && actions.is_empty() {
            return Ok((extras, MetadataChanges::default()));
        }
        let request = json!({
            "ip": p.ip, "userAgent": p.user_agent, "query": p.query, "body": {},
        });
        let mut persist_app: Option<JsonMap> = None;
        let mut persist_user: Option<JsonMap> = None;
        let mut profile = serde_json::to_value(&user.profile)
            .map_err(|e| CoreError::internal(format!("user: {e}")))?;
        let mut context = json!({
            "clientID": p.client.client_id,
            "clientName": p.client.body.name,
            "clientMetadata": p.client.body.client_metadata.clone().unwrap_or_default(),
            "connection": p.connection,
            "connectionStrategy": "auth0",
            "protocol": p.protocol,
            "request": request,
            "stats": {"loginsCount": user.profile.logins_count},
            "sessionID": p.session_id,
            "tenant": t.name,
            "idToken": {},
            "accessToken": {"scope": p.scope.split_whitespace().collect::<Vec<_>>()},
            "authorization": {"roles": []},
            "sso": {"with_auth0": false, "with_dbconn": false},
        });
        for rule in &rules {
            let result = self
                .run_extension(
                    t,
                    ScriptKind::Rule,
                    rule,
                    vec![profile.clone(), context.clone()],
                    rule.secrets.clone(),
                )
                .await;
            let v = match result {
                Ok(v) => v,
                Err(ScriptFailure::Unauthorized { message }) => {
                    return Err(CoreError::oauth(OAuthErrorKind::Unauthorized, message));
                }
                Err(_) => return Err(failed("rule", &rule.name)),
            };
            let r = RuleResult::read(&v);
            if let Some(what) = r.unsupported {
                return Err(self
                    .refuse_unsupported(t, &format!("rule '{}'", rule.name), what)
                    .await);
            }
            if let Some(u) = r.user {
                profile = u;
            }
            if let Some(c) = r.context {
                context = c;
            }
            if let Some(m) = r.persist_app_metadata {
                persist_app = Some(m);
            }
            if let Some(m) = r.persist_user_metadata {
                persist_user = Some(m);
            }
        }
        if let Some(c) = context["idToken"].as_object() {
            let c = c.clone();
            self.merge_claims(t, &mut extras.id_token, &c, "rules")
                .await;
        }
        if let Some(c) = context["accessToken"].as_object() {
            let mut c = c.clone();
            let asked: Vec<String> = p.scope.split_whitespace().map(str::to_string).collect();
            if let Some(scope) = c.remove("scope").as_ref().and_then(scope_list)
                && scope != asked
            {
                extras.scope = Some(scope);
            }
            self.merge_claims(t, &mut extras.access_token, &c, "rules")
                .await;
        }
        for action in &actions {
            let event = json!({
                "user": profile,
                "client": {"client_id": p.client.client_id, "name": p.client.body.name,
                           "metadata": p.client.body.client_metadata.clone().unwrap_or_default()},
                "connection": {"name": p.connection, "strategy": "auth0"},
                "request": {"ip": p.ip, "user_agent": p.user_agent, "query": p.query},
                "transaction": {"protocol": p.protocol,
                                "requested_scopes": p.scope.split_whitespace().collect::<Vec<_>>()},
                "resource_server": p.audience.map(|a| json!({"identifier": a})),
                "stats": {"logins_count": user.profile.logins_count},
                "session": p.session_id.map(|s| json!({"id": s})),
                "tenant": {"id": t.name},
                "authorization": {"roles": []},
                "secrets": action.secrets,
            });
            let v = match self
                .run_extension(
                    t,
                    ScriptKind::Action(Trigger::PostLogin),
                    action,
                    vec![event],
                    BTreeMap::new(),
                )
                .await
            {
                Ok(v) => v,
                Err(ScriptFailure::Unauthorized { message }) => {
                    return Err(CoreError::oauth(OAuthErrorKind::Unauthorized, message));
                }
                Err(_) => return Err(failed("action", &action.name)),
            };
            let a = PostLoginAction::read(&v);
            if let Some(d) = a.deny {
                let reason = d.reason.unwrap_or_else(|| "Access denied".into());
                return Err(CoreError::oauth(OAuthErrorKind::AccessDenied, reason));
            }
            if let Some(what) = &a.unsupported {
                return Err(self
                    .refuse_unsupported(t, &format!("action '{}'", action.name), what)
                    .await);
            }
            extras.scopes_added.extend(a.scopes_added);
            extras.scopes_removed.extend(a.scopes_removed);
            for (claims, into) in [
                (a.id_token_claims, &mut extras.id_token),
                (a.access_token_claims, &mut extras.access_token),
            ] {
                if let Some(c) = claims {
                    self.merge_claims(t, into, &c, &format!("action '{}'", action.name))
                        .await;
                }
            }
            for (key, set, slot) in [
                ("app_metadata", a.app_metadata, &mut persist_app),
                ("user_metadata", a.user_metadata, &mut persist_user),
            ] {
                if let Some(m) = set {
                    let base = slot.get_or_insert_with(|| {
                        profile[key].as_object().cloned().unwrap_or_default()
                    });
                    base.extend(m);
                    profile[key] = Value::Object(base.clone());
                }
            }
        }
        Ok((
            extras,
            MetadataChanges {
                app_metadata: persist_app,
                user_metadata: persist_user,
            },
        ))
    }

    /// Credentials-exchange Hooks and Actions: extra access-token claims and, from a hook, a
    /// replacement scope. An error or a denial refuses the exchange.
    pub async fn credentials_exchange(
        &self,
        t: &TenantCtx,
        client: &StoredClient,
        audience: &str,
        scope: &[String],
    ) -> Result<(JsonMap, Option<Vec<String>>), CoreError> {
        let hooks = self.hooks_for(t, Trigger::CredentialsExchange.id()).await?;
        let actions = self
            .actions_for(t, Trigger::CredentialsExchange.id())
            .await?;
        let mut claims = JsonMap::new();
        let mut new_scope: Option<Vec<String>> = None;
        let client_json = json!({
            "id": client.client_id, "name": client.body.name, "tenant": t.name,
            "metadata": client.body.client_metadata.clone().unwrap_or_default(),
        });
        let deny = |msg: String| CoreError::oauth(OAuthErrorKind::AccessDenied, msg);
        for hook in &hooks {
            let context = json!({"webtask": {"secrets": hook.secrets}});
            let v = match self
                .run_extension(
                    t,
                    ScriptKind::Hook(Trigger::CredentialsExchange),
                    hook,
                    vec![client_json.clone(), json!(scope), json!(audience), context],
                    BTreeMap::new(),
                )
                .await
            {
                Ok(v) => v,
                Err(
                    ScriptFailure::Unauthorized { message }
                    | ScriptFailure::Error { message, .. }
                    | ScriptFailure::Validation { message, .. },
                ) => return Err(deny(message)),
                Err(_) => return Err(failed("hook", &hook.name)),
            };
            if let Some(h) = CredentialsHook::read(&v) {
                if h.scope.is_some() {
                    new_scope = h.scope;
                }
                self.merge_claims(t, &mut claims, &h.claims, &format!("hook '{}'", hook.name))
                    .await;
            }
        }
        for action in &actions {
            let event = json!({
                "client": {"client_id": client.client_id, "name": client.body.name,
                           "metadata": client.body.client_metadata.clone().unwrap_or_default()},
                "resource_server": {"identifier": audience},
                "request": {},
                "transaction": {"requested_scopes": scope},
                "tenant": {"id": t.name},
                "secrets": action.secrets,
            });
            let v = match self
                .run_extension(
                    t,
                    ScriptKind::Action(Trigger::CredentialsExchange),
                    action,
                    vec![event],
                    BTreeMap::new(),
                )
                .await
            {
                Ok(v) => v,
                Err(_) => return Err(failed("action", &action.name)),
            };
            let a = CredentialsAction::read(&v);
            if let Some(d) = a.deny {
                let reason = d.reason.unwrap_or_else(|| "Access denied".into());
                let kind = match d.code.as_deref() {
                    Some("invalid_scope") => OAuthErrorKind::InvalidScope,
                    Some("invalid_request") => OAuthErrorKind::RefusedRequest,
                    Some("server_error") => OAuthErrorKind::ActionServerError,
                    _ => OAuthErrorKind::AccessDenied,
                };
                return Err(CoreError::oauth(kind, reason));
            }
            if let Some(c) = a.access_token_claims {
                self.merge_claims(t, &mut claims, &c, &format!("action '{}'", action.name))
                    .await;
            }
        }
        Ok((claims, new_scope))
    }

    /// Pre-user-registration Hooks and Actions: metadata to add to the new user
    /// (`(user_metadata, app_metadata)`), or a denied signup.
    pub async fn pre_user_registration(
        &self,
        t: &TenantCtx,
        user: Value,
        connection: &str,
        client_id: Option<&str>,
    ) -> Result<(JsonMap, JsonMap), CoreError> {
        let hooks = self.hooks_for(t, Trigger::PreUserRegistration.id()).await?;
        let actions = self
            .actions_for(t, Trigger::PreUserRegistration.id())
            .await?;
        let (mut um, mut am) = (JsonMap::new(), JsonMap::new());
        let deny = |message: String| CoreError::BadRequest {
            code: "invalid_signup",
            message,
        };
        for hook in &hooks {
            let context = json!({"connection": {"name": connection}, "clientID": client_id,
                                 "webtask": {"secrets": hook.secrets}});
            let v = match self
                .run_extension(
                    t,
                    ScriptKind::Hook(Trigger::PreUserRegistration),
                    hook,
                    vec![user.clone(), context],
                    BTreeMap::new(),
                )
                .await
            {
                Ok(v) => v,
                Err(
                    ScriptFailure::Unauthorized { message }
                    | ScriptFailure::Error { message, .. }
                    | ScriptFailure::Validation { message, .. },
                ) => return Err(deny(message)),
                Err(_) => return Err(failed("hook", &hook.name)),
            };
            let r = Registration::read_hook(&v);
            um.extend(r.user_metadata.unwrap_or_default());
            am.extend(r.app_metadata.unwrap_or_default());
        }
        for action in &actions {
            let event = json!({"user": user, "connection": {"name": connection},
                               "client": {"client_id": client_id}, "secrets": action.secrets});
            let v = match self
                .run_extension(
                    t,
                    ScriptKind::Action(Trigger::PreUserRegistration),
                    action,
                    vec![event],
                    BTreeMap::new(),
                )
                .await
            {
                Ok(v) => v,
                Err(_) => return Err(failed("action", &action.name)),
            };
            let r = Registration::read_action(&v);
            if let Some(d) = r.deny {
                return Err(deny(d.reason.unwrap_or_else(|| "Signup denied".into())));
            }
            um.extend(r.user_metadata.unwrap_or_default());
            am.extend(r.app_metadata.unwrap_or_default());
        }
        Ok((um, am))
    }

    /// Post-user-registration or post-change-password Hooks and Actions. They notify: a
    /// failure is in the tenant log and never fails what happened.
    pub async fn notify_extensions(
        &self,
        t: &TenantCtx,
        trigger: Trigger,
        user: &User,
        connection: &str,
    ) {
        let run = async {
            let user_json = serde_json::to_value(user)
                .map_err(|e| CoreError::internal(format!("user: {e}")))?;
            for hook in self.hooks_for(t, trigger.id()).await? {
                let context = json!({"connection": {"name": connection},
                                     "webtask": {"secrets": hook.secrets}});
                let _ = self
                    .run_extension(
                        t,
                        ScriptKind::Hook(trigger),
                        &hook,
                        vec![user_json.clone(), context],
                        BTreeMap::new(),
                    )
                    .await;
            }
            for action in self.actions_for(t, trigger.id()).await? {
                let event = json!({"user": user_json, "connection": {"name": connection},
                                   "secrets": action.secrets});
                let _ = self
                    .run_extension(
                        t,
                        ScriptKind::Action(trigger),
                        &action,
                        vec![event],
                        BTreeMap::new(),
                    )
                    .await;
            }
            Ok::<(), CoreError>(())
        };
        if let Err(e) = run.await {
            tracing::warn!(error = %e, trigger = trigger.id(), "extensibility notification failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_namespaced;

    #[test]
    fn custom_claims_must_be_urls_outside_auth0() {
        assert!(is_namespaced("https://example.com/roles"));
        assert!(is_namespaced("http://acme.test/plan"));
        assert!(!is_namespaced("roles"));
        assert!(!is_namespaced("https://auth0.com/x"));
        assert!(!is_namespaced("https://me.webtask.io/x"));
        assert!(!is_namespaced("https:///x"));
    }
}
