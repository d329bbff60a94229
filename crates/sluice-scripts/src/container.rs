//! A container: one QuickJS runtime and context serving one connection (or a tenant's
//! extensibility scripts), used by one invocation at a time on whichever worker thread runs it.
//! It owns the limits (memory, stack, deadline via the interrupt handler), the script
//! environment (prelude, console, timers, `configuration`, `global`) and a cache of compiled
//! scripts.

use crate::egress::ModuleEnv;
use crate::invoke::{Shared, failure_from_js, result_from_js};
use crate::limits::Limits;
use rquickjs::context::EvalOptions;
use rquickjs::{Array, AsyncContext, AsyncRuntime, Ctx, Function, Object, Persistent, Value};
use sluice_core::ports::{ScriptFailure, ScriptRequest};
use std::cell::RefCell;
use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Compiled scripts kept per container.
const SCRIPT_CACHE: usize = 64;

pub struct Container {
    // Field order matters: persistent values must drop before the context and runtime.
    /// The prelude's `invoke(fn, args, done)`, `setConfiguration(obj)`, and the native `done`.
    invoke: Persistent<Function<'static>>,
    set_configuration: Persistent<Function<'static>>,
    done: Persistent<Function<'static>>,
    scripts: RefCell<HashMap<u64, Persistent<Function<'static>>>>,
    /// The configuration currently installed (most invocations repeat it).
    configuration: RefCell<Option<std::collections::BTreeMap<String, String>>>,
    /// Invocations run, for the periodic heap check.
    runs: std::cell::Cell<u64>,
    /// Native work done for this container's invocations.
    native: crate::native::NativeWork,
    ctx: AsyncContext,
    rt: AsyncRuntime,
    /// The prelude bytecode the runtime may reference; dropped after the runtime.
    _prelude: Option<std::sync::Arc<Vec<u8>>>,
    shared: Rc<Shared>,
    limits: Limits,
    pub created: Instant,
    /// The engine's runtime, to re-anchor its stack limit ([`Container::anchor_stack`]).
    raw: std::ptr::NonNull<rquickjs::qjs::JSRuntime>,
}

fn eval_options(filename: &str) -> EvalOptions {
    let mut o = EvalOptions::default();
    o.global = true;
    o.strict = false;
    o.filename = Some(filename.to_string());
    o
}

fn level_name(level: &str) -> &'static str {
    match level {
        "info" => "info",
        "warn" => "warn",
        "error" => "error",
        "debug" => "debug",
        _ => "log",
    }
}

/// The native `done(err, result)` the invoke helper calls once per invocation: classifies and
/// records the outcome.
fn make_done<'js>(
    ctx: &Ctx<'js>,
    shared: Rc<Shared>,
    max: usize,
) -> rquickjs::Result<Function<'js>> {
    // The prelude passes its `dateJSON` helper as the third argument.
    Function::new(
        ctx.clone(),
        move |ctx: Ctx<'js>, err: Value<'js>, result: Value<'js>, date_json: Function<'js>| {
            let r = if err.is_null() || err.is_undefined() {
                result_from_js(&ctx, &date_json, result, max)
            } else {
                Err(failure_from_js(&ctx, err))
            };
            shared.settle(r);
        },
    )
}

/// A JSON value as a JavaScript value, built directly (no serialise-and-parse round trip).
fn json_to_js<'js>(ctx: &Ctx<'js>, v: &serde_json::Value) -> rquickjs::Result<Value<'js>> {
    use rquickjs::IntoJs;
    Ok(match v {
        serde_json::Value::Null => Value::new_null(ctx.clone()),
        serde_json::Value::Bool(b) => Value::new_bool(ctx.clone(), *b),
        serde_json::Value::Number(n) => match n.as_i64().and_then(|i| i32::try_from(i).ok()) {
            Some(i) => Value::new_int(ctx.clone(), i),
            None => Value::new_float(ctx.clone(), n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => s.as_str().into_js(ctx)?,
        serde_json::Value::Array(a) => {
            let arr = Array::new(ctx.clone())?;
            for (i, x) in a.iter().enumerate() {
                arr.set(i, json_to_js(ctx, x)?)?;
            }
            arr.into_value()
        }
        serde_json::Value::Object(m) => {
            let o = Object::new(ctx.clone())?;
            for (k, x) in m {
                o.set(k.as_str(), json_to_js(ctx, x)?)?;
            }
            o.into_value()
        }
    })
}

/// What a failed engine call means: the pending JS exception, classified, or an engine error.
fn engine_failure(ctx: &Ctx<'_>, e: rquickjs::Error) -> ScriptFailure {
    match e {
        rquickjs::Error::Exception => failure_from_js(ctx, ctx.catch()),
        other => ScriptFailure::Runtime {
            message: other.to_string(),
        },
    }
}

fn spawn_timer<'js>(
    ctx: Ctx<'js>,
    s: Rc<Shared>,
    id: u32,
    ms: f64,
    f: Function<'js>,
    repeat: bool,
    cap: usize,
) {
    let dur = Duration::from_secs_f64((ms / 1000.0).clamp(0.0, 86_400.0));
    let c = ctx.clone();
    let cleared = s.live_timers.borrow().get(&id).cloned();
    let Some(cleared) = cleared else { return };
    ctx.spawn(async move {
        loop {
            // A cleared timer's task ends at once, not when its delay would have passed.
            tokio::select! {
                _ = tokio::time::sleep(dur) => {}
                _ = cleared.notified() => break,
            }
            if !s.live_timers.borrow().contains_key(&id) {
                break; // cleared
            }
            if let Err(e) = f.call::<_, ()>(()) {
                let failure = engine_failure(&c, e);
                s.write_console(
                    "error",
                    format!("Uncaught exception in a timer callback: {failure:?}"),
                    cap,
                );
                s.settle(Err(failure));
                break;
            }
            if !repeat {
                break;
            }
        }
        s.live_timers.borrow_mut().remove(&id);
    });
}

/// Installs the native host functions and evaluates the prelude; returns the prelude's helpers.
fn install_environment<'js>(
    ctx: &Ctx<'js>,
    sh: &Rc<Shared>,
    cap: usize,
    env: &ModuleEnv,
    bytecode: Option<&[u8]>,
) -> rquickjs::Result<Object<'js>> {
    let host = Object::new(ctx.clone())?;
    let s = sh.clone();
    host.set(
        "write",
        Function::new(ctx.clone(), move |level: String, text: String| {
            s.write_console(level_name(&level), text, cap)
        })?,
    )?;
    let s = sh.clone();
    host.set(
        "accepting",
        Function::new(ctx.clone(), move || {
            s.deadline.get().is_some() && !s.console_truncated.get()
        })?,
    )?;
    let s = sh.clone();
    host.set(
        "warn",
        Function::new(ctx.clone(), move |text: String| s.warn(text))?,
    )?;
    let s = sh.clone();
    host.set(
        "setTimer",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  id: u32,
                  ms: f64,
                  f: Function<'js>,
                  repeat: bool|
                  -> rquickjs::Result<()> {
                {
                    let mut live = s.live_timers.borrow_mut();
                    if live.len() >= crate::invoke::MAX_TIMERS {
                        return Err(rquickjs::Exception::throw_range(
                            &ctx,
                            &format!(
                                "too many pending timers (the limit is {})",
                                crate::invoke::MAX_TIMERS
                            ),
                        ));
                    }
                    live.insert(id, Rc::new(tokio::sync::Notify::new()));
                }
                spawn_timer(ctx, s.clone(), id, ms, f, repeat, cap);
                Ok(())
            },
        )?,
    )?;
    let s = sh.clone();
    host.set(
        "clearTimer",
        Function::new(ctx.clone(), move |id: u32| {
            if let Some(n) = s.live_timers.borrow_mut().remove(&id) {
                n.notify_one();
            }
        })?,
    )?;
    host.set("loadModule", {
        let env = env.clone();
        Function::new(ctx.clone(), move |ctx: Ctx<'js>, name: String| {
            crate::modules::load(&ctx, &env, &name)
        })?
    })?;
    host.set(
        "forbidden",
        Function::new(ctx.clone(), |name: String| {
            crate::modules::is_forbidden(&name)
        })?,
    )?;
    host.set("packages", crate::modules::packages::natives(ctx, env)?)?;
    host.set("legacyGlobals", env.legacy_globals)?;
    let prelude: Function = match bytecode {
        Some(b) => crate::prelude::load(ctx, b)?,
        None => ctx.eval_with_options(crate::prelude::SOURCE, eval_options("sluice:prelude"))?,
    };
    prelude.call((host,))
}

#[allow(unsafe_code)]
fn runtime_of(ctx: &Ctx<'_>) -> *mut rquickjs::qjs::JSRuntime {
    // SAFETY: reads the runtime pointer of a live, locked context.
    unsafe { rquickjs::qjs::JS_GetRuntime(ctx.as_raw().as_ptr()) }
}

/// Compiles the prelude once to QuickJS bytecode; loading that is several times faster than
/// parsing the source in every new container.
pub fn compile_prelude() -> Result<Vec<u8>, String> {
    crate::prelude::compile()
}

impl Container {
    /// A fresh container with the script environment installed.
    /// A fresh container whose prelude is parsed from source.
    pub async fn new(limits: Limits, env: ModuleEnv) -> Result<Container, String> {
        Self::with_prelude(limits, env, None).await
    }

    /// A fresh container; `bytecode` is the prelude from [`compile_prelude`].
    pub async fn with_prelude(
        limits: Limits,
        env: ModuleEnv,
        bytecode: Option<std::sync::Arc<Vec<u8>>>,
    ) -> Result<Container, String> {
        let rt = AsyncRuntime::new().map_err(|e| format!("script engine: {e}"))?;
        rt.set_memory_limit(limits.memory_bytes).await;
        rt.set_max_stack_size(limits.stack_bytes).await;
        let shared = Rc::new(Shared::default());
        let s = shared.clone();
        rt.set_interrupt_handler(Some(Box::new(move || {
            s.deadline.get().is_some_and(|d| Instant::now() >= d)
        })))
        .await;
        let ctx = AsyncContext::full(&rt)
            .await
            .map_err(|e| format!("script engine: {e}"))?;
        let cap = limits.console_bytes;
        let sh = shared.clone();
        let helpers = ctx
            .with(|ctx| {
                match install_environment(
                    &ctx,
                    &sh,
                    cap,
                    &env,
                    bytecode.as_deref().map(|b| b.as_slice()),
                ) {
                    Ok(h) => Ok(Persistent::save(&ctx, h)),
                    Err(e) => Err(format!("script environment: {:?}", engine_failure(&ctx, e))),
                }
            })
            .await?;
        let raw = ctx
            .with(|ctx| std::ptr::NonNull::new(runtime_of(&ctx)))
            .await
            .ok_or("script engine: no runtime")?;
        let max = limits.result_bytes;
        let sd = shared.clone();
        let (invoke, set_configuration, done) = ctx
            .with(|ctx| -> rquickjs::Result<_> {
                let h = helpers.restore(&ctx)?;
                let invoke: Function = h.get("invoke")?;
                let set_cfg: Function = h.get("setConfiguration")?;
                let done = make_done(&ctx, sd, max)?;
                Ok((
                    Persistent::save(&ctx, invoke),
                    Persistent::save(&ctx, set_cfg),
                    Persistent::save(&ctx, done),
                ))
            })
            .await
            .map_err(|e| format!("script environment: {e}"))?;
        Ok(Container {
            invoke,
            set_configuration,
            done,
            configuration: RefCell::new(None),
            runs: std::cell::Cell::new(0),
            native: env.native.clone(),
            scripts: RefCell::new(HashMap::new()),
            ctx,
            rt,
            _prelude: bytecode,
            shared,
            limits,
            created: Instant::now(),
            raw,
        })
    }

    /// Re-anchors the engine's stack limit on the current thread. A container runs on whichever
    /// worker thread its invocation got (see [`crate::workers`]), and QuickJS measures its stack
    /// limit from the stack top it last recorded — rquickjs records it itself only with its
    /// `parallel` feature, which this crate does not use. Called before anything of the engine
    /// runs on this thread (jobs left from the last invocation run first when it is driven).
    #[allow(unsafe_code)]
    fn anchor_stack(&self) {
        // SAFETY: the runtime is alive (owned by `self.rt`) and used by this thread alone (a
        // container is used by one thread at a time); the call records this thread's stack
        // pointer in it.
        unsafe { rquickjs::qjs::JS_UpdateStackTop(self.raw.as_ptr()) }
    }

    /// The compiled function of a script (cached by its text).
    fn compiled<'js>(
        &self,
        ctx: &Ctx<'js>,
        req: &ScriptRequest,
    ) -> Result<Function<'js>, ScriptFailure> {
        let mut h = DefaultHasher::new();
        req.kind.key().hash(&mut h);
        req.source.hash(&mut h);
        let key = h.finish();
        if let Some(p) = self.scripts.borrow().get(&key) {
            return p.clone().restore(ctx).map_err(|e| engine_failure(ctx, e));
        }
        // No newline after "(": line numbers in errors are the script's own.
        let text = format!("({}\n)", crate::adapt::adapt(req.kind, &req.source));
        let filename = format!("{}.js", req.kind.key());
        let v: Value = ctx
            .eval_with_options(text, eval_options(&filename))
            .map_err(|e| engine_failure(ctx, e))?;
        let f = v.into_function().ok_or_else(|| ScriptFailure::Error {
            name: "TypeError".into(),
            message: format!(
                "{filename} must be a function (function {}(...) {{ ... }})",
                req.kind.key()
            ),
            stack: None,
        })?;
        let mut cache = self.scripts.borrow_mut();
        if cache.len() >= SCRIPT_CACHE {
            cache.clear();
        }
        cache.insert(key, Persistent::save(ctx, f.clone()));
        Ok(f)
    }

    /// Compiles the script, sets `configuration` and calls the script through the contract.
    fn start<'js>(&self, ctx: &Ctx<'js>, req: &ScriptRequest) -> Result<(), ScriptFailure> {
        let f = self.compiled(ctx, req)?;
        let fail = |e| engine_failure(ctx, e);
        if self.configuration.borrow().as_ref() != Some(&req.configuration) {
            let cfg = Object::new(ctx.clone()).map_err(fail)?;
            for (k, v) in &req.configuration {
                cfg.set(k.as_str(), v.as_str()).map_err(fail)?;
            }
            let set_cfg = self.set_configuration.clone().restore(ctx).map_err(fail)?;
            set_cfg.call::<_, ()>((cfg,)).map_err(fail)?;
            *self.configuration.borrow_mut() = Some(req.configuration.clone());
        }
        let args = Array::new(ctx.clone()).map_err(fail)?;
        for (n, a) in req.args.iter().chain(req.context.iter()).enumerate() {
            args.set(n, json_to_js(ctx, a).map_err(fail)?)
                .map_err(fail)?;
        }
        let done = self.done.clone().restore(ctx).map_err(fail)?;
        let invoke = self.invoke.clone().restore(ctx).map_err(fail)?;
        invoke.call::<_, ()>((f, args, done)).map_err(fail)
    }

    /// Runs one invocation to its end: [`call`](Self::call), then [`settle`](Self::settle).
    /// Returns the result and whether this container must be recycled.
    pub async fn run(
        &self,
        req: &ScriptRequest,
        deadline: Instant,
    ) -> (Result<serde_json::Value, ScriptFailure>, bool) {
        let (result, recycle) = self.call(req, deadline).await;
        let settled = self.settle(deadline).await;
        (result, recycle || !settled)
    }

    /// After the callback: lets the host operations the script started and left running (a
    /// query after the callback, a request nobody awaits) finish, up to the invocation's
    /// deadline, then ends the invocation. Returns `false` when some are still running: the
    /// container must then be recycled, so that nothing it holds for them (rows streaming in,
    /// buffers, connections) outlives the invocation.
    pub async fn settle(&self, deadline: Instant) -> bool {
        self.anchor_stack();
        if self.native.in_flight() > 0 && Instant::now() < deadline {
            self.ctx
                .async_with(async |_ctx| {
                    while self.native.in_flight() > 0 && Instant::now() < deadline {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                })
                .await;
        }
        self.shared.end();
        self.native.end();
        self.native.in_flight() == 0
    }

    /// Whether the script left host operations running (see [`settle`](Self::settle)).
    pub fn unsettled(&self) -> bool {
        self.native.in_flight() > 0
    }

    /// Runs one invocation to its callback or its deadline, leaving it open for
    /// [`settle`](Self::settle). Returns the result and whether this container must be
    /// recycled.
    pub async fn call(
        &self,
        req: &ScriptRequest,
        deadline: Instant,
    ) -> (Result<serde_json::Value, ScriptFailure>, bool) {
        self.anchor_stack();
        self.shared.begin(deadline);
        self.native.begin(deadline);
        let shared = self.shared.clone();
        self.ctx
            .async_with(async |ctx| {
                if let Err(f) = self.start(&ctx, req) {
                    shared.settle(Err(f));
                }
                tokio::select! {
                    _ = shared.notify.notified() => {}
                    _ = tokio::time::sleep_until(deadline.into()) => {}
                }
            })
            .await;
        let timed_out = Instant::now() >= deadline;
        let outcome = self.shared.outcome.borrow_mut().take();
        let secs = self.limits.deadline.as_secs_f64();
        let timeout = || ScriptFailure::Timeout {
            message: format!(
                "Script execution time exceeded: the {} script did not call back within {secs} s (Request to Webtask exceeded allowed execution time)",
                req.kind.key()
            ),
        };
        let result = match outcome {
            None => Err(timeout()),
            Some(Err(ScriptFailure::Error { name, message, .. }))
                if name == "InternalError" && message == "interrupted" && timed_out =>
            {
                Err(timeout())
            }
            Some(r) => r,
        };
        // Measuring the heap walks it: do it every 32 invocations and after any error. A heap
        // grown past an eighth of the limit is collected at once (garbage of a failed run is
        // not left to sit in an idle container); one still over half the limit afterwards is
        // recycled, so an idle container never holds much memory.
        let runs = self.runs.get() + 1;
        self.runs.set(runs);
        let near_limit = if runs.is_multiple_of(32) || result.is_err() {
            let mut used = self.rt.memory_usage().await.malloc_size as usize;
            if used > self.limits.memory_bytes / 8 {
                self.rt.run_gc().await;
                used = self.rt.memory_usage().await.malloc_size as usize;
            }
            used > self.limits.memory_bytes / 2
        } else {
            false
        };
        // A script that failed unexpectedly (threw, timed out, hit a limit) gets a fresh
        // container next time: whatever it left behind — garbage, half-done work, a broken
        // global — goes with this one. Answers a script gives on purpose (wrong password,
        // validation, unauthorized) keep the container.
        let recycle = match &result {
            Err(
                ScriptFailure::Timeout { .. }
                | ScriptFailure::Limit { .. }
                | ScriptFailure::Error { .. }
                | ScriptFailure::Runtime { .. },
            ) => true,
            _ => near_limit,
        };
        (result, recycle)
    }

    /// The engine's own accounting of this container's heap (bytes malloc'd by QuickJS), for
    /// the memory benchmark.
    pub async fn heap_bytes(&self) -> usize {
        self.rt.memory_usage().await.malloc_size as usize
    }

    /// The captured console lines and runtime warnings of the last invocation.
    pub fn take_output(&self) -> (Vec<sluice_core::ports::ConsoleLine>, Vec<String>) {
        (
            std::mem::take(&mut self.shared.console.borrow_mut()),
            self.shared.take_warnings(),
        )
    }
}
