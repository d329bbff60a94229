//! The action-script runtime: runs Auth0-style custom database scripts in sandboxed QuickJS
//! containers.
//!
//! - [`check`]: compile-only syntax check used when scripts are saved.
//! - [`runtime`]: [`ScriptRuntime`], the `ScriptRunner` port: a bounded pool of containers per
//!   connection, each a QuickJS runtime; an invocation runs on a worker thread ([`workers`]).
//! - [`container`]: one container — its engine, limits, globals and compiled-script cache.
//! - [`invoke`]: one invocation — the Auth0 callback contract and marshaling of results/errors.
//! - [`prelude`]: the script environment every container installs, compiled once to bytecode.
//! - [`plain`]: reading results and errors as plain data without running script code.
//! - [`egress`]: the per-tenant policy every outbound connection of a script passes.
//! - [`budget`]: host buffers (query results, HTTP bodies) held for a container, capped.
//! - [`limits`]: the limits every invocation runs under.
//! - [`modules`]: the host modules behind `require` (native Rust behind npm-shaped facades).

pub mod adapt;
pub mod budget;
pub mod check;
pub mod container;
pub mod egress;
pub mod invoke;
pub mod limits;
pub mod modules;
pub mod native;
pub mod plain;
pub mod prelude;
pub mod runtime;
pub mod workers;

pub use check::SyntaxChecker;
pub use egress::{EgressPolicy, ModuleEnv};
pub use limits::Limits;
pub use runtime::ScriptRuntime;
