//! Management API operations on hooks (`/api/v2/hooks`) and their secrets
//! (`/api/v2/hooks/{id}/secrets`). Hooks are [`StoredHook`] documents keyed by name with the
//! trigger as reference; at most one hook per trigger is enabled, as in Auth0. Secret values are
//! sealed with the hook's id as owner and shown as [`SECRET_NOT_SHOWN`].

use super::Extensibility;
use super::checks::{check_name, check_script_size, check_secret, page_of, property_error};
use super::stored::{HOOK_TRIGGERS, StoredHook};
use crate::authz::Actor;
use crate::error::CoreError;
use crate::ids;
use crate::model::{Doc, DocKind};
use crate::paging::{Listed, PageQuery};
use crate::ports::StoreError;
use crate::tenant::TenantCtx;
use sluice_types::JsonMap;
use sluice_types::extend::{Hook, HookCreate, HookPatch, SECRET_NOT_SHOWN};
use std::collections::BTreeMap;

/// The most secrets a hook may have (Auth0's limit).
pub const MAX_HOOK_SECRETS: usize = 20;

fn not_found() -> CoreError {
    CoreError::NotFound {
        code: "inexistent_hook",
        message: "The hook does not exist.".into(),
    }
}

fn name_taken() -> CoreError {
    CoreError::Conflict {
        code: "conflict",
        message: "A hook with the same name already exists".into(),
    }
}

fn shown(h: StoredHook) -> Hook {
    Hook {
        id: h.id,
        name: h.name,
        script: h.script,
        trigger_id: h.trigger_id,
        enabled: h.enabled,
        dependencies: h.dependencies,
    }
}

/// Filters of `GET /api/v2/hooks`.
#[derive(Debug, Clone, Default)]
pub struct HookFilter {
    pub enabled: Option<bool>,
    pub trigger_id: Option<String>,
}

/// Reads a `{NAME: "value"}` body of secrets.
fn secrets_body(body: JsonMap) -> Result<BTreeMap<String, String>, CoreError> {
    if body.is_empty() {
        return Err(CoreError::payload(
            "Too few properties defined (0), minimum 1",
        ));
    }
    let mut out = BTreeMap::new();
    for (name, v) in body {
        let serde_json::Value::String(value) = v else {
            return Err(property_error(
                "Expected type string but found another type",
                &name,
            ));
        };
        check_secret(&name, &value)?;
        out.insert(name, value);
    }
    Ok(out)
}

impl Extensibility {
    fn hook_doc(&self, h: &StoredHook, created_at: i64) -> Result<Doc, CoreError> {
        Ok(Doc {
            id: h.id.clone(),
            key: h.name.clone(),
            ref_id: Some(h.trigger_id.clone()),
            body: crate::model::to_body(h)?,
            created_at,
            updated_at: self.now(),
        })
    }

    async fn hook_fetch(&self, t: &TenantCtx, id: &str) -> Result<(Doc, StoredHook), CoreError> {
        let doc = self
            .store
            .doc_fetch(&t.id, DocKind::Hook, id)
            .await?
            .ok_or_else(not_found)?;
        let h = crate::model::from_body(doc.body.clone())?;
        Ok((doc, h))
    }

    async fn hook_save(
        &self,
        t: &TenantCtx,
        h: &StoredHook,
        created_at: i64,
    ) -> Result<(), CoreError> {
        self.store
            .doc_update(&t.id, DocKind::Hook, &self.hook_doc(h, created_at)?)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => name_taken(),
                other => other.into(),
            })?;
        Ok(())
    }

    /// Checks a hook's name, trigger, dependencies and script (syntax included).
    fn hook_validate(&self, h: &StoredHook) -> Result<(), CoreError> {
        check_name(&h.name, "hook")?;
        if !HOOK_TRIGGERS.contains(&h.trigger_id.as_str()) {
            return Err(property_error(
                format!("No enum match for: \"{}\"", h.trigger_id),
                "triggerId (Execution stage of this hook)",
            ));
        }
        for (name, version) in &h.dependencies {
            if name.is_empty() || !version.is_string() {
                return Err(property_error(
                    "Expected type string but found another type",
                    &format!("dependencies.{name}"),
                ));
            }
        }
        check_script_size(
            &h.script,
            "script (Code to be executed when this hook runs)",
        )?;
        self.check_syntax("script", &format!("hook:{}", h.trigger_id), &h.script)
    }

    /// Auth0 runs one hook per trigger: enabling a second one is a conflict.
    async fn hook_enabled_free(&self, t: &TenantCtx, h: &StoredHook) -> Result<(), CoreError> {
        if !h.enabled {
            return Ok(());
        }
        // TODO-security: two concurrent enables can both pass; execution then runs both.
        let (docs, _) = self
            .store
            .doc_list(&t.id, DocKind::Hook, Some(&h.trigger_id), crate::model::ALL)
            .await?;
        for d in docs {
            let other: StoredHook = crate::model::from_body(d.body)?;
            if other.enabled && other.id != h.id {
                return Err(CoreError::Conflict {
                    code: "conflict",
                    message: format!(
                        "Only one hook can be enabled per trigger: '{}' is already enabled for {}",
                        other.name, h.trigger_id
                    ),
                });
            }
        }
        Ok(())
    }

    pub async fn hook_create(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        body: JsonMap,
    ) -> Result<Hook, CoreError> {
        actor.require("create:hooks")?;
        let b: HookCreate =
            serde_json::from_value(serde_json::Value::Object(body)).map_err(CoreError::payload)?;
        let h = StoredHook {
            id: ids::hook_id(),
            name: b.name,
            script: b.script,
            trigger_id: b.trigger_id,
            enabled: b.enabled.unwrap_or(false),
            dependencies: b.dependencies.unwrap_or_default(),
            secrets_sealed: BTreeMap::new(),
        };
        self.hook_validate(&h)?;
        self.hook_enabled_free(t, &h).await?;
        let doc = self.hook_doc(&h, self.now())?;
        self.store
            .doc_insert(&t.id, DocKind::Hook, &doc)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => name_taken(),
                other => other.into(),
            })?;
        Ok(shown(h))
    }

    pub async fn hook_list(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        filter: HookFilter,
        q: PageQuery,
    ) -> Result<Listed<Hook>, CoreError> {
        actor.require("read:hooks")?;
        let (docs, _) = self
            .store
            .doc_list(
                &t.id,
                DocKind::Hook,
                filter.trigger_id.as_deref(),
                crate::model::ALL,
            )
            .await?;
        let mut items = Vec::new();
        for d in docs {
            let h: StoredHook = crate::model::from_body(d.body)?;
            if filter.enabled.is_none_or(|e| h.enabled == e) {
                items.push(shown(h));
            }
        }
        page_of(items, q)
    }

    pub async fn hook_get(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        id: &str,
    ) -> Result<Hook, CoreError> {
        actor.require("read:hooks")?;
        Ok(shown(self.hook_fetch(t, id).await?.1))
    }

    pub async fn hook_update(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        id: &str,
        patch: JsonMap,
    ) -> Result<Hook, CoreError> {
        actor.require("update:hooks")?;
        let p: HookPatch =
            serde_json::from_value(serde_json::Value::Object(patch)).map_err(CoreError::payload)?;
        let (doc, mut h) = self.hook_fetch(t, id).await?;
        if let Some(name) = p.name {
            h.name = name;
        }
        if let Some(script) = p.script {
            h.script = script;
        }
        if let Some(enabled) = p.enabled {
            h.enabled = enabled;
        }
        if let Some(deps) = p.dependencies {
            h.dependencies = deps;
        }
        self.hook_validate(&h)?;
        self.hook_enabled_free(t, &h).await?;
        self.hook_save(t, &h, doc.created_at).await?;
        Ok(shown(h))
    }

    /// Deletes a hook with its secrets.
    pub async fn hook_delete(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        id: &str,
    ) -> Result<(), CoreError> {
        actor.require("delete:hooks")?;
        if !self.store.doc_delete(&t.id, DocKind::Hook, id).await? {
            return Err(not_found());
        }
        Ok(())
    }

    /// The names of a hook's secrets, each with the value hidden.
    pub async fn hook_secrets_get(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        id: &str,
    ) -> Result<JsonMap, CoreError> {
        actor.require("read:hooks")?;
        let (_, h) = self.hook_fetch(t, id).await?;
        Ok(h.secrets_sealed
            .into_keys()
            .map(|k| (k, SECRET_NOT_SHOWN.into()))
            .collect())
    }

    /// Adds secrets; a name the hook already has is a conflict.
    pub async fn hook_secrets_add(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        id: &str,
        body: JsonMap,
    ) -> Result<(), CoreError> {
        actor.require("create:hooks")?;
        let add = secrets_body(body)?;
        let (doc, mut h) = self.hook_fetch(t, id).await?;
        if let Some(name) = add.keys().find(|k| h.secrets_sealed.contains_key(*k)) {
            return Err(CoreError::Conflict {
                code: "conflict",
                message: format!("Secret '{name}' already exists for this hook"),
            });
        }
        if h.secrets_sealed.len() + add.len() > MAX_HOOK_SECRETS {
            return Err(CoreError::bad_request(format!(
                "A hook can have at most {MAX_HOOK_SECRETS} secrets"
            )));
        }
        for (name, value) in add {
            let sealed = self.secret_seal(t, &h.id, &name, &value);
            h.secrets_sealed.insert(name, sealed);
        }
        self.hook_save(t, &h, doc.created_at).await
    }

    /// Replaces the values of existing secrets; an unknown name is not found.
    pub async fn hook_secrets_update(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        id: &str,
        body: JsonMap,
    ) -> Result<(), CoreError> {
        actor.require("update:hooks")?;
        let update = secrets_body(body)?;
        let (doc, mut h) = self.hook_fetch(t, id).await?;
        if let Some(name) = update.keys().find(|k| !h.secrets_sealed.contains_key(*k)) {
            return Err(CoreError::NotFound {
                code: "inexistent_hook_secret",
                message: format!("Secret '{name}' does not exist for this hook"),
            });
        }
        for (name, value) in update {
            let sealed = self.secret_seal(t, &h.id, &name, &value);
            h.secrets_sealed.insert(name, sealed);
        }
        self.hook_save(t, &h, doc.created_at).await
    }

    /// Removes the secrets named in `body` (a JSON array of names); absent names are ignored.
    pub async fn hook_secrets_delete(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        id: &str,
        body: serde_json::Value,
    ) -> Result<(), CoreError> {
        actor.require("delete:hooks")?;
        let names: Vec<String> = match body {
            serde_json::Value::Array(_) => {
                serde_json::from_value(body).map_err(CoreError::payload)?
            }
            _ => {
                return Err(CoreError::payload(
                    "Expected type array but found another type",
                ));
            }
        };
        if names.is_empty() {
            return Err(CoreError::payload("Array is too short (0), minimum 1"));
        }
        let (doc, mut h) = self.hook_fetch(t, id).await?;
        for n in &names {
            h.secrets_sealed.remove(n);
        }
        self.hook_save(t, &h, doc.created_at).await
    }
}
