//! Extensibility: Rules, Hooks and Actions, as the [`Extensibility`] service, which holds only
//! the ports it uses (store, clock, sealer, script checker and runner, tenant log). [`stored`] holds their stored form and what runs
//! for each trigger; [`output`] reads what they hand back into typed values; [`run`] runs them
//! at their execution points (post-login, pre- and
//! post-user-registration, credentials exchange, ...), which the flows call. [`rules`],
//! [`hooks`], [`actions`] and [`bindings`] are their Management API operations.

pub mod actions;
pub mod bindings;
mod checks;
pub mod hooks;
pub(crate) mod output;
pub mod rules;
pub mod run;
pub mod stored;

use crate::logs::TenantLog;
use crate::ports::{Clock, ScriptChecker, ScriptRunner, Store};
use sluice_crypto::secretbox::SecretBox;
use std::sync::Arc;

/// Rules, Hooks and Actions of every tenant: the Management API's operations on them and their
/// runs at the execution points the flows and grants call.
pub struct Extensibility {
    pub(crate) store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    /// Seals rules-config values and hook and action secrets.
    sealer: SecretBox,
    /// Checks scripts' syntax when they are saved.
    scripts: Arc<dyn ScriptChecker>,
    /// Runs them.
    runner: Arc<dyn ScriptRunner>,
    log: TenantLog,
}

impl Extensibility {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        sealer: SecretBox,
        scripts: Arc<dyn ScriptChecker>,
        runner: Arc<dyn ScriptRunner>,
        log: TenantLog,
    ) -> Self {
        Extensibility {
            store,
            clock,
            sealer,
            scripts,
            runner,
            log,
        }
    }

    fn now(&self) -> i64 {
        self.clock.now()
    }

    fn now_rfc3339(&self) -> String {
        crate::service::rfc3339(self.now())
    }
}
