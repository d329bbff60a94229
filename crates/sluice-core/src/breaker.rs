//! Circuit breakers for connections' legacy stores (per node). A connection whose scripts time
//! out, or find no free container, `failures_to_open` times in a row is "open" for
//! `open_seconds` ([`BreakerPolicy`]): its scripts are not run and its requests get a fast 503 instead of
//! queueing behind a store that does not answer. Then one request is let through (half-open):
//! if its script answers, the breaker closes; if not, it opens again.
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
}
