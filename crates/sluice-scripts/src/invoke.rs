//! One invocation's state and the marshaling between JavaScript and Rust: the callback's
//! `(err, result)` becomes `Result<serde_json::Value, ScriptFailure>`; errors are classified by
//! Auth0's error classes (read by their fields, as the Auth0 sandbox serialises them: `name`,
//! `message`, `code`, `description`, `user_id`, `stack`).

use rquickjs::{Ctx, Object, Value};
use sluice_core::ports::{ConsoleLine, ScriptFailure};
use std::cell::{Cell, RefCell};
use std::time::Instant;

/// State shared between the container and the native functions it gives the script.
#[derive(Default)]
pub struct Shared {
    /// The running invocation's deadline (the interrupt handler reads it).
    pub deadline: Cell<Option<Instant>>,
    pub console: RefCell<Vec<ConsoleLine>>,
    pub console_bytes: Cell<usize>,
    pub console_truncated: Cell<bool>,
    pub warnings: RefCell<Vec<String>>,
    /// Warnings past [`MAX_WARNINGS`] in this invocation: counted, not kept.
    pub warnings_dropped: Cell<usize>,
    /// The callback's outcome, once called.
    pub outcome: RefCell<Option<Result<serde_json::Value, ScriptFailure>>>,
    pub notify: tokio::sync::Notify,
    /// Timers scheduled and not yet fired or cleared (at most [`MAX_TIMERS`]), each with the
    /// signal that wakes its task when it is cleared.
    pub live_timers: RefCell<std::collections::HashMap<u32, std::rc::Rc<tokio::sync::Notify>>>,
}

/// Warnings kept per invocation (a script calling its callback a million times gets the
/// first ones and a count).
pub const MAX_WARNINGS: usize = 50;
/// Timers pending at once per container.
pub const MAX_TIMERS: usize = 10_000;

impl Shared {
    /// Starts a new invocation.
    pub fn begin(&self, deadline: Instant) {
        self.deadline.set(Some(deadline));
        self.console.borrow_mut().clear();
        self.console_bytes.set(0);
        self.console_truncated.set(false);
        self.warnings.borrow_mut().clear();
        self.warnings_dropped.set(0);
        *self.outcome.borrow_mut() = None;
    }

    pub fn end(&self) {
        self.deadline.set(None);
    }

    /// Records a runtime warning of the invocation (the first [`MAX_WARNINGS`]).
    pub fn warn(&self, text: String) {
        let mut w = self.warnings.borrow_mut();
        if w.len() < MAX_WARNINGS {
            w.push(text);
        } else {
            self.warnings_dropped.set(self.warnings_dropped.get() + 1);
        }
    }

    /// The invocation's warnings, with a count of those not kept.
    pub fn take_warnings(&self) -> Vec<String> {
        let mut w = std::mem::take(&mut *self.warnings.borrow_mut());
        let dropped = self.warnings_dropped.replace(0);
        if dropped > 0 {
            w.push(format!("... and {dropped} more warnings"));
        }
        w
    }

    /// Appends console output up to `cap` bytes per invocation.
    pub fn write_console(&self, level: &'static str, text: String, cap: usize) {
        if self.deadline.get().is_none() {
            return; // output of a timer firing between invocations belongs to no one
        }
        let used = self.console_bytes.get();
        if used >= cap {
            if !self.console_truncated.replace(true) {
                self.console.borrow_mut().push(ConsoleLine {
                    level: "warn",
                    text: format!("[console output truncated at {cap} bytes]"),
                });
            }
            return;
        }
        let mut text = text;
        if used + text.len() > cap {
            let mut cut = cap - used;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        self.console_bytes.set(used + text.len());
        self.console.borrow_mut().push(ConsoleLine { level, text });
    }

    /// Records the outcome unless one is already recorded; wakes the invocation.
    pub fn settle(&self, r: Result<serde_json::Value, ScriptFailure>) {
        if self.deadline.get().is_none() {
            return; // no invocation is running: a late timer or promise has no one to tell
        }
        let mut slot = self.outcome.borrow_mut();
        if slot.is_none() {
            *slot = Some(r);
            self.notify.notify_one();
        }
    }
}

fn get_string<'js>(o: &Object<'js>, key: &str) -> Option<String> {
    match o.get::<_, Value>(key) {
        Ok(v) if v.is_string() => v.as_string().and_then(|s| s.to_string().ok()),
        Ok(v) if v.is_number() => v.as_number().map(|n| n.to_string()),
        _ => None,
    }
}

/// Whether an error message is one of the engine's limit errors.
pub fn is_limit_message(message: &str) -> bool {
    message == "out of memory"
        || message.contains("stack overflow")
        || message.contains("Maximum call stack")
}

/// Classifies what the script passed to the callback (or threw) as its error.
pub fn failure_from_js<'js>(ctx: &Ctx<'js>, err: Value<'js>) -> ScriptFailure {
    if let Some(s) = err.as_string() {
        let message = s.to_string().unwrap_or_default();
        return ScriptFailure::Error {
            name: "Error".into(),
            message,
            stack: None,
        };
    }
    let Some(o) = err.as_object() else {
        let message = ctx
            .json_stringify(err.clone())
            .ok()
            .flatten()
            .and_then(|s| s.to_string().ok())
            .unwrap_or_else(|| "non-Error value".into());
        return ScriptFailure::Error {
            name: "Error".into(),
            message,
            stack: None,
        };
    };
    let name = get_string(o, "name").unwrap_or_else(|| "Error".into());
    let message = get_string(o, "message").unwrap_or_default();
    let code = get_string(o, "code");
    let stack = get_string(o, "stack");
    match name.as_str() {
        "WrongUsernameOrPasswordError" => ScriptFailure::WrongCredentials {
            user_id: get_string(o, "user_id").filter(|u| !u.is_empty()),
            message,
        },
        "ValidationError" => ScriptFailure::Validation {
            code: code.unwrap_or_default(),
            message,
        },
        "UnauthorizedError" => ScriptFailure::Unauthorized { message },
        "InternalError" | "RangeError" if is_limit_message(&message) => {
            ScriptFailure::Limit { message }
        }
        _ => ScriptFailure::Error {
            name,
            message,
            stack,
        },
    }
}

/// The callback's result as JSON, using the engine's own serialiser (immune to a script that
/// replaced `JSON.stringify`), capped at `max_bytes`.
pub fn result_from_js<'js>(
    ctx: &Ctx<'js>,
    v: Value<'js>,
    max_bytes: usize,
) -> Result<serde_json::Value, ScriptFailure> {
    if v.is_undefined() || v.is_null() {
        return Ok(serde_json::Value::Null);
    }
    let text = match ctx.json_stringify(v) {
        Ok(Some(s)) => s.to_string().unwrap_or_default(),
        Ok(None) => return Ok(serde_json::Value::Null),
        Err(_) => {
            let caught = ctx.catch();
            let message = caught
                .as_exception()
                .and_then(|e| e.message())
                .unwrap_or_else(|| "the callback's result cannot be serialised".into());
            return Err(ScriptFailure::Error {
                name: "TypeError".into(),
                message: format!("the callback's result cannot be serialised: {message}"),
                stack: None,
            });
        }
    };
    if text.len() > max_bytes {
        return Err(ScriptFailure::Limit {
            message: format!(
                "the callback's result is {} bytes; the limit is {max_bytes}",
                text.len()
            ),
        });
    }
    serde_json::from_str(&text).map_err(|e| ScriptFailure::Error {
        name: "TypeError".into(),
        message: format!("the callback's result is not valid JSON: {e}"),
        stack: None,
    })
}
