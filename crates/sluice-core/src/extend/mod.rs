//! Extensibility: Rules, Hooks and Actions. [`stored`] holds their stored form and what runs
//! for each trigger; [`run`] runs them at their execution points (post-login, pre- and
//! post-user-registration, credentials exchange, ...), which the flows call. [`rules`],
//! [`hooks`], [`actions`] and [`bindings`] are their Management API operations.

pub mod actions;
pub mod bindings;
mod checks;
pub mod hooks;
pub mod rules;
pub mod run;
pub mod stored;
