//! Login transactions: a validated `/authorize` request waiting for the user on the Universal
//! Login pages. The transaction is addressed by a random `state` in the page URL, bound to the
//! browser that started it (the SHA-256 of a browser cookie), and carries the CSRF token every
//! form on its pages must echo. It also decides which database connection the pages use.

use crate::clients::StoredClient;
use crate::error::CoreError;
use crate::error::OAuthErrorKind;
use crate::model::DocKind;
use crate::oidc::authorize::AuthorizeRequest;
use crate::oidc::refresh::artifact_key;
use crate::ports::{Artifact, ArtifactKind, Page};
use crate::service::Core;
use crate::tenant::TenantCtx;
use serde::{Deserialize, Serialize};
use sluice_crypto::{ct, random};
use sluice_types::Connection;

/// How long a user has to finish signing in.
pub const TRANSACTION_LIFETIME: i64 = 3600;

/// A login transaction.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginTransaction {
    pub request: AuthorizeRequest,
    /// Echoed by every form of the transaction's pages.
    pub csrf: String,
    browser: String,
}

/// The transaction is unknown, expired, or belongs to another browser.
pub fn invalid_transaction() -> CoreError {
    CoreError::oauth(
        OAuthErrorKind::InvalidRequest,
        "This login session is no longer valid. Return to the application and sign in again.",
    )
}

impl Core {
    /// Stores a transaction for `browser` (the browser-binding cookie); returns its `state`.
    pub async fn transaction_begin(
        &self,
        t: &TenantCtx,
        request: &AuthorizeRequest,
        browser: &str,
    ) -> Result<(String, LoginTransaction), CoreError> {
        let state = random::random_token(24);
        let now = self.now();
        let txn = LoginTransaction {
            request: request.clone(),
            csrf: random::random_token(24),
            browser: ct::sha256_hex(browser.as_bytes()),
        };
        self.store
            .artifact_insert(&Artifact {
                tenant_id: t.id.clone(),
                kind: ArtifactKind::Transaction,
                key: artifact_key(&state),
                family: random::random_hex(16),
                user_id: None,
                client_id: Some(request.client_id.clone()),
                body: crate::model::to_body(&txn)?,
                created_at: now,
                expires_at: now + TRANSACTION_LIFETIME,
                used_at: None,
            })
            .await?;
        Ok((state, txn))
    }

    /// The live transaction of `state`, if `browser` started it.
    pub async fn transaction_fetch(
        &self,
        t: &TenantCtx,
        state: &str,
        browser: &str,
    ) -> Result<LoginTransaction, CoreError> {
        let a = self
            .store
            .artifact_fetch(
                &t.id,
                ArtifactKind::Transaction,
                &artifact_key(state),
                self.now(),
            )
            .await?
            .ok_or_else(invalid_transaction)?;
        let txn: LoginTransaction = crate::model::from_body(a.body)?;
        let presented = ct::sha256_hex(browser.as_bytes());
        if !ct::ct_eq(presented.as_bytes(), txn.browser.as_bytes()) {
            return Err(invalid_transaction());
        }
        Ok(txn)
    }

    /// Like [`Core::transaction_fetch`], and the form's CSRF token must match.
    pub async fn transaction_for_form(
        &self,
        t: &TenantCtx,
        state: &str,
        browser: &str,
        csrf: &str,
    ) -> Result<LoginTransaction, CoreError> {
        let txn = self.transaction_fetch(t, state, browser).await?;
        if !ct::ct_eq(csrf.as_bytes(), txn.csrf.as_bytes()) {
            return Err(invalid_transaction());
        }
        Ok(txn)
    }

    /// Ends a transaction (the user signed in).
    pub async fn transaction_end(&self, t: &TenantCtx, state: &str) -> Result<(), CoreError> {
        self.store
            .artifact_delete(&t.id, ArtifactKind::Transaction, &artifact_key(state))
            .await?;
        Ok(())
    }

    /// The database connection the login pages use for `client`: the one the request named,
    /// else the tenant's default directory when enabled for the client, else the client's
    /// first enabled database connection.
    pub async fn login_connection(
        &self,
        t: &TenantCtx,
        client: &StoredClient,
        named: Option<&str>,
    ) -> Result<Connection, CoreError> {
        if let Some(n) = named {
            return self.connection_for_client(t, client, n).await;
        }
        let (docs, _) = self
            .store
            .doc_list(
                &t.id,
                DocKind::Connection,
                None,
                Page {
                    offset: 0,
                    limit: 1000,
                },
            )
            .await?;
        let enabled: Vec<Connection> = docs
            .into_iter()
            .map(Self::connection_from_doc)
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|c| {
                c.body.strategy.as_deref() == Some("auth0")
                    && c.body
                        .enabled_clients
                        .as_deref()
                        .unwrap_or_default()
                        .contains(&client.client_id)
            })
            .collect();
        let settings = self.tenant_settings(t).await?;
        let default = settings.get("default_directory").and_then(|v| v.as_str());
        enabled
            .iter()
            .find(|c| default.is_some() && c.body.name.as_deref() == default)
            .or(enabled.first())
            .cloned()
            .ok_or_else(|| {
                CoreError::oauth(
                    OAuthErrorKind::InvalidRequest,
                    "No database connection is enabled for this application.",
                )
            })
    }
}
