//! Native half of `crypto`: digests (MD5, SHA-1, SHA-2), HMAC, PBKDF2, scrypt, random bytes and
//! constant-time comparison, with RustCrypto implementations (pure Rust, no second TLS stack).
//! Costly key derivations run as native work (`crate::native`: capped slots and memory, never
//! started after their invocation ended, PBKDF2 stopped part-way then); parameters are capped
//! so a script cannot ask for unbounded work or memory.

use super::bytes::{array_buffer, copy_out};
use crate::native::{Abandoned, NativeWork};
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

/// PBKDF2 (RFC 8018) with an HMAC of `alg`, checking `abandoned` every 4,096 iterations.
pub fn pbkdf2(
    pw: &[u8],
    salt: &[u8],
    iterations: u32,
    keylen: usize,
    alg: &str,
    abandoned: &Abandoned,
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
    let run = match alg {
        "md5" => pbkdf2_blocks::<Hmac<md5::Md5>>,
        "sha1" => pbkdf2_blocks::<Hmac<sha1::Sha1>>,
        "sha256" => pbkdf2_blocks::<Hmac<sha2::Sha256>>,
        "sha384" => pbkdf2_blocks::<Hmac<sha2::Sha384>>,
        "sha512" => pbkdf2_blocks::<Hmac<sha2::Sha512>>,
        other => return Err(format!("Digest method not supported: {other}")),
    };
    run(pw, salt, iterations, &mut out, abandoned)?;
    Ok(out)
}

fn pbkdf2_blocks<M: Mac + KeyInit + Clone>(
    pw: &[u8],
    salt: &[u8],
    iterations: u32,
    out: &mut [u8],
    abandoned: &Abandoned,
) -> Result<(), String> {
    let prf = <M as KeyInit>::new_from_slice(pw).map_err(|e| e.to_string())?;
    let hlen = <M as hmac::digest::OutputSizeUser>::output_size();
    for (i, chunk) in out.chunks_mut(hlen).enumerate() {
        let mut m = prf.clone();
        m.update(salt);
        m.update(&(i as u32 + 1).to_be_bytes());
        let mut u = m.finalize().into_bytes();
        let mut t = u.clone();
        for j in 1..iterations {
            if j % 4096 == 0 && abandoned.now() {
                return Err("the script's invocation ended before this work could finish".into());
            }
            let mut m = prf.clone();
            m.update(&u);
            u = m.finalize().into_bytes();
            for (a, b) in t.iter_mut().zip(u.iter()) {
                *a ^= b;
            }
        }
        chunk.copy_from_slice(&t[..chunk.len()]);
    }
    Ok(())
}

/// The MiB a scrypt with these parameters holds (128 * N * r bytes, rounded up).
fn scrypt_mib(n: f64, r: f64) -> u32 {
    ((128.0 * n.max(0.0) * r.max(0.0)) / 1_048_576.0)
        .ceil()
        .clamp(1.0, f64::from(crate::native::MEMORY_BUDGET_MIB)) as u32
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

/// Runs a key derivation as native work and returns its bytes as an `ArrayBuffer`, or its
/// error as a JS exception.
async fn derive<'js>(
    ctx: &Ctx<'js>,
    native: &NativeWork,
    memory_mib: u32,
    f: impl FnOnce(&Abandoned) -> Result<Vec<u8>, String> + Send + 'static,
) -> rquickjs::Result<rquickjs::ArrayBuffer<'js>> {
    let d = native
        .run(memory_mib, f)
        .await
        .map_err(|e| Exception::throw_message(ctx, &e))?;
    array_buffer(ctx, d)
}

pub fn natives<'js>(ctx: &Ctx<'js>, env: &super::ModuleEnv) -> rquickjs::Result<Object<'js>> {
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
    let native_sync = env.native.clone();
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
                let (p, s) = (copy_out(&ctx, &pw)?, copy_out(&ctx, &salt)?);
                let d = native_sync
                    .run_sync(1, |ab| pbkdf2(&p, &s, it as u32, len as usize, &a, ab))
                    .map_err(|e| err(&ctx, e))?;
                array_buffer(&ctx, d)
            },
        )?,
    )?;
    let native_pbkdf2 = env.native.clone();
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
                    let native = native_pbkdf2.clone();
                    async move {
                        let (p, s) = inputs?;
                        derive(&ctx, &native, 1, move |ab| {
                            pbkdf2(&p, &s, it as u32, len as usize, &a, ab)
                        })
                        .await
                    }
                },
            ),
        )?,
    )?;
    let native_scrypt_sync = env.native.clone();
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
                let (pw, salt) = (copy_out(&ctx, &pw)?, copy_out(&ctx, &salt)?);
                let d = native_scrypt_sync
                    .run_sync(scrypt_mib(n, r), |_| {
                        scrypt(&pw, &salt, len as usize, n as u64, r as u32, p as u32)
                    })
                    .map_err(|e| err(&ctx, e))?;
                array_buffer(&ctx, d)
            },
        )?,
    )?;
    let native_scrypt = env.native.clone();
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
                    let native = native_scrypt.clone();
                    async move {
                        let (a, s) = inputs?;
                        derive(&ctx, &native, scrypt_mib(n, r), move |_| {
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
        let never = Abandoned::never();
        let d = pbkdf2(b"password", b"salt", 2, 20, "sha1", &never).unwrap();
        assert_eq!(hex(&d), "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957");
        assert!(pbkdf2(b"p", b"s", 0, 20, "sha1", &never).is_err());
        // The same bytes as the pbkdf2 crate, for every digest and over several blocks.
        for alg in ["md5", "sha1", "sha256", "sha384", "sha512"] {
            let mine = pbkdf2(b"a long password", b"NaCl", 5000, 150, alg, &never).unwrap();
            let mut theirs = vec![0u8; 150];
            match alg {
                "md5" => ::pbkdf2::pbkdf2_hmac::<md5::Md5>(
                    b"a long password",
                    b"NaCl",
                    5000,
                    &mut theirs,
                ),
                "sha1" => ::pbkdf2::pbkdf2_hmac::<sha1::Sha1>(
                    b"a long password",
                    b"NaCl",
                    5000,
                    &mut theirs,
                ),
                "sha256" => ::pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
                    b"a long password",
                    b"NaCl",
                    5000,
                    &mut theirs,
                ),
                "sha384" => ::pbkdf2::pbkdf2_hmac::<sha2::Sha384>(
                    b"a long password",
                    b"NaCl",
                    5000,
                    &mut theirs,
                ),
                _ => ::pbkdf2::pbkdf2_hmac::<sha2::Sha512>(
                    b"a long password",
                    b"NaCl",
                    5000,
                    &mut theirs,
                ),
            }
            assert_eq!(mine, theirs, "{alg}");
        }
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
