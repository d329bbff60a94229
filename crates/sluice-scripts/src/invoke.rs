//! One invocation's state and the marshaling between JavaScript and Rust: the callback's
//! `(err, result)` becomes `Result<serde_json::Value, ScriptFailure>`; errors are classified by
//! Auth0's error classes (read by their fields, as the Auth0 sandbox serialises them: `name`,
//! `message`, `code`, `description`, `user_id`, `stack`).

use crate::plain::{PlainError, PlainReader, data_string, error_stack};
use rquickjs::{Ctx, Function, Value};
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
            w.push(clip(text, MAX_WARNING_TEXT));
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

/// Whether an error message is one of the engine's limit errors.
pub fn is_limit_message(message: &str) -> bool {
    message == "out of memory"
        || message.contains("stack overflow")
        || message.contains("Maximum call stack")
}

/// Longest error message, code, name or user id kept from a script (bytes); the rest is cut.
pub const MAX_ERROR_TEXT: usize = 4096;
/// Longest stack trace kept from a script (bytes).
pub const MAX_STACK_TEXT: usize = 16 * 1024;
/// Longest runtime warning kept (bytes).
pub const MAX_WARNING_TEXT: usize = 2048;

/// `text` cut to at most `max` bytes (on a character boundary), marked when cut.
pub fn clip(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let dropped = text.len() - cut;
        text.truncate(cut);
        text.push_str(&format!("... [{dropped} more bytes]"));
    }
    text
}

/// Classifies what the script passed to the callback (or threw) as its error. Its texts are
/// clipped ([`MAX_ERROR_TEXT`], [`MAX_STACK_TEXT`]): they go to logs and to clients.
pub fn failure_from_js<'js>(ctx: &Ctx<'js>, err: Value<'js>) -> ScriptFailure {
    let text = |v: Option<String>| v.map(|t| clip(t, MAX_ERROR_TEXT));
    if let Some(s) = err.as_string() {
        let message = clip(s.to_string().unwrap_or_default(), MAX_ERROR_TEXT);
        return ScriptFailure::Error {
            name: "Error".into(),
            message,
            stack: None,
        };
    }
    let Some(o) = err.as_object() else {
        // Never through JSON.stringify: that would call a planted `Number.prototype.toJSON`.
        let message = if let Some(b) = err.as_bool() {
            b.to_string()
        } else if let Some(n) = err.as_number() {
            n.to_string()
        } else {
            "non-Error value".into()
        };
        return ScriptFailure::Error {
            name: "Error".into(),
            message,
            stack: None,
        };
    };
    let name = text(data_string(ctx, o, "name")).unwrap_or_else(|| "Error".into());
    let message = text(data_string(ctx, o, "message")).unwrap_or_default();
    let code = text(data_string(ctx, o, "code"));
    let stack = error_stack(ctx, o).map(|t| clip(t, MAX_STACK_TEXT));
    match name.as_str() {
        "WrongUsernameOrPasswordError" => ScriptFailure::WrongCredentials {
            user_id: text(data_string(ctx, o, "user_id")).filter(|u| !u.is_empty()),
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

/// The callback's result as JSON, read as plain data (see [`crate::plain`]) and capped at
/// `max_bytes` of serialised size.
pub fn result_from_js<'js>(
    ctx: &Ctx<'js>,
    date_json: &Function<'js>,
    v: Value<'js>,
    max_bytes: usize,
) -> Result<serde_json::Value, ScriptFailure> {
    match PlainReader::new(ctx, date_json, max_bytes).read(&v) {
        Ok(j) => Ok(j.unwrap_or(serde_json::Value::Null)),
        Err(PlainError::TooLarge { limit }) => Err(ScriptFailure::Limit {
            message: format!(
                "the callback's result is over {limit} bytes serialised; the limit is {limit}"
            ),
        }),
        Err(PlainError::NotPlain(why)) => Err(ScriptFailure::Error {
            name: "TypeError".into(),
            message: format!("the callback's result cannot be serialised: {why}"),
            stack: None,
        }),
    }
}
