//! Cryptographically secure randomness (aws-lc-rs system RNG): raw bytes,
//! URL-safe tokens, alphanumeric and hex strings.
//!
//! A failure of the operating system RNG is unrecoverable and panics; no
//! caller input can trigger it.

const ALNUM: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Fills `buf` from the system RNG.
pub(crate) fn fill(buf: &mut [u8]) {
    aws_lc_rs::rand::fill(buf).expect("system random number generator failed");
}

/// Returns `n` random bytes.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    fill(&mut buf);
    buf
}

/// Returns `n_bytes` random bytes encoded as base64url without padding.
pub fn random_token(n_bytes: usize) -> String {
    crate::b64::url_encode(&random_bytes(n_bytes))
}

/// Returns `len` characters drawn uniformly from `[A-Za-z0-9]`.
///
/// Uses rejection sampling (bytes >= 248 are discarded) so there is no
/// modulo bias.
pub fn random_alnum(len: usize) -> String {
    // 248 = 4 * 62: the largest multiple of 62 that fits in a byte.
    const LIMIT: u8 = 248;
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        fill(&mut buf);
        for &b in &buf {
            if out.len() == len {
                break;
            }
            if b < LIMIT {
                out.push(char::from(ALNUM[usize::from(b % 62)]));
            }
        }
    }
    out
}

/// Returns `len` random lowercase hexadecimal characters.
pub fn random_hex(len: usize) -> String {
    let mut s = to_hex(&random_bytes(len.div_ceil(2)));
    s.truncate(len);
    s
}

/// Lowercase hex encoding.
pub(crate) fn to_hex(data: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(data.len() * 2);
    for &b in data {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_length_and_variation() {
        assert_eq!(random_bytes(0).len(), 0);
        assert_eq!(random_bytes(33).len(), 33);
        assert_ne!(random_bytes(32), random_bytes(32));
    }

    #[test]
    fn token_is_base64url_without_padding() {
        let t = random_token(32);
        assert_eq!(t.len(), 43);
        assert!(
            t.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_eq!(crate::b64::url_decode(&t).map(|v| v.len()), Some(32));
    }

    #[test]
    fn alnum_charset_and_length() {
        for len in [0, 1, 7, 64, 65, 500] {
            let s = random_alnum(len);
            assert_eq!(s.len(), len);
            assert!(s.bytes().all(|c| c.is_ascii_alphanumeric()));
        }
        // Over many samples every class of character should show up.
        let s = random_alnum(2000);
        assert!(s.bytes().any(|c| c.is_ascii_uppercase()));
        assert!(s.bytes().any(|c| c.is_ascii_lowercase()));
        assert!(s.bytes().any(|c| c.is_ascii_digit()));
        assert_ne!(random_alnum(32), random_alnum(32));
    }

    #[test]
    fn hex_charset_and_length() {
        for len in [0, 1, 2, 15, 64] {
            let s = random_hex(len);
            assert_eq!(s.len(), len);
            assert!(s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')));
        }
    }

    #[test]
    fn to_hex_known() {
        assert_eq!(to_hex(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
    }
}
