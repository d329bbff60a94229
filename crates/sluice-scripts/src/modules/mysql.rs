//! Native half of `mysql`, `mysql2` and `mysql2/promise`: MySQL/MariaDB connections over
//! `mysql_async`, owned by the container.
//!
//! - Every connection passes the tenant's egress policy: the host is resolved and checked by
//!   [`EgressPolicy::resolve`](crate::egress::EgressPolicy::resolve) and the driver connects to
//!   the checked addresses only (never re-resolving the name, never switching to a local socket).
//! - Connections live in a per-module registry (handle -> `Conn`) in the natives' closure state;
//!   a container holds at most [`MAX_OPEN`] of them per module: opening one more closes the least
//!   recently used idle one. Connections whose JS object was dropped (Auth0's templates never
//!   call `end()`) are closed by the facade's FinalizationRegistry; opening a connection while
//!   half the cap is in use runs a collection first, so such connections never pile up.
//! - Queries use the text protocol: the facade formats `?`/`??` placeholders client-side exactly
//!   like npm `mysql`/`sqlstring` and sends the final SQL. Unless the connection was opened with
//!   `multipleStatements: true`, a query holding more than one statement is refused before it
//!   is sent (npm `mysql`'s default; `mysql_async` always negotiates multi-statements).
//! - Results go to the facade as raw cells (text as strings, binary columns as `ArrayBuffer`s)
//!   with their column metadata; the facade types them (numbers, dates, Buffers).
//! - Errors are objects shaped like npm `mysql`'s (`code`, `errno`, `sqlState`, `sqlMessage`,
//!   `fatal`, and `syscall`/`address`/`port` for network errors), rejected from the natives'
//!   promises; the facade turns them into `Error`s.
//! - TLS is not built in (the facade refuses the `ssl` option with a clear error).

pub use super::mysql_sql::{error_name, has_multiple_statements};
use crate::egress::{EgressPolicy, ModuleEnv};
use mysql_async::consts::ColumnType;
use mysql_async::prelude::Queryable;
use mysql_async::{Column, Conn, OptsBuilder, Row, Value as MyValue};
use rquickjs::function::Async;
use rquickjs::{Array, Ctx, Function, Object, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Open connections per module per container.
pub const MAX_OPEN: usize = 16;
/// Largest result (sum of cell sizes) one query may return.
const MAX_RESULT_BYTES: usize = 32 << 20;
/// Result sets one query may return (a guard against a driver that stops making progress).
const MAX_RESULT_SETS: usize = 10_000;
const MAX_CONNECT_TIMEOUT_MS: f64 = 60_000.0;

/// A further field of a [`Failure`]: a string or a number.
#[derive(Debug, Clone, PartialEq)]
pub enum Prop {
    Str(String),
    Num(f64),
}

/// An error as npm `mysql` shapes it: `code`, `message`, `fatal`, and further fields (`errno`,
/// `sqlState`, `sqlMessage`, `syscall`, `address`, `port`).
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub code: &'static str,
    pub message: String,
    pub fatal: bool,
    pub props: Vec<(&'static str, Prop)>,
}

impl Failure {
    fn new(code: &'static str, message: impl Into<String>, fatal: bool) -> Failure {
        let (message, props) = (message.into(), Vec::new());
        Failure {
            code,
            message,
            fatal,
            props,
        }
    }

    fn str(mut self, key: &'static str, v: impl Into<String>) -> Failure {
        self.props.push((key, Prop::Str(v.into())));
        self
    }

    fn num(mut self, key: &'static str, v: f64) -> Failure {
        self.props.push((key, Prop::Num(v)));
        self
    }

    pub fn prop(&self, key: &str) -> Option<&Prop> {
        self.props.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// A server error (`ER_DUP_ENTRY: Duplicate entry ...`).
    pub fn server(errno: u16, state: &str, message: &str, fatal: bool) -> Failure {
        let code = error_name(errno).unwrap_or("UNKNOWN_CODE_PLEASE_REPORT");
        Failure::new(code, format!("{code}: {message}"), fatal)
            .num("errno", f64::from(errno))
            .str("sqlState", state)
            .str("sqlMessage", message)
    }

    /// A network error (`connect ECONNREFUSED 127.0.0.1:1`), with Node's code and errno.
    fn io(e: &std::io::Error, syscall: &'static str, addr: Option<SocketAddr>) -> Failure {
        use std::io::ErrorKind as K;
        let (code, errno) = match e.kind() {
            K::ConnectionRefused => ("ECONNREFUSED", -111),
            K::ConnectionReset => ("ECONNRESET", -104),
            K::ConnectionAborted => ("ECONNABORTED", -103),
            K::TimedOut => ("ETIMEDOUT", -110),
            K::HostUnreachable => ("EHOSTUNREACH", -113),
            K::NetworkUnreachable => ("ENETUNREACH", -101),
            K::BrokenPipe => ("EPIPE", -32),
            K::AddrNotAvailable => ("EADDRNOTAVAIL", -99),
            K::UnexpectedEof => return Failure::lost("The server closed the connection."),
            _ => ("EIO", e.raw_os_error().map_or(-5, |n| -n)),
        };
        let target = addr.map(|a| format!(" {a}")).unwrap_or_default();
        Failure::new(code, format!("{syscall} {code}{target}"), true)
            .num("errno", f64::from(errno))
            .str("syscall", syscall)
            .at(addr)
    }

    fn at(self, addr: Option<SocketAddr>) -> Failure {
        match addr {
            Some(a) => self
                .str("address", a.ip().to_string())
                .num("port", f64::from(a.port())),
            None => self,
        }
    }

    fn lost(why: &str) -> Failure {
        Failure::new(
            "PROTOCOL_CONNECTION_LOST",
            format!("Connection lost: {why}"),
            true,
        )
    }

    /// What a driver error means to a script. While `connecting` (to `addr`) every error is
    /// fatal.
    fn from_mysql(e: mysql_async::Error, connecting: bool, addr: Option<SocketAddr>) -> Failure {
        use mysql_async::{DriverError, Error, IoError};
        let fatal = connecting || e.is_fatal();
        match e {
            Error::Server(s) => Failure::server(s.code, &s.state, &s.message, fatal),
            Error::Io(IoError::Io(io)) => {
                Failure::io(&io, if connecting { "connect" } else { "read" }, addr)
            }
            Error::Driver(DriverError::ConnectionClosed) => {
                Failure::lost("The server closed the connection.")
            }
            Error::Driver(DriverError::LocalInfile(_)) => Failure::new(
                "LOCAL_FILES_DISABLED",
                "LOAD DATA LOCAL INFILE is not available to action scripts",
                true,
            ),
            other => Failure::new(
                "PROTOCOL_ERROR",
                format!("MySQL protocol error: {other}"),
                true,
            ),
        }
    }

    /// The error object the facade turns into an `Error`; thrown, so the promise rejects.
    fn throw(&self, ctx: &Ctx<'_>) -> rquickjs::Error {
        let build = || -> rquickjs::Result<Object<'_>> {
            let o = Object::new(ctx.clone())?;
            o.set("message", self.message.as_str())?;
            o.set("code", self.code)?;
            o.set("fatal", self.fatal)?;
            for (k, v) in &self.props {
                match v {
                    Prop::Str(s) => o.set(*k, s.as_str())?,
                    Prop::Num(n) => o.set(*k, *n)?,
                }
            }
            Ok(o)
        };
        match build() {
            Ok(o) => ctx.throw(o.into_value()),
            Err(e) => e,
        }
    }
}

/// One result of a query: rows with their columns, or an OK packet.
enum ResultSet {
    Rows {
        columns: Arc<[Column]>,
        rows: Vec<Vec<Option<MyValue>>>,
    },
    Ok {
        affected: u64,
        insert_id: u64,
        warnings: u16,
        info: String,
    },
}

/// Whether npm `mysql` hands a column's values out as a Buffer.
fn is_binary(c: &Column) -> bool {
    use ColumnType::*;
    match c.column_type() {
        MYSQL_TYPE_BIT | MYSQL_TYPE_GEOMETRY => true,
        MYSQL_TYPE_STRING
        | MYSQL_TYPE_VAR_STRING
        | MYSQL_TYPE_VARCHAR
        | MYSQL_TYPE_TINY_BLOB
        | MYSQL_TYPE_MEDIUM_BLOB
        | MYSQL_TYPE_LONG_BLOB
        | MYSQL_TYPE_BLOB => c.character_set() == 63,
        _ => false,
    }
}

fn cell_size(v: &Option<MyValue>) -> usize {
    match v {
        Some(MyValue::Bytes(b)) => b.len() + 8,
        _ => 8,
    }
}

async fn run_query(
    conn: &mut Conn,
    sql: &str,
    buffers: &crate::budget::HostBuffers,
) -> Result<Vec<ResultSet>, Failure> {
    let err = |e| Failure::from_mysql(e, false, None);
    let mut qr = conn.query_iter(sql).await.map_err(err)?;
    let mut sets = Vec::new();
    let mut bytes = 0usize;
    let mut charge = buffers.charge();
    let mut refused = None;
    loop {
        match qr.columns().filter(|c| !c.is_empty()) {
            Some(columns) => {
                let mut rows = Vec::new();
                qr.for_each(|row: Row| {
                    let cells = row.unwrap_raw();
                    let size: usize = cells.iter().map(cell_size).sum();
                    bytes = bytes.saturating_add(size);
                    if refused.is_none()
                        && let Err(m) = charge.grow(size)
                    {
                        refused = Some(m);
                    }
                    if bytes <= MAX_RESULT_BYTES && refused.is_none() {
                        rows.push(cells);
                    }
                })
                .await
                .map_err(err)?;
                sets.push(ResultSet::Rows { columns, rows });
            }
            None => {
                sets.push(ResultSet::Ok {
                    affected: qr.affected_rows(),
                    insert_id: qr.last_insert_id().unwrap_or(0),
                    warnings: qr.warnings(),
                    info: qr.info().into_owned(),
                });
                qr.for_each(|_: Row| {}).await.map_err(err)?;
            }
        }
        if qr.is_empty() {
            break;
        }
        if sets.len() >= MAX_RESULT_SETS {
            return Err(Failure::new(
                "PROTOCOL_ERROR",
                format!("the query returned more than {MAX_RESULT_SETS} result sets"),
                true,
            ));
        }
    }
    if let Some(m) = refused {
        return Err(Failure::new("ER_RESULT_TOO_LARGE", m, false));
    }
    if bytes > MAX_RESULT_BYTES {
        return Err(Failure::new(
            "ER_RESULT_TOO_LARGE",
            format!(
                "the query's result is larger than {} MiB; select fewer rows or columns",
                MAX_RESULT_BYTES >> 20
            ),
            false,
        ));
    }
    Ok(sets)
}

fn cell_to_js<'js>(
    ctx: &Ctx<'js>,
    v: Option<MyValue>,
    binary: bool,
) -> rquickjs::Result<Value<'js>> {
    let text = match v {
        None | Some(MyValue::NULL) => return Ok(Value::new_null(ctx.clone())),
        Some(MyValue::Bytes(b)) if binary => {
            return Ok(super::bytes::array_buffer(ctx, b)?.into_value());
        }
        Some(MyValue::Bytes(b)) => String::from_utf8(b)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        // Binary-protocol values; the text protocol used here sends only bytes and NULL.
        Some(MyValue::Int(n)) => n.to_string(),
        Some(MyValue::UInt(n)) => n.to_string(),
        Some(MyValue::Float(n)) => n.to_string(),
        Some(MyValue::Double(n)) => n.to_string(),
        Some(v @ (MyValue::Date(..) | MyValue::Time(..))) => {
            v.as_sql(true).trim_matches('\'').to_string()
        }
    };
    Ok(rquickjs::String::from_str(ctx.clone(), &text)?.into_value())
}

fn column_to_js<'js>(ctx: &Ctx<'js>, c: &Column) -> rquickjs::Result<Object<'js>> {
    let o = Object::new(ctx.clone())?;
    o.set("name", c.name_str().as_ref())?;
    o.set("orgName", c.org_name_str().as_ref())?;
    o.set("table", c.table_str().as_ref())?;
    o.set("orgTable", c.org_table_str().as_ref())?;
    o.set("db", c.schema_str().as_ref())?;
    o.set("type", c.column_type() as u8)?;
    o.set("flags", c.flags().bits())?;
    o.set("charsetNr", c.character_set())?;
    o.set("length", c.column_length())?;
    o.set("decimals", c.decimals())?;
    o.set("binary", is_binary(c))?;
    Ok(o)
}

fn sets_to_js<'js>(ctx: &Ctx<'js>, sets: Vec<ResultSet>) -> rquickjs::Result<Array<'js>> {
    let out = Array::new(ctx.clone())?;
    for (i, set) in sets.into_iter().enumerate() {
        let o = Object::new(ctx.clone())?;
        match set {
            ResultSet::Ok {
                affected,
                insert_id,
                warnings,
                info,
            } => {
                o.set("ok", true)?;
                o.set("affectedRows", affected as f64)?;
                o.set("insertId", insert_id as f64)?;
                o.set("warningCount", warnings)?;
                o.set("message", info)?;
            }
            ResultSet::Rows { columns, rows } => {
                let cols = Array::new(ctx.clone())?;
                let binary: Vec<bool> = columns.iter().map(is_binary).collect();
                for (j, c) in columns.iter().enumerate() {
                    cols.set(j, column_to_js(ctx, c)?)?;
                }
                let rs = Array::new(ctx.clone())?;
                for (k, row) in rows.into_iter().enumerate() {
                    let r = Array::new(ctx.clone())?;
                    for (j, cell) in row.into_iter().enumerate() {
                        r.set(
                            j,
                            cell_to_js(ctx, cell, binary.get(j).copied().unwrap_or(false))?,
                        )?;
                    }
                    rs.set(k, r)?;
                }
                o.set("columns", cols)?;
                o.set("rows", rs)?;
            }
        }
        out.set(i, o)?;
    }
    Ok(out)
}

/// What the facade asks to connect to (already normalised by it).
struct ConnectConfig {
    host: String,
    port: u16,
    user: Option<String>,
    password: Option<String>,
    database: Option<String>,
    timeout: Duration,
    multiple_statements: bool,
}

fn read_config(cfg: &Object<'_>) -> Result<ConnectConfig, Failure> {
    let bad = |what: &str| {
        Failure::new(
            "ER_BAD_CONFIG",
            format!("invalid MySQL connection option: {what}"),
            true,
        )
    };
    let host: String = cfg.get("host").map_err(|_| bad("host"))?;
    let port: f64 = cfg.get("port").map_err(|_| bad("port"))?;
    if !(1.0..=65535.0).contains(&port) || port.fract() != 0.0 {
        return Err(bad("port (1 to 65535)"));
    }
    let opt = |k: &str| -> Result<Option<String>, Failure> {
        cfg.get::<_, Option<String>>(k)
            .map(|v| v.filter(|s| !s.is_empty()))
            .map_err(|_| bad(k))
    };
    let timeout = (cfg.get::<_, f64>("connectTimeout").ok())
        .filter(|t| t.is_finite() && *t > 0.0)
        .map_or(MAX_CONNECT_TIMEOUT_MS, |t| t.min(MAX_CONNECT_TIMEOUT_MS));
    Ok(ConnectConfig {
        host,
        port: port as u16,
        user: opt("user")?,
        password: opt("password")?,
        database: opt("database")?,
        timeout: Duration::from_secs_f64(timeout / 1000.0),
        multiple_statements: cfg.get("multipleStatements").unwrap_or(false),
    })
}

/// Opens a connection to the egress-checked addresses of `c.host`.
async fn open(egress: &EgressPolicy, c: &ConnectConfig) -> Result<Conn, Failure> {
    let addrs = egress.resolve(&c.host, c.port).await.map_err(|m| {
        if m.starts_with("cannot resolve") {
            let msg = format!("getaddrinfo ENOTFOUND {}", c.host);
            Failure::new("ENOTFOUND", msg, true)
                .num("errno", -3008.0)
                .str("syscall", "getaddrinfo")
        } else {
            Failure::new("EGRESS_DENIED", m, true)
        }
    })?;
    let first = addrs.first().copied();
    let opts = OptsBuilder::default()
        .ip_or_hostname(c.host.clone())
        .tcp_port(c.port)
        .resolved_ips(Some(addrs.iter().map(|a| a.ip()).collect::<Vec<_>>()))
        .prefer_socket(false)
        .user(c.user.clone())
        .pass(c.password.clone())
        .db_name(c.database.clone())
        .client_found_rows(true) // npm mysql's default FOUND_ROWS flag
        .stmt_cache_size(0)
        .tcp_nodelay(true);
    match tokio::time::timeout(c.timeout, Conn::new(opts)).await {
        Ok(r) => r.map_err(|e| Failure::from_mysql(e, true, first)),
        Err(_) => Err(Failure::new("ETIMEDOUT", "connect ETIMEDOUT", true)
            .num("errno", -110.0)
            .str("syscall", "connect")
            .at(first)),
    }
}

struct Slot {
    /// `None` while a query or the connect is in flight (the future holds the connection).
    conn: Option<Conn>,
    last_used: Instant,
    multiple_statements: bool,
}

/// The connections of one module in one container.
#[derive(Default)]
struct Registry {
    next: u32,
    slots: HashMap<u32, Slot>,
}

impl Registry {
    /// A handle for a connection about to be opened; closes the least recently used idle
    /// connection when [`MAX_OPEN`] are open.
    fn reserve(&mut self, multiple_statements: bool) -> Result<u32, Failure> {
        if self.slots.len() >= MAX_OPEN {
            let lru = self
                .slots
                .iter()
                .filter(|(_, s)| s.conn.is_some())
                .min_by_key(|(_, s)| s.last_used)
                .map(|(h, _)| *h);
            match lru {
                Some(h) => drop(self.slots.remove(&h)),
                None => {
                    return Err(Failure::new(
                        "ER_CON_COUNT_ERROR",
                        format!(
                            "Too many connections: a script container may keep at most {MAX_OPEN} MySQL connections busy at once"
                        ),
                        true,
                    ));
                }
            }
        }
        loop {
            self.next = self.next.wrapping_add(1);
            if self.next != 0 && !self.slots.contains_key(&self.next) {
                break;
            }
        }
        self.slots.insert(
            self.next,
            Slot {
                conn: None,
                last_used: Instant::now(),
                multiple_statements,
            },
        );
        Ok(self.next)
    }

    fn checkout(&mut self, h: u32) -> Result<(Conn, bool), Failure> {
        let lost = || {
            Failure::lost(
                "the connection was closed (ended, destroyed, or closed by the runtime as the least recently used of too many open connections)",
            )
        };
        let slot = self.slots.get_mut(&h).ok_or_else(lost)?;
        let conn = slot.conn.take().ok_or_else(|| {
            Failure::new(
                "PROTOCOL_ERROR",
                "the connection is busy with another command",
                false,
            )
        })?;
        Ok((conn, slot.multiple_statements))
    }

    /// Puts a connection back; one destroyed meanwhile is dropped (and so closed).
    fn checkin(&mut self, h: u32, conn: Conn) {
        if let Some(slot) = self.slots.get_mut(&h) {
            slot.conn = Some(conn);
            slot.last_used = Instant::now();
        }
    }

    fn remove(&mut self, h: u32) -> Option<Conn> {
        self.slots.remove(&h).and_then(|s| s.conn)
    }
}

pub fn natives<'js>(ctx: &Ctx<'js>, env: &ModuleEnv) -> rquickjs::Result<Object<'js>> {
    let reg = Rc::new(RefCell::new(Registry::default()));
    let o = Object::new(ctx.clone())?;
    let (r, egress, n) = (reg.clone(), env.egress.clone(), env.native.clone());
    o.set(
        "connect",
        Function::new(
            ctx.clone(),
            Async(move |ctx: Ctx<'js>, cfg: Object<'js>| {
                let (reg, egress) = (r.clone(), egress.clone());
                let op = n.op();
                let cfg = read_config(&cfg);
                if reg.borrow().slots.len() >= MAX_OPEN / 2 {
                    // Connections of dropped Connection objects close through the facade's
                    // FinalizationRegistry: collect cycles so they do before the cap bites.
                    ctx.run_gc();
                }
                async move {
                    let _op = op;
                    let opened = async {
                        let c = cfg?;
                        let h = reg.borrow_mut().reserve(c.multiple_statements)?;
                        match open(&egress, &c).await {
                            Ok(conn) => {
                                let id = conn.id();
                                reg.borrow_mut().checkin(h, conn);
                                Ok((h, id))
                            }
                            Err(e) => {
                                reg.borrow_mut().remove(h);
                                Err(e)
                            }
                        }
                    }
                    .await;
                    let (h, thread_id) = opened.map_err(|f| f.throw(&ctx))?;
                    let out = Object::new(ctx.clone())?;
                    out.set("handle", h)?;
                    out.set("threadId", thread_id)?;
                    Ok::<_, rquickjs::Error>(out)
                }
            }),
        )?,
    )?;
    let r = reg.clone();
    let (b, n) = (env.buffers.clone(), env.native.clone());
    o.set(
        "query",
        Function::new(
            ctx.clone(),
            Async(move |ctx: Ctx<'js>, h: u32, sql: String| {
                let reg = r.clone();
                let buffers = b.clone();
                let op = n.op();
                async move {
                    let _op = op;
                    let (mut conn, multi) = reg.borrow_mut().checkout(h).map_err(|f| f.throw(&ctx))?;
                    let result = if !multi && has_multiple_statements(&sql) {
                        Err(Failure::server(
                            1064,
                            "42000",
                            "You have an error in your SQL syntax: this connection does not allow multiple statements in one query (set multipleStatements: true to allow them)",
                            false,
                        ))
                    } else {
                        run_query(&mut conn, &sql, &buffers).await
                    };
                    match &result {
                        // A connection that failed fatally is unusable: forget and close it.
                        Err(f) if f.fatal => {
                            reg.borrow_mut().remove(h);
                            drop(conn);
                        }
                        _ => reg.borrow_mut().checkin(h, conn),
                    }
                    match result {
                        Ok(sets) => sets_to_js(&ctx, sets),
                        Err(f) => Err(f.throw(&ctx)),
                    }
                }
            }),
        )?,
    )?;
    let r = reg.clone();
    o.set(
        "end",
        Function::new(
            ctx.clone(),
            Async(move |h: u32| {
                let reg = r.clone();
                async move {
                    // A connection busy elsewhere is closed when its command finishes.
                    let conn = reg.borrow_mut().remove(h);
                    if let Some(conn) = conn {
                        let _ =
                            tokio::time::timeout(Duration::from_secs(5), conn.disconnect()).await;
                    }
                    Ok::<(), rquickjs::Error>(())
                }
            }),
        )?,
    )?;
    let r = reg.clone();
    o.set(
        "destroy",
        Function::new(ctx.clone(), move |h: u32| {
            drop(r.borrow_mut().remove(h));
        })?,
    )?;
    let r = reg;
    o.set(
        "isOpen",
        Function::new(ctx.clone(), move |h: u32| r.borrow().slots.contains_key(&h))?,
    )?;
    o.set("maxOpen", MAX_OPEN)?;
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_statements_pass() {
        for sql in [
            "SELECT 1",
            "SELECT 1;",
            "SELECT 1;  \n",
            "SELECT 1; -- trailing comment",
            "SELECT 1; # trailing",
            "SELECT 1; /* done */",
            "SELECT 'a;b', \"c;d\", `e;f` FROM t",
            "SELECT 'it\\'s; fine'",
            "SELECT 'O''Brien; Jr'",
            "SELECT 1 -- ; DROP TABLE x\n",
            "SELECT 1 /* ; DROP TABLE x */",
            "SELECT 1;;",
        ] {
            assert!(!has_multiple_statements(sql), "{sql}");
        }
    }

    #[test]
    fn stacked_statements_are_found() {
        for sql in [
            "SELECT 1; SELECT 2",
            "SELECT 'x'; DROP TABLE users",
            "SELECT '\\\\'; DROP TABLE users; -- '",
            "SELECT 1;/*! DROP TABLE users */",
            "SELECT 1--1; DROP TABLE users",
            "SELECT 1; 'x'",
            "SELECT 1 /* c */; `t`",
        ] {
            assert!(has_multiple_statements(sql), "{sql}");
        }
    }

    #[test]
    fn server_errors_carry_npm_names() {
        let f = Failure::server(1062, "23000", "Duplicate entry 'a' for key 'email'", false);
        assert_eq!(f.code, "ER_DUP_ENTRY");
        assert_eq!(
            f.message,
            "ER_DUP_ENTRY: Duplicate entry 'a' for key 'email'"
        );
        assert_eq!(f.prop("errno"), Some(&Prop::Num(1062.0)));
        assert_eq!(f.prop("sqlState"), Some(&Prop::Str("23000".into())));
        assert_eq!(
            Failure::server(9999, "HY000", "x", false).code,
            "UNKNOWN_CODE_PLEASE_REPORT"
        );
    }
}
