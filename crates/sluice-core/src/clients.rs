//! Management API operations on clients (applications), and the client lookup/authentication
//! used by the token endpoint. Secrets are stored twice: a SHA-256 for constant-time checks
//! (they are high-entropy, so no slow hash is needed) and sealed for `read:client_keys`.

use crate::authz::Actor;
use crate::error::CoreError;
use crate::ids;
use crate::management::Management;
use crate::model::{Doc, DocKind};
use crate::paging::{Listed, PageQuery};
use crate::service::Core;
use crate::tenant::TenantCtx;
use serde::{Deserialize, Serialize};
use sluice_crypto::ct;
use sluice_types::{Client, ClientBody, JsonMap};

pub const APP_TYPES: &[&str] = &[
    "native",
    "spa",
    "regular_web",
    "non_interactive",
    "sso_integration",
];
pub const AUTH_METHODS: &[&str] = &["none", "client_secret_post", "client_secret_basic"];
pub const GRANT_TYPES: &[&str] = &[
    "authorization_code",
    "implicit",
    "refresh_token",
    "client_credentials",
    "password",
    "http://auth0.com/oauth/grant-type/password-realm",
    "http://auth0.com/oauth/grant-type/mfa-oob",
    "http://auth0.com/oauth/grant-type/mfa-otp",
    "http://auth0.com/oauth/grant-type/mfa-recovery-code",
    "urn:ietf:params:oauth:grant-type:device_code",
];

/// The stored form of a client.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredClient {
    pub client_id: String,
    pub body: ClientBody,
    #[serde(default)]
    pub secret_sha256: Option<String>,
    #[serde(default)]
    pub secret_sealed: Option<String>,
    /// The tenant's bootstrap client (set only by bootstrapping, never through the API): its
    /// Management API tokens skip credentials-exchange Hooks and Actions, so that a broken or
    /// hostile one cannot lock the administrators out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bootstrap: bool,
}

impl StoredClient {
    /// Whether `grant_type` is allowed for this client.
    pub fn allows_grant(&self, grant_type: &str) -> bool {
        self.body
            .grant_types
            .as_deref()
            .unwrap_or_default()
            .iter()
            .any(|g| g == grant_type)
    }
    /// Constant-time check of a presented secret.
    pub fn secret_matches(&self, presented: &str) -> bool {
        match &self.secret_sha256 {
            Some(h) => ct::ct_eq(
                ct::sha256_hex(presented.as_bytes()).as_bytes(),
                h.as_bytes(),
            ),
            None => false,
        }
    }
    pub fn is_public(&self) -> bool {
        self.body.token_endpoint_auth_method.as_deref() == Some("none")
    }
}

fn secret_aad(tenant_id: &str, client_id: &str) -> Vec<u8> {
    format!("client-secret:{tenant_id}:{client_id}").into_bytes()
}

fn default_grant_types(app_type: Option<&str>) -> Vec<String> {
    let g: &[&str] = match app_type {
        Some("non_interactive") => &["client_credentials"],
        Some("spa") | Some("native") => &["authorization_code", "implicit", "refresh_token"],
        _ => &[
            "authorization_code",
            "implicit",
            "refresh_token",
            "client_credentials",
        ],
    };
    g.iter().map(|s| s.to_string()).collect()
}

fn validate(body: &ClientBody) -> Result<(), CoreError> {
    match body.name.as_deref() {
        None => return Err(CoreError::payload("Missing required property: name")),
        Some(n) if n.trim().is_empty() || n.len() > 255 => {
            return Err(CoreError::payload(
                "String length for 'name' must be 1 to 255",
            ));
        }
        Some(_) => {}
    }
    if let Some(a) = body.app_type.as_deref()
        && !APP_TYPES.contains(&a)
    {
        return Err(CoreError::payload(format!(
            "'app_type' must be one of {}",
            APP_TYPES.join(", ")
        )));
    }
    if let Some(m) = body.token_endpoint_auth_method.as_deref()
        && !AUTH_METHODS.contains(&m)
    {
        return Err(CoreError::payload(format!(
            "'token_endpoint_auth_method' must be one of {}",
            AUTH_METHODS.join(", ")
        )));
    }
    for g in body.grant_types.as_deref().unwrap_or_default() {
        if !GRANT_TYPES.contains(&g.as_str()) {
            return Err(CoreError::payload(format!(
                "unsupported grant type '{g}' in 'grant_types'"
            )));
        }
    }
    for (field, urls) in [
        ("callbacks", &body.callbacks),
        ("allowed_logout_urls", &body.allowed_logout_urls),
    ] {
        for u in urls.as_deref().unwrap_or_default() {
            if u.len() > 2048 || u.chars().any(char::is_whitespace) {
                return Err(CoreError::payload(format!("invalid URL in '{field}': {u}")));
            }
        }
    }
    Ok(())
}

fn parse_body(map: JsonMap) -> Result<ClientBody, CoreError> {
    serde_json::from_value(serde_json::Value::Object(map)).map_err(CoreError::payload)
}

fn not_found() -> CoreError {
    CoreError::NotFound {
        code: "inexistent_client",
        message: "Client not found".into(),
    }
}

impl Core {
    fn client_view(&self, t: &TenantCtx, c: &StoredClient, with_secret: bool) -> Client {
        let client_secret = if with_secret {
            c.secret_sealed.as_ref().and_then(|s| {
                self.sealer
                    .open(s, &secret_aad(&t.id, &c.client_id))
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
            })
        } else {
            None
        };
        Client {
            client_id: c.client_id.clone(),
            tenant: t.name.clone(),
            global: false,
            client_secret,
            body: c.body.clone(),
        }
    }

    fn client_doc(&self, c: &StoredClient, created_at: i64) -> Result<Doc, CoreError> {
        Ok(Doc {
            id: c.client_id.clone(),
            key: c.client_id.clone(),
            ref_id: None,
            body: crate::model::to_body(c)?,
            created_at,
            updated_at: self.now(),
        })
    }

    fn set_secret(&self, t: &TenantCtx, c: &mut StoredClient, secret: Option<String>) {
        match secret {
            Some(s) => {
                c.secret_sha256 = Some(ct::sha256_hex(s.as_bytes()));
                c.secret_sealed = Some(
                    self.sealer
                        .seal(s.as_bytes(), &secret_aad(&t.id, &c.client_id)),
                );
            }
            None => {
                c.secret_sha256 = None;
                c.secret_sealed = None;
            }
        }
    }

    /// Creates a client with a chosen id and secret (bootstrap and tests); returns it with its
    /// secret.
    pub async fn client_insert(
        &self,
        t: &TenantCtx,
        client_id: String,
        mut body: ClientBody,
    ) -> Result<Client, CoreError> {
        validate(&body)?;
        if body.app_type.is_none() {
            body.app_type = Some("regular_web".into());
        }
        if body.grant_types.is_none() {
            body.grant_types = Some(default_grant_types(body.app_type.as_deref()));
        }
        if body.token_endpoint_auth_method.is_none() {
            let m = if body.app_type.as_deref() == Some("spa") {
                "none"
            } else {
                "client_secret_post"
            };
            body.token_endpoint_auth_method = Some(m.into());
        }
        body.is_first_party.get_or_insert(true);
        body.oidc_conformant.get_or_insert(true);
        body.callbacks.get_or_insert_with(Vec::new);
        body.allowed_logout_urls.get_or_insert_with(Vec::new);
        body.web_origins.get_or_insert_with(Vec::new);
        body.allowed_origins.get_or_insert_with(Vec::new);
        body.jwt_configuration.get_or_insert_with(
            || serde_json::json!({"alg": "RS256", "lifetime_in_seconds": 36000}),
        );
        let chosen = body.client_secret.take();
        let mut c = StoredClient {
            client_id,
            body,
            secret_sha256: None,
            secret_sealed: None,
            bootstrap: false,
        };
        if !c.is_public() {
            self.set_secret(t, &mut c, Some(chosen.unwrap_or_else(ids::client_secret)));
        }
        let doc = self.client_doc(&c, self.now())?;
        self.store.doc_insert(&t.id, DocKind::Client, &doc).await?;
        Ok(self.client_view(t, &c, true))
    }

    /// Loads a stored client (no authorization: for the token endpoint and internal use).
    /// Whether a browser origin may call the Authentication API cross-origin: it is one of
    /// some client's `web_origins` or `allowed_origins` (the CORS preflight names no client).
    pub async fn cors_origin_allowed(
        &self,
        t: &TenantCtx,
        origin: &str,
    ) -> Result<bool, CoreError> {
        let origin = origin.trim_end_matches('/');
        let clients: Vec<StoredClient> =
            crate::model::docs_all(&*self.store, t, DocKind::Client).await?;
        Ok(clients.iter().any(|c| {
            c.body
                .web_origins
                .iter()
                .chain(c.body.allowed_origins.iter())
                .flatten()
                .any(|o| o.trim_end_matches('/') == origin)
        }))
    }

    pub async fn client_fetch(
        &self,
        t: &TenantCtx,
        client_id: &str,
    ) -> Result<Option<StoredClient>, CoreError> {
        match self
            .store
            .doc_fetch(&t.id, DocKind::Client, client_id)
            .await?
        {
            Some(d) => Ok(Some(crate::model::from_body(d.body)?)),
            None => Ok(None),
        }
    }

    /// Marks `client_id` as the tenant's bootstrap client (see [`StoredClient::bootstrap`]).
    pub(crate) async fn client_mark_bootstrap(
        &self,
        t: &TenantCtx,
        client_id: &str,
    ) -> Result<(), CoreError> {
        let doc = self
            .store
            .doc_fetch(&t.id, DocKind::Client, client_id)
            .await?
            .ok_or_else(not_found)?;
        let mut c: StoredClient = crate::model::from_body(doc.body)?;
        if !c.bootstrap {
            c.bootstrap = true;
            let doc = self.client_doc(&c, doc.created_at)?;
            self.store.doc_update(&t.id, DocKind::Client, &doc).await?;
        }
        Ok(())
    }
}

impl Core {
    /// Replaces the secret of confidential client `client_id` (the operator rotated the
    /// bootstrap client's secret in its configuration).
    pub(crate) async fn client_secret_replace(
        &self,
        t: &TenantCtx,
        client_id: &str,
        secret: String,
    ) -> Result<(), CoreError> {
        let doc = self
            .store
            .doc_fetch(&t.id, DocKind::Client, client_id)
            .await?
            .ok_or_else(not_found)?;
        let mut c: StoredClient = crate::model::from_body(doc.body)?;
        self.set_secret(t, &mut c, Some(secret));
        let doc = self.client_doc(&c, doc.created_at)?;
        if !self.store.doc_update(&t.id, DocKind::Client, &doc).await? {
            return Err(not_found());
        }
        Ok(())
    }
}

impl Management {
    pub async fn client_create(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        body: JsonMap,
    ) -> Result<Client, CoreError> {
        actor.require("create:clients")?;
        let body = parse_body(body)?;
        if body.client_secret.is_some() {
            actor.require("update:client_keys")?;
        }
        self.core.client_insert(t, ids::client_id(), body).await
    }

    pub async fn client_get(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        client_id: &str,
    ) -> Result<Client, CoreError> {
        actor.require_any(&["read:clients", "read:client_keys"])?;
        let c = self
            .core
            .client_fetch(t, client_id)
            .await?
            .ok_or_else(not_found)?;
        Ok(self.core.client_view(t, &c, actor.has("read:client_keys")))
    }

    pub async fn client_list(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        q: PageQuery,
    ) -> Result<Listed<Client>, CoreError> {
        actor.require_any(&["read:clients", "read:client_keys"])?;
        let page = q.to_page()?;
        let (docs, total) = self
            .core
            .store
            .doc_list(&t.id, DocKind::Client, None, page)
            .await?;
        let mut items = Vec::with_capacity(docs.len());
        for d in docs {
            let c: StoredClient = crate::model::from_body(d.body)?;
            items.push(self.core.client_view(t, &c, actor.has("read:client_keys")));
        }
        Ok(Listed {
            items,
            start: page.offset,
            limit: page.limit,
            total,
            include_totals: q.include_totals,
        })
    }

    pub async fn client_update(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        client_id: &str,
        patch: JsonMap,
    ) -> Result<Client, CoreError> {
        actor.require("update:clients")?;
        let doc = self
            .core
            .store
            .doc_fetch(&t.id, DocKind::Client, client_id)
            .await?
            .ok_or_else(not_found)?;
        let mut c: StoredClient = crate::model::from_body(doc.body)?;
        let mut body =
            sluice_types::patch::merge_top_level(&c.body, patch).map_err(CoreError::payload)?;
        validate(&body)?;
        if let Some(s) = body.client_secret.take() {
            actor.require("update:client_keys")?;
            if s.len() < 16 {
                return Err(CoreError::payload(
                    "'client_secret' must be at least 16 characters",
                ));
            }
            self.core.set_secret(t, &mut c, Some(s));
        }
        c.body = body;
        if c.is_public() {
            self.core.set_secret(t, &mut c, None);
        } else if c.secret_sha256.is_none() {
            self.core.set_secret(t, &mut c, Some(ids::client_secret()));
        }
        let doc = self.core.client_doc(&c, doc.created_at)?;
        if !self
            .core
            .store
            .doc_update(&t.id, DocKind::Client, &doc)
            .await?
        {
            return Err(not_found());
        }
        Ok(self.core.client_view(t, &c, actor.has("read:client_keys")))
    }

    /// `POST /api/v2/clients/{id}/rotate-secret`.
    pub async fn client_rotate_secret(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        client_id: &str,
    ) -> Result<Client, CoreError> {
        actor.require("update:client_keys")?;
        let doc = self
            .core
            .store
            .doc_fetch(&t.id, DocKind::Client, client_id)
            .await?
            .ok_or_else(not_found)?;
        let mut c: StoredClient = crate::model::from_body(doc.body)?;
        if c.is_public() {
            return Err(CoreError::bad_request(
                "A public client (token_endpoint_auth_method none) has no secret",
            ));
        }
        self.core.set_secret(t, &mut c, Some(ids::client_secret()));
        let doc = self.core.client_doc(&c, doc.created_at)?;
        self.core
            .store
            .doc_update(&t.id, DocKind::Client, &doc)
            .await?;
        Ok(self.core.client_view(t, &c, true))
    }

    /// Deletes a client and its client grants.
    pub async fn client_delete(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        client_id: &str,
    ) -> Result<(), CoreError> {
        actor.require("delete:clients")?;
        if client_id == actor.client_id {
            return Err(CoreError::bad_request("A client cannot delete itself"));
        }
        if !self
            .core
            .store
            .doc_delete(&t.id, DocKind::Client, client_id)
            .await?
        {
            return Err(not_found());
        }
        self.core
            .store
            .doc_delete_by_ref(&t.id, DocKind::ClientGrant, client_id)
            .await?;
        Ok(())
    }
}
