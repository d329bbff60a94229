//! Sluice cryptographic primitives: randomness, constant-time comparison and
//! hashing, sealing of secrets at rest, RS256 signing keys and JWKs, compact
//! JWS (JWT) signing/verification, and argon2id password hashing.
//!
//! Everything is built on aws-lc-rs (plus RustCrypto's argon2). Keys are
//! parsed once and kept as handles; there is no global state.

pub mod b64;
mod error;

pub mod ct;
pub mod jwt;
pub mod keys;
pub mod password;
pub mod random;
pub mod secretbox;

pub use error::CryptoError;
