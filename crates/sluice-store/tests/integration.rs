//! The integration tests of `sluice-store`, one test binary (one link instead of one per file):
//! `store` (every resource on SQLite and PostgreSQL), `artifacts` (one-use artifacts and token
//! families), `signing_keys` (key rotation and revocation); tests are named `<suite>::<test>`.

mod artifacts;
mod signing_keys;
mod store;
