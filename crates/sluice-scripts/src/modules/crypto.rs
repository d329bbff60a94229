//! Native half of `crypto`: digests (MD5, SHA-1, SHA-2), HMAC, PBKDF2, scrypt, random bytes and
//! constant-time comparison, with RustCrypto implementations (pure Rust, no second TLS stack).
//! Costly key derivations have async forms on the blocking pool; parameters are capped so a
//! script cannot ask for unbounded work or memory.

use super::bytes::{array_buffer, copy_out};
use hmac::{Hmac, KeyInit, Mac};
use rquickjs::function::Async;
use rquickjs::{Ctx, Exception, Function, Object, TypedArray};
use sha2::Digest;

const MAX_RANDOM: usize = 1024 * 1024;
const MAX_KEYLEN: usize = 1024 * 1024;
const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;
/// scrypt memory is 128 * N * r bytes; cap it at 256 MiB.
const MAX_SCRYPT_MEMORY: u64 = 256 * 1024 * 1024;

pub fn digest(alg: &str, data: &[u8]) -> Result<Vec<u8>, String> {
    Ok(match alg {
        "md5" => md5::Md5::digest(data).to_vec(),
        "sha1" => sha1::Sha1::digest(data).to_vec(),
        "sha256" => sha2::Sha256::digest(data).to_vec(),
        "sha384" => sha2::Sha384::digest(data).to_vec(),
        "sha512" => sha2::Sha512::digest(data).to_vec(),
        other => return Err(format!("Digest method not supported: {other}")),
    })
}

fn mac<M: Mac + KeyInit>(key: &[u8], data: &[u8]) -> Result<Vec<u8>, String> {
    let mut m = <M as KeyInit>::new_from_slice(key).map_err(|e| e.to_string())?;
    m.update(data);
    Ok(m.finalize().into_bytes().to_vec())
}

pub fn hmac(alg: &str, key: &[u8], data: &[u8]) -> Result<Vec<u8>, String> {
    match alg {
        "md5" => mac::<Hmac<md5::Md5>>(key, data),
        "sha1" => mac::<Hmac<sha1::Sha1>>(key, data),
        "sha256" => mac::<Hmac<sha2::Sha256>>(key, data),
        "sha384" => mac::<Hmac<sha2::Sha384>>(key, data),
        "sha512" => mac::<Hmac<sha2::Sha512>>(key, data),
        other => Err(format!("Digest method not supported: {other}")),
    }
}

pub fn pbkdf2(
    pw: &[u8],
    salt: &[u8],
    iterations: u32,
    keylen: usize,
    alg: &str,
) -> Result<Vec<u8>, String> {
    if iterations == 0 || iterations > MAX_PBKDF2_ITERATIONS {
        return Err(format!(
            "The value of \"iterations\" is out of range: 1 to {MAX_PBKDF2_ITERATIONS}"
        ));
    }
    if keylen > MAX_KEYLEN {
        return Err("The value of \"keylen\" is out of range".into());
    }
    let mut out = vec![0u8; keylen];
    match alg {
        "md5" => pbkdf2::pbkdf2_hmac::<md5::Md5>(pw, salt, iterations, &mut out),
        "sha1" => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(pw, salt, iterations, &mut out),
        "sha256" => pbkdf2::pbkdf2_hmac::<sha2::Sha256>(pw, salt, iterations, &mut out),
        "sha384" => pbkdf2::pbkdf2_hmac::<sha2::Sha384>(pw, salt, iterations, &mut out),
        "sha512" => pbkdf2::pbkdf2_hmac::<sha2::Sha512>(pw, salt, iterations, &mut out),
        other => return Err(format!("Digest method not supported: {other}")),
    }
    Ok(out)
}

pub fn scrypt(
    pw: &[u8],
    salt: &[u8],
    keylen: usize,
    n: u64,
    r: u32,
    p: u32,
) -> Result<Vec<u8>, String> {
    if !n.is_power_of_two() || n < 2 {
        return Err("Invalid scrypt parameter: N must be a power of two greater than 1".into());
    }
    if 128 * n * u64::from(r) > MAX_SCRYPT_MEMORY || keylen > MAX_KEYLEN || keylen == 0 {
        return Err("Invalid scrypt parameters: memory limit exceeded".into());
    }
    let params = scrypt::Params::new(n.trailing_zeros() as u8, r, p)
        .map_err(|e| format!("Invalid scrypt parameters: {e}"))?;
    let mut out = vec![0u8; keylen];
    scrypt::scrypt(pw, salt, &params, &mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// Runs a key derivation on the blocking pool (the script's event loop keeps running) and
/// returns its bytes as an `ArrayBuffer`, or its error as a JS exception.
async fn derive_blocking<'js>(
    ctx: &Ctx<'js>,
    f: impl FnOnce() -> Result<Vec<u8>, String> + Send + 'static,
) -> rquickjs::Result<rquickjs::ArrayBuffer<'js>> {
    let d = tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(e.to_string()))
        .map_err(|e| Exception::throw_message(ctx, &e))?;
    array_buffer(ctx, d)
}

pub fn natives<'js>(ctx: &Ctx<'js>, _env: &super::ModuleEnv) -> rquickjs::Result<Object<'js>> {
    let o = Object::new(ctx.clone())?;
    add_signatures(ctx, &o)?;
    let err = |ctx: &Ctx<'js>, e: String| Exception::throw_message(ctx, &e);
    o.set(
        "digest",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, a: String, data: TypedArray<'js, u8>| {
                let d = digest(&a, &copy_out(&ctx, &data)?).map_err(|e| err(&ctx, e))?;
                array_buffer(&ctx, d)
            },
        )?,
    )?;
    o.set(
        "hmac",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, a: String, key: TypedArray<'js, u8>, data: TypedArray<'js, u8>| {
                let d = hmac(&a, &copy_out(&ctx, &key)?, &copy_out(&ctx, &data)?)
                    .map_err(|e| err(&ctx, e))?;
                array_buffer(&ctx, d)
            },
        )?,
    )?;
    o.set(
        "randomBytes",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>, n: f64| {
            if !(0.0..=MAX_RANDOM as f64).contains(&n) {
                return Err(Exception::throw_range(
                    &ctx,
                    "The value of \"size\" is out of range",
                ));
            }
            array_buffer(&ctx, sluice_crypto::random::random_bytes(n as usize))
        })?,
    )?;
    o.set(
        "randomBelow",
        Function::new(ctx.clone(), |range: f64| {
            let range = range.max(1.0) as u64;
            let zone = u64::MAX - (u64::MAX % range);
            loop {
                let mut b = [0u8; 8];
                b.copy_from_slice(&sluice_crypto::random::random_bytes(8));
                let v = u64::from_le_bytes(b);
                if v < zone {
                    return (v % range) as f64;
                }
            }
        })?,
    )?;
    o.set(
        "randomUUID",
        Function::new(ctx.clone(), || uuid::Uuid::new_v4().to_string())?,
    )?;
    o.set(
        "pbkdf2Sync",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  pw: TypedArray<'js, u8>,
                  salt: TypedArray<'js, u8>,
                  it: f64,
                  len: f64,
                  a: String| {
                let d = pbkdf2(
                    &copy_out(&ctx, &pw)?,
                    &copy_out(&ctx, &salt)?,
                    it as u32,
                    len as usize,
                    &a,
                )
                .map_err(|e| err(&ctx, e))?;
                array_buffer(&ctx, d)
            },
        )?,
    )?;
    o.set(
        "pbkdf2",
        Function::new(
            ctx.clone(),
            Async(
                move |ctx: Ctx<'js>,
                      pw: TypedArray<'js, u8>,
                      salt: TypedArray<'js, u8>,
                      it: f64,
                      len: f64,
                      a: String| {
                    let inputs = copy_out(&ctx, &pw).and_then(|p| Ok((p, copy_out(&ctx, &salt)?)));
                    async move {
                        let (p, s) = inputs?;
                        derive_blocking(&ctx, move || pbkdf2(&p, &s, it as u32, len as usize, &a))
                            .await
                    }
                },
            ),
        )?,
    )?;
    o.set(
        "scryptSync",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  pw: TypedArray<'js, u8>,
                  salt: TypedArray<'js, u8>,
                  len: f64,
                  n: f64,
                  r: f64,
                  p: f64| {
                let d = scrypt(
                    &copy_out(&ctx, &pw)?,
                    &copy_out(&ctx, &salt)?,
                    len as usize,
                    n as u64,
                    r as u32,
                    p as u32,
                )
                .map_err(|e| err(&ctx, e))?;
                array_buffer(&ctx, d)
            },
        )?,
    )?;
    o.set(
        "scrypt",
        Function::new(
            ctx.clone(),
            Async(
                move |ctx: Ctx<'js>,
                      pw: TypedArray<'js, u8>,
                      salt: TypedArray<'js, u8>,
                      len: f64,
                      n: f64,
                      r: f64,
                      p: f64| {
                    let inputs = copy_out(&ctx, &pw).and_then(|a| Ok((a, copy_out(&ctx, &salt)?)));
                    async move {
                        let (a, s) = inputs?;
                        derive_blocking(&ctx, move || {
                            scrypt(&a, &s, len as usize, n as u64, r as u32, p as u32)
                        })
                        .await
                    }
                },
            ),
        )?,
    )?;
    o.set(
        "timingSafeEqual",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, a: TypedArray<'js, u8>, b: TypedArray<'js, u8>| {
                Ok::<bool, rquickjs::Error>(sluice_crypto::ct::ct_eq(
                    &copy_out(&ctx, &a)?,
                    &copy_out(&ctx, &b)?,
                ))
            },
        )?,
    )?;
    Ok(o)
}

/// `asymSign(pem, hash, data, pss, p1363)` and `asymVerify(pem, hash, data, sig, pss, p1363)`,
/// with this container's parsed-key cache.
fn add_signatures<'js>(ctx: &Ctx<'js>, o: &Object<'js>) -> rquickjs::Result<()> {
    let keys = std::rc::Rc::new(std::cell::RefCell::new(super::sign::KeyCache::default()));
    let k = keys.clone();
    o.set(
        "asymSign",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  pem: String,
                  hash: String,
                  data: TypedArray<'js, u8>,
                  pss: bool,
                  p1363: bool| {
                let key = k
                    .borrow_mut()
                    .get(&pem)
                    .map_err(|e| Exception::throw_message(&ctx, &e))?;
                let sig = super::sign::sign(&key, &hash, &copy_out(&ctx, &data)?, pss, p1363)
                    .map_err(|e| Exception::throw_message(&ctx, &e))?;
                array_buffer(&ctx, sig)
            },
        )?,
    )?;
    o.set(
        "asymVerify",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  pem: String,
                  hash: String,
                  data: TypedArray<'js, u8>,
                  sig: TypedArray<'js, u8>,
                  pss: bool,
                  p1363: bool| {
                let key = keys
                    .borrow_mut()
                    .get(&pem)
                    .map_err(|e| Exception::throw_message(&ctx, &e))?;
                super::sign::verify(
                    &key,
                    &hash,
                    &copy_out(&ctx, &data)?,
                    &copy_out(&ctx, &sig)?,
                    pss,
                    p1363,
                )
                .map_err(|e| Exception::throw_message(&ctx, &e))
            },
        )?,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn digests_match_known_vectors() {
        assert_eq!(
            hex(&digest("md5", b"abc").unwrap()),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            hex(&digest("sha1", b"abc").unwrap()),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(&digest("sha256", b"abc").unwrap()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let d = hmac("sha256", b"Jefe", b"what do ya want for nothing?").unwrap();
        assert_eq!(
            hex(&d),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn pbkdf2_matches_rfc6070_vector() {
        let d = pbkdf2(b"password", b"salt", 2, 20, "sha1").unwrap();
        assert_eq!(hex(&d), "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957");
        assert!(pbkdf2(b"p", b"s", 0, 20, "sha1").is_err());
    }

    #[test]
    fn scrypt_matches_rfc7914_vector_and_caps_memory() {
        let d = scrypt(b"password", b"NaCl", 64, 1024, 8, 16).unwrap();
        assert!(
            hex(&d).starts_with("fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162")
        );
        assert!(scrypt(b"p", b"s", 32, 1 << 24, 8, 1).is_err());
        assert!(scrypt(b"p", b"s", 32, 1000, 8, 1).is_err());
    }
}
