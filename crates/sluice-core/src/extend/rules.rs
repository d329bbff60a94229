//! Management API operations on rules (`/api/v2/rules`) and the rules configuration
//! (`/api/v2/rules-configs`). Rules are kept as [`StoredRule`] documents keyed by name; the
//! configuration values are sealed with the owner [`RULES_CONFIG_OWNER`] and never returned.

use super::Extensibility;
use super::checks::{check_name, check_script_size, page_of, property_error};
use super::stored::{StoredRule, StoredRulesConfig};
use crate::authz::Actor;
use crate::error::CoreError;
use crate::ids;
use crate::model::{Doc, DocKind};
use crate::paging::{Listed, PageQuery};
use crate::ports::StoreError;
use crate::tenant::TenantCtx;
use sluice_types::JsonMap;
use sluice_types::extend::{
    Rule, RuleCreate, RulePatch, RulesConfigKey, RulesConfigSet, RulesConfigValue,
};

/// The owner id the rules-configuration values are sealed with.
pub const RULES_CONFIG_OWNER: &str = "rules-config";
/// The only stage rules run in.
pub const RULE_STAGE: &str = "login_success";
const KEY_PATTERN: &str = r"^[A-Za-z0-9_\-@*+:]*$";
const MAX_KEY: usize = 127;

fn not_found() -> CoreError {
    CoreError::NotFound {
        code: "inexistent_rule",
        message: "The rule does not exist.".into(),
    }
}

fn name_taken() -> CoreError {
    CoreError::Conflict {
        code: "conflict",
        message: "A rule with the same name already exists".into(),
    }
}

fn shown(r: StoredRule) -> Rule {
    Rule {
        id: r.id,
        name: r.name,
        script: r.script,
        order: r.order,
        enabled: r.enabled,
        stage: RULE_STAGE.into(),
    }
}

/// Filters of `GET /api/v2/rules`.
#[derive(Debug, Clone, Default)]
pub struct RuleFilter {
    pub enabled: Option<bool>,
    pub stage: Option<String>,
}

/// Checks a rules-configuration key (a path parameter).
fn check_key(key: &str) -> Result<(), CoreError> {
    let ok = !key.is_empty()
        && key.len() <= MAX_KEY
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-@*+:".contains(c));
    if ok {
        Ok(())
    } else {
        Err(CoreError::BadRequest {
            code: "invalid_uri",
            message: format!(
                "Path validation error: 'String does not match pattern {KEY_PATTERN} (1-{MAX_KEY} characters): {key}' on property key."
            ),
        })
    }
}

impl Extensibility {
    fn rule_doc(&self, r: &StoredRule, created_at: i64) -> Result<Doc, CoreError> {
        Ok(Doc {
            id: r.id.clone(),
            key: r.name.clone(),
            ref_id: None,
            body: crate::model::to_body(r)?,
            created_at,
            updated_at: self.now(),
        })
    }

    async fn rule_fetch(&self, t: &TenantCtx, id: &str) -> Result<(Doc, StoredRule), CoreError> {
        let doc = self
            .store
            .doc_fetch(&t.id, DocKind::Rule, id)
            .await?
            .ok_or_else(not_found)?;
        let r = crate::model::from_body(doc.body.clone())?;
        Ok((doc, r))
    }

    /// Checks a rule's name and script (syntax included).
    fn rule_validate(&self, r: &StoredRule) -> Result<(), CoreError> {
        check_name(&r.name, "rule")?;
        check_script_size(
            &r.script,
            "script (Code to be executed when this rule runs)",
        )?;
        self.check_syntax("script", "rule", &r.script)
    }

    /// Auth0 keeps rule orders unique.
    fn rule_order_free(
        all: &[StoredRule],
        order: i64,
        except: Option<&str>,
    ) -> Result<(), CoreError> {
        if all
            .iter()
            .any(|r| r.order == order && Some(r.id.as_str()) != except)
        {
            return Err(CoreError::Conflict {
                code: "conflict",
                message: format!("A rule with order {order} already exists"),
            });
        }
        Ok(())
    }

    pub async fn rule_create(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        body: JsonMap,
    ) -> Result<Rule, CoreError> {
        actor.require("create:rules")?;
        let b: RuleCreate =
            serde_json::from_value(serde_json::Value::Object(body)).map_err(CoreError::payload)?;
        if let Some(stage) = b.stage.as_deref()
            && stage != RULE_STAGE
        {
            return Err(property_error(
                format!("No enum match for: \"{stage}\""),
                "stage",
            ));
        }
        let all: Vec<StoredRule> = crate::model::docs_all(&*self.store, t, DocKind::Rule).await?;
        let order = match b.order {
            Some(o) => {
                Self::rule_order_free(&all, o, None)?;
                o
            }
            None => all.iter().map(|r| r.order).max().unwrap_or(0) + 1,
        };
        let r = StoredRule {
            id: ids::rule_id(),
            name: b.name,
            script: b.script,
            order,
            enabled: b.enabled.unwrap_or(true),
        };
        self.rule_validate(&r)?;
        if all.iter().any(|x| x.name == r.name) {
            return Err(name_taken());
        }
        let doc = self.rule_doc(&r, self.now())?;
        self.store
            .doc_insert(&t.id, DocKind::Rule, &doc)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => name_taken(),
                other => other.into(),
            })?;
        Ok(shown(r))
    }

    /// Rules in execution order (by `order`, then name).
    pub async fn rule_list(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        filter: RuleFilter,
        q: PageQuery,
    ) -> Result<Listed<Rule>, CoreError> {
        actor.require("read:rules")?;
        let mut all: Vec<StoredRule> =
            crate::model::docs_all(&*self.store, t, DocKind::Rule).await?;
        all.retain(|r| filter.enabled.is_none_or(|e| r.enabled == e));
        if filter.stage.as_deref().is_some_and(|s| s != RULE_STAGE) {
            all.clear();
        }
        all.sort_by(|a, b| a.order.cmp(&b.order).then_with(|| a.name.cmp(&b.name)));
        page_of(all.into_iter().map(shown).collect(), q)
    }

    pub async fn rule_get(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        id: &str,
    ) -> Result<Rule, CoreError> {
        actor.require("read:rules")?;
        Ok(shown(self.rule_fetch(t, id).await?.1))
    }

    pub async fn rule_update(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        id: &str,
        patch: JsonMap,
    ) -> Result<Rule, CoreError> {
        actor.require("update:rules")?;
        let p: RulePatch =
            serde_json::from_value(serde_json::Value::Object(patch)).map_err(CoreError::payload)?;
        let (doc, mut r) = self.rule_fetch(t, id).await?;
        if let Some(order) = p.order
            && order != r.order
        {
            let all: Vec<StoredRule> =
                crate::model::docs_all(&*self.store, t, DocKind::Rule).await?;
            Self::rule_order_free(&all, order, Some(&r.id))?;
            r.order = order;
        }
        if let Some(name) = p.name {
            r.name = name;
        }
        if let Some(script) = p.script {
            r.script = script;
        }
        if let Some(enabled) = p.enabled {
            r.enabled = enabled;
        }
        self.rule_validate(&r)?;
        self.store
            .doc_update(&t.id, DocKind::Rule, &self.rule_doc(&r, doc.created_at)?)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => name_taken(),
                other => other.into(),
            })?;
        Ok(shown(r))
    }

    pub async fn rule_delete(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        id: &str,
    ) -> Result<(), CoreError> {
        actor.require("delete:rules")?;
        if !self.store.doc_delete(&t.id, DocKind::Rule, id).await? {
            return Err(not_found());
        }
        Ok(())
    }

    /// The configuration keys (values are never returned).
    pub async fn rules_config_list(
        &self,
        t: &TenantCtx,
        actor: &Actor,
    ) -> Result<Vec<RulesConfigKey>, CoreError> {
        actor.require("read:rules_configs")?;
        let all: Vec<StoredRulesConfig> =
            crate::model::docs_all(&*self.store, t, DocKind::RulesConfig).await?;
        Ok(all
            .into_iter()
            .map(|c| RulesConfigKey { key: c.key })
            .collect())
    }

    /// Sets (creates or replaces) a configuration value, sealed at rest.
    pub async fn rules_config_set(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        key: &str,
        body: JsonMap,
    ) -> Result<RulesConfigValue, CoreError> {
        actor.require("update:rules_configs")?;
        check_key(key)?;
        if !body.contains_key("value") {
            return Err(CoreError::payload("Missing required property: value"));
        }
        let b: RulesConfigSet =
            serde_json::from_value(serde_json::Value::Object(body)).map_err(CoreError::payload)?;
        super::checks::check_secret(key, &b.value)?;
        let stored = StoredRulesConfig {
            key: key.to_string(),
            value_sealed: self.secret_seal(t, RULES_CONFIG_OWNER, key, &b.value),
        };
        let now = self.now();
        let mut doc = Doc {
            id: key.to_string(),
            key: key.to_string(),
            ref_id: None,
            body: crate::model::to_body(&stored)?,
            created_at: now,
            updated_at: now,
        };
        let existing = self
            .store
            .doc_fetch_by_key(&t.id, DocKind::RulesConfig, key)
            .await?;
        match existing {
            Some(old) => {
                doc.id = old.id;
                doc.created_at = old.created_at;
                self.store
                    .doc_update(&t.id, DocKind::RulesConfig, &doc)
                    .await?;
            }
            None => match self
                .store
                .doc_insert(&t.id, DocKind::RulesConfig, &doc)
                .await
            {
                Ok(()) => {}
                // Set concurrently: the later write wins, as with an update.
                Err(StoreError::Conflict(_)) => {
                    self.store
                        .doc_update(&t.id, DocKind::RulesConfig, &doc)
                        .await?;
                }
                Err(e) => return Err(e.into()),
            },
        }
        Ok(RulesConfigValue {
            key: key.to_string(),
            value: b.value,
        })
    }

    /// Removes a configuration value; removing an absent key succeeds, as in Auth0.
    pub async fn rules_config_delete(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        key: &str,
    ) -> Result<(), CoreError> {
        actor.require("delete:rules_configs")?;
        check_key(key)?;
        if let Some(d) = self
            .store
            .doc_fetch_by_key(&t.id, DocKind::RulesConfig, key)
            .await?
        {
            self.store
                .doc_delete(&t.id, DocKind::RulesConfig, &d.id)
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_keys_follow_auth0_pattern() {
        for ok in ["API_KEY", "a-b@c*d+e:f", &"k".repeat(127)] {
            assert!(check_key(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "a/b", "ключ", &"k".repeat(128)] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
    }
}
