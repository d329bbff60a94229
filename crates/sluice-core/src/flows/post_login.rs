//! After a user authenticated: the tenant's Rules and post-login Actions run (the
//! [`Extensibility`](crate::extend::Extensibility) service), then the metadata they set is
//! merged into the stored user. Every sign-in that issues tokens (password grants, the end of an
//! authorization, a refresh) calls [`Core::post_login`].

use crate::error::CoreError;
use crate::extend::run::{LoginExtras, MetadataChanges, PostLogin};
use crate::model::UserRecord;
use crate::service::Core;
use crate::tenant::TenantCtx;
use sluice_types::JsonMap;

impl Core {
    /// Runs post-login extensibility for `user` and persists the metadata it set; `user` is
    /// then the stored record.
    pub async fn post_login(
        &self,
        t: &TenantCtx,
        user: &mut UserRecord,
        p: PostLogin<'_>,
    ) -> Result<LoginExtras, CoreError> {
        let (extras, changes) = self.extend.post_login(t, user, p).await?;
        let MetadataChanges {
            app_metadata,
            user_metadata,
        } = changes;
        if app_metadata.is_none() && user_metadata.is_none() {
            return Ok(extras);
        }
        let merge = |into: &mut JsonMap, m: &JsonMap| {
            for (k, v) in m {
                if v.is_null() {
                    into.remove(k);
                } else {
                    into.insert(k.clone(), v.clone());
                }
            }
        };
        let now = self.now_rfc3339();
        // Applied to the record as it is when written: a concurrent change (an admin's block or
        // password) is kept, never overwritten with what the login read.
        *user = self
            .user_modify(t, user.clone(), |r| {
                if let Some(m) = &app_metadata {
                    merge(&mut r.profile.app_metadata, m);
                }
                if let Some(m) = &user_metadata {
                    merge(&mut r.profile.user_metadata, m);
                }
                r.profile.updated_at = now.clone();
                Ok(())
            })
            .await?;
        Ok(extras)
    }
}
