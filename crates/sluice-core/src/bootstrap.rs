//! First start of a tenant: create it with a signing key, and give it a machine-to-machine
//! client allowed every Management API scope. With chosen credentials the client gets exactly
//! those (idempotent across restarts); otherwise random ones are generated once and returned so
//! the binary can show them.

use crate::authz::MGMT_SCOPES;
use crate::error::CoreError;
use crate::service::Core;
use sluice_types::{ClientBody, ClientGrantCreate};

/// Credentials of a tenant's bootstrap client.
#[derive(Clone, PartialEq)]
pub struct BootstrapCredentials {
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for BootstrapCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BootstrapCredentials")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// What bootstrapping did.
#[derive(Debug, Clone, PartialEq)]
pub struct BootstrapOutcome {
    pub tenant_created: bool,
    /// Set when a client was created with generated credentials (show them once).
    pub generated: Option<BootstrapCredentials>,
}

pub const BOOTSTRAP_CLIENT_NAME: &str = "Sluice Management API (bootstrap)";

impl Core {
    /// Ensures tenant `name` exists and has a bootstrap client with a complete Management API
    /// grant. `chosen`: credentials the operator fixed (environment or config).
    pub async fn bootstrap_tenant(
        &self,
        name: &str,
        chosen: Option<BootstrapCredentials>,
    ) -> Result<BootstrapOutcome, CoreError> {
        let tenant_created = self.tenant_ensure(name).await?;
        let t = self.tenant(name).await?;
        let mut generated = None;
        let client_id = match chosen {
            Some(c) => {
                if c.client_secret.len() < 16 {
                    return Err(CoreError::bad_request(
                        "bootstrap client secret must be at least 16 characters",
                    ));
                }
                match self.client_fetch(&t, &c.client_id).await? {
                    Some(existing) if existing.secret_matches(&c.client_secret) => {}
                    Some(_) => {
                        // Same id, new secret: the operator rotated it.
                        self.client_secret_replace(&t, &c.client_id, c.client_secret.clone())
                            .await?;
                    }
                    None => {
                        self.client_insert(
                            &t,
                            c.client_id.clone(),
                            bootstrap_body(Some(c.client_secret.clone())),
                        )
                        .await?;
                    }
                }
                c.client_id
            }
            None => {
                if !tenant_created {
                    return Ok(BootstrapOutcome {
                        tenant_created,
                        generated: None,
                    });
                }
                let client = self
                    .client_insert(&t, crate::ids::client_id(), bootstrap_body(None))
                    .await?;
                generated = Some(BootstrapCredentials {
                    client_id: client.client_id.clone(),
                    client_secret: client.client_secret.clone().unwrap_or_default(),
                });
                client.client_id
            }
        };
        self.client_mark_bootstrap(&t, &client_id).await?;
        let all: Vec<String> = MGMT_SCOPES.iter().map(|s| s.to_string()).collect();
        match self
            .client_grant_find(&t, &client_id, &t.mgmt_audience)
            .await?
        {
            Some(g) if g.scope == all => {}
            Some(g) => self.client_grant_set_scopes(&t, &g, all).await?,
            None => {
                self.client_grant_insert(
                    &t,
                    ClientGrantCreate {
                        client_id,
                        audience: t.mgmt_audience.clone(),
                        scope: all,
                        organization_usage: None,
                        allow_any_organization: None,
                    },
                )
                .await?;
            }
        }
        Ok(BootstrapOutcome {
            tenant_created,
            generated,
        })
    }
}

fn bootstrap_body(secret: Option<String>) -> ClientBody {
    ClientBody {
        name: Some(BOOTSTRAP_CLIENT_NAME.into()),
        app_type: Some("non_interactive".into()),
        grant_types: Some(vec!["client_credentials".into()]),
        token_endpoint_auth_method: Some("client_secret_post".into()),
        client_secret: secret,
        ..Default::default()
    }
}
