//! [`ScriptRuntime`]: the `ScriptRunner` port. Each database connection of a tenant (and the
//! tenant's Rules, Hooks and Actions) has a bounded pool of containers; an invocation takes an
//! idle container (or starts one), runs it on a worker thread ([`crate::workers`]), and gives it
//! back unless it must be recycled. Containers idle too long or older than their maximum lifetime are dropped. A
//! container never serves another tenant or another connection.

use crate::container::Container;
use crate::egress::{EgressPolicy, ModuleEnv};
use crate::limits::Limits;
use crate::modules::packages::Packages;
use crate::workers::Workers;
use sluice_core::ports::{ScriptFailure, ScriptOutcome, ScriptRequest, ScriptRunner};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, oneshot};

struct Reply {
    result: Result<serde_json::Value, ScriptFailure>,
    console: Vec<sluice_core::ports::ConsoleLine>,
    warnings: Vec<String>,
}

/// A container with what it was built with, between invocations (or in one).
struct Parked {
    container: Box<Container>,
    /// The egress policy and legacy-globals setting the container was built with.
    policy: Arc<EgressPolicy>,
    legacy_globals: bool,
    created: Instant,
    last_used: Instant,
}

// SAFETY: a container is a closed graph — its engine, the `Rc`/`RefCell` state its native
// functions share, the futures spawned inside its engine — reachable only through this box;
// nothing in it is shared with another thread except through `Send + Sync` types (the native
// gate, the host-buffer budget, the I/O runtime's handles). It is used by one thread at a time,
// handed over through a mutex or a channel (which order the accesses), and it re-anchors the
// engine's stack limit on the thread it runs on before each use (`Container::call`/`settle`).
// Moving the whole graph between threads is therefore sound.
#[allow(unsafe_code)]
unsafe impl Send for Parked {}

struct TenantPool {
    idle: Mutex<Vec<Parked>>,
    slots: Arc<Semaphore>,
}

pub struct ScriptRuntime {
    limits: Limits,
    /// Containers per (tenant, connection); `""` is the tenant's extensibility scripts.
    pools: Mutex<HashMap<(String, String), Arc<TenantPool>>>,
    default_egress: Arc<EgressPolicy>,
    /// The prelude compiled once to bytecode for every container.
    prelude: Option<Arc<Vec<u8>>>,
    egress: Mutex<HashMap<String, Arc<EgressPolicy>>>,
    /// Tenants that turned on the legacy globals.
    legacy_globals: Mutex<std::collections::HashSet<String>>,
    /// Operator-added packages scripts may require (every tenant).
    packages: Option<Arc<Packages>>,
    /// Slots and memory for native work done for scripts.
    native: Arc<crate::native::NativeGate>,
    /// The threads invocations run on.
    workers: Workers,
}

fn runtime_failure(message: impl Into<String>) -> ScriptFailure {
    ScriptFailure::Runtime {
        message: message.into(),
    }
}

/// Whether a container is past its lifetime or idle time.
fn expired(limits: &Limits, p: &Parked, now: Instant) -> bool {
    now.duration_since(p.created) >= limits.max_lifetime
        || now.duration_since(p.last_used) >= limits.idle_timeout
}

/// Returns a container to its pool unless it is past its lifetime.
fn give_back(limits: &Limits, pool: &TenantPool, mut parked: Parked) {
    parked.last_used = Instant::now();
    if !expired(limits, &parked, parked.last_used) {
        pool.idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(parked);
    }
}

/// What an invocation needs to build a container when none is parked.
type Fresh = (Limits, ModuleEnv, Option<Arc<Vec<u8>>>);

/// A parked container, or a new one.
async fn container_for(parked: Option<Parked>, fresh: Option<Fresh>) -> Result<Parked, String> {
    if let Some(p) = parked {
        return Ok(p);
    }
    let (limits, env, prelude) = fresh.ok_or("no container to run on")?;
    let (policy, legacy_globals) = (env.egress.clone(), env.legacy_globals);
    let container = Container::with_prelude(limits, env, prelude).await?;
    let now = Instant::now();
    Ok(Parked {
        container: Box::new(container),
        policy,
        legacy_globals,
        created: now,
        last_used: now,
    })
}

/// One invocation, on a worker thread: the call, the answer, then the script's leftovers; the
/// container goes back to its pool unless it must be recycled, and only then is the
/// connection's slot (`permit`) free.
async fn invocation(
    parked: Parked,
    req: ScriptRequest,
    deadline: Instant,
    pool: (Limits, Arc<TenantPool>, tokio::sync::OwnedSemaphorePermit),
    reply: oneshot::Sender<Result<Reply, ScriptFailure>>,
) {
    let (limits, pool, permit) = pool;
    let c = &parked.container;
    let (result, mut recycle) = c.call(&req, deadline).await;
    let (console, warnings) = c.take_output();
    let answer = Ok(Reply {
        result,
        console,
        warnings,
    });
    // The caller gets its answer at once when the script left operations running (they finish,
    // or time out, before the container is reused); otherwise the container is back in its pool
    // before the answer, so the caller's next invocation finds it.
    let mut waiting = Some((reply, answer));
    if c.unsettled()
        && let Some((reply, answer)) = waiting.take()
    {
        let _ = reply.send(answer);
    }
    recycle |= !c.settle(deadline).await;
    if !recycle {
        give_back(&limits, &pool, parked);
    }
    if let Some((reply, answer)) = waiting {
        let _ = reply.send(answer);
    }
    drop(permit);
}

impl ScriptRuntime {
    /// A runtime whose scripts may connect anywhere except cloud metadata addresses, until a
    /// tenant gets its own policy ([`set_egress_policy`](Self::set_egress_policy)).
    pub fn new(limits: Limits) -> Self {
        Self::with_default_egress(limits, EgressPolicy::allow_all())
    }

    pub fn with_default_egress(limits: Limits, policy: EgressPolicy) -> Self {
        ScriptRuntime {
            limits,
            pools: Mutex::new(HashMap::new()),
            default_egress: Arc::new(policy),
            prelude: match crate::container::compile_prelude() {
                Ok(b) => Some(Arc::new(b)),
                Err(e) => {
                    tracing::warn!(error = %e, "prelude bytecode unavailable; containers parse it from source");
                    None
                }
            },
            egress: Mutex::new(HashMap::new()),
            legacy_globals: Mutex::new(std::collections::HashSet::new()),
            packages: None,
            native: Arc::new(crate::native::NativeGate::default()),
            workers: Workers::new().expect("the script runtime's threads"),
        }
    }

    /// Lets scripts require the allow-listed pure-JS packages of an operator's package
    /// directory (see [`crate::modules::packages`]).
    pub fn with_packages(mut self, packages: Packages) -> Self {
        self.packages = Some(Arc::new(packages));
        self
    }

    /// Sets a tenant's egress policy; its idle containers are dropped so the next invocation
    /// runs under the new policy.
    pub fn set_egress_policy(&self, tenant_id: &str, policy: EgressPolicy) {
        self.egress
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(tenant_id.to_string(), Arc::new(policy));
        self.retire_tenant(tenant_id);
    }

    /// Drops the idle containers of every pool of a tenant.
    fn retire_tenant(&self, tenant_id: &str) {
        let pools = self.pools.lock().unwrap_or_else(|p| p.into_inner());
        for ((t, _), pool) in pools.iter() {
            if t == tenant_id {
                pool.idle.lock().unwrap_or_else(|p| p.into_inner()).clear();
            }
        }
    }

    /// Turns a tenant's legacy globals on or off (see [`ModuleEnv::legacy_globals`]); its
    /// containers are retired so the next invocation sees the change.
    pub fn set_legacy_globals(&self, tenant_id: &str, enabled: bool) {
        let mut set = self
            .legacy_globals
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if enabled {
            set.insert(tenant_id.to_string());
        } else {
            set.remove(tenant_id);
        }
        drop(set);
        self.retire_tenant(tenant_id);
    }

    fn env_for(&self, tenant_id: &str) -> ModuleEnv {
        let (egress, legacy_globals) = self.settings(tenant_id);
        ModuleEnv {
            tenant_id: tenant_id.to_string(),
            egress,
            packages: self.packages.clone(),
            legacy_globals,
            native: self.native.for_container(tenant_id),
            buffers: crate::budget::HostBuffers::new(self.limits.memory_bytes),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The containers of a connection's scripts, or of the tenant's extensibility scripts.
    fn pool(&self, tenant_id: &str, connection: Option<&str>) -> Arc<TenantPool> {
        let mut pools = self.pools.lock().unwrap_or_else(|p| p.into_inner());
        pools
            .entry((
                tenant_id.to_string(),
                connection.unwrap_or_default().to_string(),
            ))
            .or_insert_with(|| {
                Arc::new(TenantPool {
                    idle: Mutex::new(Vec::new()),
                    slots: Arc::new(Semaphore::new(self.limits.containers_per_tenant)),
                })
            })
            .clone()
    }

    /// Drops idle containers past their idle timeout or lifetime (all tenants).
    pub fn sweep(&self) {
        let now = Instant::now();
        let pools: Vec<Arc<TenantPool>> = self
            .pools
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        for p in pools {
            p.idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|h| !expired(&self.limits, h, now));
        }
    }

    /// Idle containers currently kept (all tenants).
    pub fn idle_containers(&self) -> usize {
        let pools = self.pools.lock().unwrap_or_else(|p| p.into_inner());
        pools
            .values()
            .map(|p| p.idle.lock().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }

    /// The egress policy and legacy-globals setting a tenant's containers must have.
    fn settings(&self, tenant_id: &str) -> (Arc<EgressPolicy>, bool) {
        let egress = self
            .egress
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(tenant_id)
            .cloned()
            .unwrap_or_else(|| self.default_egress.clone());
        let legacy = self
            .legacy_globals
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(tenant_id);
        (egress, legacy)
    }

    async fn invoke(&self, req: ScriptRequest) -> Result<Reply, ScriptFailure> {
        let pool = self.pool(&req.tenant_id, req.connection.as_deref());
        let permit =
            tokio::time::timeout(self.limits.queue_wait, pool.slots.clone().acquire_owned())
                .await
                .map_err(|_| {
                    runtime_failure(
                        "too many concurrent script invocations for this connection (or for this tenant's rules, hooks and actions); try again",
                    )
                })?
                .map_err(|_| runtime_failure("the script runtime is shutting down"))?;
        let now = Instant::now();
        let (policy, legacy) = self.settings(&req.tenant_id);
        let parked = {
            let mut idle = pool.idle.lock().unwrap_or_else(|p| p.into_inner());
            // A container built under an older policy or setting is dropped here.
            idle.retain(|p| {
                !expired(&self.limits, p, now)
                    && Arc::ptr_eq(&p.policy, &policy)
                    && p.legacy_globals == legacy
            });
            idle.pop()
        };
        let fresh = parked.is_none().then(|| {
            (
                self.limits.clone(),
                self.env_for(&req.tenant_id),
                self.prelude.clone(),
            )
        });
        let deadline = Instant::now() + self.limits.deadline;
        let (reply_tx, reply_rx) = oneshot::channel();
        let job_pool = (self.limits.clone(), pool.clone(), permit);
        self.workers
            .run(Box::new(move |io| {
                io.block_on(async move {
                    match container_for(parked, fresh).await {
                        Ok(p) => invocation(p, req, deadline, job_pool, reply_tx).await,
                        Err(e) => {
                            let _ = reply_tx.send(Err(runtime_failure(e)));
                        }
                    }
                })
            }))
            .map_err(runtime_failure)?;
        // The container enforces the deadline itself; the grace covers a wedged thread.
        tokio::time::timeout(self.limits.deadline + Duration::from_secs(5), reply_rx)
            .await
            .map_err(|_| runtime_failure("the script container stopped responding"))?
            .map_err(|_| runtime_failure("the script container stopped"))?
    }
}

#[async_trait::async_trait]
impl ScriptRunner for ScriptRuntime {
    async fn run(&self, request: ScriptRequest) -> ScriptOutcome {
        let started = Instant::now();
        match self.invoke(request).await {
            Ok(r) => ScriptOutcome {
                result: r.result,
                console: r.console,
                warnings: r.warnings,
                elapsed: started.elapsed(),
            },
            Err(f) => ScriptOutcome {
                result: Err(f),
                console: Vec::new(),
                warnings: Vec::new(),
                elapsed: started.elapsed(),
            },
        }
    }
}
