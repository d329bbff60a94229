//! Management API operations on actions (`/api/v2/actions/actions`, `.../{id}/deploy`).
//! Actions are [`StoredAction`] documents keyed by name: `code` is the draft, `deployed_code`
//! what bindings run (copied by deploy). Secret values are sealed with the action's id as owner
//! and never returned; triggers and bindings live in [`super::bindings`].

use super::Extensibility;
use super::checks::{MAX_NAME, MAX_SCRIPT, check_secret, page_of, property_error};
use super::stored::{ACTION_TRIGGERS, StoredAction, StoredActionSecret};
use crate::authz::Actor;
use crate::error::CoreError;
use crate::ids;
use crate::model::{Doc, DocKind};
use crate::paging::PageQuery;
use crate::ports::StoreError;
use crate::tenant::TenantCtx;
use sluice_types::JsonMap;
use sluice_types::extend::{
    Action, ActionCreate, ActionDependency, ActionList, ActionPatch, ActionSecretIn,
    ActionSecretInfo, ActionTriggerRef, ActionVersion,
};

/// The Node.js runtimes an action may name (Sluice runs every action the same way).
pub const RUNTIMES: &[&str] = &["node18", "node22"];
pub const DEFAULT_RUNTIME: &str = "node22";
/// The most secrets an action may have.
pub const MAX_ACTION_SECRETS: usize = 100;

pub(crate) fn not_found() -> CoreError {
    CoreError::NotFound {
        code: "inexistent_action",
        message: "The action does not exist.".into(),
    }
}

fn name_taken() -> CoreError {
    CoreError::Conflict {
        code: "conflict",
        message: "An action with the same name already exists".into(),
    }
}

/// Filters of `GET /api/v2/actions/actions`.
#[derive(Debug, Clone, Default)]
pub struct ActionFilter {
    pub trigger_id: Option<String>,
    pub action_name: Option<String>,
    pub deployed: Option<bool>,
}

fn triggers_of(a: &StoredAction) -> Vec<ActionTriggerRef> {
    a.supported_triggers
        .iter()
        .filter_map(|v| serde_json::from_value(v.clone()).ok())
        .collect()
}

fn dependencies_of(a: &StoredAction) -> Vec<ActionDependency> {
    a.dependencies
        .iter()
        .filter_map(|v| serde_json::from_value(v.clone()).ok())
        .collect()
}

fn secrets_of(a: &StoredAction) -> Vec<ActionSecretInfo> {
    a.secrets
        .iter()
        .map(|s| ActionSecretInfo {
            name: s.name.clone(),
            updated_at: s.updated_at.clone(),
        })
        .collect()
}

/// The deployed version of an action, if it was deployed.
fn version_of(a: &StoredAction) -> Option<ActionVersion> {
    a.deployed_code.clone().map(|code| version_with(a, code))
}

fn version_with(a: &StoredAction, code: String) -> ActionVersion {
    let at = a
        .deployed_at
        .clone()
        .unwrap_or_else(|| a.updated_at.clone());
    ActionVersion {
        id: a.deployed_version_id.clone().unwrap_or_default(),
        action_id: a.id.clone(),
        code,
        dependencies: dependencies_of(a),
        runtime: a.runtime.clone().unwrap_or_else(|| DEFAULT_RUNTIME.into()),
        secrets: secrets_of(a),
        deployed: true,
        number: a.deployed_number,
        status: "built".into(),
        errors: Vec::new(),
        action: None,
        supported_triggers: triggers_of(a),
        built_at: at.clone(),
        created_at: at.clone(),
        updated_at: at,
    }
}

/// An action in Auth0's shape (secret values left out).
pub(crate) fn shown(a: &StoredAction) -> Action {
    Action {
        id: a.id.clone(),
        name: a.name.clone(),
        supported_triggers: triggers_of(a),
        code: a.code.clone(),
        dependencies: dependencies_of(a),
        runtime: a.runtime.clone().unwrap_or_else(|| DEFAULT_RUNTIME.into()),
        secrets: secrets_of(a),
        status: "built".into(),
        all_changes_deployed: a.deployed_code.as_deref() == Some(a.code.as_str()),
        deployed_version: version_of(a).map(Box::new),
        created_at: a.created_at.clone(),
        updated_at: a.updated_at.clone(),
    }
}

fn check_triggers(triggers: &[ActionTriggerRef]) -> Result<Vec<serde_json::Value>, CoreError> {
    if triggers.is_empty() {
        return Err(property_error(
            "Array is too short (0), minimum 1",
            "supported_triggers",
        ));
    }
    let mut out = Vec::new();
    for tr in triggers {
        let Some((_, version)) = ACTION_TRIGGERS.iter().find(|(id, _)| *id == tr.id) else {
            return Err(CoreError::bad_request(format!(
                "Trigger '{}' is not supported; supported triggers: {}",
                tr.id,
                ACTION_TRIGGERS
                    .iter()
                    .map(|(id, _)| *id)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        if tr.version != *version {
            return Err(CoreError::bad_request(format!(
                "Version '{}' of trigger '{}' is not supported; use '{version}'",
                tr.version, tr.id
            )));
        }
        if out
            .iter()
            .any(|v: &serde_json::Value| v["id"] == tr.id.as_str())
        {
            return Err(CoreError::bad_request(format!(
                "Trigger '{}' is listed twice",
                tr.id
            )));
        }
        out.push(serde_json::json!({"id": tr.id, "version": tr.version}));
    }
    Ok(out)
}

fn check_dependencies(deps: Vec<ActionDependency>) -> Result<Vec<serde_json::Value>, CoreError> {
    deps.into_iter()
        .map(|d| {
            if d.name.trim().is_empty() {
                return Err(property_error(
                    "String is too short (0 chars), minimum 1",
                    "dependencies.name",
                ));
            }
            crate::model::to_body(&d)
        })
        .collect()
}

fn check_runtime(runtime: &str) -> Result<(), CoreError> {
    if RUNTIMES.contains(&runtime) {
        Ok(())
    } else {
        Err(CoreError::bad_request(format!(
            "Runtime '{runtime}' is not supported; use one of {}",
            RUNTIMES.join(", ")
        )))
    }
}

impl Extensibility {
    fn action_doc(&self, a: &StoredAction, created_at: i64) -> Result<Doc, CoreError> {
        Ok(Doc {
            id: a.id.clone(),
            key: a.name.clone(),
            ref_id: None,
            body: crate::model::to_body(a)?,
            created_at,
            updated_at: self.now(),
        })
    }

    pub(crate) async fn action_fetch(
        &self,
        t: &TenantCtx,
        id: &str,
    ) -> Result<Option<(Doc, StoredAction)>, CoreError> {
        let Some(doc) = self.store.doc_fetch(&t.id, DocKind::Action, id).await? else {
            return Ok(None);
        };
        let a = crate::model::from_body(doc.body.clone())?;
        Ok(Some((doc, a)))
    }

    async fn action_save(
        &self,
        t: &TenantCtx,
        a: &StoredAction,
        created_at: i64,
    ) -> Result<(), CoreError> {
        self.store
            .doc_update(&t.id, DocKind::Action, &self.action_doc(a, created_at)?)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => name_taken(),
                other => other.into(),
            })?;
        Ok(())
    }

    /// Checks an action's name and code (compiled for every trigger it supports).
    fn action_validate(&self, a: &StoredAction) -> Result<(), CoreError> {
        if a.name.trim().is_empty()
            || a.name.len() > MAX_NAME
            || a.name.chars().any(char::is_control)
        {
            return Err(property_error(
                format!("String must be 1-{MAX_NAME} printable characters"),
                "name",
            ));
        }
        if a.code.len() > MAX_SCRIPT {
            return Err(property_error(
                format!(
                    "String is too long ({} chars), maximum {MAX_SCRIPT}",
                    a.code.len()
                ),
                "code",
            ));
        }
        for tr in triggers_of(a) {
            self.check_syntax("code", &format!("action:{}", tr.id), &a.code)?;
        }
        Ok(())
    }

    /// Replaces the secrets of `a` with `list`; an entry without a value keeps the stored one.
    fn action_set_secrets(
        &self,
        t: &TenantCtx,
        a: &mut StoredAction,
        list: Vec<ActionSecretIn>,
    ) -> Result<(), CoreError> {
        if list.len() > MAX_ACTION_SECRETS {
            return Err(CoreError::bad_request(format!(
                "An action can have at most {MAX_ACTION_SECRETS} secrets"
            )));
        }
        let now = self.now_rfc3339();
        let mut out: Vec<StoredActionSecret> = Vec::new();
        for s in list {
            if out.iter().any(|o| o.name == s.name) {
                return Err(CoreError::bad_request(format!(
                    "Secret '{}' is listed twice",
                    s.name
                )));
            }
            match s.value {
                Some(value) => {
                    check_secret(&s.name, &value)?;
                    out.push(StoredActionSecret {
                        value_sealed: self.secret_seal(t, &a.id, &s.name, &value),
                        name: s.name,
                        updated_at: now.clone(),
                    });
                }
                None => match a.secrets.iter().find(|o| o.name == s.name) {
                    Some(kept) => out.push(kept.clone()),
                    None => {
                        return Err(CoreError::bad_request(format!(
                            "Secret '{}' needs a value",
                            s.name
                        )));
                    }
                },
            }
        }
        a.secrets = out;
        Ok(())
    }

    /// Makes the draft the deployed version.
    fn action_mark_deployed(&self, a: &mut StoredAction) -> ActionVersion {
        a.deployed_code = Some(a.code.clone());
        a.deployed_version_id = Some(ids::uuid());
        a.deployed_number += 1;
        a.deployed_at = Some(self.now_rfc3339());
        let mut v = version_with(a, a.code.clone());
        v.action = Some(Box::new(shown(a)));
        v
    }

    pub async fn action_create(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        body: JsonMap,
    ) -> Result<Action, CoreError> {
        actor.require("create:actions")?;
        let b: ActionCreate =
            serde_json::from_value(serde_json::Value::Object(body)).map_err(CoreError::payload)?;
        let runtime = b.runtime.unwrap_or_else(|| DEFAULT_RUNTIME.into());
        check_runtime(&runtime)?;
        let now = self.now_rfc3339();
        let mut a = StoredAction {
            id: ids::uuid(),
            name: b.name,
            supported_triggers: check_triggers(&b.supported_triggers)?,
            code: b.code.unwrap_or_default(),
            dependencies: check_dependencies(b.dependencies.unwrap_or_default())?,
            runtime: Some(runtime),
            secrets: Vec::new(),
            deployed_code: None,
            deployed_version_id: None,
            deployed_number: 0,
            deployed_at: None,
            created_at: now.clone(),
            updated_at: now,
        };
        self.action_validate(&a)?;
        self.action_set_secrets(t, &mut a, b.secrets.unwrap_or_default())?;
        if b.deploy == Some(true) {
            self.action_mark_deployed(&mut a);
        }
        let doc = self.action_doc(&a, self.now())?;
        self.store
            .doc_insert(&t.id, DocKind::Action, &doc)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => name_taken(),
                other => other.into(),
            })?;
        Ok(shown(&a))
    }

    /// `{actions, total, page, per_page}`, filtered by trigger, name or deployment.
    pub async fn action_list(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        filter: ActionFilter,
        q: PageQuery,
    ) -> Result<ActionList, CoreError> {
        actor.require("read:actions")?;
        let all: Vec<StoredAction> =
            crate::model::docs_all(&*self.store, t, DocKind::Action).await?;
        let items: Vec<Action> = all
            .iter()
            .filter(|a| filter.trigger_id.as_deref().is_none_or(|tr| a.supports(tr)))
            .filter(|a| filter.action_name.as_deref().is_none_or(|n| a.name == n))
            .filter(|a| {
                filter
                    .deployed
                    .is_none_or(|d| a.deployed_code.is_some() == d)
            })
            .map(shown)
            .collect();
        let l = page_of(items, q)?;
        Ok(ActionList {
            actions: l.items,
            total: l.total,
            page: q.page.unwrap_or(0),
            per_page: l.limit,
        })
    }

    pub async fn action_get(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        id: &str,
    ) -> Result<Action, CoreError> {
        actor.require("read:actions")?;
        let (_, a) = self.action_fetch(t, id).await?.ok_or_else(not_found)?;
        Ok(shown(&a))
    }

    /// Changes the draft; bound actions keep running their deployed version until deployed.
    pub async fn action_update(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        id: &str,
        patch: JsonMap,
    ) -> Result<Action, CoreError> {
        actor.require("update:actions")?;
        let p: ActionPatch =
            serde_json::from_value(serde_json::Value::Object(patch)).map_err(CoreError::payload)?;
        let (doc, mut a) = self.action_fetch(t, id).await?.ok_or_else(not_found)?;
        if let Some(name) = p.name {
            a.name = name;
        }
        if let Some(triggers) = p.supported_triggers {
            a.supported_triggers = check_triggers(&triggers)?;
            for bound in self.action_bound_triggers(t, &a.id).await? {
                if !a.supports(&bound) {
                    return Err(CoreError::bad_request(format!(
                        "The action is bound to '{bound}'; unbind it before removing that trigger"
                    )));
                }
            }
        }
        if let Some(code) = p.code {
            a.code = code;
        }
        if let Some(deps) = p.dependencies {
            a.dependencies = check_dependencies(deps)?;
        }
        if let Some(runtime) = p.runtime {
            check_runtime(&runtime)?;
            a.runtime = Some(runtime);
        }
        self.action_validate(&a)?;
        if let Some(secrets) = p.secrets {
            self.action_set_secrets(t, &mut a, secrets)?;
        }
        a.updated_at = self.now_rfc3339();
        self.action_save(t, &a, doc.created_at).await?;
        Ok(shown(&a))
    }

    /// Deletes an action; a bound one only with `force`, which also removes its bindings.
    pub async fn action_delete(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        id: &str,
        force: bool,
    ) -> Result<(), CoreError> {
        actor.require("delete:actions")?;
        if self.action_fetch(t, id).await?.is_none() {
            return Err(not_found());
        }
        let bound = self.action_bound_triggers(t, id).await?;
        if !bound.is_empty() {
            if !force {
                return Err(CoreError::BadRequest {
                    code: "operation_not_supported",
                    message: format!(
                        "The action is bound to {}; remove the bindings or delete with force=true",
                        bound.join(", ")
                    ),
                });
            }
            self.action_unbind(t, id).await?;
        }
        if !self.store.doc_delete(&t.id, DocKind::Action, id).await? {
            return Err(not_found());
        }
        Ok(())
    }

    /// Deploys the draft: bindings run this code from now on.
    pub async fn action_deploy(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        id: &str,
    ) -> Result<ActionVersion, CoreError> {
        actor.require("create:actions")?;
        let (doc, mut a) = self.action_fetch(t, id).await?.ok_or_else(not_found)?;
        self.action_validate(&a)?;
        let v = self.action_mark_deployed(&mut a);
        self.action_save(t, &a, doc.created_at).await?;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tr(id: &str, version: &str) -> ActionTriggerRef {
        ActionTriggerRef {
            id: id.into(),
            version: version.into(),
        }
    }

    #[test]
    fn triggers_must_be_known_current_and_distinct() {
        assert!(check_triggers(&[tr("post-login", "v3")]).is_ok());
        assert!(check_triggers(&[]).is_err());
        assert!(check_triggers(&[tr("send-phone-message", "v2")]).is_err());
        assert!(check_triggers(&[tr("post-login", "v1")]).is_err());
        assert!(check_triggers(&[tr("post-login", "v3"), tr("post-login", "v3")]).is_err());
    }

    #[test]
    fn all_changes_deployed_compares_draft_and_deployed_code() {
        let mut a = StoredAction {
            id: "a".into(),
            name: "n".into(),
            supported_triggers: vec![serde_json::json!({"id": "post-login", "version": "v3"})],
            code: "x".into(),
            dependencies: Vec::new(),
            runtime: None,
            secrets: Vec::new(),
            deployed_code: None,
            deployed_version_id: None,
            deployed_number: 0,
            deployed_at: None,
            created_at: "c".into(),
            updated_at: "u".into(),
        };
        let s = shown(&a);
        assert!(!s.all_changes_deployed && s.deployed_version.is_none());
        assert_eq!(s.runtime, DEFAULT_RUNTIME);
        a.deployed_code = Some("x".into());
        a.deployed_number = 1;
        let s = shown(&a);
        assert!(s.all_changes_deployed);
        assert_eq!(s.deployed_version.unwrap().number, 1);
        a.code = "y".into();
        assert!(!shown(&a).all_changes_deployed);
    }
}
