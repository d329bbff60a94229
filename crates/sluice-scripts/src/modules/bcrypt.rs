//! Native half of `bcrypt`/`bcryptjs`: hashing and verification with the `bcrypt` crate
//! (`$2a$`, `$2b$`, `$2y$` accepted), the async forms on the blocking pool.

use rquickjs::function::Async;
use rquickjs::{Ctx, Exception, Function, Object};

const ALPHABET: &[u8; 64] = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const MIN_COST: u32 = 4;
const MAX_COST: u32 = 16;

/// bcrypt's base64 of 16 salt bytes (22 characters).
fn encode_salt(bytes: &[u8; 16]) -> String {
    let mut out = String::with_capacity(22);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 6 {
            bits -= 6;
            out.push(ALPHABET[((acc >> bits) & 63) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (6 - bits)) & 63) as usize] as char);
    }
    out
}

fn decode_salt(s: &str) -> Option<[u8; 16]> {
    let chars = s.as_bytes().get(..22)?;
    let mut out = [0u8; 16];
    let (mut acc, mut bits, mut n) = (0u32, 0, 0);
    for &c in chars {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            if n < 16 {
                out[n] = (acc >> bits) as u8;
                n += 1;
            }
        }
    }
    (n == 16).then_some(out)
}

/// What `hash(password, saltOrRounds)` was given: a cost, or a full salt string `$2b$10$...`.
enum Salt {
    Rounds(u32),
    Salt {
        version: bcrypt::Version,
        cost: u32,
        salt: [u8; 16],
    },
}

fn parse_salt(s: &str) -> Result<Salt, String> {
    if let Ok(r) = s.parse::<u32>() {
        return if (MIN_COST..=MAX_COST).contains(&r) {
            Ok(Salt::Rounds(r))
        } else {
            Err(format!("Invalid rounds {r}: use {MIN_COST} to {MAX_COST}"))
        };
    }
    let parts: Vec<&str> = s.split('$').collect();
    if parts.len() < 4 || !parts[0].is_empty() {
        return Err(
            "Invalid salt. Salt must be in the form of: $Vers$log2(NumRounds)$saltvalue".into(),
        );
    }
    let version = match parts[1] {
        "2a" => bcrypt::Version::TwoA,
        "2b" => bcrypt::Version::TwoB,
        "2y" => bcrypt::Version::TwoY,
        "2x" => bcrypt::Version::TwoX,
        v => return Err(format!("Invalid salt version: {v}")),
    };
    let cost: u32 = parts[2]
        .parse()
        .map_err(|_| "Invalid salt rounds".to_string())?;
    if !(MIN_COST..=MAX_COST).contains(&cost) {
        return Err(format!(
            "Invalid rounds {cost}: use {MIN_COST} to {MAX_COST}"
        ));
    }
    let salt = decode_salt(parts[3]).ok_or_else(|| "Invalid salt".to_string())?;
    Ok(Salt::Salt {
        version,
        cost,
        salt,
    })
}

fn random_salt() -> [u8; 16] {
    let mut s = [0u8; 16];
    s.copy_from_slice(&sluice_crypto::random::random_bytes(16));
    s
}

pub fn hash_sync(password: &str, salt: &str) -> Result<String, String> {
    match parse_salt(salt)? {
        Salt::Rounds(cost) => bcrypt::hash_with_salt(password, cost, random_salt())
            .map(|h| h.format_for_version(bcrypt::Version::TwoB))
            .map_err(|e| e.to_string()),
        Salt::Salt {
            version,
            cost,
            salt,
        } => bcrypt::hash_with_salt(password, cost, salt)
            .map(|h| h.format_for_version(version))
            .map_err(|e| e.to_string()),
    }
}

/// A malformed hash never matches (as npm `bcrypt` answers `false`).
pub fn verify(password: &str, hash: &str) -> bool {
    bcrypt::verify(password, hash).unwrap_or(false)
}

pub fn natives<'js>(ctx: &Ctx<'js>, env: &super::ModuleEnv) -> rquickjs::Result<Object<'js>> {
    let o = Object::new(ctx.clone())?;
    o.set(
        "genSalt",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, rounds: f64, minor: String| -> rquickjs::Result<String> {
                let r = rounds as u32;
                if !(MIN_COST..=MAX_COST).contains(&r) {
                    return Err(Exception::throw_range(
                        &ctx,
                        &format!("Invalid rounds {rounds}: use {MIN_COST} to {MAX_COST}"),
                    ));
                }
                let minor = if minor == "a" { "2a" } else { "2b" };
                Ok(format!("${minor}${r:02}${}", encode_salt(&random_salt())))
            },
        )?,
    )?;
    // Hashing and comparing are native work (`crate::native`): capped slots, and never
    // started once their invocation is over.
    let native = env.native.clone();
    o.set(
        "hashSync",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, pw: String, salt: String| {
                native
                    .run_sync(1, |_| hash_sync(&pw, &salt))
                    .map_err(|e| Exception::throw_message(&ctx, &e))
            },
        )?,
    )?;
    let native = env.native.clone();
    o.set(
        "hash",
        Function::new(
            ctx.clone(),
            Async(move |ctx: Ctx<'js>, pw: String, salt: String| {
                let native = native.clone();
                async move {
                    native
                        .run(1, move |_| hash_sync(&pw, &salt))
                        .await
                        .map_err(|e| Exception::throw_message(&ctx, &e))
                }
            }),
        )?,
    )?;
    let native = env.native.clone();
    o.set(
        "compareSync",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, pw: String, hash: String| {
                native
                    .run_sync(1, |_| Ok(verify(&pw, &hash)))
                    .map_err(|e| Exception::throw_message(&ctx, &e))
            },
        )?,
    )?;
    let native = env.native.clone();
    o.set(
        "compare",
        Function::new(
            ctx.clone(),
            Async(move |ctx: Ctx<'js>, pw: String, hash: String| {
                let native = native.clone();
                async move {
                    native
                        .run(1, move |_| Ok(verify(&pw, &hash)))
                        .await
                        .map_err(|e| Exception::throw_message(&ctx, &e))
                }
            }),
        )?,
    )?;
    o.set(
        "getRounds",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, hash: String| {
            hash.split('$')
                .nth(2)
                .and_then(|c| c.parse::<u32>().ok())
                .ok_or_else(|| Exception::throw_message(&ctx, "Invalid hash provided"))
        })?,
    )?;
    o.set(
        "utf8Length",
        Function::new(ctx.clone(), |s: String| s.len())?,
    )?;
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salt_encoding_round_trips() {
        let s = [7u8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 255];
        let e = encode_salt(&s);
        assert_eq!(e.len(), 22);
        assert_eq!(decode_salt(&e), Some(s));
    }

    #[test]
    fn hash_with_a_salt_string_is_deterministic_and_keeps_the_version() {
        let salt = "$2a$04$abcdefghijklmnopqrstuu";
        let a = hash_sync("pw", salt).unwrap();
        assert_eq!(a, hash_sync("pw", salt).unwrap());
        assert!(a.starts_with("$2a$04$abcdefghijklmnopqrstu"), "{a}");
        assert!(verify("pw", &a));
        assert!(!verify("other", &a));
        assert!(!verify("pw", "not a hash"));
    }
}
