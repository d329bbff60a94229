//! First-start files in the data directory: the encryption key (`encryption.key`, mode 0600) and
//! the generated bootstrap credentials (`bootstrap-credentials.json` for the default tenant,
//! `bootstrap-credentials-<tenant>.json` for others; mode 0600, printed once to stderr).

use crate::config::Settings;
use sluice_core::Core;
use sluice_core::bootstrap::BootstrapCredentials;
use sluice_crypto::secretbox::SecretBox;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `contents` to a new file readable only by its owner.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(contents)?;
    f.sync_all()
}

/// Loads `<data_dir>/encryption.key`, creating it on first start.
pub fn load_or_create_key(data_dir: &Path) -> Result<SecretBox, String> {
    use base64::Engine;
    let path = data_dir.join("encryption.key");
    match std::fs::read_to_string(&path) {
        Ok(s) => SecretBox::from_base64(s.trim()).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SecretBox::generate_key();
            let text = base64::engine::general_purpose::STANDARD.encode(key);
            write_private(&path, text.as_bytes())
                .map_err(|e| format!("{}: {e}", path.display()))?;
            tracing::warn!(path = %path.display(), "generated a new encryption key; keep it safe and share it (SLUICE_ENCRYPTION_KEY) between nodes");
            SecretBox::from_key_bytes(&key).map_err(|e| e.to_string())
        }
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

pub fn credentials_path(data_dir: &Path, tenant: &str, default_tenant: &str) -> PathBuf {
    if tenant == default_tenant {
        data_dir.join("bootstrap-credentials.json")
    } else {
        data_dir.join(format!("bootstrap-credentials-{tenant}.json"))
    }
}

/// Bootstraps one tenant; generated credentials are written and printed once.
pub async fn bootstrap_one(
    core: &Core,
    settings: &Settings,
    tenant: &str,
    chosen: Option<BootstrapCredentials>,
) -> Result<Option<serde_json::Value>, String> {
    let outcome = core
        .bootstrap_tenant(tenant, chosen)
        .await
        .map_err(|e| format!("tenant {tenant}: {e}"))?;
    let Some(creds) = outcome.generated else {
        return Ok(None);
    };
    let t = core.tenant(tenant).await.map_err(|e| e.to_string())?;
    let doc = serde_json::json!({
        "tenant": tenant,
        "domain": t.base_url,
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "audience": t.mgmt_audience,
        "token_endpoint": format!("{}/oauth/token", t.base_url),
    });
    let path = credentials_path(&settings.data_dir, tenant, &settings.default_tenant);
    let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    write_private(&path, text.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!(
        "sluice: created tenant '{tenant}' with Management API client\n  client_id:     {}\n  client_secret: {}\n  (also written to {}, mode 0600; shown once)",
        creds.client_id,
        creds.client_secret,
        path.display()
    );
    Ok(Some(doc))
}

/// The default tenant (with `SLUICE_BOOTSTRAP_CLIENT_*` when set) and the tenants the config
/// file declares.
pub async fn bootstrap_all(core: &Core, settings: &Settings) -> Result<(), String> {
    let chosen = settings
        .bootstrap_client
        .clone()
        .map(|(client_id, client_secret)| BootstrapCredentials {
            client_id,
            client_secret,
        });
    bootstrap_one(core, settings, &settings.default_tenant, chosen).await?;
    for t in &settings.tenants {
        let chosen = match (&t.client_id, &t.client_secret) {
            (Some(id), Some(secret)) => Some(BootstrapCredentials {
                client_id: id.clone(),
                client_secret: secret.clone(),
            }),
            _ => None,
        };
        bootstrap_one(core, settings, &t.name, chosen).await?;
    }
    Ok(())
}
