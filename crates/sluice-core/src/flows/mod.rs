//! The connection flows, one readable place each: [`login`] (local, legacy custom database,
//! import-mode migration), [`reset`] (password reset), [`signup`] (user creation and deletion per mode) and [`profile`] (validation and normalisation of script profiles).

pub mod account;
pub mod login;
pub mod profile;
pub mod reset;
pub mod scripts;
pub mod signup;
pub mod verify;
