//! Management API `user-blocks`: the (identifier, IP) pairs brute-force protection blocked,
//! and unblocking them (`DELETE /api/v2/user-blocks/{id}` or `?identifier=`).

use crate::authz::Actor;
use crate::error::CoreError;
use crate::management::Management;
use crate::service::Core;
use crate::tenant::TenantCtx;
use serde_json::{Value, json};

impl Core {
    async fn identifiers_of(&self, t: &TenantCtx, user_id: &str) -> Result<Vec<String>, CoreError> {
        let u = self
            .store
            .user_fetch(&t.id, user_id)
            .await?
            .ok_or_else(|| CoreError::NotFound {
                code: "inexistent_user",
                message: "The user does not exist.".into(),
            })?;
        Ok([u.email_key, u.username_key]
            .into_iter()
            .flatten()
            .collect())
    }

    async fn blocks_for(&self, t: &TenantCtx, identifiers: &[String]) -> Result<Value, CoreError> {
        let mut out = Vec::new();
        for id in identifiers {
            for (identifier, ip) in self.store.attempt_blocks(&t.id, &id.to_lowercase()).await? {
                out.push(json!({"identifier": identifier, "ip": ip}));
            }
        }
        Ok(json!({ "blocked_for": out }))
    }
}

impl Management {
    pub async fn user_blocks_get(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        user_id: &str,
    ) -> Result<Value, CoreError> {
        actor.require("read:users")?;
        let ids = self.core.identifiers_of(t, user_id).await?;
        self.core.blocks_for(t, &ids).await
    }

    pub async fn user_blocks_get_by_identifier(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        identifier: &str,
    ) -> Result<Value, CoreError> {
        actor.require("read:users")?;
        self.core.blocks_for(t, &[identifier.to_string()]).await
    }

    pub async fn user_blocks_delete(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        user_id: &str,
    ) -> Result<(), CoreError> {
        actor.require("update:users")?;
        for id in self.core.identifiers_of(t, user_id).await? {
            self.core.store.attempt_unblock(&t.id, &id).await?;
        }
        Ok(())
    }

    pub async fn user_blocks_delete_by_identifier(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        identifier: &str,
    ) -> Result<(), CoreError> {
        actor.require("update:users")?;
        if identifier.is_empty() {
            return Err(CoreError::bad_query(
                "Query validation error: Missing required property: identifier",
            ));
        }
        self.core
            .store
            .attempt_unblock(&t.id, &identifier.to_lowercase())
            .await?;
        Ok(())
    }
}
