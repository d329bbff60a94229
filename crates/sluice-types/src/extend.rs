//! Management API `rules`, `rules-configs`, `hooks` and `actions`: the bodies Auth0 accepts and
//! returns for them. Secret values (rules configuration, hook and action secrets) are accepted
//! here and never returned: outputs carry names only.

use crate::JsonMap;
use serde::{Deserialize, Deserializer, Serialize};

/// Reads `enabled` as a boolean or as the string `"true"`/`"false"` (Auth0's own examples send
/// `{"enabled": "true"}`, and Auth0 accepts it).
fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Str(String),
    }
    match Option::<B>::deserialize(d)? {
        None => Ok(None),
        Some(B::Bool(b)) => Ok(Some(b)),
        Some(B::Str(s)) => match s.as_str() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            _ => Err(serde::de::Error::custom(format!(
                "Expected type boolean but found type string: {s}"
            ))),
        },
    }
}

/// A rule as returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub script: String,
    pub order: i64,
    pub enabled: bool,
    /// Always `login_success`: the only stage Auth0 still runs.
    pub stage: String,
}

/// `POST /api/v2/rules`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleCreate {
    pub name: String,
    pub script: String,
    #[serde(default)]
    pub order: Option<i64>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub enabled: Option<bool>,
    /// Accepted for old clients; only `login_success`.
    #[serde(default)]
    pub stage: Option<String>,
}

/// `PATCH /api/v2/rules/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulePatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub script: Option<String>,
    #[serde(default)]
    pub order: Option<i64>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub enabled: Option<bool>,
}

/// An entry of `GET /api/v2/rules-configs`: the key only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulesConfigKey {
    pub key: String,
}

/// `PUT /api/v2/rules-configs/{key}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesConfigSet {
    pub value: String,
}

/// What `PUT /api/v2/rules-configs/{key}` answers (Auth0 echoes the value it was sent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulesConfigValue {
    pub key: String,
    pub value: String,
}

/// A hook as returned (secrets are listed by `/hooks/{id}/secrets`, values hidden).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hook {
    pub id: String,
    pub name: String,
    pub script: String,
    #[serde(rename = "triggerId")]
    pub trigger_id: String,
    pub enabled: bool,
    pub dependencies: JsonMap,
}

/// `POST /api/v2/hooks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookCreate {
    pub name: String,
    pub script: String,
    #[serde(rename = "triggerId")]
    pub trigger_id: String,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub dependencies: Option<JsonMap>,
}

/// `PATCH /api/v2/hooks/{id}` (the trigger of a hook cannot change).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub script: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub dependencies: Option<JsonMap>,
}

/// What `GET /api/v2/hooks/{id}/secrets` shows for every value.
pub const SECRET_NOT_SHOWN: &str = "_VALUE_NOT_SHOWN_";

/// A trigger an action supports: `{id, version}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionTriggerRef {
    pub id: String,
    pub version: String,
}

/// An npm dependency of an action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionDependency {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_url: Option<String>,
}

/// A secret sent with an action; without `value` (PATCH) the stored value is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionSecretIn {
    pub name: String,
    #[serde(default)]
    pub value: Option<String>,
}

/// A secret of an action as returned: its name and when it last changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionSecretInfo {
    pub name: String,
    pub updated_at: String,
}

/// `POST /api/v2/actions/actions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionCreate {
    pub name: String,
    pub supported_triggers: Vec<ActionTriggerRef>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub dependencies: Option<Vec<ActionDependency>>,
    #[serde(default)]
    pub runtime: Option<String>,
    #[serde(default)]
    pub secrets: Option<Vec<ActionSecretIn>>,
    /// Deploy at once after creating.
    #[serde(default)]
    pub deploy: Option<bool>,
}

/// `PATCH /api/v2/actions/actions/{id}`; `secrets`, when present, replaces the list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub supported_triggers: Option<Vec<ActionTriggerRef>>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub dependencies: Option<Vec<ActionDependency>>,
    #[serde(default)]
    pub runtime: Option<String>,
    #[serde(default)]
    pub secrets: Option<Vec<ActionSecretIn>>,
}

/// An action as returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub id: String,
    pub name: String,
    pub supported_triggers: Vec<ActionTriggerRef>,
    pub code: String,
    pub dependencies: Vec<ActionDependency>,
    pub runtime: String,
    pub secrets: Vec<ActionSecretInfo>,
    /// `built`: Sluice has no build step.
    pub status: String,
    pub all_changes_deployed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployed_version: Option<Box<ActionVersion>>,
    pub created_at: String,
    pub updated_at: String,
}

/// A deployed version of an action (what `deploy` answers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionVersion {
    pub id: String,
    pub action_id: String,
    pub code: String,
    pub dependencies: Vec<ActionDependency>,
    pub runtime: String,
    pub secrets: Vec<ActionSecretInfo>,
    pub deployed: bool,
    pub number: i64,
    pub status: String,
    pub errors: Vec<serde_json::Value>,
    /// The action, in `deploy`'s answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Box<Action>>,
    pub supported_triggers: Vec<ActionTriggerRef>,
    pub built_at: String,
    pub created_at: String,
    pub updated_at: String,
}

/// `GET /api/v2/actions/actions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionList {
    pub actions: Vec<Action>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// One trigger of `GET /api/v2/actions/triggers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionTrigger {
    pub id: String,
    pub version: String,
    pub status: String,
    pub runtimes: Vec<String>,
    pub default_runtime: String,
    pub compatible_triggers: Vec<ActionTriggerRef>,
    pub binding_policy: String,
}

/// `GET /api/v2/actions/triggers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionTriggerList {
    pub triggers: Vec<ActionTrigger>,
}

/// How a binding names its action: `{type: action_id | action_name, value}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindingRef {
    #[serde(rename = "type")]
    pub ref_type: String,
    pub value: String,
}

/// One binding of `PATCH /api/v2/actions/triggers/{triggerId}/bindings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindingIn {
    #[serde(rename = "ref")]
    pub reference: BindingRef,
    #[serde(default)]
    pub display_name: Option<String>,
}

/// `PATCH /api/v2/actions/triggers/{triggerId}/bindings`: the new list, in execution order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindingsPatch {
    pub bindings: Vec<BindingIn>,
}

/// A binding as returned, with its action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Binding {
    pub id: String,
    pub trigger_id: String,
    pub display_name: String,
    pub action: Action,
    pub created_at: String,
    pub updated_at: String,
}

/// What `PATCH .../bindings` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BindingsUpdated {
    pub bindings: Vec<Binding>,
}

/// `GET /api/v2/actions/triggers/{triggerId}/bindings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BindingList {
    pub bindings: Vec<Binding>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_uses_auth0_trigger_id_spelling() {
        let h: HookCreate = serde_json::from_value(serde_json::json!({
            "name": "h", "script": "x", "triggerId": "credentials-exchange"
        }))
        .unwrap();
        assert_eq!(h.trigger_id, "credentials-exchange");
        assert!(
            serde_json::from_value::<HookCreate>(serde_json::json!({
                "name": "h", "script": "x", "triggerId": "t", "secrets": {}
            }))
            .is_err()
        );
    }

    #[test]
    fn enabled_may_be_a_boolean_string() {
        let p: HookPatch = serde_json::from_value(serde_json::json!({"enabled": "true"})).unwrap();
        assert_eq!(p.enabled, Some(true));
        let p: RulePatch = serde_json::from_value(serde_json::json!({"enabled": false})).unwrap();
        assert_eq!(p.enabled, Some(false));
        assert_eq!(RulePatch::default().enabled, None);
        assert!(
            serde_json::from_value::<HookPatch>(serde_json::json!({"enabled": "yes"})).is_err()
        );
        assert!(serde_json::from_value::<HookPatch>(serde_json::json!({"enabled": 1})).is_err());
    }

    #[test]
    fn binding_ref_reads_type_and_value() {
        let b: BindingsPatch = serde_json::from_value(serde_json::json!({
            "bindings": [{"ref": {"type": "action_name", "value": "a"}, "display_name": "A"}]
        }))
        .unwrap();
        assert_eq!(b.bindings[0].reference.ref_type, "action_name");
    }
}
