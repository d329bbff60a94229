//! Management API authorization: the scopes Sluice knows, the authenticated [`Actor`] that
//! every Management operation checks first thing, and `Core::mgmt_actor`, which turns a
//! bearer token into one.
//!
//! Two kinds of caller reach the Management API: an application with a client-credentials
//! token (the scopes of its client grant), and an end user with a token issued to them through
//! a user grant (Auth0's "Management API token for a SPA"). A user's token never carries more
//! than the [`CURRENT_USER_SCOPES`], and those act only on the user's own record
//! ([`Actor::require_self_or`]).

use crate::error::CoreError;
use crate::service::Core;
use crate::tenant::TenantCtx;
use sluice_crypto::jwt;
use std::collections::BTreeSet;

/// Every Management API scope Sluice grants. The bootstrap client is granted all of them.
pub const MGMT_SCOPES: &[&str] = &[
    "read:clients",
    "create:clients",
    "update:clients",
    "delete:clients",
    "read:client_keys",
    "update:client_keys",
    "read:connections",
    "create:connections",
    "update:connections",
    "delete:connections",
    "read:resource_servers",
    "create:resource_servers",
    "update:resource_servers",
    "delete:resource_servers",
    "read:client_grants",
    "create:client_grants",
    "update:client_grants",
    "delete:client_grants",
    "read:users",
    "create:users",
    "update:users",
    "delete:users",
    "read:users_app_metadata",
    "update:users_app_metadata",
    "read:user_idp_tokens",
    "read:logs",
    "read:tenant_settings",
    "update:tenant_settings",
    "read:rules",
    "create:rules",
    "update:rules",
    "delete:rules",
    "read:rules_configs",
    "update:rules_configs",
    "delete:rules_configs",
    "read:hooks",
    "create:hooks",
    "update:hooks",
    "delete:hooks",
    "read:actions",
    "create:actions",
    "update:actions",
    "delete:actions",
    "read:signing_keys",
    "create:signing_keys",
    "update:signing_keys",
];

/// The Management API scopes a user token may carry (Auth0's list for SPAs). Each acts only on
/// the token's own user. `update:current_user_identities` and the device-credential scopes are
/// granted like Auth0 does, but Sluice has no route they open yet.
pub const CURRENT_USER_SCOPES: &[&str] = &[
    "read:current_user",
    "update:current_user_metadata",
    "create:current_user_metadata",
    "delete:current_user_metadata",
    "update:current_user_identities",
    "create:current_user_device_credentials",
    "delete:current_user_device_credentials",
];

/// Who is calling the Management API: a client of one tenant holding some scopes, on its own
/// behalf or (`user` set) on behalf of the end user the token was issued to.
#[derive(Debug, Clone, PartialEq)]
pub struct Actor {
    pub tenant_id: String,
    pub client_id: String,
    pub scopes: BTreeSet<String>,
    /// The end user of a user token (its `sub`); `None` for a client-credentials token.
    pub user: Option<String>,
}

impl Actor {
    /// An application acting on its own behalf with `scope`.
    pub fn new(tenant_id: &str, client_id: &str, scope: &str) -> Self {
        Actor {
            tenant_id: tenant_id.to_string(),
            client_id: client_id.to_string(),
            scopes: scope.split_whitespace().map(str::to_string).collect(),
            user: None,
        }
    }

    /// An end user's token: whatever its `scope` claim says, it holds only current-user scopes.
    pub fn for_user(tenant_id: &str, client_id: &str, user_id: &str, scope: &str) -> Self {
        Actor {
            tenant_id: tenant_id.to_string(),
            client_id: client_id.to_string(),
            scopes: scope
                .split_whitespace()
                .filter(|s| CURRENT_USER_SCOPES.contains(s))
                .map(str::to_string)
                .collect(),
            user: Some(user_id.to_string()),
        }
    }

    /// Passes with any of `admin` scopes, or with any of `own` scopes when the actor is the end
    /// user `user_id` itself. A user token naming another user is a 403.
    pub fn require_self_or(
        &self,
        user_id: &str,
        admin: &[&str],
        own: &[&str],
    ) -> Result<(), CoreError> {
        if admin.iter().any(|s| self.has(s)) {
            return Ok(());
        }
        match &self.user {
            Some(me) if own.iter().any(|s| self.has(s)) => {
                if me == user_id {
                    Ok(())
                } else {
                    Err(CoreError::Forbidden {
                        code: "insufficient_scope",
                        message: "A token issued to a user can only act on that user.".into(),
                    })
                }
            }
            _ => {
                let mut all: Vec<&str> = admin.to_vec();
                if self.user.is_some() {
                    all.extend_from_slice(own);
                }
                self.require_any(&all)
            }
        }
    }

    pub fn has(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }

    /// Fails with Auth0's 403 `insufficient_scope` unless the actor holds `scope`.
    pub fn require(&self, scope: &str) -> Result<(), CoreError> {
        if self.has(scope) {
            Ok(())
        } else {
            Err(CoreError::Forbidden {
                code: "insufficient_scope",
                message: format!("Insufficient scope, expected any of: {scope}"),
            })
        }
    }

    /// Like [`require`](Self::require) but any one of `scopes` is enough.
    pub fn require_any(&self, scopes: &[&str]) -> Result<(), CoreError> {
        if scopes.iter().any(|s| self.has(s)) {
            Ok(())
        } else {
            Err(CoreError::Forbidden {
                code: "insufficient_scope",
                message: format!("Insufficient scope, expected any of: {}", scopes.join(",")),
            })
        }
    }
}

impl Core {
    /// Verifies a Management API bearer token of tenant `t` (signature by one of its keys,
    /// issuer, audience, expiry) and returns who is calling with which scopes.
    pub fn mgmt_actor(&self, t: &TenantCtx, token: &str) -> Result<Actor, CoreError> {
        let v = jwt::Validation {
            issuer: &t.issuer,
            audience: &t.mgmt_audience,
            now: self.now(),
            leeway: 30,
        };
        let claims = jwt::verify(token, &t.verifying, &v).map_err(|e| {
            tracing::debug!(error = %e, "management token rejected");
            CoreError::Unauthorized {
                message: "Invalid token".into(),
            }
        })?;
        let str_claim = |k: &str| claims.get(k).and_then(|v| v.as_str()).unwrap_or_default();
        let (sub, azp, scope) = (str_claim("sub"), str_claim("azp"), str_claim("scope"));
        // Only the client-credentials grant writes `gty: client-credentials` (extensibility
        // code cannot set it) and its subject is `<client_id>@clients`. Anything else is a
        // user's token, which holds at most the current-user scopes.
        let app_token = str_claim("gty") == "client-credentials"
            && !azp.is_empty()
            && sub.strip_suffix("@clients") == Some(azp);
        if app_token {
            Ok(Actor::new(&t.id, azp, scope))
        } else if sub.is_empty() {
            Err(CoreError::Unauthorized {
                message: "Invalid token".into(),
            })
        } else {
            Ok(Actor::for_user(&t.id, azp, sub, scope))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_scope_is_forbidden_with_auth0_message() {
        let a = Actor::new("t", "c", "read:users create:users");
        assert!(a.require("read:users").is_ok());
        match a.require("delete:users") {
            Err(CoreError::Forbidden { code, message }) => {
                assert_eq!(code, "insufficient_scope");
                assert_eq!(message, "Insufficient scope, expected any of: delete:users");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_user_token_holds_only_current_user_scopes() {
        let a = Actor::for_user("t", "c", "auth0|me", "read:users read:current_user openid");
        assert!(a.has("read:current_user"));
        assert!(!a.has("read:users"));
        assert!(!a.has("openid"));
        assert!(a.require("read:users").is_err());
    }

    #[test]
    fn current_user_scopes_act_only_on_the_tokens_own_user() {
        let a = Actor::for_user("t", "c", "auth0|me", "read:current_user");
        let (admin, own) = (&["read:users"][..], &["read:current_user"][..]);
        assert!(a.require_self_or("auth0|me", admin, own).is_ok());
        assert!(matches!(
            a.require_self_or("auth0|you", admin, own),
            Err(CoreError::Forbidden { .. })
        ));
        // An application never passes with a current-user scope: it has no "self".
        let app = Actor::new("t", "c", "read:current_user");
        assert!(app.require_self_or("auth0|me", admin, own).is_err());
        // An administrator's scope works on anyone.
        let admin_app = Actor::new("t", "c", "read:users");
        assert!(admin_app.require_self_or("auth0|you", admin, own).is_ok());
    }

    #[test]
    fn scope_names_must_match_exactly() {
        let a = Actor::new("t", "c", "read:users_app_metadata");
        assert!(a.require("read:users").is_err());
    }
}
