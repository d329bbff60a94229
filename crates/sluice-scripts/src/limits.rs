//! Limits every invocation runs under, and the container pool's sizing.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Limits {
    /// Wall-clock deadline of one invocation (Auth0: about 20 s).
    pub deadline: Duration,
    /// QuickJS heap limit per container.
    pub memory_bytes: usize,
    /// QuickJS stack limit (recursion depth).
    pub stack_bytes: usize,
    /// Captured console output per invocation; the rest is dropped with a marker.
    pub console_bytes: usize,
    /// Largest callback result accepted (serialised JSON).
    pub result_bytes: usize,
    /// Containers per database connection, and per tenant for its Rules, Hooks and Actions
    /// (concurrent invocations of one connection). The name is the configuration key's.
    pub containers_per_tenant: usize,
    /// How long an invocation may wait for a free container.
    pub queue_wait: Duration,
    /// A container unused this long is dropped.
    pub idle_timeout: Duration,
    /// A container older than this is dropped after its current invocation.
    pub max_lifetime: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            deadline: Duration::from_secs(20),
            memory_bytes: 64 * 1024 * 1024,
            stack_bytes: 512 * 1024,
            console_bytes: 64 * 1024,
            result_bytes: 1024 * 1024,
            containers_per_tenant: 4,
            queue_wait: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            max_lifetime: Duration::from_secs(1200),
        }
    }
}
