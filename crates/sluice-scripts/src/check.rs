//! Compile-only syntax check of an action script.
//!
//! A script is the text of one function expression. It is compiled as the global script
//! `(<script>\n)` with QuickJS's compile-only flag: parsed to bytecode and never evaluated, so
//! nothing in it runs even if the text tries to close the parenthesis and add statements. Each
//! check uses a fresh, small QuickJS runtime with a memory limit and a deadline, so a hostile text
//! can cost at most that.

use rquickjs::{Context, Ctx, Runtime, qjs};
use sluice_core::ports::{ScriptChecker, ScriptSyntaxError};
use std::ffi::CString;
use std::time::{Duration, Instant};

/// Lines before the script's first line (the `(` shares its first line).
const LINE_OFFSET: u32 = 0;
const CHECK_MEMORY: usize = 32 * 1024 * 1024;
const CHECK_DEADLINE: Duration = Duration::from_secs(2);

#[derive(Debug, Default, Clone, Copy)]
pub struct SyntaxChecker;

/// Compiles `source` as global code without running it; `Err` carries the pending exception.
#[allow(unsafe_code)]
fn compile_only(ctx: &Ctx<'_>, source: &CString, filename: &CString) -> Result<(), ()> {
    let raw = ctx.as_raw().as_ptr();
    let flags = (qjs::JS_EVAL_TYPE_GLOBAL | qjs::JS_EVAL_FLAG_COMPILE_ONLY) as i32;
    // SAFETY: `raw` is the live context borrowed through `ctx` for this call; `source` and
    // `filename` are NUL-terminated and outlive the call (QuickJS requires input[len] == 0, which
    // CString guarantees). The returned value is either an exception marker (nothing to free)
    // or compiled bytecode that we own and free at once with the same context.
    unsafe {
        let v = qjs::JS_Eval(
            raw,
            source.as_ptr(),
            source.as_bytes().len() as _,
            filename.as_ptr(),
            flags,
        );
        if qjs::JS_IsException(v) {
            return Err(());
        }
        qjs::JS_FreeValue(raw, v);
    }
    Ok(())
}

impl SyntaxChecker {
    fn compile(script_name: &str, source: &str) -> Result<(), ScriptSyntaxError> {
        let engine = |m: String| ScriptSyntaxError {
            message: m,
            line: None,
        };
        // Rules, hooks and actions are checked in the form the runtime compiles them.
        let adapted = match sluice_core::ports::ScriptKind::from_script_name(script_name) {
            Some(kind) => crate::adapt::adapt(kind, source),
            None => std::borrow::Cow::Borrowed(source),
        };
        let text = CString::new(format!("({adapted}\n)"))
            .map_err(|_| engine("the script contains a NUL character".into()))?;
        let filename = CString::new(format!("{script_name}.js"))
            .map_err(|_| engine("invalid script name".into()))?;
        let rt = Runtime::new().map_err(|e| engine(format!("script engine unavailable: {e}")))?;
        rt.set_memory_limit(CHECK_MEMORY);
        rt.set_max_stack_size(1024 * 1024);
        let deadline = Instant::now() + CHECK_DEADLINE;
        rt.set_interrupt_handler(Some(Box::new(move || Instant::now() > deadline)));
        let ctx =
            Context::full(&rt).map_err(|e| engine(format!("script engine unavailable: {e}")))?;
        ctx.with(|ctx| match compile_only(&ctx, &text, &filename) {
            Ok(()) => Ok(()),
            Err(()) => {
                let caught = ctx.catch();
                let (message, line) = match caught.as_exception() {
                    Some(ex) => (
                        ex.message().unwrap_or_else(|| "syntax error".into()),
                        ex.as_object()
                            .get::<_, Option<u32>>("lineNumber")
                            .ok()
                            .flatten()
                            .or_else(|| ex.stack().as_deref().and_then(line_from_stack)),
                    ),
                    None => ("syntax error".to_string(), None),
                };
                Err(ScriptSyntaxError {
                    message: format!("SyntaxError: {message}"),
                    line: line.map(|l| l.saturating_sub(LINE_OFFSET).max(1)),
                })
            }
        })
    }
}

/// The line of the first `:line:col` position in a QuickJS stack trace.
fn line_from_stack(stack: &str) -> Option<u32> {
    stack.lines().find_map(|l| {
        let mut parts = l.trim_end_matches(')').rsplit(':');
        let _col = parts.next()?.parse::<u32>().ok()?;
        parts.next()?.parse::<u32>().ok()
    })
}

impl ScriptChecker for SyntaxChecker {
    fn check(&self, script_name: &str, source: &str) -> Result<(), ScriptSyntaxError> {
        if source.trim().is_empty() {
            return Err(ScriptSyntaxError {
                message: "the script is empty".into(),
                line: None,
            });
        }
        Self::compile(script_name, source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth0_style_scripts_compile() {
        let c = SyntaxChecker;
        for s in [
            "function login(email, password, callback) { callback(null, { user_id: '1' }); }",
            "async function (email, callback) { const r = await fetch('x'); callback(null, null); }",
            "function getByEmail(email, callback) {\n  const x = 010;\n  callback();\n}",
            "(email, cb) => cb()",
        ] {
            assert!(
                c.check("login", s).is_ok(),
                "{s}: {:?}",
                c.check("login", s)
            );
        }
    }

    #[test]
    fn syntax_error_reports_script_line() {
        let src = "function login(email, password, callback) {\n  var x = 1;\n  var y = ;\n}";
        let e = SyntaxChecker.check("login", src).unwrap_err();
        assert!(e.message.starts_with("SyntaxError"), "{e:?}");
        assert_eq!(e.line, Some(3), "{e:?}");
    }

    #[test]
    fn checking_never_runs_the_script_even_when_it_tries_to_escape_the_wrapper() {
        // If this ran, the loop would hit the deadline; a body that closes the wrapper is a
        // syntax error instead.
        // A text that closes the parenthesis and appends a statement compiles but must not run:
        // if it ran, the loop would spin until the 2 s deadline.
        let started = Instant::now();
        let _ = SyntaxChecker.check("login", "0); while(true){} ; (0");
        assert!(
            SyntaxChecker
                .check("login", "0)}); while(true){} ; (function(){(0")
                .is_err()
        );
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(
            SyntaxChecker
                .check("login", "function f(){ while(true){} }")
                .is_ok()
        );
    }

    #[test]
    fn empty_script_is_rejected() {
        assert!(SyntaxChecker.check("login", "  \n").is_err());
    }
}
