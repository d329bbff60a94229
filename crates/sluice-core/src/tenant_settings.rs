//! Management API `tenants/settings`: the tenant's own settings, Auth0's shape. Sluice acts on
//! `default_directory` (the connection of the `password` grant) and `default_audience` (the API
//! of token requests that name none); the other Auth0 fields are kept and returned.

use crate::authz::Actor;
use crate::error::CoreError;
use crate::management::Management;
use crate::service::Core;
use crate::tenant::TenantCtx;
use sluice_types::JsonMap;

/// Known fields and their JSON types (`s` string, `n` number, `b` boolean, `o` object,
/// `a` array).
const FIELDS: &[(&str, char)] = &[
    ("default_directory", 's'),
    ("default_audience", 's'),
    ("friendly_name", 's'),
    ("picture_url", 's'),
    ("support_email", 's'),
    ("support_url", 's'),
    ("default_redirection_uri", 's'),
    ("session_lifetime", 'n'),
    ("idle_session_lifetime", 'n'),
    ("enabled_locales", 'a'),
    ("allowed_logout_urls", 'a'),
    ("flags", 'o'),
    ("universal_login", 'o'),
    ("error_page", 'o'),
    ("device_flow", 'o'),
    ("guardian_mfa_page", 'o'),
    ("change_password", 'o'),
    ("sandbox_version", 's'),
];

fn check(patch: &JsonMap) -> Result<(), CoreError> {
    for (k, v) in patch {
        let Some((_, ty)) = FIELDS.iter().find(|(name, _)| name == k) else {
            return Err(CoreError::payload(format!(
                "Additional properties not allowed: {k}"
            )));
        };
        let ok = v.is_null()
            || match ty {
                's' => v.is_string(),
                'n' => v.is_number(),
                'b' => v.is_boolean(),
                'o' => v.is_object(),
                _ => v.is_array(),
            };
        if !ok {
            return Err(CoreError::payload(format!(
                "Invalid type for property '{k}'"
            )));
        }
    }
    Ok(())
}

impl Core {
    /// The stored settings object of a tenant (internal use).
    pub async fn tenant_settings(&self, t: &TenantCtx) -> Result<JsonMap, CoreError> {
        let rec = self.store.tenant_fetch_by_name(&t.name).await?;
        Ok(rec
            .and_then(|r| r.settings.as_object().cloned())
            .unwrap_or_default())
    }

    /// The tenant's `default_audience`, if set.
    pub async fn default_audience(&self, t: &TenantCtx) -> Result<Option<String>, CoreError> {
        Ok(self
            .tenant_settings(t)
            .await?
            .get("default_audience")
            .and_then(|v| v.as_str())
            .filter(|a| !a.is_empty())
            .map(str::to_string))
    }
}

impl Management {
    pub async fn tenant_settings_get(
        &self,
        t: &TenantCtx,
        actor: &Actor,
    ) -> Result<JsonMap, CoreError> {
        actor.require("read:tenant_settings")?;
        self.core.tenant_settings(t).await
    }

    /// PATCH: top-level keys replace, `null` removes.
    pub async fn tenant_settings_update(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        patch: JsonMap,
    ) -> Result<JsonMap, CoreError> {
        actor.require("update:tenant_settings")?;
        check(&patch)?;
        if let Some(dir) = patch.get("default_directory").and_then(|v| v.as_str())
            && !dir.is_empty()
            && self.core.connection_fetch_by_name(t, dir).await?.is_none()
        {
            return Err(CoreError::bad_request(format!(
                "default_directory: the connection '{dir}' does not exist"
            )));
        }
        let mut settings = self.core.tenant_settings(t).await?;
        for (k, v) in patch {
            if v.is_null() {
                settings.remove(&k);
            } else {
                settings.insert(k, v);
            }
        }
        self.core
            .store
            .tenant_update_settings(&t.id, &serde_json::Value::Object(settings.clone()))
            .await?;
        Ok(settings)
    }
}
