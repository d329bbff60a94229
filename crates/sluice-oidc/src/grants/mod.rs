//! The token endpoint's grants, one file each: `authorization_code`, `client_credentials`,
//! `password` (with Auth0's `password-realm`) and `refresh_token`.

pub mod authorization_code;
pub mod client_credentials;
pub mod password;
pub mod refresh_token;
