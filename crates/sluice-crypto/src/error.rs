//! The crate-wide error type, [`CryptoError`].

/// Errors returned by every fallible operation in this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// Key material is missing, malformed, of the wrong size or type.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// The signing operation failed.
    #[error("signing failed")]
    Sign,
    /// Input could not be parsed (token structure, base64, JSON, PHC string...).
    #[error("malformed input: {0}")]
    Malformed(String),
    /// A token names a `kid` that none of the supplied keys has.
    #[error("unknown key id: {0}")]
    UnknownKid(String),
    /// The signature does not verify under any candidate key.
    #[error("bad signature")]
    BadSignature,
    /// The token's `exp` is missing or in the past.
    #[error("token expired")]
    Expired,
    /// The token's `nbf` is in the future.
    #[error("token not yet valid")]
    NotYetValid,
    /// A claim has the wrong value (e.g. `iss`, `aud`); the message says which.
    #[error("invalid claim: {0}")]
    Claim(String),
    /// Decryption failed (wrong key, wrong AAD, tampered or malformed token).
    #[error("decryption failed")]
    Decrypt,
    /// Password hashing failed or its parameters are invalid.
    #[error("password hash error: {0}")]
    Hash(String),
}
