//! The connection flows, one readable place each: [`login`] (local, legacy custom database,
//! import-mode migration) and [`profile`] (validation and normalisation of script profiles).

pub mod login;
pub mod profile;
