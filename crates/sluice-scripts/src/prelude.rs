//! The prelude (`prelude.js`): the script environment every container installs first — Auth0's
//! error classes, console, timers, `require`, `process`, the invocation contract. It is compiled
//! once per process to QuickJS bytecode ([`compile`]) and loaded into each new container
//! ([`load`]) as a *script*, not a module: once the prelude function has run, its own bytecode
//! and the script's are freed, and a container keeps only the closures the prelude handed out
//! (a module would keep its top-level function, and with it the whole prelude, for its life).

use rquickjs::{Ctx, Function, Value, qjs};
use std::ffi::CString;

/// The prelude's source: one function expression taking the host object.
pub const SOURCE: &str = include_str!("prelude.js");

const FILENAME: &std::ffi::CStr = c"sluice:prelude";

/// Compiles the prelude to bytecode (strict, without source text or debug information).
#[allow(unsafe_code)]
pub fn compile() -> Result<Vec<u8>, String> {
    let rt = rquickjs::Runtime::new().map_err(|e| e.to_string())?;
    let ctx = rquickjs::Context::full(&rt).map_err(|e| e.to_string())?;
    ctx.with(|ctx| {
        let source = CString::new(SOURCE).map_err(|e| e.to_string())?;
        let raw = ctx.as_raw().as_ptr();
        let flags =
            qjs::JS_EVAL_TYPE_GLOBAL | qjs::JS_EVAL_FLAG_STRICT | qjs::JS_EVAL_FLAG_COMPILE_ONLY;
        // SAFETY: `raw` is this locked context; the source is NUL-terminated and outlives the
        // call; the returned value is owned here and freed below (or by `Value`'s drop).
        let compiled = unsafe {
            qjs::JS_Eval(
                raw,
                source.as_ptr(),
                SOURCE.len() as _,
                FILENAME.as_ptr(),
                flags as i32,
            )
        };
        // SAFETY: `compiled` is an owned value of this context; `Value` frees it on drop.
        let compiled = unsafe { Value::from_raw(ctx.clone(), compiled) };
        if compiled.is_exception() {
            return Err(format!("prelude: {:?}", ctx.catch()));
        }
        let mut len: qjs::size_t = 0;
        let wflags = qjs::JS_WRITE_OBJ_BYTECODE
            | qjs::JS_WRITE_OBJ_STRIP_SOURCE
            | qjs::JS_WRITE_OBJ_STRIP_DEBUG;
        // SAFETY: writes the compiled function object (borrowed) to a buffer the engine
        // allocates; the buffer is copied and freed with the context's allocator.
        unsafe {
            let buf = qjs::JS_WriteObject(raw, &mut len, compiled.as_raw(), wflags as i32);
            if buf.is_null() {
                return Err(format!("prelude: {:?}", ctx.catch()));
            }
            let bytes = std::slice::from_raw_parts(buf, len as usize).to_vec();
            qjs::js_free(raw, buf.cast());
            Ok(bytes)
        }
    })
}

/// Loads the bytecode from [`compile`] and runs it: the value is the prelude function.
#[allow(unsafe_code)]
pub fn load<'js>(ctx: &Ctx<'js>, bytecode: &[u8]) -> rquickjs::Result<Function<'js>> {
    let raw = ctx.as_raw().as_ptr();
    // SAFETY: the bytes are exactly what `compile` wrote with this same engine build in this
    // process (never read from outside); QuickJS copies what it reads. `JS_EvalFunction` takes
    // ownership of the function object and returns an owned value, which `Value` frees.
    let value = unsafe {
        let f = qjs::JS_ReadObject(
            raw,
            bytecode.as_ptr(),
            bytecode.len() as _,
            qjs::JS_READ_OBJ_BYTECODE as i32,
        );
        if qjs::JS_IsException(f) {
            return Err(rquickjs::Error::Exception);
        }
        Value::from_raw(ctx.clone(), qjs::JS_EvalFunction(raw, f))
    };
    if value.is_exception() {
        return Err(rquickjs::Error::Exception);
    }
    value.get()
}
