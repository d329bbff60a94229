//! `sluice scripts run`: run one action script locally, against real databases and services,
//! and print its callback result, captured console output and timing — the local harness
//! Auth0 users never had. Accepts a script file or a connection directory in auth0-deploy-cli
//! layout (`login.js`, `get_user.js`, ...).

use serde_json::{Value, json};
use sluice_core::ports::{ScriptFailure, ScriptKind, ScriptRequest, ScriptRunner};
use sluice_scripts::{Limits, ScriptRuntime};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The script file (one function expression)
    #[arg(long, conflicts_with = "dir")]
    pub script: Option<PathBuf>,
    /// A connection directory holding <kind>.js files (auth0-deploy-cli layout)
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// JSON object of configuration values (the script's `configuration`)
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// JSON context object inserted before the callback (enable_script_context)
    #[arg(long)]
    pub context: Option<PathBuf>,
    /// Deadline in seconds
    #[arg(long, default_value_t = 20)]
    pub timeout: u64,
    /// login | get_user | create | verify | change_password | delete | change_email
    pub kind: String,
    /// The script's arguments: strings; a JSON object for `create`; true/false for the last
    /// argument of `change_email`
    pub args: Vec<String>,
}

fn kind_of(s: &str) -> Option<ScriptKind> {
    let key = match s {
        "getUser" | "get-user" => "get_user",
        "changePassword" | "change-password" => "change_password",
        "changeEmail" | "change-email" => "change_email",
        "deleteUser" | "remove" => "delete",
        other => other,
    };
    ScriptKind::from_key(key)
}

fn read_json(path: &PathBuf) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Builds the request from the command line.
pub fn request(a: &RunArgs) -> Result<ScriptRequest, String> {
    let kind = kind_of(&a.kind).ok_or_else(|| format!("unknown script kind '{}'", a.kind))?;
    let path = match (&a.script, &a.dir) {
        (Some(p), _) => p.clone(),
        (None, Some(d)) => d.join(format!("{}.js", kind.key())),
        (None, None) => return Err("give --script FILE or --dir CONNECTION_DIR".into()),
    };
    let source = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    if a.args.len() != kind.arity() {
        return Err(format!(
            "{} takes {} argument(s), got {}",
            kind.key(),
            kind.arity(),
            a.args.len()
        ));
    }
    let args = a
        .args
        .iter()
        .enumerate()
        .map(|(i, s)| match (kind, i) {
            (ScriptKind::Create, 0) => serde_json::from_str(s)
                .map_err(|e| format!("the user argument must be a JSON object: {e}")),
            (ScriptKind::ChangeEmail, 2) => Ok(Value::Bool(s == "true")),
            _ => Ok(Value::String(s.clone())),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut configuration = BTreeMap::new();
    if let Some(p) = &a.config {
        let v = read_json(p)?;
        let obj = v.as_object().ok_or("--config must hold a JSON object")?;
        for (k, v) in obj {
            configuration.insert(
                k.clone(),
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string()),
            );
        }
    }
    let context = a.context.as_ref().map(read_json).transpose()?;
    Ok(ScriptRequest {
        tenant_id: "local".into(),
        connection: None,
        kind,
        source: source.into(),
        args,
        context,
        configuration,
    })
}

fn failure_json(f: &ScriptFailure) -> Value {
    match f {
        ScriptFailure::WrongCredentials { user_id, message } => {
            json!({"kind": "WrongUsernameOrPasswordError", "user_id": user_id, "message": message})
        }
        ScriptFailure::Validation { code, message } => {
            json!({"kind": "ValidationError", "code": code, "message": message})
        }
        ScriptFailure::Unauthorized { message } => {
            json!({"kind": "UnauthorizedError", "message": message})
        }
        ScriptFailure::Error {
            name,
            message,
            stack,
        } => json!({"kind": "Error", "name": name, "message": message, "stack": stack}),
        ScriptFailure::Timeout { message } => json!({"kind": "Timeout", "message": message}),
        ScriptFailure::Limit { message } => json!({"kind": "LimitExceeded", "message": message}),
        ScriptFailure::Runtime { message } => json!({"kind": "RuntimeError", "message": message}),
    }
}

/// Runs the script; prints the report as JSON; returns whether the script succeeded.
pub async fn run(a: RunArgs) -> Result<bool, String> {
    let req = request(&a)?;
    let rt = ScriptRuntime::new(Limits {
        deadline: Duration::from_secs(a.timeout.max(1)),
        ..Limits::default()
    });
    let out = rt.run(req).await;
    let report = json!({
        "result": out.result.as_ref().ok(),
        "error": out.result.as_ref().err().map(failure_json),
        "console": out.console.iter().map(|l| json!({"level": l.level, "text": l.text})).collect::<Vec<_>>(),
        "warnings": out.warnings,
        "elapsed_ms": (out.elapsed.as_secs_f64() * 1000.0 * 100.0).round() / 100.0,
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&report).unwrap_or_default()
    );
    Ok(out.result.is_ok())
}
