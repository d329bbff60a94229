//! The domain core of Sluice, as three services over ports:
//! - [`Core`] (`service.rs`), the directory: tenants and their signing keys, clients,
//!   connections, APIs (resource servers), client grants, users, and the flows ([`flows`]:
//!   the login pipeline, signup, reset, verification);
//! - [`management::Management`], the Management API's operations over the directory;
//! - [`extend::Extensibility`], Rules, Hooks and Actions.
//!
//! The OAuth 2.0 / OIDC service is a crate of its own (`sluice-oidc`) built on these. The core
//! knows no web framework, database driver or JS engine: those live in other crates and
//! implement the traits in [`ports`].
//!
//! Every operation takes the tenant it runs in ([`tenant::TenantCtx`]) and, for the Management
//! API, the authenticated [`authz::Actor`], and checks authorization first.

pub mod authz;
pub mod bootstrap;
pub mod breaker;
pub mod client_grants;
pub mod clients;
pub mod connections;
pub mod db_connection;
pub mod error;
pub mod extend;
pub mod flows;
pub mod ids;
pub mod logs;
pub mod management;
pub mod model;
pub mod paging;
pub mod password_policy;
pub mod ports;
pub mod resource_servers;
pub mod service;
pub mod signing_keys;
pub mod tenant;
pub mod tenant_settings;
pub mod user_blocks;
pub mod user_query;
pub mod users;

pub use error::{CoreError, OAuthErrorKind};
pub use service::{Core, CoreConfig};
pub use tenant::TenantCtx;
