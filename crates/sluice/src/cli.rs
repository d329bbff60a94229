//! The command line: `sluice serve`, `sluice tenants create|list`, `sluice scripts run` and
//! `sluice migrate status`.

use crate::config::{ConfigArgs, Settings};
use crate::server;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "sluice",
    version,
    about = "Sluice: an Auth0-compatible identity server with custom database connections"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server
    Serve(ConfigArgs),
    /// Manage tenants
    Tenants {
        #[command(subcommand)]
        command: TenantsCommand,
    },
    /// Work with action scripts locally
    Scripts {
        #[command(subcommand)]
        command: ScriptsCommand,
    },
    /// Follow the migration off legacy user stores
    Migrate {
        #[command(subcommand)]
        command: MigrateCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// Print each custom database connection's migration progress: a table, or JSON with --json
    Status {
        /// The tenant
        #[arg(long, default_value = "default")]
        tenant: String,
        /// Print the Management API's JSON (GET /api/v2/connections/{id}/migration) instead
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        config: ConfigArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ScriptsCommand {
    /// Run one script and print its result, console output and timing (exit 1 if it fails)
    Run(crate::scripts_cmd::RunArgs),
}

#[derive(Debug, Subcommand)]
pub enum TenantsCommand {
    /// Create a tenant with its signing key and a Management API client; prints its credentials
    Create {
        name: String,
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// List tenants
    List {
        #[command(flatten)]
        config: ConfigArgs,
    },
}

fn settings(args: &ConfigArgs) -> Result<Settings, String> {
    Settings::load(args, &|k| std::env::var(k).ok())
        .map_err(|errs| format!("invalid configuration:\n  - {}", errs.join("\n  - ")))
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SLUICE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().with_current_span(true).init();
    } else {
        builder.init();
    }
}

pub async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve(args) => {
            let s = settings(&args)?;
            init_logging(s.log_json);
            let running = server::start(s).await.map_err(|e| e.to_string())?;
            let trigger = running.shutdown_trigger();
            tokio::spawn(async move {
                server::shutdown_signal().await;
                tracing::info!("shutting down");
                let _ = trigger.send(true);
            });
            running.wait().await;
            tracing::info!("stopped");
            Ok(())
        }
        Command::Scripts {
            command: ScriptsCommand::Run(args),
        } => match crate::scripts_cmd::run(args).await? {
            true => Ok(()),
            false => Err("the script failed (see \"error\" above)".into()),
        },
        Command::Migrate {
            command:
                MigrateCommand::Status {
                    tenant,
                    json,
                    config,
                },
        } => {
            let s = settings(&config)?;
            let public = s
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", s.listen));
            let core = server::build_core(&s, public)
                .await
                .map_err(|e| e.to_string())?;
            let t = core.tenant(&tenant).await.map_err(|e| e.to_string())?;
            let actor = sluice_core::authz::Actor::new(&t.id, "cli", "read:connections");
            let all = sluice_core::management::Management::new(core)
                .migrations_all(&t, &actor)
                .await
                .map_err(|e| e.to_string())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&all).unwrap_or_default());
                return Ok(());
            }
            println!(
                "connection\tmode\tusers\tmigrated_by_login\tlegacy_cached\tcreated_locally\tstranded_if_switched_off"
            );
            for p in &all {
                let u = &p["users"];
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    p["connection"].as_str().unwrap_or_default(),
                    p["mode"].as_str().unwrap_or_default(),
                    u["total"],
                    u["migrated_by_login"],
                    u["legacy_cached"],
                    u["created_locally"],
                    p["stranded_if_switched_off"]
                );
            }
            Ok(())
        }
        Command::Tenants { command } => match command {
            TenantsCommand::Create { name, config } => {
                let s = settings(&config)?;
                sluice_core::tenant::validate_tenant_name(&name).map_err(|e| e.to_string())?;
                let public = s
                    .public_url
                    .clone()
                    .unwrap_or_else(|| format!("http://{}", s.listen));
                let core = server::build_core(&s, public)
                    .await
                    .map_err(|e| e.to_string())?;
                if core
                    .store
                    .tenant_fetch_by_name(&name)
                    .await
                    .map_err(|e| e.to_string())?
                    .is_some()
                {
                    return Err(format!("tenant '{name}' already exists"));
                }
                let doc = crate::bootstrap::bootstrap_one(&core, &s, &name, None).await?;
                println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
                Ok(())
            }
            TenantsCommand::List { config } => {
                let s = settings(&config)?;
                let public = s
                    .public_url
                    .clone()
                    .unwrap_or_else(|| format!("http://{}", s.listen));
                let core = server::build_core(&s, public)
                    .await
                    .map_err(|e| e.to_string())?;
                for t in core.tenants_all().await.map_err(|e| e.to_string())? {
                    println!("{}\t{}", t.name, core.tenant_base_url(&t.name));
                }
                Ok(())
            }
        },
    }
}
