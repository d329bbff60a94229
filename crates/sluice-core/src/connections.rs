//! Management API operations on connections, with Auth0's validation of database connections:
//! name rules, per-mode script sets, script size, script syntax (compiled, never run), and
//! `configuration` values sealed at rest and never returned in plaintext.

use crate::authz::Actor;
use crate::db_connection::StoreMode;
use crate::error::CoreError;
use crate::ids;
use crate::management::Management;
use crate::model::{Doc, DocKind};
use crate::paging::{Listed, PageQuery};
use crate::password_policy::PasswordPolicy;
use crate::ports::StoreError;
use crate::service::Core;
use crate::tenant::TenantCtx;
use sluice_types::connection::SCRIPT_NAMES;
use sluice_types::{Connection, ConnectionBody, ConnectionOptions, JsonMap};
use std::collections::BTreeMap;

/// Largest script Auth0 accepts: 100 KB.
pub const MAX_SCRIPT_BYTES: usize = 100 * 1024;
pub const ROOT_ATTRIBUTE_MODES: &[&str] = &["on_each_login", "on_first_login", "never_on_login"];
/// The scripts that run in import (trickle migration) mode. The others may stay stored (a
/// legacy connection flips to import mode in one PATCH, as in Auth0's dashboard) and never run.
pub const IMPORT_SCRIPTS: &[&str] = &["login", "get_user"];

fn not_found() -> CoreError {
    CoreError::NotFound {
        code: "inexistent_connection",
        message: "The connection does not exist".into(),
    }
}

/// Auth0's rule: alphanumerics and dashes, starting and ending alphanumeric, at most 35 chars.
pub fn validate_connection_name(name: &str) -> Result<(), CoreError> {
    let bytes = name.as_bytes();
    let ok = !name.is_empty()
        && name.len() <= 35
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(CoreError::bad_request(
            "Connection name must be 1 to 35 characters: letters, digits and dashes, starting and ending with a letter or digit",
        ))
    }
}

fn config_aad(tenant_id: &str, connection_id: &str, key: &str) -> Vec<u8> {
    format!("connection-config:{tenant_id}:{connection_id}:{key}").into_bytes()
}

impl Core {
    /// Checks the database-connection options; `previous` is the stored options on update.
    fn validate_options(
        &self,
        o: &ConnectionOptions,
        previous: Option<&ConnectionOptions>,
    ) -> Result<(), CoreError> {
        let custom = o.enabled_database_customization.unwrap_or(false);
        let import = o.import_mode.unwrap_or(false);
        if import && !custom {
            return Err(CoreError::bad_request(
                "options.import_mode requires options.enabledDatabaseCustomization to be true",
            ));
        }
        if let Some(p) = &o.password_policy
            && PasswordPolicy::parse(p).is_none()
        {
            return Err(CoreError::bad_request(format!(
                "options.passwordPolicy must be one of {}",
                PasswordPolicy::NAMES.join(", ")
            )));
        }
        if let Some(m) = &o.set_user_root_attributes
            && !ROOT_ATTRIBUTE_MODES.contains(&m.as_str())
        {
            return Err(CoreError::bad_request(format!(
                "options.set_user_root_attributes must be one of {}",
                ROOT_ATTRIBUTE_MODES.join(", ")
            )));
        }
        if previous.and_then(|p| p.enable_script_context) == Some(true)
            && o.enable_script_context != Some(true)
        {
            return Err(CoreError::bad_request(
                "options.enable_script_context cannot be disabled once it has been enabled",
            ));
        }
        let empty = BTreeMap::new();
        let scripts = o.custom_scripts.as_ref().unwrap_or(&empty);
        for (name, source) in scripts {
            if !SCRIPT_NAMES.contains(&name.as_str()) {
                return Err(CoreError::bad_request(format!(
                    "options.customScripts.{name} is not a supported script; use {}",
                    SCRIPT_NAMES.join(", ")
                )));
            }
            if source.len() > MAX_SCRIPT_BYTES {
                return Err(CoreError::bad_request(format!(
                    "options.customScripts.{name} is {} bytes; a script must not exceed 100 KB",
                    source.len()
                )));
            }
        }
        if custom {
            if scripts.contains_key("change_email") && !scripts.contains_key("get_user") {
                return Err(CoreError::bad_request(
                    "The change_email script requires the get_user script",
                ));
            }
            if !scripts.contains_key("login") {
                return Err(CoreError::bad_request(
                    "A custom database connection needs at least the login script (options.customScripts.login)",
                ));
            }
        }
        for (name, source) in scripts {
            if let Err(e) = self.scripts.check(name, source) {
                let at = e.line.map(|l| format!(" (line {l})")).unwrap_or_default();
                return Err(CoreError::bad_request(format!(
                    "options.customScripts.{name}: {}{at}",
                    e.message
                )));
            }
        }
        if let Some(cfg) = &o.configuration {
            if cfg.len() > 100 {
                return Err(CoreError::bad_request(
                    "options.configuration holds at most 100 keys",
                ));
            }
            for (k, v) in cfg {
                if k.is_empty() || k.len() > 128 || v.len() > 16 * 1024 {
                    return Err(CoreError::bad_request(format!(
                        "options.configuration.{k}: keys are 1-128 characters, values at most 16 KB"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Seals plaintext configuration values; a value that is already a token sealed for this
    /// connection and key (as GET returns it) is kept as it is.
    fn seal_configuration(&self, tenant_id: &str, connection_id: &str, o: &mut ConnectionOptions) {
        if let Some(cfg) = o.configuration.as_mut() {
            for (k, v) in cfg.iter_mut() {
                let aad = config_aad(tenant_id, connection_id, k);
                if self.sealer.open(v, &aad).is_err() {
                    *v = self.sealer.seal(v.as_bytes(), &aad);
                }
            }
        }
    }

    /// The plaintext configuration of a connection, for the script runtime only.
    pub fn connection_configuration(
        &self,
        t: &TenantCtx,
        c: &Connection,
    ) -> Result<BTreeMap<String, String>, CoreError> {
        let mut out = BTreeMap::new();
        let cfg = c
            .body
            .options
            .as_ref()
            .and_then(|o| o.configuration.as_ref());
        for (k, v) in cfg.into_iter().flatten() {
            let plain = self
                .sealer
                .open(v, &config_aad(&t.id, &c.id, k))
                .map_err(|_| {
                    CoreError::internal(format!(
                        "configuration value {k} of connection {} cannot be opened",
                        c.id
                    ))
                })?;
            out.insert(k.clone(), String::from_utf8_lossy(&plain).into_owned());
        }
        Ok(out)
    }

    async fn check_enabled_clients(
        &self,
        t: &TenantCtx,
        b: &ConnectionBody,
    ) -> Result<(), CoreError> {
        for c in b.enabled_clients.as_deref().unwrap_or_default() {
            if self.client_fetch(t, c).await?.is_none() {
                return Err(CoreError::bad_request(format!(
                    "enabled_clients: client {c} does not exist"
                )));
            }
        }
        Ok(())
    }

    fn connection_doc(&self, c: &Connection, created_at: i64) -> Result<Doc, CoreError> {
        Ok(Doc {
            id: c.id.clone(),
            key: c.body.name.clone().unwrap_or_default(),
            ref_id: None,
            body: crate::model::to_body(&c.body)?,
            created_at,
            updated_at: self.now(),
        })
    }

    /// The database (`auth0`) connections enabled for client `client_id`, oldest first.
    pub async fn database_connections_of(
        &self,
        t: &TenantCtx,
        client_id: &str,
    ) -> Result<Vec<Connection>, CoreError> {
        Ok(self
            .connections_all(t)
            .await?
            .into_iter()
            .filter(|c| {
                c.body.strategy.as_deref() == Some("auth0")
                    && c.body
                        .enabled_clients
                        .as_deref()
                        .unwrap_or_default()
                        .iter()
                        .any(|id| id == client_id)
            })
            .collect())
    }

    /// Every connection of the tenant, oldest first.
    pub(crate) async fn connections_all(
        &self,
        t: &TenantCtx,
    ) -> Result<Vec<Connection>, CoreError> {
        let (docs, _) = self
            .store
            .doc_list(&t.id, DocKind::Connection, None, crate::model::ALL)
            .await?;
        docs.into_iter().map(Self::connection_from_doc).collect()
    }

    pub(crate) fn connection_from_doc(d: Doc) -> Result<Connection, CoreError> {
        Ok(Connection {
            id: d.id,
            body: crate::model::from_body(d.body)?,
        })
    }

    /// A connection by id (no authorization: internal use).
    pub async fn connection_fetch(
        &self,
        t: &TenantCtx,
        id: &str,
    ) -> Result<Option<Connection>, CoreError> {
        self.store
            .doc_fetch(&t.id, DocKind::Connection, id)
            .await?
            .map(Self::connection_from_doc)
            .transpose()
    }

    /// A connection by name (no authorization: internal use).
    pub async fn connection_fetch_by_name(
        &self,
        t: &TenantCtx,
        name: &str,
    ) -> Result<Option<Connection>, CoreError> {
        self.store
            .doc_fetch_by_key(&t.id, DocKind::Connection, name)
            .await?
            .map(Self::connection_from_doc)
            .transpose()
    }
}

impl Management {
    pub async fn connection_create(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        body: JsonMap,
    ) -> Result<Connection, CoreError> {
        actor.require("create:connections")?;
        let mut b: ConnectionBody =
            serde_json::from_value(serde_json::Value::Object(body)).map_err(CoreError::payload)?;
        let name = b
            .name
            .clone()
            .ok_or_else(|| CoreError::payload("Missing required property: name"))?;
        validate_connection_name(&name)?;
        match b.strategy.as_deref() {
            None => return Err(CoreError::payload("Missing required property: strategy")),
            Some("auth0") => {}
            Some(s) => {
                return Err(CoreError::bad_request(format!(
                    "Strategy '{s}' is not supported by Sluice; use 'auth0' (database connections)"
                )));
            }
        }
        let mut options = b.options.take().unwrap_or_default();
        self.core.validate_options(&options, None)?;
        options.password_policy.get_or_insert_with(|| "good".into());
        options.brute_force_protection.get_or_insert(true);
        self.core.check_enabled_clients(t, &b).await?;
        let id = ids::connection_id();
        self.core.seal_configuration(&t.id, &id, &mut options);
        b.options = Some(options);
        b.realms.get_or_insert_with(|| vec![name.clone()]);
        b.enabled_clients.get_or_insert_with(Vec::new);
        b.is_domain_connection.get_or_insert(false);
        let c = Connection { id, body: b };
        let doc = self.core.connection_doc(&c, self.core.now())?;
        self.core
            .store
            .doc_insert(&t.id, DocKind::Connection, &doc)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => CoreError::Conflict {
                    code: "connection_conflict",
                    message: "A connection with the same name already exists".into(),
                },
                other => other.into(),
            })?;
        Ok(c)
    }

    pub async fn connection_get(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        id: &str,
    ) -> Result<Connection, CoreError> {
        actor.require("read:connections")?;
        self.core
            .connection_fetch(t, id)
            .await?
            .ok_or_else(not_found)
    }

    pub async fn connection_list(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        name: Option<&str>,
        q: PageQuery,
    ) -> Result<Listed<Connection>, CoreError> {
        actor.require("read:connections")?;
        let page = q.to_page()?;
        if let Some(name) = name {
            let items: Vec<Connection> = self
                .core
                .connection_fetch_by_name(t, name)
                .await?
                .into_iter()
                .collect();
            let total = items.len() as i64;
            return Ok(Listed {
                items,
                start: 0,
                limit: page.limit,
                total,
                include_totals: q.include_totals,
            });
        }
        let (docs, total) = self
            .core
            .store
            .doc_list(&t.id, DocKind::Connection, None, page)
            .await?;
        let items = docs
            .into_iter()
            .map(Core::connection_from_doc)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Listed {
            items,
            start: page.offset,
            limit: page.limit,
            total,
            include_totals: q.include_totals,
        })
    }

    /// PATCH: `name` and `strategy` cannot change; `options` is replaced whole (Auth0).
    pub async fn connection_update(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        id: &str,
        patch: JsonMap,
        force: bool,
    ) -> Result<Connection, CoreError> {
        actor.require("update:connections")?;
        for fixed in ["name", "strategy"] {
            if patch.contains_key(fixed) {
                return Err(CoreError::payload(format!(
                    "Additional properties not allowed: {fixed}"
                )));
            }
        }
        let doc = self
            .core
            .store
            .doc_fetch(&t.id, DocKind::Connection, id)
            .await?
            .ok_or_else(not_found)?;
        let mut c = Core::connection_from_doc(doc.clone())?;
        let previous = c.body.options.clone();
        let mut b =
            sluice_types::patch::merge_top_level(&c.body, patch).map_err(CoreError::payload)?;
        let mut options = b.options.take().unwrap_or_default();
        self.core.validate_options(&options, previous.as_ref())?;
        self.core.check_enabled_clients(t, &b).await?;
        self.core.seal_configuration(&t.id, &c.id, &mut options);
        b.options = Some(options);
        let becomes = StoreMode::of_options(b.options.as_ref());
        if StoreMode::of(&c).scripted() && becomes == StoreMode::Local && !force {
            self.refuse_stranding(t, &c).await?;
        }
        c.body = b;
        self.core
            .store
            .doc_update(
                &t.id,
                DocKind::Connection,
                &self.core.connection_doc(&c, doc.created_at)?,
            )
            .await?;
        Ok(c)
    }

    pub async fn connection_delete(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        id: &str,
    ) -> Result<(), CoreError> {
        actor.require("delete:connections")?;
        if !self
            .core
            .store
            .doc_delete(&t.id, DocKind::Connection, id)
            .await?
        {
            return Err(not_found());
        }
        Ok(())
    }

    /// `GET /api/v2/connections/{id}/migration` (a Sluice extension): where the connection's
    /// users are in the migration off its legacy store.
    pub async fn connection_migration(
        &self,
        t: &TenantCtx,
        actor: &Actor,
        id: &str,
    ) -> Result<serde_json::Value, CoreError> {
        actor.require("read:connections")?;
        let c = self
            .core
            .connection_fetch(t, id)
            .await?
            .ok_or_else(not_found)?;
        self.progress(t, &c).await
    }

    /// Where the users of connection `c` are in the migration off its legacy store.
    async fn progress(
        &self,
        t: &TenantCtx,
        c: &Connection,
    ) -> Result<serde_json::Value, CoreError> {
        let name = c.body.name.clone().unwrap_or_default();
        let n = self.core.store.user_origin_counts(&t.id, &name).await?;
        let mode = match StoreMode::of(c) {
            StoreMode::Local => "local",
            StoreMode::Legacy => "legacy",
            StoreMode::Import => "import",
        };
        Ok(serde_json::json!({
            "connection_id": c.id,
            "connection": name,
            "mode": mode,
            "users": {
                "total": n.local + n.migrated + n.legacy_cached,
                "migrated_by_login": n.migrated,
                "legacy_cached": n.legacy_cached,
                "created_locally": n.local,
            },
            // Who could no longer log in if "use my own database" were turned off now: legacy
            // mode keeps no password for them. (Users of the legacy store that Sluice has never
            // seen are not counted: only the legacy store knows them.)
            "stranded_if_switched_off": n.legacy_cached,
        }))
    }

    /// [`connection_migration`](Self::connection_migration) of every database connection of
    /// the tenant that has, or had, users from a custom database (or runs one now).
    pub async fn migrations_all(
        &self,
        t: &TenantCtx,
        actor: &Actor,
    ) -> Result<Vec<serde_json::Value>, CoreError> {
        actor.require("read:connections")?;
        let mut out = Vec::new();
        for c in self.core.connections_all(t).await? {
            let p = self.progress(t, &c).await?;
            let users = &p["users"];
            if p["mode"] != "local"
                || users["migrated_by_login"] != 0
                || users["legacy_cached"] != 0
            {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// Refuses to turn the custom database of `c` off while users cached from its legacy store
    /// (who have no password here) would be stranded.
    async fn refuse_stranding(&self, t: &TenantCtx, c: &Connection) -> Result<(), CoreError> {
        let name = c.body.name.clone().unwrap_or_default();
        let n = self.core.store.user_origin_counts(&t.id, &name).await?;
        if n.legacy_cached == 0 {
            return Ok(());
        }
        Err(CoreError::BadRequest {
            code: "operation_not_allowed",
            message: format!(
                "{} user(s) of this connection exist only in its legacy store (Sluice keeps no password for them); turning off the custom database would leave them unable to log in. Migrate them first (import mode), or repeat the request with ?force=true. GET /api/v2/connections/{}/migration lists the counts.",
                n.legacy_cached, c.id
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_names_follow_auth0_rules() {
        for ok in ["db", "my-custom-db", "A1", &"a".repeat(35)] {
            assert!(validate_connection_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-db", "db-", "my db", "my_db", &"a".repeat(36)] {
            assert!(validate_connection_name(bad).is_err(), "{bad}");
        }
    }
}
