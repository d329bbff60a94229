//! Host modules behind `require`: each is a JavaScript facade (the npm API surface scripts use)
//! over native Rust functions. `require('name')`, `require('name@1.2.3')` and
//! `require('node:name')` resolve here; one implementation serves every version.
//!
//! A module is loaded at most once per container (its exports are cached by the `require` in
//! the prelude); a module that fails to load is not cached, so the next `require` tries again.
//!
//! Operator-added pure-JS packages ([`packages`]) are looked up only for names that are neither
//! host modules nor forbidden.

pub mod bcrypt;
pub mod bytes;
pub mod crypto;
pub mod http;
pub mod mysql;
mod mysql_sql;
pub mod packages;
pub mod pg;
mod pg_decode;
mod pg_query;
pub mod sign;

pub use crate::egress::ModuleEnv;
use rquickjs::{Ctx, Function, Object, Value};

/// Natives of one module: an object of native functions handed to its facade. `env` carries
/// the tenant and its egress policy for modules that open connections.
pub type Natives = for<'js> fn(&Ctx<'js>, &ModuleEnv) -> rquickjs::Result<Object<'js>>;

pub struct ModuleDef {
    pub name: &'static str,
    pub source: &'static str,
    pub natives: Natives,
}

/// Natives of a module written wholly in JavaScript: none.
fn js_only<'js>(ctx: &Ctx<'js>, _env: &ModuleEnv) -> rquickjs::Result<Object<'js>> {
    Object::new(ctx.clone())
}

/// Every module scripts may require.
pub const MODULES: &[ModuleDef] = &[
    ModuleDef {
        name: "pg",
        source: include_str!("pg.js"),
        natives: pg::natives,
    },
    ModuleDef {
        name: "buffer",
        source: include_str!("buffer.js"),
        natives: bytes::natives,
    },
    ModuleDef {
        name: "bcrypt",
        source: include_str!("bcrypt.js"),
        natives: bcrypt::natives,
    },
    ModuleDef {
        name: "mysql",
        source: include_str!("mysql.js"),
        natives: mysql::natives,
    },
    ModuleDef {
        name: "mysql2",
        source: include_str!("mysql.js"),
        natives: mysql::natives,
    },
    ModuleDef {
        name: "mysql2/promise",
        source: include_str!("mysql.js"),
        natives: mysql::natives,
    },
    ModuleDef {
        name: "events",
        source: include_str!("events.js"),
        natives: js_only,
    },
    ModuleDef {
        name: "uuid",
        source: include_str!("uuid.js"),
        natives: js_only,
    },
    ModuleDef {
        name: "jsonwebtoken",
        source: include_str!("jsonwebtoken.js"),
        natives: js_only,
    },
    ModuleDef {
        name: "crypto",
        source: include_str!("crypto.js"),
        natives: crypto::natives,
    },
    ModuleDef {
        name: "bcryptjs",
        source: include_str!("bcrypt.js"),
        natives: bcrypt::natives,
    },
    ModuleDef {
        name: "request",
        source: include_str!("request.js"),
        natives: http::natives,
    },
    ModuleDef {
        name: "axios",
        source: include_str!("axios.js"),
        natives: http::natives,
    },
    ModuleDef {
        name: "node-fetch",
        source: include_str!("fetch.js"),
        natives: http::natives,
    },
    ModuleDef {
        name: "url",
        source: include_str!("url.js"),
        natives: http::url_natives,
    },
    ModuleDef {
        name: "querystring",
        source: include_str!("url.js"),
        natives: http::url_natives,
    },
    ModuleDef {
        name: "util",
        source: include_str!("util.js"),
        natives: bytes::natives,
    },
    ModuleDef {
        name: "util/types",
        source: include_str!("util_types.js"),
        natives: js_only,
    },
    // Behind the `structuredClone` global; `require` refuses `sluice:` names.
    ModuleDef {
        name: "sluice:structuredClone",
        source: include_str!("structured_clone.js"),
        natives: js_only,
    },
];

/// Node built-ins that give access to the host; requiring them fails with a clear message.
pub const FORBIDDEN: &[&str] = &[
    "fs",
    "fs/promises",
    "child_process",
    "net",
    "tls",
    "dgram",
    "dns",
    "os",
    "cluster",
    "http",
    "https",
    "http2",
    "inspector",
    "module",
    "perf_hooks",
    "process",
    "repl",
    "tty",
    "v8",
    "vm",
    "worker_threads",
];

pub fn lookup(name: &str) -> Option<&'static ModuleDef> {
    MODULES.iter().find(|m| m.name == name)
}

/// `host.loadModule(name)`: `{factory, natives}` for a known module, `undefined` otherwise.
/// The factory is the facade compiled with the module's name as its file name.
pub fn load<'js>(ctx: &Ctx<'js>, env: &ModuleEnv, name: &str) -> rquickjs::Result<Value<'js>> {
    let Some(def) = lookup(name) else {
        return Ok(Value::new_undefined(ctx.clone()));
    };
    let mut opts = rquickjs::context::EvalOptions::default();
    opts.global = true;
    opts.strict = false;
    opts.filename = Some(format!("node:{}", def.name));
    let factory: Function = ctx.eval_with_options(def.source, opts)?;
    let o = Object::new(ctx.clone())?;
    o.set("factory", factory)?;
    o.set("natives", (def.natives)(ctx, env)?)?;
    Ok(o.into_value())
}

pub fn is_forbidden(name: &str) -> bool {
    FORBIDDEN.contains(&name)
}
