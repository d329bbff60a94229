//! Native work done for scripts (key derivations, bcrypt): charged, capped and abandoned.
//!
//! - [`NativeGate`] (one per runtime) lets at most one job per core run at once over all
//!   tenants and keeps the memory that running scrypt jobs may take under a total budget. A
//!   tenant's jobs first queue on the tenant's own slots (as many as the cores), so a tenant
//!   that floods the gate holds at most the running jobs: another tenant's job waits behind one
//!   of them at most (the global queue is first come, first served), and a single busy tenant
//!   still gets every core.
//! - [`NativeWork`] (one per container) knows the container's invocation: a job that has not
//!   started when its invocation ends (answered, or past its deadline) never starts, and a
//!   job that can stop part-way (PBKDF2, checked every few thousand iterations) stops then.
//!   Jobs that cannot stop part-way are bounded by the per-call caps of their modules (bcrypt
//!   cost 16, scrypt 256 MiB), so no job outlives its invocation by more than one such job.
//! - A job's permits are held by the job itself, not by the script's promise: a script that
//!   drops its promise cannot free a slot while the work still runs.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The memory scrypt jobs may hold at once, over all tenants.
pub const MEMORY_BUDGET_MIB: u32 = 512;

/// Native work slots and memory for the whole runtime.
pub struct NativeGate {
    all: Arc<Semaphore>,
    per_tenant_slots: usize,
    tenants: Mutex<HashMap<String, Arc<Semaphore>>>,
    memory_mib: Arc<Semaphore>,
}

impl Default for NativeGate {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        NativeGate::new(cores)
    }
}

impl NativeGate {
    /// `slots` jobs at once in all (at least one).
    pub fn new(slots: usize) -> NativeGate {
        let slots = slots.max(1);
        NativeGate {
            all: Arc::new(Semaphore::new(slots)),
            per_tenant_slots: slots,
            tenants: Mutex::new(HashMap::new()),
            memory_mib: Arc::new(Semaphore::new(MEMORY_BUDGET_MIB as usize)),
        }
    }

    /// The handle a new container of `tenant` uses.
    pub fn for_container(self: &Arc<Self>, tenant: &str) -> NativeWork {
        let tenant_slots = self
            .tenants
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(tenant.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_tenant_slots)))
            .clone();
        NativeWork {
            gate: self.clone(),
            tenant: tenant_slots,
            invocation: Arc::new(Invocation::default()),
        }
    }
}

/// The container's current invocation, as native jobs see it.
#[derive(Default)]
struct Invocation {
    /// Bumped when an invocation ends.
    epoch: AtomicU64,
    deadline: Mutex<Option<Instant>>,
    /// Host operations of the container still running (queries, requests, native jobs).
    ops: std::sync::atomic::AtomicUsize,
}

/// One host operation in flight; counted until dropped (done, or its future dropped).
pub struct Op(Arc<Invocation>);

impl Drop for Op {
    fn drop(&mut self) {
        self.0.ops.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Whether the invocation a job was started for is over.
#[derive(Clone)]
pub struct Abandoned {
    invocation: Arc<Invocation>,
    epoch: u64,
}

impl Abandoned {
    /// Work done outside any invocation (tools, tests): never abandoned.
    pub fn never() -> Abandoned {
        Abandoned {
            invocation: Arc::new(Invocation::default()),
            epoch: 0,
        }
    }

    pub fn now(&self) -> bool {
        self.invocation.epoch.load(Ordering::SeqCst) != self.epoch
            || self
                .invocation
                .deadline
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_some_and(|d| Instant::now() >= d)
    }
}

/// A container's access to native work.
#[derive(Clone)]
pub struct NativeWork {
    gate: Arc<NativeGate>,
    tenant: Arc<Semaphore>,
    invocation: Arc<Invocation>,
}

impl std::fmt::Debug for NativeWork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NativeWork")
    }
}

const ABANDONED: &str = "the script's invocation ended before this work could finish";

impl NativeWork {
    /// An invocation starts.
    pub fn begin(&self, deadline: Instant) {
        *self
            .invocation
            .deadline
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(deadline);
    }

    /// Counts a host operation (a query, a request, native work) until the guard is dropped:
    /// the container does not go back to its pool while operations a script started are
    /// still running (see `Container::settle`).
    pub fn op(&self) -> Op {
        self.invocation.ops.fetch_add(1, Ordering::SeqCst);
        Op(self.invocation.clone())
    }

    /// Host operations still running.
    pub fn in_flight(&self) -> usize {
        self.invocation.ops.load(Ordering::SeqCst)
    }

    /// The invocation ended: its jobs that have not started never will, and those that can
    /// stop part-way stop.
    pub fn end(&self) {
        self.invocation.epoch.fetch_add(1, Ordering::SeqCst);
        *self
            .invocation
            .deadline
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = None;
    }

    fn abandoned(&self) -> Abandoned {
        Abandoned {
            invocation: self.invocation.clone(),
            epoch: self.invocation.epoch.load(Ordering::SeqCst),
        }
    }

    async fn permits(&self, memory_mib: u32) -> Result<[OwnedSemaphorePermit; 3], String> {
        let closed = |_| "the script runtime is shutting down".to_string();
        let tenant = self.tenant.clone().acquire_owned().await.map_err(closed)?;
        let all = self
            .gate
            .all
            .clone()
            .acquire_owned()
            .await
            .map_err(closed)?;
        let memory = self
            .gate
            .memory_mib
            .clone()
            .acquire_many_owned(memory_mib.clamp(1, MEMORY_BUDGET_MIB))
            .await
            .map_err(closed)?;
        Ok([tenant, all, memory])
    }

    /// Runs `f` on the blocking pool once a slot (and `memory_mib`) is free, unless the
    /// invocation is over by then. `f` may poll the [`Abandoned`] it is given to stop early.
    pub async fn run<T: Send + 'static>(
        &self,
        memory_mib: u32,
        f: impl FnOnce(&Abandoned) -> Result<T, String> + Send + 'static,
    ) -> Result<T, String> {
        let _op = self.op();
        let abandoned = self.abandoned();
        let permits = self.permits(memory_mib).await?;
        if abandoned.now() {
            return Err(ABANDONED.into());
        }
        tokio::task::spawn_blocking(move || {
            let r = f(&abandoned);
            drop(permits);
            r
        })
        .await
        .unwrap_or_else(|e| Err(format!("native work failed: {e}")))
    }

    /// Runs `f` on the calling thread (the `...Sync` forms: they block the script, as in
    /// Node), under the same slots.
    pub fn run_sync<T>(
        &self,
        memory_mib: u32,
        f: impl FnOnce(&Abandoned) -> Result<T, String>,
    ) -> Result<T, String> {
        let abandoned = self.abandoned();
        let permits = match futures_util::FutureExt::now_or_never(self.permits(memory_mib)) {
            Some(r) => r,
            // Busy: wait on a thread of its own (this one drives the container).
            None => std::thread::scope(|s| {
                s.spawn(|| {
                    tokio::runtime::Builder::new_current_thread()
                        .build()
                        .map_err(|e| e.to_string())?
                        .block_on(self.permits(memory_mib))
                })
                .join()
                .unwrap_or_else(|_| Err("native work failed".into()))
            }),
        }?;
        if abandoned.now() {
            return Err(ABANDONED.into());
        }
        let r = f(&abandoned);
        drop(permits);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_job_queued_past_its_invocation_never_starts() {
        let gate = Arc::new(NativeGate::new(1));
        let w = gate.for_container("t");
        w.begin(Instant::now() + Duration::from_secs(10));
        let busy = w.clone();
        let first = tokio::spawn(async move {
            busy.run(1, |_| {
                std::thread::sleep(Duration::from_millis(300));
                Ok(())
            })
            .await
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let queued = {
            let w = w.clone();
            tokio::spawn(async move { w.run(1, |_| Ok("ran")).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        w.end();
        assert!(first.await.unwrap().is_ok());
        assert_eq!(queued.await.unwrap(), Err(ABANDONED.to_string()));
    }

    #[tokio::test]
    async fn a_running_job_sees_its_invocation_end() {
        let gate = Arc::new(NativeGate::new(2));
        let w = gate.for_container("t");
        w.begin(Instant::now() + Duration::from_secs(10));
        let job = {
            let w = w.clone();
            tokio::spawn(async move {
                w.run(1, |a| {
                    let t = Instant::now();
                    while !a.now() {
                        if t.elapsed() > Duration::from_secs(5) {
                            return Err("never told".to_string());
                        }
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Ok(t.elapsed())
                })
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        w.end();
        let took = job.await.unwrap().unwrap();
        assert!(took < Duration::from_secs(1), "{took:?}");
    }

    #[tokio::test]
    async fn a_flooding_tenant_keeps_another_waiting_for_one_job_at_most() {
        let gate = Arc::new(NativeGate::new(1));
        let flood = gate.for_container("flood");
        let other = gate.for_container("other");
        for w in [&flood, &other] {
            w.begin(Instant::now() + Duration::from_secs(30));
        }
        let mut jobs = Vec::new();
        for _ in 0..5 {
            let w = flood.clone();
            jobs.push(tokio::spawn(async move {
                w.run(1, |_| {
                    std::thread::sleep(Duration::from_millis(200));
                    Ok(())
                })
                .await
            }));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let t = Instant::now();
        other.run(1, |_| Ok(())).await.unwrap();
        // One flood job ran when "other" arrived; the other four queue behind it.
        assert!(
            t.elapsed() < Duration::from_millis(400),
            "{:?}",
            t.elapsed()
        );
        for j in jobs {
            j.await.unwrap().unwrap();
        }
    }
}
