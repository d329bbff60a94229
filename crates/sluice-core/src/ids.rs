//! Identifier formats, following Auth0's: client ids are 32 alphanumerics, connection ids
//! `con_` + 16, client grants `cgr_` + 16, resource servers and database users 24 hex digits.

use sluice_crypto::random::{random_alnum, random_hex, random_token};

pub fn client_id() -> String {
    random_alnum(32)
}
/// A client secret: 48 random bytes, base64url (64 characters).
pub fn client_secret() -> String {
    random_token(48)
}
pub fn connection_id() -> String {
    format!("con_{}", random_alnum(16))
}
pub fn client_grant_id() -> String {
    format!("cgr_{}", random_alnum(16))
}
pub fn resource_server_id() -> String {
    random_hex(24)
}
/// The raw id of a database user (Auth0 uses a 24-hex ObjectId); the user_id is `auth0|<raw>`.
pub fn user_raw_id() -> String {
    random_hex(24)
}
pub fn tenant_id() -> String {
    format!("ten_{}", random_alnum(16))
}
pub fn key_id() -> String {
    random_alnum(22)
}
