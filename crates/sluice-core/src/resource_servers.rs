//! Management API operations on resource servers (APIs). The Management API itself is the
//! tenant's system API (`is_system: true`, identifier `<base>/api/v2/`): listed, never stored,
//! never changed.

use crate::authz::{Actor, MGMT_SCOPES};
use crate::error::CoreError;
use crate::ids;
use crate::management::Management;
use crate::model::{Doc, DocKind};
use crate::paging::{Listed, PageQuery};
use crate::service::Core;
use crate::tenant::TenantCtx;
use sluice_types::{JsonMap, ResourceServer, ResourceServerBody, ResourceServerScope};

/// Default access-token lifetime of an API (Auth0: 24 h).
pub const DEFAULT_TOKEN_LIFETIME: i64 = 86_400;
pub const MAX_TOKEN_LIFETIME: i64 = 2_592_000;

fn not_found() -> CoreError {
    CoreError::NotFound {
        code: "inexistent_resource_server",
        message: "Resource server not found".into(),
    }
}

/// The tenant's Management API, as Auth0 lists it.
pub fn system_api(t: &TenantCtx) -> ResourceServer {
    ResourceServer {
        id: format!("sys_{}", t.id),
        is_system: true,
        body: ResourceServerBody {
            name: Some("Auth0 Management API".into()),
            identifier: Some(t.mgmt_audience.clone()),
            scopes: Some(
                MGMT_SCOPES
                    .iter()
                    .map(|s| ResourceServerScope {
                        value: s.to_string(),
                        description: None,
                    })
                    .collect(),
            ),
            signing_alg: Some("RS256".into()),
            allow_offline_access: Some(false),
            skip_consent_for_verifiable_first_party_clients: Some(false),
            token_lifetime: Some(DEFAULT_TOKEN_LIFETIME),
            token_lifetime_for_web: Some(7200),
            ..Default::default()
        },
    }
}

fn validate(b: &ResourceServerBody) -> Result<(), CoreError> {
    let identifier = b.identifier.as_deref().unwrap_or_default();
    if identifier.is_empty() || identifier.len() > 600 {
        return Err(CoreError::payload("Missing required property: identifier"));
    }
    if let Some(alg) = b.signing_alg.as_deref()
        && alg != "RS256"
    {
        return Err(CoreError::payload(format!(
            "signing_alg '{alg}' is not supported; use RS256"
        )));
    }
    for lifetime in [b.token_lifetime, b.token_lifetime_for_web]
        .into_iter()
        .flatten()
    {
        if !(1..=MAX_TOKEN_LIFETIME).contains(&lifetime) {
            return Err(CoreError::payload(format!(
                "token lifetime must be between 1 and {MAX_TOKEN_LIFETIME} seconds"
            )));
        }
    }
    for s in b.scopes.as_deref().unwrap_or_default() {
        if s.value.is_empty() || s.value.chars().any(char::is_whitespace) || s.value.len() > 280 {
            return Err(CoreError::payload(format!(
                "invalid scope value '{}'",
                s.value
            )));
        }
    }
    Ok(())
}

impl Core {
    fn rs_doc(&self, rs: &ResourceServer, created_at: i64) -> Result<Doc, CoreError> {
        Ok(Doc {
            id: rs.id.clone(),
            key: rs.body.identifier.clone().unwrap_or_default(),
            ref_id: None,
            body: crate::model::to_body(&rs.body)?,
            created_at,
            updated_at: self.now(),
        })
    }

    fn rs_from_doc(d: Doc) -> Result<ResourceServer, CoreError> {
        Ok(ResourceServer {
            id: d.id,
            is_system: false,
            body: crate::model::from_body(d.body)?,
        })
    }

    /// Finds the API for an audience, including the system Management API.
    pub async fn resource_server_by_identifier(
        &self,
        t: &TenantCtx,
        identifier: &str,
    ) -> Result<Option<ResourceServer>, CoreError> {
        if identifier == t.mgmt_audience {
            return Ok(Some(system_api(t)));
        }
        match self
            .store
            .doc_fetch_by_key(&t.id, DocKind::ResourceServer, identifier)
            .await?
        {
            Some(d) => Ok(Some(Self::rs_from_doc(d)?)),
            None => Ok(None),
        }
    }

    /// `id` may be the API's id or its identifier, as in Auth0.
    async fn rs_find(&self, t: &TenantCtx, id: &str) -> Result<Option<Doc>, CoreError> {
        if let Some(d) = self
            .store
            .doc_fetch(&t.id, DocKind::ResourceServer, id)
            .await?
        {
            return Ok(Some(d));
        }
        Ok(self
            .store
            .doc_fetch_by_key(&t.id, DocKind::ResourceServer, id)
            .await?)
    }
}

impl Management {
    pub async fn resource_server_create(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        body: JsonMap,
    ) -> Result<ResourceServer, CoreError> {
        actor.require("create:resource_servers")?;
        let mut b: ResourceServerBody =
            serde_json::from_value(serde_json::Value::Object(body)).map_err(CoreError::payload)?;
        validate(&b)?;
        if b.identifier.as_deref() == Some(t.mgmt_audience.as_str()) {
            return Err(CoreError::Conflict {
                code: "operation_not_supported",
                message: "The identifier is reserved for the Management API.".into(),
            });
        }
        b.name
            .get_or_insert_with(|| b.identifier.clone().unwrap_or_default());
        b.signing_alg.get_or_insert_with(|| "RS256".into());
        b.scopes.get_or_insert_with(Vec::new);
        b.token_lifetime.get_or_insert(DEFAULT_TOKEN_LIFETIME);
        b.token_lifetime_for_web.get_or_insert(7200);
        b.allow_offline_access.get_or_insert(false);
        b.skip_consent_for_verifiable_first_party_clients
            .get_or_insert(true);
        let rs = ResourceServer {
            id: ids::resource_server_id(),
            is_system: false,
            body: b,
        };
        let doc = self.core.rs_doc(&rs, self.core.now())?;
        self.core
            .store
            .doc_insert(&t.id, DocKind::ResourceServer, &doc)
            .await
            .map_err(|e| match e {
                crate::ports::StoreError::Conflict(_) => CoreError::Conflict {
                    code: "inexistent_resource_server",
                    message: "A resource server with the same identifier already exists".into(),
                },
                other => other.into(),
            })?;
        Ok(rs)
    }

    pub async fn resource_server_get(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        id: &str,
    ) -> Result<ResourceServer, CoreError> {
        actor.require("read:resource_servers")?;
        let sys = system_api(t);
        if id == sys.id || id == t.mgmt_audience {
            return Ok(sys);
        }
        Core::rs_from_doc(self.core.rs_find(t, id).await?.ok_or_else(not_found)?)
    }

    pub async fn resource_server_list(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        q: PageQuery,
    ) -> Result<Listed<ResourceServer>, CoreError> {
        actor.require("read:resource_servers")?;
        let page = q.to_page()?;
        // The system API is listed first, as item 0 of page 0.
        let inner = crate::ports::Page {
            offset: (page.offset - 1).max(0),
            limit: if page.offset == 0 {
                (page.limit - 1).max(0)
            } else {
                page.limit
            },
        };
        let (docs, total) = self
            .core
            .store
            .doc_list(&t.id, DocKind::ResourceServer, None, inner)
            .await?;
        let mut items = Vec::new();
        if page.offset == 0 && page.limit > 0 {
            items.push(system_api(t));
        }
        for d in docs {
            items.push(Core::rs_from_doc(d)?);
        }
        Ok(Listed {
            items,
            start: page.offset,
            limit: page.limit,
            total: total + 1,
            include_totals: q.include_totals,
        })
    }

    pub async fn resource_server_update(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        id: &str,
        patch: JsonMap,
    ) -> Result<ResourceServer, CoreError> {
        actor.require("update:resource_servers")?;
        if id == system_api(t).id || id == t.mgmt_audience {
            return Err(CoreError::Forbidden {
                code: "operation_not_supported",
                message: "The Management API cannot be modified".into(),
            });
        }
        if patch.contains_key("identifier") {
            return Err(CoreError::payload(
                "Additional properties not allowed: identifier",
            ));
        }
        let doc = self.core.rs_find(t, id).await?.ok_or_else(not_found)?;
        let mut rs = Core::rs_from_doc(doc.clone())?;
        rs.body =
            sluice_types::patch::merge_top_level(&rs.body, patch).map_err(CoreError::payload)?;
        validate(&rs.body)?;
        self.core
            .store
            .doc_update(
                &t.id,
                DocKind::ResourceServer,
                &self.core.rs_doc(&rs, doc.created_at)?,
            )
            .await?;
        Ok(rs)
    }

    /// Deletes an API and the client grants for it.
    pub async fn resource_server_delete(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        id: &str,
    ) -> Result<(), CoreError> {
        actor.require("delete:resource_servers")?;
        if id == system_api(t).id || id == t.mgmt_audience {
            return Err(CoreError::Forbidden {
                code: "operation_not_supported",
                message: "The Management API cannot be deleted".into(),
            });
        }
        let doc = self.core.rs_find(t, id).await?.ok_or_else(not_found)?;
        self.core
            .store
            .doc_delete(&t.id, DocKind::ResourceServer, &doc.id)
            .await?;
        // Grants are keyed "client_id audience"; remove those for this audience.
        let (grants, _) = self
            .core
            .store
            .doc_list(
                &t.id,
                DocKind::ClientGrant,
                None,
                crate::ports::Page {
                    offset: 0,
                    limit: i64::MAX,
                },
            )
            .await?;
        for g in grants {
            if g.body.get("audience").and_then(|a| a.as_str()) == Some(doc.key.as_str()) {
                self.core
                    .store
                    .doc_delete(&t.id, DocKind::ClientGrant, &g.id)
                    .await?;
            }
        }
        Ok(())
    }
}
