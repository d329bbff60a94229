//! Wire types only: the JSON bodies of Auth0's Management API v2 and Authentication API as Sluice
//! accepts and returns them, and the public error bodies. serde only; no I/O.
//!
//! Input types reject unknown fields (Auth0 answers `Payload validation error` for them), output
//! types never carry secrets unless a field says so.

pub mod client;
pub mod client_grant;
pub mod connection;
pub mod error;
pub mod extend;
pub mod patch;
pub mod resource_server;
pub mod signing_key;
pub mod token;
pub mod user;

pub use client::{Client, ClientBody};
pub use client_grant::{ClientGrant, ClientGrantCreate, ClientGrantPatch};
pub use connection::{Connection, ConnectionBody, ConnectionOptions};
pub use error::{MgmtErrorBody, OAuthErrorBody};
pub use resource_server::{ResourceServer, ResourceServerBody, ResourceServerScope};
pub use signing_key::{SigningKey, SigningKeyRef};
pub use token::TokenResponse;
pub use user::{Identity, User, UserCreate, UserPatch};

/// A JSON object.
pub type JsonMap = serde_json::Map<String, serde_json::Value>;
