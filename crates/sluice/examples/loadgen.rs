//! A small closed-loop HTTP load generator for `bench/run` (release mode, pinned by the caller
//! to the core the server does not use).
//!
//!   loadgen --url URL [--body BODY] [--content-type CT] [--header 'name: value']...
//!           [-c CONNECTIONS] [--warmup SECS] [--round SECS] [--rounds N]
//!           [--users N] [--count N] [--expect STATUS]
//!
//! `-c` workers each keep one keep-alive connection and send POST requests (GET without `--body`)
//! back to back. In `BODY`, `{n}` is replaced by a request counter modulo `--users`, so requests
//! walk over many users. Time mode (default): `--warmup` seconds are discarded, then `--rounds`
//! rounds of `--round` seconds each are counted; `--count N` instead sends exactly N requests
//! (n = 0..N-1), e.g. to migrate N users once.
//!
//! Prints one JSON object: successful responses per second for each round, their median/min/max,
//! p50/p99 latency in ms over the measured rounds, the error count and the first error seen.

use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

struct Opts {
    url: String,
    body: Option<String>,
    content_type: String,
    headers: Vec<(String, String)>,
    conns: usize,
    warmup: f64,
    round: f64,
    rounds: usize,
    users: u64,
    count: Option<u64>,
    expect: u16,
}

fn parse() -> Opts {
    let mut o = Opts {
        url: String::new(),
        body: None,
        content_type: "application/x-www-form-urlencoded".into(),
        headers: Vec::new(),
        conns: 8,
        warmup: 2.0,
        round: 5.0,
        rounds: 3,
        users: 1,
        count: None,
        expect: 200,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut v = || it.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--url" => o.url = v(),
            "--body" => o.body = Some(v()),
            "--content-type" => o.content_type = v(),
            "--header" => {
                let h = v();
                let (k, val) = h.split_once(':').expect("--header 'name: value'");
                o.headers.push((k.trim().into(), val.trim().into()));
            }
            "-c" => o.conns = v().parse().unwrap(),
            "--warmup" => o.warmup = v().parse().unwrap(),
            "--round" => o.round = v().parse().unwrap(),
            "--rounds" => o.rounds = v().parse().unwrap(),
            "--users" => o.users = v().parse::<u64>().unwrap().max(1),
            "--count" => o.count = Some(v().parse().unwrap()),
            "--expect" => o.expect = v().parse().unwrap(),
            other => panic!("unknown option {other}"),
        }
    }
    assert!(!o.url.is_empty(), "--url is required");
    o
}

/// One completed request: when it finished (since start), how long it took, whether it succeeded.
struct Sample {
    done: Duration,
    latency: Duration,
    ok: bool,
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let o = Arc::new(parse());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(o.conns)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let counter = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    let start = Instant::now();

    let mut workers = Vec::new();
    for _ in 0..o.conns {
        let (o, client, counter, stop, first_error) = (
            o.clone(),
            client.clone(),
            counter.clone(),
            stop.clone(),
            first_error.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let i = counter.fetch_add(1, Ordering::Relaxed);
                if o.count.is_some_and(|c| i >= c) {
                    break;
                }
                let mut req = match &o.body {
                    Some(b) => client
                        .post(&o.url)
                        .header("content-type", &o.content_type)
                        .body(b.replace("{n}", &(i % o.users).to_string())),
                    None => client.get(&o.url),
                };
                for (k, v) in &o.headers {
                    req = req.header(k, v);
                }
                let t0 = Instant::now();
                let ok = match req.send().await {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        let body = r.bytes().await.unwrap_or_default();
                        if status != o.expect {
                            let mut e = first_error.lock().unwrap();
                            if e.is_none() {
                                *e = Some(format!(
                                    "HTTP {status}: {}",
                                    String::from_utf8_lossy(&body[..body.len().min(300)])
                                ));
                            }
                        }
                        status == o.expect
                    }
                    Err(err) => {
                        first_error.lock().unwrap().get_or_insert(err.to_string());
                        false
                    }
                };
                samples.push(Sample {
                    done: start.elapsed(),
                    latency: t0.elapsed(),
                    ok,
                });
            }
            samples
        }));
    }

    let total = o.warmup + o.round * o.rounds as f64;
    if o.count.is_none() {
        tokio::time::sleep(Duration::from_secs_f64(total)).await;
        stop.store(true, Ordering::Relaxed);
    }
    let mut samples = Vec::new();
    for w in workers {
        samples.extend(w.await.unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();

    // Bucket completions into rounds (time mode) or one round spanning the whole run (count mode).
    let (warmup, round, rounds) = match o.count {
        Some(_) => (0.0, elapsed, 1),
        None => (o.warmup, o.round, o.rounds),
    };
    let mut per_round = vec![0u64; rounds];
    let mut lat = Vec::new();
    let mut errors = 0u64;
    for s in &samples {
        let t = s.done.as_secs_f64();
        if t < warmup || t >= warmup + round * rounds as f64 + 1e-9 && o.count.is_none() {
            continue;
        }
        if !s.ok {
            errors += 1;
            continue;
        }
        let k = (((t - warmup) / round) as usize).min(rounds - 1);
        per_round[k] += 1;
        lat.push(s.latency.as_secs_f64() * 1e3);
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    let rates: Vec<f64> = per_round.iter().map(|&n| n as f64 / round).collect();
    let mut sorted = rates.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let err = first_error.lock().unwrap().clone();
    println!(
        "{}",
        json!({
            "rounds": rates.iter().map(|r| (r * 10.0).round() / 10.0).collect::<Vec<_>>(),
            "median": pct(&sorted, 0.5), "min": sorted[0], "max": sorted[sorted.len() - 1],
            "ok": lat.len(), "errors": errors, "first_error": err,
            "p50_ms": pct(&lat, 0.5), "p99_ms": pct(&lat, 0.99),
            "connections": o.conns,
        })
    );
}
