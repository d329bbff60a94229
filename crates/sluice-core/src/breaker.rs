//! Circuit breakers for connections' legacy stores (per node). A connection whose scripts time
//! out, or find no free container, `failures_to_open` times in a row is "open" for
//! `open_seconds` ([`BreakerPolicy`]): its scripts are not run and its requests get a fast 503 instead of
//! queueing behind a store that does not answer. Then one request is let through (half-open):
//! if its script answers, the breaker closes; if not, it opens again.
//!
//! [`RateLimits`] optionally caps how often one connection's scripts may call its user store
//! (token buckets per node; off unless the operator sets a rate).
//!
//! Only failures that say the store is not answering count (the deadline passed, the
//! connection's containers were all busy); a script's own error or a "wrong password" is an
//! answer and closes the breaker.

use std::collections::HashMap;
use std::sync::Mutex;

/// Consecutive unanswered script runs that open a connection's breaker (default).
pub const FAILURES_TO_OPEN: u32 = 5;
/// How long an open breaker refuses before letting one probe through (default).
pub const OPEN_SECONDS: i64 = 30;

/// When breakers open and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerPolicy {
    pub failures_to_open: u32,
    pub open_seconds: i64,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        BreakerPolicy {
            failures_to_open: FAILURES_TO_OPEN,
            open_seconds: OPEN_SECONDS,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: i64,
    },
    /// One probe is running; everything else is refused until it answers.
    HalfOpen,
}

/// What a caller may do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    Run,
    /// Refused; the breaker opened this many seconds ago at most [`OPEN_SECONDS`].
    Refuse,
}

/// What a run did, as the breaker sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Answered,
    Unanswered,
}

/// The breakers of this node, by (tenant id, connection id).
#[derive(Default)]
pub struct Breakers {
    policy: BreakerPolicy,
    states: Mutex<HashMap<(String, String), State>>,
}

impl Breakers {
    pub fn new(policy: BreakerPolicy) -> Breakers {
        Breakers {
            policy,
            states: Mutex::new(HashMap::new()),
        }
    }

    pub fn policy(&self) -> BreakerPolicy {
        self.policy
    }

    /// Whether a script of the connection may run at `now` (clock seconds).
    pub fn permit(&self, tenant: &str, connection: &str, now: i64) -> Permit {
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        let key = (tenant.to_string(), connection.to_string());
        match states.get(&key).copied() {
            None | Some(State::Closed { .. }) => Permit::Run,
            Some(State::Open { until }) if now >= until => {
                states.insert(key, State::HalfOpen);
                Permit::Run
            }
            Some(State::Open { .. }) | Some(State::HalfOpen) => Permit::Refuse,
        }
    }

    /// Records a run's verdict; returns true when this opened the breaker.
    pub fn record(&self, tenant: &str, connection: &str, verdict: Verdict, now: i64) -> bool {
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        let key = (tenant.to_string(), connection.to_string());
        let before = states
            .get(&key)
            .copied()
            .unwrap_or(State::Closed { failures: 0 });
        let after = match (before, verdict) {
            (_, Verdict::Answered) => State::Closed { failures: 0 },
            (State::Closed { failures }, Verdict::Unanswered)
                if failures + 1 < self.policy.failures_to_open =>
            {
                State::Closed {
                    failures: failures + 1,
                }
            }
            // Already open: a run that was let in before it opened changes nothing.
            (State::Open { until }, Verdict::Unanswered) => State::Open { until },
            (_, Verdict::Unanswered) => State::Open {
                until: now + self.policy.open_seconds,
            },
        };
        if after == (State::Closed { failures: 0 }) {
            states.remove(&key);
        } else {
            states.insert(key, after);
        }
        matches!(after, State::Open { .. }) && !matches!(before, State::Open { .. })
    }
}

/// Token buckets of script runs per (tenant id, connection id); `per_second` 0 means no limit.
pub struct RateLimits {
    per_second: f64,
    buckets: Mutex<HashMap<(String, String), (f64, f64)>>,
}

impl RateLimits {
    /// `per_second` runs on average, bursts of up to twice that (at least one).
    pub fn new(per_second: u32) -> RateLimits {
        RateLimits {
            per_second: f64::from(per_second),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one run from the connection's bucket at `now` (seconds, fractional); false when
    /// the bucket is empty.
    pub fn take(&self, tenant: &str, connection: &str, now: f64) -> bool {
        if self.per_second <= 0.0 {
            return true;
        }
        let burst = (2.0 * self.per_second).max(1.0);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, at) = buckets
            .entry((tenant.to_string(), connection.to_string()))
            .or_insert((burst, now));
        *tokens = (*tokens + (now - *at).max(0.0) * self.per_second).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_consecutive_unanswered_runs_probes_once_and_closes_on_an_answer() {
        let b = Breakers::default();
        for i in 0..FAILURES_TO_OPEN - 1 {
            assert_eq!(b.permit("t", "c", i as i64), Permit::Run);
            assert!(!b.record("t", "c", Verdict::Unanswered, i as i64));
        }
        // An answer in between starts the count again.
        assert!(!b.record("t", "c", Verdict::Answered, 10));
        for _ in 0..FAILURES_TO_OPEN - 1 {
            assert!(!b.record("t", "c", Verdict::Unanswered, 10));
        }
        assert!(b.record("t", "c", Verdict::Unanswered, 10), "opens");
        assert_eq!(b.permit("t", "c", 11), Permit::Refuse);
        assert_eq!(b.permit("t", "other", 11), Permit::Run, "per connection");
        assert_eq!(b.permit("u", "c", 11), Permit::Run, "per tenant");
        // After OPEN_SECONDS one probe goes through, the others wait for its verdict.
        assert_eq!(b.permit("t", "c", 10 + OPEN_SECONDS), Permit::Run);
        assert_eq!(b.permit("t", "c", 10 + OPEN_SECONDS), Permit::Refuse);
        assert!(
            b.record("t", "c", Verdict::Unanswered, 10 + OPEN_SECONDS),
            "reopens"
        );
        assert_eq!(b.permit("t", "c", 11 + OPEN_SECONDS), Permit::Refuse);
        assert_eq!(b.permit("t", "c", 10 + 2 * OPEN_SECONDS), Permit::Run);
        assert!(!b.record("t", "c", Verdict::Answered, 10 + 2 * OPEN_SECONDS));
        assert_eq!(b.permit("t", "c", 10 + 2 * OPEN_SECONDS), Permit::Run);
        assert_eq!(b.permit("t", "c", 10 + 2 * OPEN_SECONDS), Permit::Run);
    }

    #[test]
    fn rate_limits_allow_bursts_then_the_rate_per_connection() {
        let r = RateLimits::new(2);
        let took: Vec<bool> = (0..6).map(|_| r.take("t", "c", 100.0)).collect();
        assert_eq!(took, [true, true, true, true, false, false], "a burst of 4");
        assert!(r.take("t", "other", 100.0), "per connection");
        assert!(!r.take("t", "c", 100.4));
        assert!(r.take("t", "c", 100.5), "refilled at 2 per second");
        assert!(RateLimits::new(0).take("t", "c", 0.0), "0: no limit");
    }
}
