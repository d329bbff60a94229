//! Single sign-on sessions: a browser that signed in holds a random cookie; the store keeps its
//! SHA-256 with the user, the connection and when they authenticated. A session ends at the
//! tenant's `session_lifetime` (hours, default 168) or after `idle_session_lifetime` (hours,
//! default 72) without use, at logout, or when its user is deleted or blocked.

use crate::Oidc;
use crate::refresh::artifact_key;
use serde::{Deserialize, Serialize};
use sluice_core::error::CoreError;
use sluice_core::model::UserRecord;
use sluice_core::ports::{Artifact, ArtifactKind};
use sluice_core::tenant::TenantCtx;
use sluice_crypto::random;

const DEFAULT_LIFETIME_HOURS: i64 = 168;
const DEFAULT_IDLE_HOURS: i64 = 72;

/// A live session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The session id (`sid` claim); not the cookie.
    pub id: String,
    pub user: UserRecord,
    pub auth_time: i64,
    pub connection: String,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    sid: String,
    auth_time: i64,
    connection: String,
    absolute_expiry: i64,
}

impl Oidc {
    async fn session_lifetimes(&self, t: &TenantCtx) -> Result<(i64, i64), CoreError> {
        let s = self.core.tenant_settings(t).await?;
        let hours = |k: &str, d: i64| {
            s.get(k)
                .and_then(|v| v.as_f64())
                .map(|h| (h * 3600.0) as i64)
                .filter(|v| *v > 0)
                .unwrap_or(d * 3600)
        };
        Ok((
            hours("session_lifetime", DEFAULT_LIFETIME_HOURS),
            hours("idle_session_lifetime", DEFAULT_IDLE_HOURS),
        ))
    }

    /// Starts a session for a user who just authenticated; returns the cookie value.
    pub(crate) async fn session_create(
        &self,
        t: &TenantCtx,
        user: &UserRecord,
        connection: &str,
    ) -> Result<(String, Session), CoreError> {
        let (life, idle) = self.session_lifetimes(t).await?;
        let now = self.core.now();
        let cookie = random::random_token(32);
        let sid = random::random_token(16);
        let stored = Stored {
            sid: sid.clone(),
            auth_time: now,
            connection: connection.to_string(),
            absolute_expiry: now + life,
        };
        self.core
            .store
            .artifact_insert(&Artifact {
                tenant_id: t.id.clone(),
                kind: ArtifactKind::Session,
                key: artifact_key(&cookie),
                family: sid.clone(),
                user_id: Some(user.profile.user_id.clone()),
                client_id: None,
                body: sluice_core::model::to_body(&stored)?,
                created_at: now,
                expires_at: (now + idle).min(now + life),
                used_at: None,
            })
            .await?;
        Ok((
            cookie,
            Session {
                id: sid,
                user: user.clone(),
                auth_time: now,
                connection: connection.to_string(),
            },
        ))
    }

    /// The live session of a cookie, its idle expiry pushed forward; `None` when there is none
    /// or its user is gone or blocked.
    pub async fn session_find(
        &self,
        t: &TenantCtx,
        cookie: &str,
    ) -> Result<Option<Session>, CoreError> {
        let now = self.core.now();
        let Some(mut a) = self
            .core
            .store
            .artifact_fetch(&t.id, ArtifactKind::Session, &artifact_key(cookie), now)
            .await?
        else {
            return Ok(None);
        };
        let stored: Stored = sluice_core::model::from_body(a.body.clone())?;
        let user_id = a.user_id.clone().unwrap_or_default();
        let user = match self.core.store.user_fetch(&t.id, &user_id).await? {
            Some(u) if !u.profile.blocked.unwrap_or(false) => u,
            _ => {
                self.core
                    .store
                    .artifact_delete(&t.id, ArtifactKind::Session, &a.key)
                    .await?;
                return Ok(None);
            }
        };
        let (_, idle) = self.session_lifetimes(t).await?;
        let next = (now + idle).min(stored.absolute_expiry);
        // Only write when the extension is worth it (a minute), not on every request.
        if next - a.expires_at > 60 {
            a.expires_at = next;
            self.core.store.artifact_update(&a).await?;
        }
        Ok(Some(Session {
            id: stored.sid,
            user,
            auth_time: stored.auth_time,
            connection: stored.connection,
        }))
    }

    /// Ends the session of a cookie (logout); returns whether there was one.
    pub async fn session_end(&self, t: &TenantCtx, cookie: &str) -> Result<bool, CoreError> {
        Ok(self
            .core
            .store
            .artifact_delete(&t.id, ArtifactKind::Session, &artifact_key(cookie))
            .await?)
    }
}
