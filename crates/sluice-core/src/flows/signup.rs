//! Creating a user in a database connection — `/dbconnections/signup` and the Management API's
//! `POST /users` — the way Auth0 does for each connection mode:
//!
//! - Sluice-managed: a local user (argon2id).
//! - Custom database, legacy mode: `get_user` (a user found means `user_exists` and `create` is
//!   not run) → `create` → `login` (to verify, and to get the profile Sluice caches).
//! - Custom database, import mode: `get_user` (found in the legacy store means `user_exists`),
//!   then a local user: new users live in Sluice from the start.

use super::profile;
use crate::db_connection::DbSettings;
use crate::error::CoreError;
use crate::ports::{ScriptFailure, ScriptKind, Trigger};
use crate::service::Core;
use crate::tenant::TenantCtx;
use crate::users::{is_custom, is_import};
use sluice_types::{Connection, User, UserCreate};

pub fn user_exists() -> CoreError {
    CoreError::Conflict {
        code: "auth0_idp_error",
        message: "The user already exists.".into(),
    }
}

/// A script failed during a user operation: generic to the caller, detailed in the log.
pub fn script_failed(kind: ScriptKind, failure: &ScriptFailure) -> CoreError {
    tracing::warn!(script = kind.key(), failure = ?failure, "action script failed");
    CoreError::Internal {
        internal: format!("the {} script failed", kind.key()),
    }
}

impl Core {
    /// Creates a user in `conn` (see the module docs) and, unless told not to (`verify_email:
    /// false`) or already verified, emails a verification link. `client_id`: the application
    /// signing up.
    pub async fn user_create_in(
        &self,
        t: &TenantCtx,
        conn: &Connection,
        b: UserCreate,
        client_id: Option<&str>,
    ) -> Result<User, CoreError> {
        let send = b.verify_email.unwrap_or(true);
        let user = self.user_create_steps(t, conn, b, client_id).await?;
        if send
            && !user.email_verified
            && let Some(email) = &user.email
        {
            self.verification_email_send(t, conn.body.name.as_deref().unwrap_or_default(), email)
                .await;
        }
        Ok(user)
    }

    /// The mode-specific creation.
    async fn user_create_steps(
        &self,
        t: &TenantCtx,
        conn: &Connection,
        b: UserCreate,
        client_id: Option<&str>,
    ) -> Result<User, CoreError> {
        let password = self.user_create_checks(conn, &b)?;
        let name = conn.body.name.clone().unwrap_or_default();
        let email = b.email.clone().unwrap_or_default().to_lowercase();
        if is_custom(conn) {
            let identifier = email.clone();
            match self
                .run_script(t, conn, ScriptKind::GetUser, vec![identifier.into()])
                .await?
            {
                Ok(v) => {
                    if profile::parse(&v)
                        .map_err(|e| {
                            script_failed(
                                ScriptKind::GetUser,
                                &ScriptFailure::Error {
                                    name: "Profile".into(),
                                    message: e.to_string(),
                                    stack: None,
                                },
                            )
                        })?
                        .is_some()
                    {
                        return Err(user_exists());
                    }
                }
                Err(f) => return Err(script_failed(ScriptKind::GetUser, &f)),
            }
            if self.user_find_local(t, &name, &email).await?.is_some() {
                return Err(user_exists());
            }
            if !is_import(conn) {
                return self
                    .create_in_legacy_store(t, conn, &b, &email, &password, client_id)
                    .await;
            }
        }
        self.user_insert_local(t, conn, b, password).await
    }

    async fn create_in_legacy_store(
        &self,
        t: &TenantCtx,
        conn: &Connection,
        b: &UserCreate,
        email: &str,
        password: &str,
        client_id: Option<&str>,
    ) -> Result<User, CoreError> {
        let mut user = serde_json::json!({
            "tenant": t.name,
            "connection": conn.body.name,
            "email": email,
            "password": password,
            "email_verified": b.email_verified.unwrap_or(false),
        });
        let fields = [
            ("client_id", client_id.map(str::to_string)),
            ("username", b.username.clone()),
            ("given_name", b.given_name.clone()),
            ("family_name", b.family_name.clone()),
            ("name", b.name.clone()),
            ("nickname", b.nickname.clone()),
            ("picture", b.picture.clone()),
            ("phone_number", b.phone_number.clone()),
        ];
        for (k, v) in fields {
            if let Some(v) = v {
                user[k] = v.into();
            }
        }
        if let Some(m) = &b.user_metadata {
            user["user_metadata"] = serde_json::Value::Object(m.clone());
        }
        if let Some(m) = &b.app_metadata {
            user["app_metadata"] = serde_json::Value::Object(m.clone());
        }
        match self
            .run_script(t, conn, ScriptKind::Create, vec![user])
            .await?
        {
            Ok(_) => {}
            Err(ScriptFailure::Validation { code, .. }) if code == "user_exists" => {
                return Err(user_exists());
            }
            // The script's own refusal reaches the sign-up form as it wrote it, as in Auth0.
            Err(ScriptFailure::Validation { code, message }) => {
                return Err(CoreError::ScriptRefused { code, message });
            }
            Err(ScriptFailure::Unauthorized { message }) => {
                return Err(CoreError::ScriptRefused {
                    code: "unauthorized".into(),
                    message,
                });
            }
            Err(f) => return Err(script_failed(ScriptKind::Create, &f)),
        }
        // Auth0 runs login right after create, as a check that the user can sign in.
        let identifier = email.to_string();
        let profile = match self
            .run_script(
                t,
                conn,
                ScriptKind::Login,
                vec![identifier.into(), password.into()],
            )
            .await?
        {
            Ok(v) => profile::parse(&v).ok().flatten().ok_or_else(|| {
                script_failed(
                    ScriptKind::Login,
                    &ScriptFailure::Error {
                        name: "Profile".into(),
                        message: "the login script did not return the new user".into(),
                        stack: None,
                    },
                )
            })?,
            Err(f) => return Err(script_failed(ScriptKind::Login, &f)),
        };
        let rec = self.cache_legacy_user(t, conn, &profile).await?;
        let rec = self
            .user_modify(t, rec, |r| {
                if let Some(m) = &b.user_metadata {
                    r.profile.user_metadata.extend(m.clone());
                }
                if let Some(m) = &b.app_metadata {
                    r.profile.app_metadata.extend(m.clone());
                }
                Ok(())
            })
            .await?;
        Ok(rec.profile)
    }

    /// Legacy mode: runs the `delete` script with the raw id (without `auth0|`).
    pub(crate) async fn delete_in_legacy_store(
        &self,
        t: &TenantCtx,
        conn: &Connection,
        user: &User,
    ) -> Result<(), CoreError> {
        let raw = user
            .identities
            .first()
            .map(|i| i.user_id.clone())
            .unwrap_or_else(|| user.user_id.trim_start_matches("auth0|").to_string());
        match self
            .run_script(t, conn, ScriptKind::Delete, vec![raw.into()])
            .await?
        {
            Ok(_) => Ok(()),
            Err(f) => Err(script_failed(ScriptKind::Delete, &f)),
        }
    }
}

/// `POST /dbconnections/signup` body.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct SignupBody {
    pub client_id: Option<String>,
    pub connection: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub username: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub name: Option<String>,
    pub nickname: Option<String>,
    pub picture: Option<String>,
    pub phone_number: Option<String>,
    pub user_metadata: Option<sluice_types::JsonMap>,
}

impl Core {
    /// Public signup (`/dbconnections/signup`).
    pub async fn signup(&self, t: &TenantCtx, b: SignupBody) -> Result<User, CoreError> {
        let client_id = b
            .client_id
            .clone()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| CoreError::bad_request("Missing required property: client_id"))?;
        if self.client_fetch(t, &client_id).await?.is_none() {
            return Err(CoreError::BadRequest {
                code: "invalid_client",
                message: "Unknown client.".into(),
            });
        }
        let name = b
            .connection
            .clone()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| CoreError::bad_request("Missing required property: connection"))?;
        let conn = self
            .connection_fetch_by_name(t, &name)
            .await?
            .filter(|c| {
                c.body
                    .enabled_clients
                    .as_deref()
                    .unwrap_or_default()
                    .contains(&client_id)
            })
            .ok_or_else(|| CoreError::BadRequest {
                code: "invalid_connection",
                message: "The connection does not exist or is not enabled for this client.".into(),
            })?;
        if !DbSettings::of(&conn).signup_allowed {
            return Err(CoreError::Forbidden {
                code: "operation_not_allowed",
                message: "Public signup is disabled for this connection.".into(),
            });
        }
        if let Some(m) = &b.user_metadata
            && (m.len() > 10
                || m.iter()
                    .any(|(k, v)| k.len() > 100 || v.as_str().is_none_or(|s| s.len() > 500)))
        {
            return Err(CoreError::bad_request(
                "user_metadata holds at most 10 string properties (names up to 100, values up to 500 characters)",
            ));
        }
        // Pre-user-registration Hooks and Actions may add metadata or deny the signup.
        let (extra_um, extra_am) = self
            .extend
            .pre_user_registration(
                t,
                serde_json::json!({
                    "email": b.email, "username": b.username, "user_metadata": b.user_metadata,
                    "tenant": t.name,
                }),
                &name,
                Some(&client_id),
            )
            .await?;
        let mut user_metadata = b.user_metadata;
        if !extra_um.is_empty() {
            user_metadata
                .get_or_insert_with(Default::default)
                .extend(extra_um);
        }
        let app_metadata = (!extra_am.is_empty()).then_some(extra_am);
        let create = UserCreate {
            connection: name.clone(),
            email: b.email,
            password: b.password,
            username: b.username,
            given_name: b.given_name,
            family_name: b.family_name,
            name: b.name,
            nickname: b.nickname,
            picture: b.picture,
            phone_number: b.phone_number,
            user_metadata,
            app_metadata,
            ..Default::default()
        };
        let user = self
            .user_create_in(t, &conn, create, Some(&client_id))
            .await?;
        self.extend
            .notify_extensions(t, Trigger::PostUserRegistration, &user, &name)
            .await;
        Ok(user)
    }
}
