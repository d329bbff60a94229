//! Identifier formats, following Auth0's: client ids are 32 alphanumerics, connection ids
//! `con_` + 16, client grants `cgr_` + 16, rules `rul_` + 16, resource servers, hooks and
//! database users 24 hex digits, actions and their versions and bindings UUIDs.

use sluice_crypto::random::{random_alnum, random_bytes, random_hex, random_token};

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
pub fn rule_id() -> String {
    format!("rul_{}", random_alnum(16))
}
pub fn hook_id() -> String {
    random_hex(24)
}
/// A random (version 4) UUID, as Auth0 identifies actions, action versions and bindings.
pub fn uuid() -> String {
    let mut b = random_bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn uuids_are_version_4() {
        let u = super::uuid();
        assert_eq!(u.len(), 36);
        let parts: Vec<&str> = u.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!(matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
        assert_ne!(u, super::uuid());
    }
}
