//! Client authentication at the token and revocation endpoints: what a client presents
//! ([`ClientAuth`]: its id, and its secret in the body or by HTTP Basic) and how it is checked
//! (confidential clients by their secret, compared in constant time; public clients by id).

use crate::Oidc;
use sluice_core::clients::StoredClient;
use sluice_core::error::{CoreError, OAuthErrorKind};
use sluice_core::tenant::TenantCtx;

/// Client credentials as presented at the token endpoint (post body or HTTP Basic).
#[derive(Clone, PartialEq)]
pub struct ClientAuth {
    pub client_id: String,
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientAuth")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

pub(crate) fn invalid_client() -> CoreError {
    CoreError::oauth(OAuthErrorKind::Unauthenticated, "Unauthorized")
}

impl Oidc {
    /// Authenticates a client. Confidential clients must present their secret; a public client
    /// (`token_endpoint_auth_method: none`) must present none.
    pub async fn client_authenticate(
        &self,
        t: &TenantCtx,
        auth: &ClientAuth,
    ) -> Result<StoredClient, CoreError> {
        let client = self.core.client_fetch(t, &auth.client_id).await?;
        let Some(client) = client else {
            // Spend comparable time on unknown ids as on known ones.
            let _ = sluice_crypto::ct::sha256_hex(
                auth.client_secret.as_deref().unwrap_or("").as_bytes(),
            );
            return Err(invalid_client());
        };
        match (&auth.client_secret, client.is_public()) {
            (Some(s), false) if client.secret_matches(s) => Ok(client),
            (None, true) => Ok(client),
            _ => Err(invalid_client()),
        }
    }
}
