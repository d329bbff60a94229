//! Management API authorization: the scopes Sluice knows, and the authenticated [`Actor`] that
//! every Management operation checks first thing.

use crate::error::CoreError;
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

/// Who is calling the Management API: a client of one tenant holding some scopes.
#[derive(Debug, Clone, PartialEq)]
pub struct Actor {
    pub tenant_id: String,
    pub client_id: String,
    pub scopes: BTreeSet<String>,
}

impl Actor {
    pub fn new(tenant_id: &str, client_id: &str, scope: &str) -> Self {
        Actor {
            tenant_id: tenant_id.to_string(),
            client_id: client_id.to_string(),
            scopes: scope.split_whitespace().map(str::to_string).collect(),
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
    fn scope_names_must_match_exactly() {
        let a = Actor::new("t", "c", "read:users_app_metadata");
        assert!(a.require("read:users").is_err());
    }
}
