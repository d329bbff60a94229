//! Management API operations on action triggers (`/api/v2/actions/triggers`) and their
//! bindings (`.../{triggerId}/bindings`): the ordered list of deployed actions a trigger runs,
//! kept as one [`StoredBindings`] document per trigger (key and id: the trigger id).

use super::Extensibility;
use super::actions::shown;
use super::checks::{MAX_NAME, page_of, property_error};
use super::stored::{ACTION_TRIGGERS, StoredAction, StoredBinding, StoredBindings};
use crate::authz::Actor;
use crate::error::CoreError;
use crate::ids;
use crate::model::{Doc, DocKind};
use crate::paging::PageQuery;
use crate::ports::StoreError;
use crate::tenant::TenantCtx;
use sluice_types::JsonMap;
use sluice_types::extend::{
    ActionTrigger, ActionTriggerList, Binding, BindingList, BindingsPatch, BindingsUpdated,
};

fn trigger_known(trigger: &str) -> Result<(), CoreError> {
    if ACTION_TRIGGERS.iter().any(|(id, _)| *id == trigger) {
        Ok(())
    } else {
        Err(CoreError::NotFound {
            code: "inexistent_trigger",
            message: format!("The trigger '{trigger}' does not exist."),
        })
    }
}

impl Extensibility {
    /// The triggers actions can be bound to, with their current version.
    pub async fn action_triggers(
        &self,
        _t: &TenantCtx,
        actor: &Actor,
    ) -> Result<ActionTriggerList, CoreError> {
        actor.require("read:actions")?;
        let runtimes: Vec<String> = super::actions::RUNTIMES
            .iter()
            .map(|r| r.to_string())
            .collect();
        Ok(ActionTriggerList {
            triggers: ACTION_TRIGGERS
                .iter()
                .map(|(id, version)| ActionTrigger {
                    id: id.to_string(),
                    version: version.to_string(),
                    status: "CURRENT".into(),
                    runtimes: runtimes.clone(),
                    default_runtime: super::actions::DEFAULT_RUNTIME.into(),
                    compatible_triggers: Vec::new(),
                    binding_policy: "trigger-bound".into(),
                })
                .collect(),
        })
    }

    async fn bindings_stored(
        &self,
        t: &TenantCtx,
        trigger: &str,
    ) -> Result<Option<(Doc, StoredBindings)>, CoreError> {
        let Some(doc) = self
            .store
            .doc_fetch_by_key(&t.id, DocKind::TriggerBindings, trigger)
            .await?
        else {
            return Ok(None);
        };
        let b = crate::model::from_body(doc.body.clone())?;
        Ok(Some((doc, b)))
    }

    async fn bindings_save(
        &self,
        t: &TenantCtx,
        trigger: &str,
        previous: Option<Doc>,
        bindings: &StoredBindings,
    ) -> Result<(), CoreError> {
        let now = self.now();
        let doc = Doc {
            id: trigger.to_string(),
            key: trigger.to_string(),
            ref_id: None,
            body: crate::model::to_body(bindings)?,
            created_at: previous.as_ref().map_or(now, |d| d.created_at),
            updated_at: now,
        };
        if previous.is_some() {
            self.store
                .doc_update(&t.id, DocKind::TriggerBindings, &doc)
                .await?;
            return Ok(());
        }
        match self
            .store
            .doc_insert(&t.id, DocKind::TriggerBindings, &doc)
            .await
        {
            // Written concurrently: the later write wins, as with an update.
            Err(StoreError::Conflict(_)) => {
                self.store
                    .doc_update(&t.id, DocKind::TriggerBindings, &doc)
                    .await?;
                Ok(())
            }
            other => Ok(other?),
        }
    }

    /// The bindings of a trigger with their actions (bindings of deleted actions are left out).
    async fn bindings_shown(
        &self,
        t: &TenantCtx,
        trigger: &str,
        stored: StoredBindings,
    ) -> Result<Vec<Binding>, CoreError> {
        let mut out = Vec::new();
        for b in stored.bindings {
            let Some((_, a)) = self.action_fetch(t, &b.action_id).await? else {
                continue;
            };
            out.push(Binding {
                id: b.id,
                trigger_id: trigger.to_string(),
                display_name: b.display_name,
                action: shown(&a),
                created_at: b.created_at,
                updated_at: b.updated_at,
            });
        }
        Ok(out)
    }

    pub async fn bindings_get(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        trigger: &str,
        q: PageQuery,
    ) -> Result<BindingList, CoreError> {
        actor.require("read:actions")?;
        trigger_known(trigger)?;
        let stored = self
            .bindings_stored(t, trigger)
            .await?
            .map(|(_, b)| b)
            .unwrap_or_default();
        let l = page_of(self.bindings_shown(t, trigger, stored).await?, q)?;
        Ok(BindingList {
            bindings: l.items,
            total: l.total,
            page: q.page.unwrap_or(0),
            per_page: l.limit,
        })
    }

    /// Finds the action a binding names, which must support `trigger` and be deployed.
    async fn binding_action(
        &self,
        t: &TenantCtx,
        trigger: &str,
        ref_type: &str,
        value: &str,
    ) -> Result<StoredAction, CoreError> {
        let found = match ref_type {
            "action_id" => self.action_fetch(t, value).await?.map(|(_, a)| a),
            "action_name" => match self
                .store
                .doc_fetch_by_key(&t.id, DocKind::Action, value)
                .await?
            {
                Some(d) => Some(crate::model::from_body(d.body)?),
                None => None,
            },
            other => {
                return Err(property_error(
                    format!("No enum match for: \"{other}\""),
                    "bindings.ref.type",
                ));
            }
        };
        let a: StoredAction = found.ok_or_else(|| {
            CoreError::bad_request(format!("The action '{value}' does not exist"))
        })?;
        if !a.supports(trigger) {
            return Err(CoreError::bad_request(format!(
                "The action '{}' does not support the trigger '{trigger}'",
                a.name
            )));
        }
        if a.deployed_code.is_none() {
            return Err(CoreError::bad_request(format!(
                "The action '{}' must be deployed before it is bound",
                a.name
            )));
        }
        Ok(a)
    }

    /// Replaces the bindings of a trigger; an action keeps its binding id when it stays bound.
    pub async fn bindings_update(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        trigger: &str,
        body: JsonMap,
    ) -> Result<BindingsUpdated, CoreError> {
        actor.require("update:actions")?;
        trigger_known(trigger)?;
        let p: BindingsPatch =
            serde_json::from_value(serde_json::Value::Object(body)).map_err(CoreError::payload)?;
        let previous = self.bindings_stored(t, trigger).await?;
        let old = previous
            .as_ref()
            .map(|(_, b)| b.bindings.as_slice())
            .unwrap_or(&[]);
        let now = self.now_rfc3339();
        let mut next = StoredBindings::default();
        for b in p.bindings {
            let a = self
                .binding_action(t, trigger, &b.reference.ref_type, &b.reference.value)
                .await?;
            if next.bindings.iter().any(|x| x.action_id == a.id) {
                return Err(CoreError::bad_request(format!(
                    "The action '{}' is bound twice",
                    a.name
                )));
            }
            let display_name = b.display_name.unwrap_or_else(|| a.name.clone());
            if display_name.trim().is_empty() || display_name.len() > MAX_NAME {
                return Err(property_error(
                    format!("String must be 1-{MAX_NAME} characters"),
                    "bindings.display_name",
                ));
            }
            let kept = old.iter().find(|x| x.action_id == a.id);
            next.bindings.push(StoredBinding {
                id: kept.map_or_else(ids::uuid, |k| k.id.clone()),
                action_id: a.id,
                display_name,
                created_at: kept.map_or_else(|| now.clone(), |k| k.created_at.clone()),
                updated_at: now.clone(),
            });
        }
        self.bindings_save(t, trigger, previous.map(|(d, _)| d), &next)
            .await?;
        Ok(BindingsUpdated {
            bindings: self.bindings_shown(t, trigger, next).await?,
        })
    }

    /// The triggers an action is bound to.
    pub(crate) async fn action_bound_triggers(
        &self,
        t: &TenantCtx,
        action_id: &str,
    ) -> Result<Vec<String>, CoreError> {
        let mut out = Vec::new();
        for (trigger, _) in ACTION_TRIGGERS {
            if let Some((_, b)) = self.bindings_stored(t, trigger).await?
                && b.bindings.iter().any(|x| x.action_id == action_id)
            {
                out.push(trigger.to_string());
            }
        }
        Ok(out)
    }

    /// Removes an action from every trigger it is bound to.
    pub(crate) async fn action_unbind(
        &self,
        t: &TenantCtx,
        action_id: &str,
    ) -> Result<(), CoreError> {
        for (trigger, _) in ACTION_TRIGGERS {
            if let Some((doc, mut b)) = self.bindings_stored(t, trigger).await?
                && b.bindings.iter().any(|x| x.action_id == action_id)
            {
                b.bindings.retain(|x| x.action_id != action_id);
                self.bindings_save(t, trigger, Some(doc), &b).await?;
            }
        }
        Ok(())
    }
}
