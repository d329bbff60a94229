//! [`ScriptRuntime`]: the `ScriptRunner` port. Each database connection of a tenant (and the
//! tenant's Rules, Hooks and Actions) has a bounded pool of containers; an invocation takes an
//! idle container (or starts one), runs on that container's thread, and gives it back unless a
//! limit was hit. Containers idle too long or older than their maximum lifetime are dropped. A
//! container never serves another tenant or another connection.

use crate::container::Container;
use crate::egress::{EgressPolicy, ModuleEnv};
use crate::limits::Limits;
use crate::modules::packages::Packages;
use sluice_core::ports::{ScriptFailure, ScriptOutcome, ScriptRequest, ScriptRunner};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc, oneshot};

struct Job {
    req: ScriptRequest,
    deadline: Instant,
    reply: oneshot::Sender<Reply>,
    /// Sent once an unsettled invocation settled: whether the container may be reused.
    settled: oneshot::Sender<bool>,
}

struct Reply {
    result: Result<serde_json::Value, ScriptFailure>,
    console: Vec<sluice_core::ports::ConsoleLine>,
    warnings: Vec<String>,
    recycle: bool,
    /// The script left host operations running: the container is busy until `Job::settled`.
    unsettled: bool,
}

/// The sending end of a container thread.
struct Handle {
    tx: mpsc::UnboundedSender<Job>,
    /// The egress policy and legacy-globals setting the container was built with.
    policy: Arc<EgressPolicy>,
    legacy_globals: bool,
    created: Instant,
    last_used: Instant,
}

struct TenantPool {
    idle: Mutex<Vec<Handle>>,
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
}

fn runtime_failure(message: impl Into<String>) -> ScriptFailure {
    ScriptFailure::Runtime {
        message: message.into(),
    }
}

/// Starts a container on a thread of its own; resolves once its environment is ready.
async fn spawn_container(
    limits: Limits,
    env: ModuleEnv,
    prelude: Option<Arc<Vec<u8>>>,
) -> Result<Handle, String> {
    let policy = env.egress.clone();
    let legacy_globals = env.legacy_globals;
    let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
    let (ready_tx, ready_rx) = oneshot::channel::<Result<(), String>>();
    std::thread::Builder::new()
        .name("sluice-script".into())
        .stack_size(8 * 1024 * 1024)
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(format!("container runtime: {e}")));
                    return;
                }
            };
            rt.block_on(async move {
                let container = match Container::with_prelude(limits, env, prelude).await {
                    Ok(c) => {
                        let _ = ready_tx.send(Ok(()));
                        c
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                while let Some(job) = rx.recv().await {
                    let (result, mut recycle) = container.call(&job.req, job.deadline).await;
                    let (console, warnings) = container.take_output();
                    // The caller gets its answer at once; operations the script left running
                    // finish (or time out) afterwards, before the container is reused.
                    let unsettled = container.unsettled();
                    if !unsettled {
                        recycle |= !container.settle(job.deadline).await;
                    }
                    let _ = job.reply.send(Reply {
                        result,
                        console,
                        warnings,
                        recycle,
                        unsettled,
                    });
                    if unsettled {
                        recycle |= !container.settle(job.deadline).await;
                        let _ = job.settled.send(!recycle);
                    }
                    if recycle {
                        break;
                    }
                }
            });
        })
        .map_err(|e| format!("cannot start a script container thread: {e}"))?;
    ready_rx
        .await
        .map_err(|_| "the script container failed to start".to_string())??;
    let now = Instant::now();
    Ok(Handle {
        tx,
        policy,
        legacy_globals,
        created: now,
        last_used: now,
    })
}

/// Whether a container is past its lifetime or idle time, or its thread is gone.
fn expired(limits: &Limits, h: &Handle, now: Instant) -> bool {
    now.duration_since(h.created) >= limits.max_lifetime
        || now.duration_since(h.last_used) >= limits.idle_timeout
        || h.tx.is_closed()
}

/// Returns a container to its pool unless it is past its lifetime.
fn give_back(limits: &Limits, pool: &TenantPool, mut handle: Handle) {
    handle.last_used = Instant::now();
    if !expired(limits, &handle, handle.last_used) {
        pool.idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(handle);
    }
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
        let egress = self
            .egress
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(tenant_id)
            .cloned()
            .unwrap_or_else(|| self.default_egress.clone());
        ModuleEnv {
            tenant_id: tenant_id.to_string(),
            egress,
            packages: self.packages.clone(),
            legacy_globals: self
                .legacy_globals
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains(tenant_id),
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

    async fn invoke(&self, req: ScriptRequest) -> Result<Reply, ScriptFailure> {
        let pool = self.pool(&req.tenant_id, req.connection.as_deref());
        let req_tenant = req.tenant_id.clone();
        let _permit =
            tokio::time::timeout(self.limits.queue_wait, pool.slots.clone().acquire_owned())
                .await
                .map_err(|_| {
                    runtime_failure(
                        "too many concurrent script invocations for this connection (or for this tenant's rules, hooks and actions); try again",
                    )
                })?
                .map_err(|_| runtime_failure("the script runtime is shutting down"))?;
        let now = Instant::now();
        let reused = {
            let mut idle = pool.idle.lock().unwrap_or_else(|p| p.into_inner());
            idle.retain(|h| !expired(&self.limits, h, now));
            idle.pop()
        };
        let handle = match reused {
            Some(h) => h,
            None => spawn_container(
                self.limits.clone(),
                self.env_for(&req.tenant_id),
                self.prelude.clone(),
            )
            .await
            .map_err(runtime_failure)?,
        };
        let deadline = Instant::now() + self.limits.deadline;
        let (reply_tx, reply_rx) = oneshot::channel();
        let (settled_tx, settled_rx) = oneshot::channel();
        handle
            .tx
            .send(Job {
                req,
                deadline,
                reply: reply_tx,
                settled: settled_tx,
            })
            .map_err(|_| runtime_failure("the script container is gone"))?;
        // The container enforces the deadline itself; the grace covers a wedged thread.
        let reply = tokio::time::timeout(self.limits.deadline + Duration::from_secs(5), reply_rx)
            .await
            .map_err(|_| runtime_failure("the script container stopped responding"))?
            .map_err(|_| runtime_failure("the script container stopped"))?;
        let env = self.env_for(&req_tenant);
        let current =
            Arc::ptr_eq(&handle.policy, &env.egress) && handle.legacy_globals == env.legacy_globals;
        if !reply.recycle && current {
            if reply.unsettled {
                // Back to the pool once the script's leftover operations are done; until then
                // the container keeps its slot.
                let (limits, idle) = (self.limits.clone(), pool.clone());
                tokio::spawn(async move {
                    let _permit = _permit;
                    if settled_rx.await == Ok(true) {
                        give_back(&limits, &idle, handle);
                    }
                });
            } else {
                give_back(&self.limits, &pool, handle);
            }
        }
        Ok(reply)
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
