//! Typed configuration, layered CLI > environment > TOML file > defaults, validated once at
//! start-up with every problem reported together.

use serde::Deserialize;
use sluice_crypto::password::Argon2Params;
use std::net::SocketAddr;
use std::path::PathBuf;

mod email;
pub use email::{
    DEFAULT_FROM, EmailFile, EmailSettings, MailTransport, Secret, SmtpSettings, SmtpTls,
    is_loopback_host,
};

/// Options given on the command line or in the environment (clap fills both).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigArgs {
    /// Address to listen on [default: 127.0.0.1:3000]
    #[arg(long, env = "SLUICE_LISTEN")]
    pub listen: Option<String>,
    /// Directory for the SQLite database and generated files [default: ./sluice-data]
    #[arg(long, env = "SLUICE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// sqlite://... or postgres://... (overrides the data directory for the store)
    #[arg(long, env = "SLUICE_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Public base URL; issuers and absolute URLs derive from it [default: http://<listen>]
    #[arg(long, env = "SLUICE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Tenants other than the default are served at NAME.<base-domain>
    #[arg(long, env = "SLUICE_BASE_DOMAIN")]
    pub base_domain: Option<String>,
    /// TOML configuration file
    #[arg(long, env = "SLUICE_CONFIG")]
    pub config: Option<PathBuf>,
    /// PEM certificate chain: serve HTTPS
    #[arg(long, env = "SLUICE_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert
    #[arg(long, env = "SLUICE_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// `json` (default) or `text`
    #[arg(long, env = "SLUICE_LOG_FORMAT")]
    pub log_format: Option<String>,
}

/// A tenant declared in the configuration file, created on start-up if missing.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TenantEntry {
    pub name: String,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// `[scripts]`: the action-script runtime.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ScriptsConfig {
    /// Wall-clock deadline of one invocation.
    pub timeout_seconds: u64,
    /// QuickJS heap limit per container.
    pub memory_mib: usize,
    pub containers_per_tenant: usize,
    /// How long an unused container is kept warm before it is dropped (its memory returned).
    pub container_idle_seconds: u64,
    /// Consecutive unanswered script runs (deadline passed, no free container) that open a
    /// connection's circuit breaker.
    pub breaker_failures: u32,
    /// How long an open breaker answers 503 before letting one probe through.
    pub breaker_open_seconds: u64,
    /// Script runs per second one connection may make on one node (0: no limit), to protect a
    /// legacy user store; bursts of twice that.
    pub legacy_calls_per_second: u32,
    /// A directory holding `node_modules` installed by the operator (pure-JS packages).
    pub packages_dir: Option<PathBuf>,
    /// Package names scripts may require from `packages_dir`.
    pub packages: Vec<String>,
    /// Outbound connections of scripts (all tenants).
    pub egress: EgressConfig,
    /// Tenants whose scripts get the pre-Node-16 globals (`bcrypt`, `mysql(opts)`, ...).
    pub legacy_globals_tenants: Vec<String>,
    /// Per-tenant egress policies (`[scripts.tenant_egress.NAME]`), replacing `egress` for
    /// that tenant.
    pub tenant_egress: std::collections::BTreeMap<String, EgressConfig>,
}

impl Default for ScriptsConfig {
    fn default() -> Self {
        ScriptsConfig {
            timeout_seconds: 20,
            memory_mib: 64,
            containers_per_tenant: 4,
            container_idle_seconds: 30,
            breaker_failures: 5,
            breaker_open_seconds: 30,
            legacy_calls_per_second: 0,
            packages_dir: None,
            packages: Vec::new(),
            egress: EgressConfig::default(),
            legacy_globals_tenants: Vec::new(),
            tenant_egress: std::collections::BTreeMap::new(),
        }
    }
}

/// `[scripts.egress]`: host names (`db.example.com`, `*.example.com`) and CIDRs.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EgressConfig {
    pub allow_hosts: Vec<String>,
    pub allow_cidrs: Vec<String>,
    pub deny_hosts: Vec<String>,
    pub deny_cidrs: Vec<String>,
    /// When no allow rule matches: allow (default) or deny.
    pub default_allow: bool,
}

impl Default for EgressConfig {
    fn default() -> Self {
        EgressConfig {
            allow_hosts: Vec::new(),
            allow_cidrs: Vec::new(),
            deny_hosts: Vec::new(),
            deny_cidrs: Vec::new(),
            default_allow: true,
        }
    }
}

impl EgressConfig {
    pub fn policy(&self) -> Result<sluice_scripts::EgressPolicy, String> {
        let cidrs = |v: &[String]| -> Result<Vec<sluice_scripts::egress::Cidr>, String> {
            v.iter()
                .map(|c| sluice_scripts::egress::Cidr::parse(c))
                .collect()
        };
        Ok(sluice_scripts::EgressPolicy {
            allow_hosts: self.allow_hosts.clone(),
            allow_cidrs: cidrs(&self.allow_cidrs)?,
            deny_hosts: self.deny_hosts.clone(),
            deny_cidrs: cidrs(&self.deny_cidrs)?,
            default_allow: self.default_allow,
        })
    }
}

/// The TOML file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub public_url: Option<String>,
    pub base_domain: Option<String>,
    pub default_tenant: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub log_format: Option<String>,
    pub argon2: Option<Argon2Params>,
    #[serde(default)]
    pub tenants: Vec<TenantEntry>,
    #[serde(default)]
    pub scripts: ScriptsConfig,
    /// Tenant log events older than this are deleted (default 30 days).
    pub logs_retention_days: Option<i64>,
    #[serde(default)]
    pub email: EmailFile,
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// None: derived from the bound address once listening.
    pub public_url: Option<String>,
    pub base_domain: Option<String>,
    pub default_tenant: String,
    pub tls: Option<(PathBuf, PathBuf)>,
    pub log_json: bool,
    pub argon2: Argon2Params,
    pub tenants: Vec<TenantEntry>,
    /// Base64 key from `SLUICE_ENCRYPTION_KEY`; otherwise `<data_dir>/encryption.key`.
    pub encryption_key: Option<String>,
    /// From `SLUICE_BOOTSTRAP_CLIENT_ID` / `SLUICE_BOOTSTRAP_CLIENT_SECRET`.
    pub bootstrap_client: Option<(String, String)>,
    pub scripts: ScriptsConfig,
    pub logs_retention_days: i64,
    /// `[email]`: outbox or SMTP.
    pub email: EmailSettings,
}

impl Settings {
    /// Layers the sources and validates; `env` reads the variables that are not CLI options.
    pub fn load(
        args: &ConfigArgs,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Settings, Vec<String>> {
        let mut errors = Vec::new();
        let file = match &args.config {
            Some(path) => match std::fs::read_to_string(path) {
                Ok(text) => match toml::from_str::<FileConfig>(&text) {
                    Ok(f) => f,
                    Err(e) => {
                        errors.push(format!("config file {}: {e}", path.display()));
                        FileConfig::default()
                    }
                },
                Err(e) => {
                    errors.push(format!("config file {}: {e}", path.display()));
                    FileConfig::default()
                }
            },
            None => FileConfig::default(),
        };
        let listen_s = args
            .listen
            .clone()
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:3000".into());
        let listen = listen_s.parse::<SocketAddr>().unwrap_or_else(|e| {
            errors.push(format!(
                "listen: '{listen_s}' is not an address like 127.0.0.1:3000 ({e})"
            ));
            SocketAddr::from(([127, 0, 0, 1], 3000))
        });
        let data_dir = args
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./sluice-data"));
        let database_url = args
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}/sluice.db", data_dir.display()));
        if !["sqlite:", "postgres:", "postgresql:"]
            .iter()
            .any(|p| database_url.starts_with(p))
        {
            errors.push("database-url: must start with sqlite:// or postgres://".into());
        }
        let public_url = args
            .public_url
            .clone()
            .or(file.public_url)
            .map(|u| u.trim_end_matches('/').to_string());
        if let Some(u) = &public_url {
            match url::Url::parse(u) {
                Ok(p) if (p.scheme() == "http" || p.scheme() == "https") && p.host_str().is_some() && p.path() == "/" => {}
                _ => errors.push(format!("public-url: '{u}' must be an http(s) URL without a path, like https://id.example.com")),
            }
        }
        let base_domain = args.base_domain.clone().or(file.base_domain);
        if let Some(b) = &base_domain
            && (b.is_empty() || b.starts_with('.') || b.contains('/') || b.contains(':'))
        {
            errors.push(format!(
                "base-domain: '{b}' must be a domain name like id.example.com"
            ));
        }
        let default_tenant = file.default_tenant.unwrap_or_else(|| "default".into());
        let mut names = vec![default_tenant.clone()];
        for t in &file.tenants {
            if names.contains(&t.name) {
                errors.push(format!(
                    "tenants: '{}' is declared twice (or is the default tenant)",
                    t.name
                ));
            }
            names.push(t.name.clone());
            if t.client_id.is_some() != t.client_secret.is_some() {
                errors.push(format!(
                    "tenants.{}: give both client_id and client_secret, or neither",
                    t.name
                ));
            }
        }
        for n in &names {
            if let Err(e) = sluice_core::tenant::validate_tenant_name(n) {
                errors.push(format!("tenant name: {e}"));
            }
        }
        let tls = match (
            args.tls_cert.clone().or(file.tls_cert),
            args.tls_key.clone().or(file.tls_key),
        ) {
            (Some(c), Some(k)) => {
                for p in [&c, &k] {
                    if !p.is_file() {
                        errors.push(format!("tls: {} is not a readable file", p.display()));
                    }
                }
                Some((c, k))
            }
            (None, None) => None,
            _ => {
                errors.push("tls: give both --tls-cert and --tls-key".into());
                None
            }
        };
        let log_format = args
            .log_format
            .clone()
            .or(file.log_format)
            .unwrap_or_else(|| "json".into());
        if log_format != "json" && log_format != "text" {
            errors.push(format!("log-format: '{log_format}' must be json or text"));
        }
        let argon2 = file.argon2.unwrap_or_default();
        if let Err(e) = sluice_crypto::password::PasswordHasher::new(argon2) {
            errors.push(format!("argon2: {e}"));
        }
        let bootstrap_client = match (
            env("SLUICE_BOOTSTRAP_CLIENT_ID"),
            env("SLUICE_BOOTSTRAP_CLIENT_SECRET"),
        ) {
            (Some(id), Some(secret)) => {
                if secret.len() < 16 {
                    errors.push(
                        "SLUICE_BOOTSTRAP_CLIENT_SECRET must be at least 16 characters".into(),
                    );
                }
                if id.is_empty() {
                    errors.push("SLUICE_BOOTSTRAP_CLIENT_ID must not be empty".into());
                }
                Some((id, secret))
            }
            (None, None) => None,
            _ => {
                errors.push("set both SLUICE_BOOTSTRAP_CLIENT_ID and SLUICE_BOOTSTRAP_CLIENT_SECRET, or neither".into());
                None
            }
        };
        let sc = &file.scripts;
        if !(1..=300).contains(&sc.timeout_seconds) {
            errors.push("scripts.timeout_seconds must be 1 to 300".into());
        }
        if !(8..=1024).contains(&sc.memory_mib) {
            errors.push("scripts.memory_mib must be 8 to 1024".into());
        }
        if !(1..=3600).contains(&sc.container_idle_seconds) {
            errors.push("scripts.container_idle_seconds must be 1 to 3600".into());
        }
        if !(1..=64).contains(&sc.containers_per_tenant) {
            errors.push("scripts.containers_per_tenant must be 1 to 64".into());
        }
        if !(1..=1000).contains(&sc.breaker_failures) {
            errors.push("scripts.breaker_failures must be 1 to 1000".into());
        }
        if sc.legacy_calls_per_second > 1_000_000 {
            errors.push("scripts.legacy_calls_per_second must be 0 (no limit) to 1000000".into());
        }
        if !(1..=3600).contains(&sc.breaker_open_seconds) {
            errors.push("scripts.breaker_open_seconds must be 1 to 3600".into());
        }
        if let Err(e) = sc.egress.policy() {
            errors.push(format!("scripts.egress: {e}"));
        }
        for (name, eg) in &sc.tenant_egress {
            if let Err(e) = eg.policy() {
                errors.push(format!("scripts.tenant_egress.{name}: {e}"));
            }
        }
        match (&sc.packages_dir, sc.packages.is_empty()) {
            (Some(d), _) if !d.is_dir() => errors.push(format!(
                "scripts.packages_dir: {} is not a directory",
                d.display()
            )),
            (None, false) => errors.push("scripts.packages needs scripts.packages_dir".into()),
            _ => {}
        }
        let logs_retention_days = file.logs_retention_days.unwrap_or(30);
        if !(1..=3650).contains(&logs_retention_days) {
            errors.push("logs_retention_days must be 1 to 3650".into());
        }
        let email = file.email.validate(env, &mut errors);
        let encryption_key = env("SLUICE_ENCRYPTION_KEY");
        if let Some(k) = &encryption_key
            && sluice_crypto::secretbox::SecretBox::from_base64(k).is_err()
        {
            errors.push("SLUICE_ENCRYPTION_KEY must be 32 bytes, base64-encoded".into());
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Settings {
            listen,
            data_dir,
            database_url,
            public_url,
            base_domain,
            default_tenant,
            tls,
            log_json: log_format == "json",
            argon2,
            tenants: file.tenants,
            encryption_key,
            bootstrap_client,
            scripts: file.scripts,
            logs_retention_days,
            email,
        })
    }

    /// Settings for tests: an ephemeral port on loopback, the given data dir and database.
    pub fn for_tests(data_dir: PathBuf, database_url: String) -> Settings {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            database_url,
            public_url: None,
            base_domain: Some("localhost".into()),
            default_tenant: "default".into(),
            tls: None,
            log_json: true,
            // Cheap parameters: tests hash many passwords.
            argon2: Argon2Params {
                memory_kib: 1024,
                iterations: 1,
                parallelism: 1,
            },
            tenants: Vec::new(),
            encryption_key: None,
            bootstrap_client: None,
            scripts: ScriptsConfig::default(),
            logs_retention_days: 30,
            email: EmailSettings::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn defaults_apply_when_nothing_is_given() {
        let s = Settings::load(&ConfigArgs::default(), &no_env).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(s.database_url, "sqlite://./sluice-data/sluice.db");
        assert!(s.log_json);
    }

    #[test]
    fn cli_beats_file_and_file_beats_defaults() {
        let dir = std::env::temp_dir().join(format!("sluice-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:4000\"\npublic_url = \"https://id.example.com\"\n",
        )
        .unwrap();
        let args = ConfigArgs {
            config: Some(path.clone()),
            listen: Some("127.0.0.1:5000".into()),
            ..Default::default()
        };
        let s = Settings::load(&args, &no_env).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:5000");
        assert_eq!(s.public_url.as_deref(), Some("https://id.example.com"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let args = ConfigArgs {
            listen: Some("nope".into()),
            database_url: Some("mysql://x".into()),
            public_url: Some("ftp://x".into()),
            tls_cert: Some("/nonexistent.pem".into()),
            log_format: Some("xml".into()),
            ..Default::default()
        };
        let errs = Settings::load(&args, &no_env).unwrap_err();
        assert_eq!(errs.len(), 5, "{errs:#?}");
    }

    #[test]
    fn scripts_section_is_validated() {
        let dir = std::env::temp_dir().join(format!("sluice-cfg-scripts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.toml");
        std::fs::write(&path, "[scripts]\ntimeout_seconds = 0\ncontainer_idle_seconds = 0\npackages = [\"lodash\"]\n[scripts.egress]\ndeny_cidrs = [\"10.0.0.0/99\"]\n").unwrap();
        let args = ConfigArgs {
            config: Some(path),
            ..Default::default()
        };
        let errs = Settings::load(&args, &no_env).unwrap_err();
        assert_eq!(errs.len(), 4, "{errs:#?}");
        assert!(
            errs.iter().any(|e| e.contains("container_idle_seconds")),
            "{errs:#?}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bootstrap_credentials_need_both_variables() {
        let env = |k: &str| (k == "SLUICE_BOOTSTRAP_CLIENT_ID").then(|| "abc".to_string());
        let errs = Settings::load(&ConfigArgs::default(), &env).unwrap_err();
        assert!(
            errs[0].contains("SLUICE_BOOTSTRAP_CLIENT_SECRET"),
            "{errs:?}"
        );
    }
}
