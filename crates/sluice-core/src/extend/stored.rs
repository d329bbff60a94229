//! The stored form of Rules, rules configuration, Hooks, Actions and trigger bindings (as
//! documents), and the read side the execution points use: what runs for a trigger, in order,
//! with its secrets opened. Secrets and configuration values are sealed at rest with the
//! tenant's [`SecretBox`](sluice_crypto::secretbox::SecretBox) and an AAD naming what they
//! belong to; the Management API never returns them.

use super::Extensibility;
use crate::error::CoreError;
use crate::model::DocKind;
use crate::tenant::TenantCtx;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The hook triggers Auth0 has (and Sluice runs).
pub const HOOK_TRIGGERS: &[&str] = &[
    "credentials-exchange",
    "pre-user-registration",
    "post-user-registration",
    "post-change-password",
];

/// The action triggers Sluice runs, with the version Auth0 currently documents.
pub const ACTION_TRIGGERS: &[(&str, &str)] = &[
    ("post-login", "v3"),
    ("credentials-exchange", "v2"),
    ("pre-user-registration", "v2"),
    ("post-user-registration", "v2"),
    ("post-change-password", "v2"),
];

/// A rule as stored (document key: its name).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredRule {
    pub id: String,
    pub name: String,
    pub script: String,
    pub order: i64,
    pub enabled: bool,
}

/// A rules-configuration entry (document key: `key`); `value` is sealed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredRulesConfig {
    pub key: String,
    pub value_sealed: String,
}

/// A hook as stored (document key: its name); secret values are sealed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredHook {
    pub id: String,
    pub name: String,
    pub script: String,
    #[serde(rename = "triggerId")]
    pub trigger_id: String,
    pub enabled: bool,
    #[serde(default)]
    pub dependencies: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub secrets_sealed: BTreeMap<String, String>,
}

/// One secret of an action; `value` is sealed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredActionSecret {
    pub name: String,
    pub value_sealed: String,
    pub updated_at: String,
}

/// An action as stored (document key: its name). `deployed_code` is what bindings run;
/// `code` is the draft that `deploy` copies over.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredAction {
    pub id: String,
    pub name: String,
    /// `[{id, version}]`, Auth0's shape.
    pub supported_triggers: Vec<serde_json::Value>,
    pub code: String,
    #[serde(default)]
    pub dependencies: Vec<serde_json::Value>,
    #[serde(default)]
    pub runtime: Option<String>,
    #[serde(default)]
    pub secrets: Vec<StoredActionSecret>,
    #[serde(default)]
    pub deployed_code: Option<String>,
    /// The id of the deployed version (a new one at each deploy).
    #[serde(default)]
    pub deployed_version_id: Option<String>,
    /// How many times the action was deployed (the deployed version's `number`).
    #[serde(default)]
    pub deployed_number: i64,
    /// When the deployed version was deployed.
    #[serde(default)]
    pub deployed_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl StoredAction {
    pub fn supports(&self, trigger: &str) -> bool {
        self.supported_triggers
            .iter()
            .any(|t| t.get("id").and_then(|v| v.as_str()) == Some(trigger))
    }
}

/// One binding of a trigger to an action.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredBinding {
    pub id: String,
    pub action_id: String,
    pub display_name: String,
    pub created_at: String,
    pub updated_at: String,
}

/// The bindings of one trigger, in execution order (document key: the trigger id).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct StoredBindings {
    pub bindings: Vec<StoredBinding>,
}

/// What runs: a name (for logs), the source, and its opened secrets or configuration.
#[derive(Clone)]
pub struct Runnable {
    pub id: String,
    pub name: String,
    pub source: String,
    pub secrets: BTreeMap<String, String>,
}

impl std::fmt::Debug for Runnable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runnable")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The AAD of a sealed rules-config value, hook secret or action secret.
pub fn secret_aad(tenant_id: &str, owner: &str, name: &str) -> Vec<u8> {
    format!("extensibility-secret:{tenant_id}:{owner}:{name}").into_bytes()
}

impl Extensibility {
    /// Opens a sealed secret of `owner` (a rule-config key space, hook or action id).
    pub(crate) fn secret_open(
        &self,
        t: &TenantCtx,
        owner: &str,
        name: &str,
        sealed: &str,
    ) -> Result<String, CoreError> {
        let bytes = self
            .sealer
            .open(sealed, &secret_aad(&t.id, owner, name))
            .map_err(|e| {
                CoreError::internal(format!("secret {name} of {owner} unreadable: {e}"))
            })?;
        String::from_utf8(bytes).map_err(|_| CoreError::internal("secret is not UTF-8"))
    }

    /// Seals a secret of `owner`.
    pub(crate) fn secret_seal(
        &self,
        t: &TenantCtx,
        owner: &str,
        name: &str,
        value: &str,
    ) -> String {
        self.sealer
            .seal(value.as_bytes(), &secret_aad(&t.id, owner, name))
    }

    /// The tenant's rules configuration, opened (every rule's `configuration`).
    pub async fn rules_configuration(
        &self,
        t: &TenantCtx,
    ) -> Result<BTreeMap<String, String>, CoreError> {
        let mut out = BTreeMap::new();
        for c in crate::model::docs_all::<StoredRulesConfig>(&*self.store, t, DocKind::RulesConfig)
            .await?
        {
            let v = self.secret_open(t, "rules-config", &c.key, &c.value_sealed)?;
            out.insert(c.key, v);
        }
        Ok(out)
    }

    /// The enabled rules in execution order (by `order`, then name).
    pub async fn rules_enabled(&self, t: &TenantCtx) -> Result<Vec<Runnable>, CoreError> {
        let mut rules: Vec<StoredRule> =
            crate::model::docs_all::<StoredRule>(&*self.store, t, DocKind::Rule)
                .await?
                .into_iter()
                .filter(|r| r.enabled)
                .collect();
        if rules.is_empty() {
            return Ok(Vec::new());
        }
        rules.sort_by(|a, b| a.order.cmp(&b.order).then_with(|| a.name.cmp(&b.name)));
        let config = self.rules_configuration(t).await?;
        Ok(rules
            .into_iter()
            .map(|r| Runnable {
                id: r.id,
                name: r.name,
                source: r.script,
                secrets: config.clone(),
            })
            .collect())
    }

    /// The enabled hooks of a trigger (Auth0 allows one at a time; all run, by name).
    pub async fn hooks_for(
        &self,
        t: &TenantCtx,
        trigger: &str,
    ) -> Result<Vec<Runnable>, CoreError> {
        let mut hooks: Vec<StoredHook> =
            crate::model::docs_all::<StoredHook>(&*self.store, t, DocKind::Hook)
                .await?
                .into_iter()
                .filter(|h| h.enabled && h.trigger_id == trigger)
                .collect();
        hooks.sort_by(|a, b| a.name.cmp(&b.name));
        hooks
            .into_iter()
            .map(|h| {
                let mut secrets = BTreeMap::new();
                for (k, sealed) in &h.secrets_sealed {
                    secrets.insert(k.clone(), self.secret_open(t, &h.id, k, sealed)?);
                }
                Ok(Runnable {
                    id: h.id,
                    name: h.name,
                    source: h.script,
                    secrets,
                })
            })
            .collect()
    }

    /// The deployed actions bound to a trigger, in binding order.
    pub async fn actions_for(
        &self,
        t: &TenantCtx,
        trigger: &str,
    ) -> Result<Vec<Runnable>, CoreError> {
        let Some(doc) = self
            .store
            .doc_fetch_by_key(&t.id, DocKind::TriggerBindings, trigger)
            .await?
        else {
            return Ok(Vec::new());
        };
        let bindings: StoredBindings = crate::model::from_body(doc.body)?;
        let mut out = Vec::new();
        for b in bindings.bindings {
            let Some(d) = self
                .store
                .doc_fetch(&t.id, DocKind::Action, &b.action_id)
                .await?
            else {
                continue; // deleted since it was bound
            };
            let a: StoredAction = crate::model::from_body(d.body)?;
            let Some(code) = a.deployed_code.clone() else {
                continue;
            };
            let mut secrets = BTreeMap::new();
            for s in &a.secrets {
                secrets.insert(
                    s.name.clone(),
                    self.secret_open(t, &a.id, &s.name, &s.value_sealed)?,
                );
            }
            out.push(Runnable {
                id: a.id,
                name: b.display_name,
                source: code,
                secrets,
            });
        }
        Ok(out)
    }
}
