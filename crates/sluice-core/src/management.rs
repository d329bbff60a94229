//! [`Management`]: the Management API's operations (`/api/v2/...`), each authorized against the
//! caller's [`Actor`](crate::authz::Actor) first. It works through the directory ([`Core`]):
//! clients, connections, APIs, client grants, users and their blocks, signing keys, tenant
//! settings and logs. Rules, Hooks and Actions have their own service
//! ([`Extensibility`](crate::extend::Extensibility)). The operations sit beside what they
//! manage, in an `impl Management` block of each resource's module (`clients.rs`,
//! `connections.rs`, ...).

use crate::service::Core;
use std::sync::Arc;

/// The Management API's operations of one server.
pub struct Management {
    pub(crate) core: Arc<Core>,
}

impl Management {
    pub fn new(core: Arc<Core>) -> Self {
        Management { core }
    }
}
