//! Physical bounds for `bench/run` (release mode, pinned to the server's core by the caller):
//! how many operations per second one core does of the work that dominates each scenario.
//!
//!   bench_bounds rs256|bcrypt|argon2 <warmup-secs> <round-secs> <rounds>
//!   bench_bounds bcrypt-hash <password>      (prints one cost-10 `$2b$` hash, to seed a store)
//!
//! - `rs256`:  `sluice_crypto::jwt::sign` with an RSA-2048 key parsed once, claims shaped like an
//!   access token (what `/oauth/token` signs).
//! - `bcrypt`: `bcrypt` verify of a cost-10 `$2b$` hash, through the very function the scripts'
//!   `bcrypt.compare` calls (`sluice_scripts::modules::bcrypt::verify`).
//! - `argon2`: `PasswordHasher::verify` with `Argon2Params::default()` (the server's defaults).
//!
//! Prints one JSON object: `{"op", "rounds": [ops/s...], "median", "min", "max"}`.

use serde_json::{Value, json};
use sluice_crypto::jwt::{JsonMap, sign};
use sluice_crypto::keys::SigningKey;
use sluice_crypto::password::{Argon2Params, PasswordHasher};
use std::time::{Duration, Instant};

const PASSWORD: &str = "Bench-Passw0rd!";

/// Calls `op` for `secs` seconds; returns operations per second.
fn rate(secs: f64, op: &mut dyn FnMut()) -> f64 {
    let (start, limit) = (Instant::now(), Duration::from_secs_f64(secs));
    let mut n = 0u64;
    while start.elapsed() < limit || n == 0 {
        op();
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let op_name = args
        .first()
        .map(String::as_str)
        .unwrap_or("rs256")
        .to_string();
    let num = |i: usize, d: f64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    if op_name == "bcrypt-hash" {
        let pw = args.get(1).map(String::as_str).unwrap_or(PASSWORD);
        println!(
            "{}",
            sluice_scripts::modules::bcrypt::hash_sync(pw, "10").unwrap()
        );
        return;
    }
    let (warmup, round, rounds) = (num(1, 2.0), num(2, 5.0), num(3, 3.0) as usize);

    let mut op: Box<dyn FnMut()> = match op_name.as_str() {
        "rs256" => {
            let key = SigningKey::generate("bench".into()).expect("RSA key");
            let claims: JsonMap = serde_json::from_value(json!({
                "iss": "http://127.0.0.1:3000/", "sub": "bench-client@clients",
                "aud": "https://api.bench.example", "iat": 1_800_000_000, "exp": 1_800_086_400,
                "scope": "read:bench", "gty": "client-credentials", "azp": "bench-client",
                "jti": "0123456789abcdef0123456789abcdef"
            }))
            .unwrap();
            Box::new(move || {
                std::hint::black_box(sign(&key, &claims).unwrap());
            })
        }
        "bcrypt" => {
            let hash = sluice_scripts::modules::bcrypt::hash_sync(PASSWORD, "10").unwrap();
            Box::new(move || {
                assert!(sluice_scripts::modules::bcrypt::verify(
                    std::hint::black_box(PASSWORD),
                    &hash
                ));
            })
        }
        "argon2" => {
            let h = PasswordHasher::new(Argon2Params::default()).unwrap();
            let phc = h.hash(PASSWORD).unwrap();
            Box::new(move || {
                assert!(h.verify(std::hint::black_box(PASSWORD), &phc).unwrap());
            })
        }
        other => {
            eprintln!("unknown bound {other}: use rs256, bcrypt or argon2");
            std::process::exit(2);
        }
    };

    rate(warmup, &mut op);
    let mut v: Vec<f64> = (0..rounds.max(1)).map(|_| rate(round, &mut op)).collect();
    let rounds_json: Vec<Value> = v.iter().map(|r| json!((r * 10.0).round() / 10.0)).collect();
    v.sort_by(|a, b| a.total_cmp(b));
    let median = v[v.len() / 2];
    println!(
        "{}",
        json!({"op": op_name, "rounds": rounds_json, "median": median, "min": v[0], "max": v[v.len() - 1]})
    );
}
