//! Extensibility: Rules, Hooks and Actions. [`stored`] holds their stored form and what runs
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
