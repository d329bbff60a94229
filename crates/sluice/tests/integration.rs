//! The integration tests of the `sluice` crate, one test binary (one link instead of one per
//! file): each module is a suite of its own (`login_flows`, `races`, `hostile_server`, ...) and
//! its tests are named `<suite>::<test>`; nextest still runs every test in its own process.
//! Shared helpers: `support` (HTTP helpers, legacy stores, a scripted browser), `process`
//! (the `sluice` binary as a child process), `hostile` (the hostile scripts).

mod hostile;
mod process;
mod support;

mod authz_matrix;
mod browser;
mod cli;
mod cluster;
mod extensibility_api;
mod extensibility_flows;
mod hostile_server;
mod keys;
mod legacy_api_scenario;
mod legacy_flows;
mod legacy_outage;
mod login_flows;
mod mgmt_api;
mod migration;
mod oidc_client;
mod oidc_flows;
mod ops;
mod proxy_tenants;
mod races;
mod reset_flows;
mod script_errors;
mod scripts_wiring;
mod sdk_python;
mod security;
mod signup_flows;
mod smtp;
