//! The connection flows, one readable place each: [`login`] (local, legacy custom database,
//! import-mode migration), [`signup`] (user creation and deletion per mode), [`reset`]
//! (password reset), [`verify`] (email verification), [`account`] (change email and password
//! through the scripts), [`post_login`] (Rules and Actions after a sign-in, and the metadata
//! they set), [`scripts`] (running a connection's script: breaker, rate limit) and
//! [`profile`] (validation and normalisation of script profiles).

pub mod account;
pub mod login;
pub mod post_login;
pub mod profile;
pub mod reset;
pub mod scripts;
pub mod signup;
pub mod verify;
