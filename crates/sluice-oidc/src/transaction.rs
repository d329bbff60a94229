//! Login transactions: a validated `/authorize` request waiting for the user on the Universal
//! Login pages. The transaction is addressed by a random `state` in the page URL, bound to the
//! browser that started it (the SHA-256 of a browser cookie), and carries the CSRF token every
//! form on its pages must echo. It also decides which database connection the pages use.

use crate::Oidc;
use crate::authorize::AuthorizeRequest;
use crate::refresh::artifact_key;
use serde::{Deserialize, Serialize};
use sluice_core::clients::StoredClient;
use sluice_core::error::CoreError;
use sluice_core::error::OAuthErrorKind;
use sluice_core::ports::{Artifact, ArtifactKind};
use sluice_core::tenant::TenantCtx;
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

impl Oidc {
    /// Stores a transaction for `browser` (the browser-binding cookie); returns its `state`.
    pub async fn transaction_begin(
        &self,
        t: &TenantCtx,
        request: &AuthorizeRequest,
        browser: &str,
    ) -> Result<(String, LoginTransaction), CoreError> {
        let state = random::random_token(24);
        let now = self.core.now();
        let txn = LoginTransaction {
            request: request.clone(),
            csrf: random::random_token(24),
            browser: ct::sha256_hex(browser.as_bytes()),
        };
        self.core
            .store
            .artifact_insert(&Artifact {
                tenant_id: t.id.clone(),
                kind: ArtifactKind::Transaction,
                key: artifact_key(&state),
                family: random::random_hex(16),
                user_id: None,
                client_id: Some(request.client_id.clone()),
                body: sluice_core::model::to_body(&txn)?,
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
            .core
            .store
            .artifact_fetch(
                &t.id,
                ArtifactKind::Transaction,
                &artifact_key(state),
                self.core.now(),
            )
            .await?
            .ok_or_else(invalid_transaction)?;
        let txn: LoginTransaction = sluice_core::model::from_body(a.body)?;
        let presented = ct::sha256_hex(browser.as_bytes());
        if !ct::ct_eq(presented.as_bytes(), txn.browser.as_bytes()) {
            return Err(invalid_transaction());
        }
        Ok(txn)
    }

    /// Like [`Oidc::transaction_fetch`], and the form's CSRF token must match.
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
        self.core
            .store
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
        let enabled = self
            .core
            .database_connections_of(t, &client.client_id)
            .await?;
        let settings = self.core.tenant_settings(t).await?;
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
