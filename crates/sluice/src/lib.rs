//! The Sluice binary's library half: configuration ([`config`]), composition of the stores,
//! script runtime, core and HTTP layer ([`server`]), first-start bootstrap files
//! ([`bootstrap`]), the CLI commands ([`cli`]) and the local script runner
//! ([`scripts_cmd`]). `main.rs` only parses and dispatches, so
//! tests can start the very same server in-process.

pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod mail;
pub mod memory;
pub mod scripts_cmd;
pub mod server;
