//! Native half of `pg` (node-postgres) over tokio-postgres, for the facade in `pg.js` (which
//! parses connection strings, prepares parameters and shapes results).
//!
//! - Connections belong to the container: a map from numeric handle to client lives in the
//!   natives' state (dropped with the container's JavaScript context). Each connection's I/O task
//!   runs on the container's runtime and ends when its client is dropped, or with the container.
//!   At most [`MAX_CONNECTIONS`] are open per container.
//! - Every connection resolves and checks its host through the tenant's egress policy and
//!   connects to the checked address, never to the host name.
//! - A connection a script ends is kept (at most [`MAX_IDLE`], for [`IDLE_FOR`]) and reused by
//!   the container's next connect with the same settings, after `DISCARD ALL` resets its
//!   session (one ended inside a transaction cannot be reset and is closed). The egress policy
//!   a connection was checked against is the container's, and a policy change retires the
//!   tenant's containers with their connections. Auth0's templates open a connection per
//!   login; this spares the legacy database a backend per login.
//! - Parameters are sent as npm `pg` sends them: text format, types unspecified, so PostgreSQL
//!   infers and parses them (the facade turns JS values into their text forms).
//! - Results arrive in binary format (tokio-postgres always asks for it) and are decoded per type
//!   to what npm `pg`'s default parsers give. A type with no decoder here (time, inet, money,
//!   ranges, composites, extension types...) is turned into its text form by the server
//!   (`SELECT $1::text` on the binary value; one more round trip per such column).
//! - Statements are prepared (one round trip) then executed (another), so a result knows its
//!   fields even when it has no rows. A parameterless text of several statements runs through
//!   the simple protocol; its values are then all strings.
//! - Not supported: TLS (a config asking for `ssl`, or `sslmode=require`/`verify-*`, fails with a
//!   clear error; `sslmode=disable|allow|prefer` connect in plain text), Unix-domain sockets,
//!   LISTEN/NOTIFY events, COPY, cursors. A result is read whole in Rust before it reaches the
//!   script's heap, each row charged as it arrives to the container's host buffers, one result
//!   capped at 32 MiB ([`super::pg_query`] runs the query).

use super::pg_query::run_query;
use crate::egress::{EgressPolicy, ModuleEnv};
use rquickjs::function::Async;
use rquickjs::{Array, Ctx, Function, Object, Value};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::error::Error as StdError;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_postgres::config::SslMode;
use tokio_postgres::error::ErrorPosition;
use tokio_postgres::types::private::BytesMut;
use tokio_postgres::types::{Format, IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, NoTls};

/// Open connections per container (pooled or not, idle ones included).
pub const MAX_CONNECTIONS: usize = 20;
/// Ended connections kept for reuse per container.
pub const MAX_IDLE: usize = 4;
/// How long an ended connection is kept for reuse.
pub const IDLE_FOR: Duration = Duration::from_secs(30);
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const SSL_UNSUPPORTED: &str = "pg: TLS (ssl) connections to PostgreSQL are not supported by this runtime yet; connect without ssl (sslmode=disable)";

pub(super) type BoxError = Box<dyn StdError + Sync + Send>;

struct State {
    clients: RefCell<HashMap<u32, Open>>,
    /// Connections scripts ended, newest last, waiting to be reused.
    idle: RefCell<Vec<(Open, Instant)>>,
    next: Cell<u32>,
    connecting: Cell<usize>,
    egress: Arc<EgressPolicy>,
    buffers: crate::budget::HostBuffers,
    native: crate::native::NativeWork,
}

/// An open connection: its client and the settings it was opened with.
struct Open {
    client: Rc<Client>,
    key: ConnKey,
}

/// What must match for a connection to be reused: everything but the timeout.
#[derive(Clone, PartialEq, Eq)]
struct ConnKey {
    host: String,
    port: u16,
    user: String,
    password: Option<String>,
    database: Option<String>,
    application_name: Option<String>,
    options: Option<String>,
}

/// A value on its way to JavaScript (column values, and the result and error objects).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Val {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    /// JSON text, parsed by the engine.
    Json(String),
    Bytes(Vec<u8>),
    Array(Vec<Val>),
    Obj(Vec<(&'static str, Val)>),
    /// Index into its column's values awaiting their text form from the server.
    Pending(usize),
}

pub(super) fn s(v: impl Into<String>) -> Val {
    Val::Str(v.into())
}

/// An error as the facade rebuilds it: `kind` is `db` (a server error, npm pg's
/// `DatabaseError`), `net`, `egress` or `usage`; the other fields become the Error's.
pub(super) fn err(
    kind: &'static str,
    message: impl Into<String>,
    mut props: Vec<(&'static str, Val)>,
) -> Val {
    props.splice(0..0, [("kind", s(kind)), ("message", s(message))]);
    Val::Obj(props)
}

pub(super) fn usage(message: impl Into<String>) -> Val {
    err("usage", message, Vec::new())
}

/// A query parameter: text (as npm pg sends them), NULL, or a binary value of a known type.
#[derive(Debug)]
pub(super) enum Param {
    Null,
    Text(String),
    Binary(Vec<u8>),
}

impl ToSql for Param {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self {
            Param::Null => return Ok(IsNull::Yes),
            Param::Text(s) => out.extend_from_slice(s.as_bytes()),
            Param::Binary(b) => out.extend_from_slice(b),
        }
        Ok(IsNull::No)
    }
    fn accepts(_: &Type) -> bool {
        true
    }
    fn encode_format(&self, _: &Type) -> Format {
        match self {
            Param::Binary(_) => Format::Binary,
            _ => Format::Text,
        }
    }
    to_sql_checked!();
}

// --- connecting -----------------------------------------------------------------------------

/// The facade's normalised config (connection string already merged in).
struct ConnOpts {
    host: String,
    port: u16,
    user: String,
    password: Option<String>,
    database: Option<String>,
    application_name: Option<String>,
    options: Option<String>,
    timeout: Duration,
}

fn conn_opts(obj: &Object<'_>) -> Result<ConnOpts, Val> {
    let text = |k: &str| obj.get::<_, Option<String>>(k).ok().flatten();
    let full = |k: &str| text(k).filter(|v| !v.is_empty());
    if obj.get::<_, Option<bool>>("ssl").ok().flatten() == Some(true) {
        return Err(usage(SSL_UNSUPPORTED));
    }
    let host = full("host").unwrap_or_else(|| "localhost".into());
    if host.starts_with('/') {
        return Err(usage(
            "pg: Unix-domain sockets are not available to action scripts; connect over TCP (host and port)",
        ));
    }
    let port = match obj.get::<_, Option<f64>>("port").ok().flatten() {
        None => 5432,
        Some(p) if (1.0..=65535.0).contains(&p) && p.fract() == 0.0 => p as u16,
        Some(p) => return Err(usage(format!("pg: invalid port {p}"))),
    };
    let ms = obj.get::<_, Option<f64>>("connectionTimeoutMillis");
    Ok(ConnOpts {
        host,
        port,
        user: full("user").unwrap_or_else(|| "postgres".into()),
        password: text("password"),
        database: full("database"),
        application_name: full("application_name"),
        options: full("options"),
        timeout: match ms.ok().flatten() {
            Some(ms) if ms > 0.0 => Duration::from_secs_f64((ms / 1000.0).min(600.0)),
            _ => DEFAULT_CONNECT_TIMEOUT,
        },
    })
}

/// A socket error as node reports it (`connect ECONNREFUSED 127.0.0.1:1`, with `code`...).
fn net_error(e: &std::io::Error, addr: Option<SocketAddr>) -> Val {
    use std::io::ErrorKind as K;
    let code = match e.kind() {
        K::ConnectionRefused => Some("ECONNREFUSED"),
        K::ConnectionReset => Some("ECONNRESET"),
        K::ConnectionAborted => Some("ECONNABORTED"),
        K::TimedOut => Some("ETIMEDOUT"),
        K::HostUnreachable => Some("EHOSTUNREACH"),
        K::NetworkUnreachable => Some("ENETUNREACH"),
        K::AddrNotAvailable => Some("EADDRNOTAVAIL"),
        K::BrokenPipe => Some("EPIPE"),
        _ => None,
    };
    let what = code.map_or_else(|| e.to_string(), str::to_string);
    let mut props: Vec<_> = code.map(|c| ("code", s(c))).into_iter().collect();
    if let Some(n) = e.raw_os_error() {
        props.push(("errno", Val::Num(-f64::from(n))));
    }
    let message = match addr {
        Some(a) => {
            props.push(("syscall", s("connect")));
            props.push(("address", s(a.ip().to_string())));
            props.push(("port", Val::Num(a.port().into())));
            format!("connect {what} {a}")
        }
        None => format!("read {what}"),
    };
    err("net", message, props)
}

pub(super) fn pg_error(e: &tokio_postgres::Error) -> Val {
    if let Some(db) = e.as_db_error() {
        let mut props = vec![
            ("severity", s(db.severity())),
            ("code", s(db.code().code())),
        ];
        let line = db.line().map(|l| l.to_string());
        let (pos, ipos, iquery) = match db.position() {
            Some(ErrorPosition::Original(p)) => (Some(p.to_string()), None, None),
            Some(ErrorPosition::Internal { position, query }) => {
                (None, Some(position.to_string()), Some(query.as_str()))
            }
            None => (None, None, None),
        };
        let opt = [
            ("detail", db.detail()),
            ("hint", db.hint()),
            ("position", pos.as_deref()),
            ("internalPosition", ipos.as_deref()),
            ("internalQuery", iquery),
            ("where", db.where_()),
            ("schema", db.schema()),
            ("table", db.table()),
            ("column", db.column()),
            ("dataType", db.datatype()),
            ("constraint", db.constraint()),
            ("file", db.file()),
            ("line", line.as_deref()),
            ("routine", db.routine()),
        ];
        props.extend(opt.into_iter().filter_map(|(k, v)| v.map(|v| (k, s(v)))));
        return err("db", db.message(), props);
    }
    if e.is_closed() {
        return err("net", "Connection terminated unexpectedly", Vec::new());
    }
    match e.source().and_then(|s| s.downcast_ref::<std::io::Error>()) {
        Some(io) => net_error(io, None),
        None => usage(format!("pg: {e}")),
    }
}

async fn open(egress: &EgressPolicy, o: &ConnOpts) -> Result<Client, Val> {
    let addrs = egress.resolve(&o.host, o.port).await.map_err(|e| {
        if e.contains("egress policy") {
            return err("egress", e, vec![("code", s("EGRESS_DENIED"))]);
        }
        let props = vec![
            ("code", s("ENOTFOUND")),
            ("syscall", s("getaddrinfo")),
            ("hostname", s(&o.host)),
        ];
        err("net", format!("getaddrinfo ENOTFOUND {}", o.host), props)
    })?;
    let mut last = usage(format!("pg: cannot connect to {}", o.host));
    let mut stream = None;
    for addr in addrs {
        match tokio::net::TcpStream::connect(addr).await {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = net_error(&e, Some(addr)),
        }
    }
    let stream = stream.ok_or(last)?;
    let _ = stream.set_nodelay(true);
    let mut cfg = tokio_postgres::Config::new();
    cfg.user(&o.user)
        .dbname(o.database.as_deref().unwrap_or(&o.user))
        .ssl_mode(SslMode::Disable);
    if let Some(p) = &o.password {
        cfg.password(p);
    }
    if let Some(a) = &o.application_name {
        cfg.application_name(a);
    }
    if let Some(opts) = &o.options {
        cfg.options(opts);
    }
    let (client, connection) = cfg
        .connect_raw(stream, NoTls)
        .await
        .map_err(|e| pg_error(&e))?;
    // Ends when the client is dropped (or with the container's runtime).
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

impl ConnOpts {
    fn key(&self) -> ConnKey {
        ConnKey {
            host: self.host.clone(),
            port: self.port,
            user: self.user.clone(),
            password: self.password.clone(),
            database: self.database.clone(),
            application_name: self.application_name.clone(),
            options: self.options.clone(),
        }
    }
}

/// An ended connection with these settings, reset, if there is one.
async fn reuse(st: &State, key: &ConnKey) -> Option<Open> {
    loop {
        let found = {
            let mut idle = st.idle.borrow_mut();
            idle.retain(|(o, since)| since.elapsed() < IDLE_FOR && !o.client.is_closed());
            let i = idle.iter().rposition(|(o, _)| &o.key == key)?;
            idle.remove(i).0
        };
        // A clean session: no open transaction, settings, temp tables, prepared statements,
        // advisory locks or LISTENs left by the script that used it before.
        if found.client.batch_execute("DISCARD ALL").await.is_ok() {
            return Some(found);
        }
    }
}

/// Counts a connection attempt while it is alive.
struct Attempt<'a>(&'a Cell<usize>);

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

async fn connect(st: &State, o: ConnOpts) -> Result<u32, Val> {
    let key = o.key();
    let open = match reuse(st, &key).await {
        Some(open) => open,
        None => open_new(st, o, key).await?,
    };
    let mut clients = st.clients.borrow_mut();
    let mut h = st.next.get();
    while h == 0 || clients.contains_key(&h) {
        h = h.wrapping_add(1);
    }
    st.next.set(h.wrapping_add(1));
    clients.insert(h, open);
    Ok(h)
}

async fn open_new(st: &State, o: ConnOpts, key: ConnKey) -> Result<Open, Val> {
    if st.clients.borrow().len() + st.connecting.get() + st.idle.borrow().len() >= MAX_CONNECTIONS {
        // Idle connections give way first.
        let mut idle = st.idle.borrow_mut();
        if !idle.is_empty() {
            idle.remove(0);
        }
    }
    if st.clients.borrow().len() + st.connecting.get() + st.idle.borrow().len() >= MAX_CONNECTIONS {
        return Err(usage(format!(
            "pg: too many open PostgreSQL connections in this script container (the limit is {MAX_CONNECTIONS}); end clients or release pooled clients when done"
        )));
    }
    st.connecting.set(st.connecting.get() + 1);
    let _attempt = Attempt(&st.connecting);
    let client = tokio::time::timeout(o.timeout, open(&st.egress, &o))
        .await
        .map_err(|_| {
            let message = "Connection terminated due to connection timeout";
            err("net", message, vec![("code", s("ETIMEDOUT"))])
        })??;
    Ok(Open {
        client: Rc::new(client),
        key,
    })
}

// --- JavaScript -----------------------------------------------------------------------------

fn val_js<'js>(ctx: &Ctx<'js>, v: Val) -> rquickjs::Result<Value<'js>> {
    Ok(match v {
        Val::Null | Val::Pending(_) => Value::new_null(ctx.clone()),
        Val::Bool(b) => Value::new_bool(ctx.clone(), b),
        Val::Num(n) => Value::new_number(ctx.clone(), n),
        Val::Str(s) => rquickjs::String::from_str(ctx.clone(), &s)?.into_value(),
        Val::Json(s) => ctx.json_parse(s)?,
        Val::Bytes(b) => super::bytes::array_buffer(ctx, b)?.into_value(),
        Val::Obj(props) => {
            let o = Object::new(ctx.clone())?;
            for (k, v) in props {
                o.set(k, val_js(ctx, v)?)?;
            }
            o.into_value()
        }
        Val::Array(items) => {
            let a = Array::new(ctx.clone())?;
            for (i, x) in items.into_iter().enumerate() {
                a.set(i, val_js(ctx, x)?)?;
            }
            a.into_value()
        }
    })
}

/// What a native's promise resolves to: the value, or `{error: {kind, message, ...}}`.
fn reply<'js>(ctx: &Ctx<'js>, r: Result<Val, Val>) -> rquickjs::Result<Value<'js>> {
    val_js(ctx, r.unwrap_or_else(|e| Val::Obj(vec![("error", e)])))
}

fn params_from_js(a: &Array<'_>) -> Result<Vec<Param>, Val> {
    let mut out = Vec::with_capacity(a.len());
    for v in a.iter::<Value>() {
        let v = v.map_err(|e| usage(format!("pg: {e}")))?;
        out.push(if v.is_null() || v.is_undefined() {
            Param::Null
        } else if let Some(t) = v.as_string() {
            Param::Text(t.to_string().map_err(|e| usage(format!("pg: {e}")))?)
        } else {
            return Err(usage("pg: a query parameter was not prepared as text"));
        });
    }
    Ok(out)
}

pub fn natives<'js>(ctx: &Ctx<'js>, env: &ModuleEnv) -> rquickjs::Result<Object<'js>> {
    let st = Rc::new(State {
        clients: RefCell::new(HashMap::new()),
        idle: RefCell::new(Vec::new()),
        next: Cell::new(1),
        connecting: Cell::new(0),
        egress: env.egress.clone(),
        buffers: env.buffers.clone(),
        native: env.native.clone(),
    });
    let o = Object::new(ctx.clone())?;
    let s1 = st.clone();
    let connect_fn = Async(move |ctx: Ctx<'js>, opts: Object<'js>| {
        let (st, opts) = (s1.clone(), conn_opts(&opts));
        let op = st.native.op();
        async move {
            let _op = op;
            let r = match opts {
                Ok(o) => connect(&st, o).await,
                Err(e) => Err(e),
            };
            reply(
                &ctx,
                r.map(|h| Val::Obj(vec![("handle", Val::Num(h.into()))])),
            )
        }
    });
    o.set("connect", Function::new(ctx.clone(), connect_fn)?)?;
    let s2 = st.clone();
    let query_fn = Async(
        move |ctx: Ctx<'js>, handle: u32, text: String, params: Array<'js>| {
            let client = s2.clients.borrow().get(&handle).map(|o| o.client.clone());
            let params = params_from_js(&params);
            let buffers = s2.buffers.clone();
            let op = s2.native.op();
            async move {
                let _op = op;
                let r = match (client, params) {
                    (None, _) => Err(usage("Client was closed and is not queryable")),
                    (_, Err(e)) => Err(e),
                    (Some(c), Ok(p)) => run_query(&c, &text, p, &buffers).await,
                };
                reply(&ctx, r)
            }
        },
    );
    o.set("query", Function::new(ctx.clone(), query_fn)?)?;
    let s3 = st.clone();
    // An ended connection is kept for reuse (see `reuse`), unless it is broken.
    let close = move |h: u32| {
        let Some(open) = s3.clients.borrow_mut().remove(&h) else {
            return false;
        };
        if !open.client.is_closed() && Rc::strong_count(&open.client) == 1 {
            let mut idle = s3.idle.borrow_mut();
            idle.push((open, Instant::now()));
            if idle.len() > MAX_IDLE {
                idle.remove(0);
            }
        }
        true
    };
    o.set("close", Function::new(ctx.clone(), close)?)?;
    let is_open = move |h: u32| {
        st.clients
            .borrow()
            .get(&h)
            .is_some_and(|o| !o.client.is_closed())
    };
    o.set("isOpen", Function::new(ctx.clone(), is_open)?)?;
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::pg_decode::{Dec, array, numeric_text};

    fn words(v: &[i16]) -> Vec<u8> {
        v.iter().flat_map(|w| w.to_be_bytes()).collect()
    }

    #[test]
    fn numerics_decode_to_their_text() {
        // 12345.678: weight 1, digits [1, 2345, 6780], dscale 3.
        assert_eq!(
            numeric_text(&words(&[3, 1, 0, 3, 1, 2345, 6780])).unwrap(),
            "12345.678"
        );
        // -0.00001234: weight -2, digits [1234], dscale 8.
        assert_eq!(
            numeric_text(&words(&[1, -2, 0x4000, 8, 1234])).unwrap(),
            "-0.00001234"
        );
        assert_eq!(numeric_text(&words(&[0, 0, 0, 0])).unwrap(), "0");
        assert!(numeric_text(&[0, 1]).is_err());
    }

    #[test]
    fn arrays_nest_by_dimension_and_reject_truncation() {
        let mut raw: Vec<u8> = [2i32, 0, 23, 2, 1, 2, 1]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        for n in 1..=4i32 {
            raw.extend_from_slice(&4i32.to_be_bytes());
            raw.extend_from_slice(&n.to_be_bytes());
        }
        let row = |a: f64, b: f64| Val::Array(vec![Val::Num(a), Val::Num(b)]);
        assert_eq!(
            array(&Dec::Int, &raw).unwrap(),
            Val::Array(vec![row(1.0, 2.0), row(3.0, 4.0)])
        );
        assert!(array(&Dec::Int, &raw[..raw.len() - 2]).is_err());
    }
}
