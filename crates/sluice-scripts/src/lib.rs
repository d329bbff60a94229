//! The action-script runtime. So far it owns [`check::SyntaxChecker`], which compiles a stored
//! script without running it so the Management API can reject syntax errors with their line.
//! Execution (containers, the Auth0 script contract, host modules) grows here next.

pub mod check;

pub use check::SyntaxChecker;
