//! Reads what a script hands the host — its callback's result and its error — as plain data,
//! without running any script code: own enumerable **data** properties only. `toJSON`, getters,
//! proxies' traps, `Symbol.toStringTag` and prototype methods a script may have planted are never
//! called, so a value cannot change between the host's reads or take the host's time; accessor
//! properties are left out (JSON.stringify in Node would call them) and a proxy is refused.
//! `Date`s become ISO strings through the original `Date.prototype.toISOString`, captured by the
//! prelude before any script ran. Otherwise the output is what `JSON.stringify` gives for plain
//! data: `undefined`, functions and symbols are dropped from objects and become `null` in arrays,
//! non-finite numbers become `null`, a BigInt or a cycle is an error.

use rquickjs::object::Filter;
use rquickjs::{Ctx, Function, Object, Value, qjs};

/// Objects nested deeper than this are refused (a cycle is reported as such before this).
const MAX_DEPTH: usize = 256;

/// Why a value could not be read as plain data.
#[derive(Debug)]
pub enum PlainError {
    /// Over the byte budget (the serialised size).
    TooLarge { limit: usize },
    /// Not plain data (a cycle, a BigInt, a proxy, too deep).
    NotPlain(String),
}

/// Reads one value tree, charging its serialised size against a budget.
pub struct PlainReader<'a, 'js> {
    ctx: &'a Ctx<'js>,
    /// The prelude's `(date) => ISO string | null`, built from the original Date methods.
    date_json: &'a Function<'js>,
    limit: usize,
    used: usize,
    path: Vec<Object<'js>>,
}

/// An own property of `obj`: `None` if absent, `Some(None)` for an accessor, `Some(Some(v))`
/// for a data property. Never runs script code for an ordinary (non-proxy) object.
#[allow(unsafe_code)]
fn own_property<'js>(ctx: &Ctx<'js>, obj: &Object<'js>, key: &str) -> Option<Option<Value<'js>>> {
    let raw_ctx = ctx.as_raw().as_ptr();
    // SAFETY: `raw_ctx` is the live context of `obj`; the atom is created and freed here; the
    // descriptor's values are owned by us after a successful call: the value is handed to a
    // `Value` (which frees it), the getter and setter are freed here.
    unsafe {
        let atom = qjs::JS_NewAtomLen(raw_ctx, key.as_ptr().cast(), key.len() as _);
        if atom == qjs::JS_ATOM_NULL {
            let _ = ctx.catch();
            return None;
        }
        let mut desc = std::mem::MaybeUninit::<qjs::JSPropertyDescriptor>::uninit();
        let found = qjs::JS_GetOwnProperty(raw_ctx, desc.as_mut_ptr(), obj.as_raw(), atom);
        qjs::JS_FreeAtom(raw_ctx, atom);
        if found < 0 {
            let _ = ctx.catch();
            return None;
        }
        if found == 0 {
            return None;
        }
        let desc = desc.assume_init();
        qjs::JS_FreeValue(raw_ctx, desc.getter);
        qjs::JS_FreeValue(raw_ctx, desc.setter);
        let value = Value::from_raw(ctx.clone(), desc.value);
        if desc.flags & qjs::JS_PROP_GETSET as i32 != 0 {
            return Some(None);
        }
        Some(Some(value))
    }
}

/// An own data property (`None` if absent or an accessor).
fn own_data<'js>(ctx: &Ctx<'js>, obj: &Object<'js>, key: &str) -> Option<Value<'js>> {
    own_property(ctx, obj, key).flatten()
}

fn has_own<'js>(ctx: &Ctx<'js>, obj: &Object<'js>, key: &str) -> bool {
    own_property(ctx, obj, key).is_some()
}

#[allow(unsafe_code)]
fn is_date(v: &Value<'_>) -> bool {
    // SAFETY: a class check on a live value; runs no code.
    unsafe { qjs::JS_IsDate(v.as_raw()) }
}

/// A string data property of an object or of its prototype chain (as an error's `name` lives on
/// its class's prototype); accessors and proxies are not consulted. Numbers are given as text.
pub fn data_string<'js>(ctx: &Ctx<'js>, obj: &Object<'js>, key: &str) -> Option<String> {
    let mut cur = Some(obj.clone());
    for _ in 0..32 {
        let o = cur?;
        if o.as_value().is_proxy() {
            return None;
        }
        match own_property(ctx, &o, key) {
            Some(Some(v)) => {
                return if let Some(s) = v.as_string() {
                    s.to_string().ok()
                } else {
                    v.as_number().map(|n| n.to_string())
                };
            }
            Some(None) => return None, // an accessor: not called
            None => {}
        }
        cur = o.get_prototype();
    }
    None
}

/// An error's `stack`: an own or inherited data property, or the engine's own accessor on
/// `Error.prototype` (which the prelude makes non-configurable, so it stays the native one). Any
/// other accessor on the way is a script's and is not called.
pub fn error_stack<'js>(ctx: &Ctx<'js>, err: &Object<'js>) -> Option<String> {
    let error_proto = rquickjs::Exception::from_message(ctx.clone(), "")
        .ok()?
        .as_object()
        .get_prototype()?;
    let mut cur = Some(err.clone());
    for _ in 0..32 {
        let o = cur?;
        if o.as_value().is_proxy() {
            return None;
        }
        if o == error_proto {
            let v: Value = err.get("stack").ok()?;
            return v.as_string().and_then(|s| s.to_string().ok());
        }
        if let Some(v) = own_data(ctx, &o, "stack") {
            return v.as_string().and_then(|s| s.to_string().ok());
        }
        if has_own(ctx, &o, "stack") {
            return None; // a script's accessor
        }
        cur = o.get_prototype();
    }
    None
}

impl<'a, 'js> PlainReader<'a, 'js> {
    pub fn new(ctx: &'a Ctx<'js>, date_json: &'a Function<'js>, limit: usize) -> Self {
        PlainReader {
            ctx,
            date_json,
            limit,
            used: 0,
            path: Vec::new(),
        }
    }

    fn charge(&mut self, bytes: usize) -> Result<(), PlainError> {
        self.used = self.used.saturating_add(bytes);
        if self.used > self.limit {
            return Err(PlainError::TooLarge { limit: self.limit });
        }
        Ok(())
    }

    /// A value as JSON; `None` for what JSON leaves out of an object (undefined, functions,
    /// symbols).
    pub fn read(&mut self, v: &Value<'js>) -> Result<Option<serde_json::Value>, PlainError> {
        use serde_json::Value as J;
        if v.is_undefined() || v.is_function() || v.is_symbol() {
            return Ok(None);
        }
        if v.is_null() {
            self.charge(4)?;
            return Ok(Some(J::Null));
        }
        if let Some(b) = v.as_bool() {
            self.charge(5)?;
            return Ok(Some(J::Bool(b)));
        }
        if let Some(i) = v.as_int() {
            self.charge(11)?;
            return Ok(Some(J::from(i)));
        }
        if let Some(f) = v.as_float() {
            self.charge(24)?;
            // Integral values print as integers in JSON text, and so are integers here.
            if f.is_finite() && f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
                return Ok(Some(J::from(f as i64)));
            }
            return Ok(Some(
                serde_json::Number::from_f64(f)
                    .map(J::Number)
                    .unwrap_or(J::Null),
            ));
        }
        if let Some(s) = v.as_string() {
            let s = s
                .to_string()
                .map_err(|e| PlainError::NotPlain(format!("unreadable string: {e}")))?;
            self.charge(s.len() + 2)?;
            return Ok(Some(J::String(s)));
        }
        if v.is_big_int() {
            return Err(PlainError::NotPlain("a BigInt cannot be serialised".into()));
        }
        let Some(obj) = v.as_object() else {
            return Ok(None);
        };
        if v.is_proxy() {
            return Err(PlainError::NotPlain(
                "a Proxy cannot be passed to the callback; pass plain data".into(),
            ));
        }
        if is_date(v) {
            let iso: Value = self.date_json.call((v.clone(),)).map_err(|_| {
                let _ = self.ctx.catch();
                PlainError::NotPlain("unreadable Date".into())
            })?;
            return self.read(&iso);
        }
        if self.path.iter().any(|o| o == obj) {
            return Err(PlainError::NotPlain(
                "Converting circular structure to JSON".into(),
            ));
        }
        if self.path.len() >= MAX_DEPTH {
            return Err(PlainError::NotPlain(format!(
                "nested more than {MAX_DEPTH} levels deep"
            )));
        }
        self.path.push(obj.clone());
        let out = if v.is_array() {
            self.read_array(obj)
        } else {
            self.read_object(obj)
        };
        self.path.pop();
        out.map(Some)
    }

    fn read_array(&mut self, arr: &Object<'js>) -> Result<serde_json::Value, PlainError> {
        let len = own_data(self.ctx, arr, "length")
            .and_then(|l| l.as_number())
            .unwrap_or(0.0) as usize;
        self.charge(2)?;
        let mut out = Vec::new();
        for i in 0..len {
            self.charge(1)?;
            let item = match own_data(self.ctx, arr, &i.to_string()) {
                Some(x) => self.read(&x)?,
                None => None,
            };
            out.push(item.unwrap_or(serde_json::Value::Null));
        }
        Ok(serde_json::Value::Array(out))
    }

    fn read_object(&mut self, obj: &Object<'js>) -> Result<serde_json::Value, PlainError> {
        self.charge(2)?;
        let mut out = serde_json::Map::new();
        for k in obj.own_keys::<String>(Filter::new().string().enum_only()) {
            let k = k.map_err(|e| {
                let _ = self.ctx.catch();
                PlainError::NotPlain(format!("unreadable keys: {e}"))
            })?;
            self.charge(k.len() + 4)?;
            let Some(x) = own_data(self.ctx, obj, &k) else {
                continue;
            };
            if let Some(j) = self.read(&x)? {
                out.insert(k, j);
            }
        }
        Ok(serde_json::Value::Object(out))
    }
}
