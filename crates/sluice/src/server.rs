//! Composition root: opens the store, loads the encryption key, builds the core with the script
//! checker and system clock, bootstraps tenants, and serves the router over HTTP or HTTPS with
//! graceful shutdown.

use crate::bootstrap;
use crate::config::Settings;
use rustls::pki_types::pem::PemObject;
use sluice_core::ports::{Clock, KeySource};
use sluice_core::{Core, CoreConfig};
use sluice_crypto::secretbox::SecretBox;
use sluice_store::SqlStore;
use sluice_store::changes::Change;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one reading of wall-clock time
    fn now(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}

/// Start-up failures, each with a message for the operator.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(String),
    #[error("database: {0}")]
    Store(String),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error("{0}")]
    Other(String),
}

/// Opens the store and builds the core for `settings` (also used by the CLI's tenant commands).
pub async fn build_core(settings: &Settings, public_url: String) -> Result<Arc<Core>, StartError> {
    Ok(build(settings, public_url, Parts::default()).await?.0)
}

/// Parts of the server a caller may supply in place of the production ones.
#[derive(Clone, Default)]
pub struct Parts {
    /// Where new signing keys come from; `None`: each is generated fresh. The test kit hands
    /// out keys it generated once (`sluice_testkit::keys`).
    pub keys: Option<Arc<dyn KeySource>>,
}

/// The core and the concrete script runtime behind its `runner` port.
async fn build(
    settings: &Settings,
    public_url: String,
    parts: Parts,
) -> Result<(Arc<Core>, Arc<sluice_scripts::ScriptRuntime>), StartError> {
    std::fs::create_dir_all(&settings.data_dir).map_err(|e| {
        StartError::Config(format!("data dir {}: {e}", settings.data_dir.display()))
    })?;
    let store = SqlStore::connect(&settings.database_url)
        .await
        .map_err(|e| StartError::Store(e.to_string()))?;
    store
        .listen_for_changes()
        .await
        .map_err(|e| StartError::Store(format!("listening for other nodes' changes: {e}")))?;
    let changes = store.changes();
    let sealer = match &settings.encryption_key {
        Some(k) => SecretBox::from_base64(k)
            .map_err(|e| StartError::Config(format!("SLUICE_ENCRYPTION_KEY: {e}")))?,
        None => bootstrap::load_or_create_key(&settings.data_dir).map_err(StartError::Config)?,
    };
    let base_domain = settings
        .base_domain
        .clone()
        .unwrap_or_else(|| default_base_domain(&public_url));
    let hello_name = url::Url::parse(&public_url)
        .ok()
        .and_then(|u| u.domain().map(str::to_string));
    let mailer = crate::mail::mailer(&settings.email, &settings.data_dir, hello_name)
        .map_err(StartError::Config)?;
    let config = CoreConfig {
        public_url,
        base_domain,
        default_tenant: settings.default_tenant.clone(),
        argon2: settings.argon2,
        breaker: sluice_core::breaker::BreakerPolicy {
            failures_to_open: settings.scripts.breaker_failures,
            open_seconds: settings.scripts.breaker_open_seconds as i64,
        },
        legacy_calls_per_second: settings.scripts.legacy_calls_per_second,
    };
    let runner = Arc::new(script_runtime(settings)?);
    let core = Core::new(
        Arc::new(store),
        Arc::new(SystemClock),
        sealer,
        Arc::new(sluice_scripts::SyntaxChecker),
        runner.clone(),
        mailer,
        config,
    )
    .map_err(|e| StartError::Other(e.to_string()))?;
    let core = Arc::new(match parts.keys {
        Some(keys) => core.with_key_source(keys),
        None => core,
    });
    spawn_change_follower(&core, changes);
    Ok((core, runner))
}

/// Drops cached tenant keys when any node changes them (see `sluice_store::changes`); stops
/// when the core or the store is gone.
fn spawn_change_follower(core: &Arc<Core>, mut changes: broadcast::Receiver<Change>) {
    let weak = Arc::downgrade(core);
    tokio::spawn(async move {
        loop {
            let change = match changes.recv().await {
                Ok(c) => c,
                Err(broadcast::error::RecvError::Lagged(_)) => Change::All,
                Err(broadcast::error::RecvError::Closed) => break,
            };
            let Some(core) = weak.upgrade() else { break };
            match change {
                Change::Keys { tenant_id } => core.tenant_forget(Some(&tenant_id)).await,
                Change::All => core.tenant_forget(None).await,
                Change::Docs { .. } => {}
            }
        }
    });
}

/// The action-script runtime configured by `[scripts]`.
fn script_runtime(settings: &Settings) -> Result<sluice_scripts::ScriptRuntime, StartError> {
    let sc = &settings.scripts;
    let limits = sluice_scripts::Limits {
        deadline: Duration::from_secs(sc.timeout_seconds),
        memory_bytes: sc.memory_mib * 1024 * 1024,
        containers_per_tenant: sc.containers_per_tenant,
        idle_timeout: Duration::from_secs(sc.container_idle_seconds),
        ..sluice_scripts::Limits::default()
    };
    let policy = sc.egress.policy().map_err(StartError::Config)?;
    let mut rt = sluice_scripts::ScriptRuntime::with_default_egress(limits, policy);
    if let Some(dir) = &sc.packages_dir {
        let packages =
            sluice_scripts::modules::packages::Packages::new(dir, sc.packages.iter().cloned())
                .map_err(|e| StartError::Config(format!("scripts.packages_dir: {e}")))?;
        rt = rt.with_packages(packages);
    }
    Ok(rt)
}

/// Every ten seconds: drops idle script containers past their idle time or lifetime, reports
/// how many stay idle (`script_containers_idle`, on the server's own metrics recorder), then
/// gives free memory back to the operating system (see [`crate::memory`]); stops when the
/// runtime is gone.
fn spawn_sweeper<R: metrics::Recorder + Send + Sync + 'static>(
    rt: &Arc<sluice_scripts::ScriptRuntime>,
    recorder: Arc<R>,
) {
    let weak = Arc::downgrade(rt);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(10));
        loop {
            tick.tick().await;
            match weak.upgrade() {
                Some(rt) => {
                    rt.sweep();
                    let idle = rt.idle_containers() as f64;
                    metrics::with_local_recorder(recorder.as_ref(), || {
                        metrics::gauge!("script_containers_idle").set(idle)
                    });
                }
                None => break,
            }
            let _ = tokio::task::spawn_blocking(crate::memory::release).await;
        }
    });
}

/// At start and then every minute: the migration progress of every tenant's custom database
/// connections, as `migration_users{tenant, connection, origin}` and
/// `migration_stranded_if_switched_off{tenant, connection}` gauges on the server's recorder
/// (`GET /api/v2/connections/{id}/migration` has the same figures, always current).
fn spawn_migration_gauges<R: metrics::Recorder + Send + Sync + 'static>(
    core: &Arc<Core>,
    recorder: Arc<R>,
) {
    let weak = Arc::downgrade(core);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            let Some(core) = weak.upgrade() else { break };
            if let Err(e) = migration_gauges(&core, recorder.as_ref()).await {
                tracing::warn!(error = %e, "could not count migration progress");
            }
        }
    });
}

async fn migration_gauges<R: metrics::Recorder>(
    core: &Arc<Core>,
    recorder: &R,
) -> Result<(), sluice_core::CoreError> {
    let mgmt = sluice_core::management::Management::new(core.clone());
    for rec in core.tenants_all().await? {
        let t = core.tenant(&rec.name).await?;
        let actor = sluice_core::authz::Actor::new(&t.id, "metrics", "read:connections");
        for p in mgmt.migrations_all(&t, &actor).await? {
            let conn = p["connection"].as_str().unwrap_or_default().to_string();
            let n = |v: &serde_json::Value| v.as_i64().unwrap_or(0) as f64;
            metrics::with_local_recorder(recorder, || {
                for origin in ["migrated_by_login", "legacy_cached", "created_locally"] {
                    metrics::gauge!("migration_users", "tenant" => rec.name.clone(), "connection" => conn.clone(), "origin" => origin)
                        .set(n(&p["users"][origin]));
                }
                metrics::gauge!("migration_stranded_if_switched_off", "tenant" => rec.name.clone(), "connection" => conn.clone())
                    .set(n(&p["stranded_if_switched_off"]));
            });
        }
    }
    Ok(())
}

/// Once an hour: deletes tenant log events past their retention, and expired authorization
/// codes, refresh tokens, sessions and login transactions.
fn spawn_log_pruner(core: &Arc<Core>, retention_days: i64) {
    let weak = Arc::downgrade(core);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let Some(core) = weak.upgrade() else { break };
            match core.logs_prune(retention_days).await {
                Ok(n) if n > 0 => tracing::info!(deleted = n, "pruned tenant log events"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "log pruning failed"),
            }
            match core.artifacts_prune().await {
                Ok(n) if n > 0 => {
                    tracing::info!(deleted = n, "pruned expired codes, tokens and sessions")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "artifact pruning failed"),
            }
        }
    });
}

/// The public URL's host when it is a name (not an IP address), else `localhost`.
fn default_base_domain(public_url: &str) -> String {
    match url::Url::parse(public_url)
        .ok()
        .and_then(|u| u.domain().map(str::to_string))
    {
        Some(d) => d,
        None => "localhost".into(),
    }
}

/// A server that is listening.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub public_url: String,
    pub core: Arc<Core>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// Stops accepting, lets in-flight requests finish (up to 30 s), and waits.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }

    /// Waits until the server stops (after a signal or `shutdown`).
    pub async fn wait(self) {
        let _ = self.task.await;
    }

    /// A sender that triggers graceful shutdown.
    pub fn shutdown_trigger(&self) -> watch::Sender<bool> {
        self.shutdown.clone()
    }
}

/// Binds, bootstraps and starts serving in the background.
pub async fn start(settings: Settings) -> Result<RunningServer, StartError> {
    start_with_parts(settings, Parts::default()).await
}

/// [`start`] with some of the server's parts supplied by the caller.
pub async fn start_with_parts(
    settings: Settings,
    parts: Parts,
) -> Result<RunningServer, StartError> {
    let listener = std::net::TcpListener::bind(settings.listen)
        .map_err(|e| StartError::Bind(settings.listen, e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| StartError::Bind(settings.listen, e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| StartError::Bind(settings.listen, e))?;
    let scheme = if settings.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let public_url = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("{scheme}://{addr}"));
    let (core, scripts) = build(&settings, public_url.clone(), parts).await?;
    spawn_log_pruner(&core, settings.logs_retention_days);
    bootstrap::bootstrap_all(&core, &settings)
        .await
        .map_err(StartError::Other)?;
    // Script settings are keyed by tenant id; the config names tenants.
    for name in &settings.scripts.legacy_globals_tenants {
        let t = core.tenant(name).await.map_err(|e| {
            StartError::Config(format!(
                "scripts.legacy_globals_tenants: tenant '{name}': {e}"
            ))
        })?;
        scripts.set_legacy_globals(&t.id, true);
    }
    for (name, eg) in &settings.scripts.tenant_egress {
        let t = core.tenant(name).await.map_err(|e| {
            StartError::Config(format!("scripts.tenant_egress: tenant '{name}': {e}"))
        })?;
        scripts.set_egress_policy(&t.id, eg.policy().map_err(StartError::Config)?);
    }
    let state = sluice_http::AppState::new(core.clone());
    spawn_sweeper(&scripts, state.metrics.clone());
    spawn_migration_gauges(&core, state.metrics.clone());
    let app = sluice_http::router(state);
    let (tx, mut rx) = watch::channel(false);
    let task = match &settings.tls {
        None => {
            let listener = tokio::net::TcpListener::from_std(listener)
                .map_err(|e| StartError::Bind(addr, e))?;
            tokio::spawn(async move {
                let stop = async move {
                    let _ = rx.wait_for(|v| *v).await;
                };
                if let Err(e) = axum::serve(
                    listener,
                    app.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .with_graceful_shutdown(stop)
                .await
                {
                    tracing::error!(error = %e, "server error");
                }
            })
        }
        Some((cert, key)) => {
            let config = tls_config(cert, key).await?;
            let handle = axum_server::Handle::new();
            let h2 = handle.clone();
            tokio::spawn(async move {
                let _ = rx.wait_for(|v| *v).await;
                h2.graceful_shutdown(Some(Duration::from_secs(30)));
            });
            let server = axum_server::from_tcp_rustls(listener, config)
                .map_err(|e| StartError::Bind(addr, e))?;
            tokio::spawn(async move {
                if let Err(e) = server
                    .handle(handle)
                    .serve(app.into_make_service_with_connect_info::<SocketAddr>())
                    .await
                {
                    tracing::error!(error = %e, "server error");
                }
            })
        }
    };
    let email = crate::mail::describe(&settings.email);
    tracing::info!(%addr, %public_url, backend = core_backend(&settings), %email, "sluice listening");
    Ok(RunningServer {
        addr,
        public_url,
        core,
        shutdown: tx,
        task,
    })
}

fn core_backend(s: &Settings) -> &'static str {
    if s.database_url.starts_with("sqlite:") {
        "sqlite"
    } else {
        "postgres"
    }
}

async fn tls_config(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<axum_server::tls_rustls::RustlsConfig, StartError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let certs = std::fs::read(cert)
        .map_err(|e| StartError::Config(format!("tls cert {}: {e}", cert.display())))?;
    let key_pem = std::fs::read(key)
        .map_err(|e| StartError::Config(format!("tls key {}: {e}", key.display())))?;
    let chain: Vec<_> = rustls::pki_types::CertificateDer::pem_slice_iter(&certs)
        .collect::<Result<_, _>>()
        .map_err(|e| StartError::Config(format!("tls cert {}: {e:?}", cert.display())))?;
    let private = rustls::pki_types::PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| StartError::Config(format!("tls key {}: {e:?}", key.display())))?;
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StartError::Config(format!("tls: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| StartError::Config(format!("tls: {e}")))?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(axum_server::tls_rustls::RustlsConfig::from_config(
        Arc::new(cfg),
    ))
}

/// Resolves when SIGTERM or SIGINT arrives.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
