//! Extensibility: Rules, Hooks and Actions. [`model`] holds their stored form and what runs for
//! each trigger; the execution points live next to the flows they extend. [`rules`], [`hooks`],
//! [`actions`] and [`bindings`] are their Management API operations.

pub mod actions;
pub mod bindings;
mod checks;
pub mod hooks;
pub mod model;
pub mod rules;
pub mod run;
