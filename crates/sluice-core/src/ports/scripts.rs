//! The script vocabulary and its ports: which action script or extensibility point runs
//! ([`ScriptKind`], [`Trigger`]), one invocation ([`ScriptRequest`]) and what it gave
//! ([`ScriptOutcome`], [`ScriptFailure`]); [`ScriptRunner`] runs scripts and [`ScriptChecker`]
//! compiles them when they are saved. `sluice-scripts` implements both.

use async_trait::async_trait;

/// A syntax error found when a stored script was compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptSyntaxError {
    pub message: String,
    /// 1-based line in the script text, when the engine reports one.
    pub line: Option<u32>,
}

/// Compiles a script without running it (implemented by the script runtime).
pub trait ScriptChecker: Send + Sync {
    fn check(&self, script_name: &str, source: &str) -> Result<(), ScriptSyntaxError>;
}

/// Which action script runs; decides its positional arguments and how its result is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScriptKind {
    Login,
    GetUser,
    Create,
    Verify,
    ChangePassword,
    Delete,
    ChangeEmail,
    /// A rule, `function (user, context, callback)`; the runtime gives it the `auth0` object
    /// and reads `{user, context, persist}` back.
    Rule,
    /// A hook in Auth0's `module.exports = function (...)` form.
    Hook(Trigger),
    /// An action's `exports.onExecute<Trigger>(event, api)`; the runtime reads back what the
    /// handler asked of `api`.
    Action(Trigger),
}

/// The extensibility points Hooks and Actions run at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    PostLogin,
    CredentialsExchange,
    PreUserRegistration,
    PostUserRegistration,
    PostChangePassword,
}

impl Trigger {
    /// Auth0's trigger id.
    pub fn id(self) -> &'static str {
        match self {
            Trigger::PostLogin => "post-login",
            Trigger::CredentialsExchange => "credentials-exchange",
            Trigger::PreUserRegistration => "pre-user-registration",
            Trigger::PostUserRegistration => "post-user-registration",
            Trigger::PostChangePassword => "post-change-password",
        }
    }

    pub fn from_id(id: &str) -> Option<Trigger> {
        [
            Trigger::PostLogin,
            Trigger::CredentialsExchange,
            Trigger::PreUserRegistration,
            Trigger::PostUserRegistration,
            Trigger::PostChangePassword,
        ]
        .into_iter()
        .find(|t| t.id() == id)
    }

    /// The exported handler an action defines for this trigger.
    pub fn action_handler(self) -> &'static str {
        match self {
            Trigger::PostLogin => "onExecutePostLogin",
            Trigger::CredentialsExchange => "onExecuteCredentialsExchange",
            Trigger::PreUserRegistration => "onExecutePreUserRegistration",
            Trigger::PostUserRegistration => "onExecutePostUserRegistration",
            Trigger::PostChangePassword => "onExecutePostChangePassword",
        }
    }
}

impl ScriptKind {
    /// The key in `options.customScripts` (database scripts), else a name for logs and file
    /// names (`rule`, `hook-<trigger>`, `action-<trigger>`).
    pub fn key(self) -> &'static str {
        match self {
            ScriptKind::Login => "login",
            ScriptKind::GetUser => "get_user",
            ScriptKind::Create => "create",
            ScriptKind::Verify => "verify",
            ScriptKind::ChangePassword => "change_password",
            ScriptKind::Delete => "delete",
            ScriptKind::ChangeEmail => "change_email",
            ScriptKind::Rule => "rule",
            ScriptKind::Hook(t) => match t {
                Trigger::PostLogin => "hook-post-login",
                Trigger::CredentialsExchange => "hook-credentials-exchange",
                Trigger::PreUserRegistration => "hook-pre-user-registration",
                Trigger::PostUserRegistration => "hook-post-user-registration",
                Trigger::PostChangePassword => "hook-post-change-password",
            },
            ScriptKind::Action(t) => match t {
                Trigger::PostLogin => "action-post-login",
                Trigger::CredentialsExchange => "action-credentials-exchange",
                Trigger::PreUserRegistration => "action-pre-user-registration",
                Trigger::PostUserRegistration => "action-post-user-registration",
                Trigger::PostChangePassword => "action-post-change-password",
            },
        }
    }

    /// The kind a checker is asked about by name: a database script key, `rule`,
    /// `hook:<trigger>` or `action:<trigger>`.
    pub fn from_script_name(name: &str) -> Option<ScriptKind> {
        if name == "rule" {
            return Some(ScriptKind::Rule);
        }
        if let Some(t) = name.strip_prefix("hook:") {
            return Trigger::from_id(t).map(ScriptKind::Hook);
        }
        if let Some(t) = name.strip_prefix("action:") {
            return Trigger::from_id(t).map(ScriptKind::Action);
        }
        ScriptKind::from_key(name)
    }

    pub fn from_key(key: &str) -> Option<ScriptKind> {
        [
            ScriptKind::Login,
            ScriptKind::GetUser,
            ScriptKind::Create,
            ScriptKind::Verify,
            ScriptKind::ChangePassword,
            ScriptKind::Delete,
            ScriptKind::ChangeEmail,
        ]
        .into_iter()
        .find(|k| k.key() == key)
    }

    /// How many positional arguments come before `context`/`callback`.
    pub fn arity(self) -> usize {
        match self {
            ScriptKind::Login | ScriptKind::ChangePassword | ScriptKind::Rule => 2,
            ScriptKind::ChangeEmail => 3,
            ScriptKind::Hook(Trigger::CredentialsExchange) => 4,
            ScriptKind::Hook(_) => 2,
            _ => 1,
        }
    }
}

/// One invocation of an action script.
#[derive(Clone)]
pub struct ScriptRequest {
    /// The tenant's id (`TenantCtx::id`): egress policy and settings are per tenant.
    pub tenant_id: String,
    /// The connection whose action script this is (its id): it runs in containers of that
    /// connection alone (its own `global`, modules and prototypes), so no other connection's
    /// script can read its configuration or tamper with its results. None: the tenant's
    /// Rules, Hooks and Actions, which share the tenant's extensibility containers.
    pub connection: Option<String>,
    pub kind: ScriptKind,
    /// The script text (one function expression).
    pub source: std::sync::Arc<str>,
    /// Positional arguments (e.g. `[email, password]` for login).
    pub args: Vec<serde_json::Value>,
    /// Inserted before the callback when the connection has `enable_script_context`.
    pub context: Option<serde_json::Value>,
    /// The connection's configuration, plaintext (frozen in the script's `configuration`).
    pub configuration: std::collections::BTreeMap<String, String>,
}

impl std::fmt::Debug for ScriptRequest {
    // Arguments carry passwords and configuration carries secrets: never print them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptRequest")
            .field("tenant_id", &self.tenant_id)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// How an invocation failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ScriptFailure {
    /// `WrongUsernameOrPasswordError(user_id, message)`.
    WrongCredentials {
        user_id: Option<String>,
        message: String,
    },
    /// `ValidationError(code, message)`.
    Validation { code: String, message: String },
    /// `UnauthorizedError(message)`: its message is meant for the end user.
    Unauthorized { message: String },
    /// Any other error the script passed or threw.
    Error {
        name: String,
        message: String,
        stack: Option<String>,
    },
    /// The deadline passed before the callback was called.
    Timeout { message: String },
    /// A memory, stack or output limit was hit.
    Limit { message: String },
    /// The runtime could not run the script (pool exhausted, engine failure).
    Runtime { message: String },
}

/// One captured `console` line.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsoleLine {
    /// `log`, `info`, `warn`, `error` or `debug`.
    pub level: &'static str,
    pub text: String,
}

/// What an invocation produced.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptOutcome {
    /// The callback's second argument as JSON (`null` when absent), or the failure.
    pub result: Result<serde_json::Value, ScriptFailure>,
    pub console: Vec<ConsoleLine>,
    /// Notes from the runtime itself (e.g. "callback called more than once").
    pub warnings: Vec<String>,
    pub elapsed: std::time::Duration,
}

/// Runs action scripts (implemented by sluice-scripts).
#[async_trait]
pub trait ScriptRunner: Send + Sync {
    async fn run(&self, request: ScriptRequest) -> ScriptOutcome;
}
