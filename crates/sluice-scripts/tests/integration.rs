//! The integration tests of `sluice-scripts`, one test binary (one link instead of one per file):
//! each module is a suite of its own (`contract`, `hostile`, `pg`, `mysql`, ...) and its tests are
//! named `<suite>::<test>`; nextest still runs every test in its own process. Shared helper:
//! `mysql_support` (throw-away MariaDB databases).

mod mysql_support;

mod contract;
mod crypto;
mod hostile;
mod hostile_values;
mod http;
mod jwt;
mod modules;
mod mysql;
mod mysql_escaping;
mod packages;
mod pg;
mod pool;
