//! Management API operations on client grants: the permission for a client to obtain access
//! tokens for an API (audience) with the client-credentials grant, limited to some scopes.

use crate::authz::Actor;
use crate::error::CoreError;
use crate::ids;
use crate::management::Management;
use crate::model::{Doc, DocKind};
use crate::paging::{Listed, PageQuery};
use crate::ports::{Page, StoreError};
use crate::service::Core;
use crate::tenant::TenantCtx;
use sluice_types::{ClientGrant, ClientGrantCreate, ClientGrantPatch, JsonMap};

fn not_found() -> CoreError {
    CoreError::NotFound {
        code: "inexistent_client_grant",
        message: "Client grant not found".into(),
    }
}

/// How grants for the tenant's Management API are stored: its audience derives from the public
/// URL, which an operator may change, so the stored form is this stable alias.
const MGMT_AUDIENCE_ALIAS: &str = "sluice:management-api";

fn stored_audience<'a>(t: &TenantCtx, audience: &'a str) -> &'a str {
    if audience == t.mgmt_audience {
        MGMT_AUDIENCE_ALIAS
    } else {
        audience
    }
}

fn shown(t: &TenantCtx, mut g: ClientGrant) -> ClientGrant {
    if g.audience == MGMT_AUDIENCE_ALIAS {
        g.audience = t.mgmt_audience.clone();
    }
    g
}

fn decode(t: &TenantCtx, d: Doc) -> Result<ClientGrant, CoreError> {
    crate::model::from_body(d.body).map(|g| shown(t, g))
}

fn grant_key(t: &TenantCtx, client_id: &str, audience: &str) -> String {
    format!("{client_id} {}", stored_audience(t, audience))
}

/// Filters of `GET /api/v2/client-grants`.
#[derive(Debug, Clone, Default)]
pub struct GrantFilter {
    pub client_id: Option<String>,
    pub audience: Option<String>,
}

impl Core {
    fn grant_doc(&self, t: &TenantCtx, g: &ClientGrant, created_at: i64) -> Result<Doc, CoreError> {
        let stored = ClientGrant {
            audience: stored_audience(t, &g.audience).to_string(),
            ..g.clone()
        };
        Ok(Doc {
            id: g.id.clone(),
            key: grant_key(t, &g.client_id, &g.audience),
            ref_id: Some(g.client_id.clone()),
            body: crate::model::to_body(&stored)?,
            created_at,
            updated_at: self.now(),
        })
    }

    async fn check_scopes_exist(
        &self,
        t: &TenantCtx,
        audience: &str,
        scopes: &[String],
    ) -> Result<(), CoreError> {
        let rs = self
            .resource_server_by_identifier(t, audience)
            .await?
            .ok_or_else(|| CoreError::NotFound {
                code: "inexistent_resource_server",
                message: format!("No resource server found by specified identifier: {audience}"),
            })?;
        let known: Vec<String> = rs
            .body
            .scopes
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.value)
            .collect();
        for s in scopes {
            if !known.contains(s) {
                return Err(CoreError::bad_request(format!(
                    "Scope '{s}' is not defined by the resource server '{audience}'"
                )));
            }
        }
        Ok(())
    }

    /// Creates a grant without an actor (bootstrap); see [`Management::client_grant_create`].
    pub async fn client_grant_insert(
        &self,
        t: &TenantCtx,
        body: ClientGrantCreate,
    ) -> Result<ClientGrant, CoreError> {
        if self.client_fetch(t, &body.client_id).await?.is_none() {
            return Err(CoreError::NotFound {
                code: "inexistent_client",
                message: format!("Client {} not found", body.client_id),
            });
        }
        self.check_scopes_exist(t, &body.audience, &body.scope)
            .await?;
        let g = ClientGrant {
            id: ids::client_grant_id(),
            client_id: body.client_id,
            audience: body.audience,
            scope: body.scope,
            organization_usage: body.organization_usage,
            allow_any_organization: body.allow_any_organization,
        };
        let doc = self.grant_doc(t, &g, self.now())?;
        self.store
            .doc_insert(&t.id, DocKind::ClientGrant, &doc)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => CoreError::Conflict {
                    code: "client_grant_conflict",
                    message: "A client grant for this client and audience already exists".into(),
                },
                other => other.into(),
            })?;
        Ok(g)
    }

    /// The grant of `client_id` for `audience`, if any (token endpoint).
    pub async fn client_grant_find(
        &self,
        t: &TenantCtx,
        client_id: &str,
        audience: &str,
    ) -> Result<Option<ClientGrant>, CoreError> {
        self.store
            .doc_fetch_by_key(
                &t.id,
                DocKind::ClientGrant,
                &grant_key(t, client_id, audience),
            )
            .await?
            .map(|d| decode(t, d))
            .transpose()
    }

    /// Replaces a grant's scopes (bootstrap keeps its grant complete across upgrades).
    pub async fn client_grant_set_scopes(
        &self,
        t: &TenantCtx,
        g: &ClientGrant,
        scope: Vec<String>,
    ) -> Result<(), CoreError> {
        let doc = self
            .store
            .doc_fetch(&t.id, DocKind::ClientGrant, &g.id)
            .await?
            .ok_or_else(not_found)?;
        let g = ClientGrant { scope, ..g.clone() };
        self.store
            .doc_update(
                &t.id,
                DocKind::ClientGrant,
                &self.grant_doc(t, &g, doc.created_at)?,
            )
            .await?;
        Ok(())
    }
}

impl Management {
    pub async fn client_grant_create(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        body: JsonMap,
    ) -> Result<ClientGrant, CoreError> {
        actor.require("create:client_grants")?;
        let body: ClientGrantCreate =
            serde_json::from_value(serde_json::Value::Object(body)).map_err(CoreError::payload)?;
        self.core.client_grant_insert(t, body).await
    }

    pub async fn client_grant_list(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        filter: GrantFilter,
        q: PageQuery,
    ) -> Result<Listed<ClientGrant>, CoreError> {
        actor.require("read:client_grants")?;
        let page = q.to_page()?;
        if let (Some(c), Some(a)) = (&filter.client_id, &filter.audience) {
            let items: Vec<ClientGrant> = self
                .core
                .client_grant_find(t, c, a)
                .await?
                .into_iter()
                .collect();
            let total = items.len() as i64;
            return Ok(Listed {
                items,
                start: 0,
                limit: page.limit,
                total,
                include_totals: q.include_totals,
            });
        }
        let all_page = if filter.audience.is_some() {
            Page {
                offset: 0,
                limit: i64::MAX,
            }
        } else {
            page
        };
        let (docs, total) = self
            .core
            .store
            .doc_list(
                &t.id,
                DocKind::ClientGrant,
                filter.client_id.as_deref(),
                all_page,
            )
            .await?;
        let mut items = Vec::new();
        for d in docs {
            let g = decode(t, d)?;
            if filter.audience.as_deref().is_none_or(|a| a == g.audience) {
                items.push(g);
            }
        }
        if filter.audience.is_some() {
            let total = items.len() as i64;
            let items = items
                .into_iter()
                .skip(page.offset as usize)
                .take(page.limit as usize)
                .collect();
            return Ok(Listed {
                items,
                start: page.offset,
                limit: page.limit,
                total,
                include_totals: q.include_totals,
            });
        }
        Ok(Listed {
            items,
            start: page.offset,
            limit: page.limit,
            total,
            include_totals: q.include_totals,
        })
    }

    pub async fn client_grant_update(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        id: &str,
        patch: JsonMap,
    ) -> Result<ClientGrant, CoreError> {
        actor.require("update:client_grants")?;
        let patch: ClientGrantPatch =
            serde_json::from_value(serde_json::Value::Object(patch)).map_err(CoreError::payload)?;
        let doc = self
            .core
            .store
            .doc_fetch(&t.id, DocKind::ClientGrant, id)
            .await?
            .ok_or_else(not_found)?;
        let mut g = decode(t, doc.clone())?;
        if let Some(scope) = patch.scope {
            self.core.check_scopes_exist(t, &g.audience, &scope).await?;
            g.scope = scope;
        }
        if patch.organization_usage.is_some() {
            g.organization_usage = patch.organization_usage;
        }
        if patch.allow_any_organization.is_some() {
            g.allow_any_organization = patch.allow_any_organization;
        }
        self.core
            .store
            .doc_update(
                &t.id,
                DocKind::ClientGrant,
                &self.core.grant_doc(t, &g, doc.created_at)?,
            )
            .await?;
        Ok(g)
    }

    pub async fn client_grant_delete(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        id: &str,
    ) -> Result<(), CoreError> {
        actor.require("delete:client_grants")?;
        if !self
            .core
            .store
            .doc_delete(&t.id, DocKind::ClientGrant, id)
            .await?
        {
            return Err(not_found());
        }
        Ok(())
    }
}
