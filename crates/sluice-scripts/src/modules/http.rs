//! Native half of the HTTP clients (`fetch`/`node-fetch`, `request`, `axios`) and of `URL`.
//!
//! One native, `request(options)`, performs an HTTP exchange with reqwest and resolves to
//! `{status, statusText, headers: [[name, value]...], url, redirected, body: ArrayBuffer}`; the
//! JavaScript facades shape that into each library's API. Every connection passes the tenant's
//! egress policy: host names are resolved by a resolver that checks each address and hands
//! exactly those addresses to the connector (so DNS cannot change between check and connect),
//! IP literals are checked before sending, and redirects are followed here, hop by hop, so
//! each hop is checked too. Time, redirects and response size are capped.
//!
//! `URL` parsing is native too: the `url` crate implements the WHATWG URL standard, and its
//! `quirks` API gives the exact getters and setters of the JavaScript `URL` class.

use super::ModuleEnv;
use super::bytes::{array_buffer, copy_out};
use crate::budget::HostBuffers;
use crate::egress::EgressPolicy;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue, LOCATION};
use reqwest::{Client, Method, StatusCode, Url};
use rquickjs::function::Async;
use rquickjs::{Array, Ctx, Exception, Function, Object, TypedArray, Value};
use std::error::Error as StdError;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use url::quirks;

/// Timeout of a request that sets none (connect, every redirect hop and the body together).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest timeout a script may ask for (an invocation's own deadline is about 20 s).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(20);
/// Redirects followed at most per request.
pub const MAX_REDIRECTS: usize = 5;
/// Largest response body accepted.
pub const MAX_RESPONSE_BYTES: usize = 10 * 1024 * 1024;

/// Request headers the client computes itself; a script's values for them are ignored.
const HOP_BY_HOP: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-connection",
];

#[derive(Clone, Copy, PartialEq, Debug)]
enum Redirect {
    /// Follow up to `max_redirects`; one more is an error.
    Follow,
    /// Return the 3xx response as it is.
    Manual,
    /// A redirect is an error.
    Error,
}

/// One request as the script asked for it, validated.
#[derive(Debug)]
struct Spec {
    method: Method,
    url: Url,
    headers: HeaderMap,
    body: Option<Vec<u8>>,
    timeout: Duration,
    redirect: Redirect,
    max_redirects: usize,
    max_bytes: usize,
}

/// The final response.
struct Reply {
    status: StatusCode,
    headers: Vec<(String, String)>,
    url: Url,
    redirected: bool,
    body: Vec<u8>,
}

/// A failed request: a Node-style error code and a message.
#[derive(Debug, PartialEq)]
pub struct Failure {
    pub code: &'static str,
    pub message: String,
}

fn failure(code: &'static str, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
    }
}

/// The resolver's refusal (the egress policy said no).
#[derive(Debug)]
struct Refused(String);
/// The resolver's lookup failure.
#[derive(Debug)]
struct NotFound(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::fmt::Display for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl StdError for Refused {}
impl StdError for NotFound {}

fn is_refusal(message: &str) -> bool {
    message.contains("egress policy")
}

/// Resolves host names through the egress policy: only checked addresses reach the connector.
struct EgressResolver(Arc<EgressPolicy>);

impl reqwest::dns::Resolve for EgressResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            match policy.resolve(&host, 0).await {
                Ok(addrs) => match addrs
                    .iter()
                    .find(|a| a.ip().to_canonical().is_unspecified())
                {
                    Some(a) => Err(Box::new(Refused(unspecified(&host, a.ip()))) as _),
                    None => Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs),
                },
                Err(e) if is_refusal(&e) => Err(Box::new(Refused(e)) as _),
                Err(e) => Err(Box::new(NotFound(e)) as _),
            }
        })
    }
}

/// The container's HTTP client, made on first use (a container's egress policy never changes:
/// a new policy retires the tenant's containers), so its pooled connections belong to it.
type ClientCell = std::rc::Rc<std::cell::OnceCell<Client>>;

fn client_for(cell: &ClientCell, policy: &Arc<EgressPolicy>) -> Result<Client, Failure> {
    if let Some(c) = cell.get() {
        return Ok(c.clone());
    }
    {
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(EgressResolver(policy.clone())))
            .connect_timeout(MAX_TIMEOUT)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| failure("ERR_NETWORK", format!("cannot start the HTTP client: {e}")))?;
        Ok(cell.get_or_init(|| client).clone())
    }
}

/// http(s) only, with a host; an IP literal is checked here (the resolver never sees one).
fn check_target(policy: &EgressPolicy, url: &Url) -> Result<(), Failure> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(failure(
            "ERR_UNSUPPORTED_PROTOCOL",
            format!(
                "Only HTTP(S) protocols are supported (got '{}:')",
                url.scheme()
            ),
        ));
    }
    let ip: IpAddr = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.into(),
        Some(url::Host::Ipv6(ip)) => ip.into(),
        Some(url::Host::Domain(_)) => return Ok(()),
        None => return Err(failure("ERR_INVALID_URL", format!("Invalid URL: {url}"))),
    };
    if ip.to_canonical().is_unspecified() {
        return Err(failure("EGRESS_DENIED", unspecified(&ip.to_string(), ip)));
    }
    policy
        .verdict(&ip.to_string(), ip)
        .map_err(|e| failure("EGRESS_DENIED", e))
}

/// `0.0.0.0` and `::` reach the local host: never a destination, whatever the policy says.
fn unspecified(host: &str, ip: IpAddr) -> String {
    format!(
        "connection to {host} ({ip}) is not allowed by the tenant's egress policy: the unspecified address reaches the local host"
    )
}

/// What a reqwest error means, as a Node error code and message.
fn classify(e: &reqwest::Error, url: &Url) -> Failure {
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(0);
    let mut source: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<Refused>() {
            return failure("EGRESS_DENIED", r.0.clone());
        }
        if s.downcast_ref::<NotFound>().is_some() {
            return failure("ENOTFOUND", format!("getaddrinfo ENOTFOUND {host}"));
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            match io.kind() {
                K::ConnectionRefused => {
                    return failure(
                        "ECONNREFUSED",
                        format!("connect ECONNREFUSED {host}:{port}"),
                    );
                }
                K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
                    return failure("ECONNRESET", format!("socket hang up ({host}:{port})"));
                }
                K::TimedOut => {
                    return failure("ETIMEDOUT", format!("connect ETIMEDOUT {host}:{port}"));
                }
                _ => {}
            }
        }
        // A boxed error may hide its type behind another box: fall back on the text.
        let text = s.to_string();
        if is_refusal(&text) {
            return failure("EGRESS_DENIED", text);
        }
        source = s.source();
    }
    if e.is_timeout() {
        return failure("ETIMEDOUT", format!("the request to {url} timed out"));
    }
    let mut message = e.to_string();
    let mut deepest = message.clone();
    let mut source = e.source();
    while let Some(s) = source {
        deepest = s.to_string();
        message.push_str(": ");
        message.push_str(&deepest);
        source = s.source();
    }
    match tls_code(&message) {
        Some(code) => failure(
            code,
            format!("TLS connection to {host}:{port} failed: {deepest}"),
        ),
        None => failure("ERR_NETWORK", message),
    }
}

/// Node's code for a TLS failure, from rustls' description of it.
fn tls_code(chain: &str) -> Option<&'static str> {
    if chain.contains("invalid peer certificate") {
        Some(if chain.contains("Expired") {
            "CERT_HAS_EXPIRED"
        } else if chain.contains("NotValidForName") {
            "ERR_TLS_CERT_ALTNAME_INVALID"
        } else if chain.contains("UnknownIssuer") {
            "UNABLE_TO_VERIFY_LEAF_SIGNATURE"
        } else {
            "ERR_TLS_CERT_INVALID"
        })
    } else if chain.contains("corrupt message")
        || chain.contains("peer is incompatible")
        || chain.contains("received fatal alert")
        || chain.contains("HandshakeFailure")
    {
        Some("EPROTO")
    } else {
        None
    }
}

fn too_large(max: usize) -> Failure {
    failure(
        "ERR_RESPONSE_TOO_LARGE",
        format!("the response body is larger than the limit of {max} bytes"),
    )
}

async fn read_body(
    resp: &mut reqwest::Response,
    max: usize,
    url: &Url,
    buffers: &HostBuffers,
) -> Result<Vec<u8>, Failure> {
    if resp.content_length().is_some_and(|n| n > max as u64) {
        return Err(too_large(max));
    }
    let mut out = Vec::new();
    let mut charge = buffers.charge();
    while let Some(chunk) = resp.chunk().await.map_err(|e| classify(&e, url))? {
        if out.len() + chunk.len() > max {
            return Err(too_large(max));
        }
        charge
            .grow(chunk.len())
            .map_err(|m| failure("ERR_RESPONSE_TOO_LARGE", m))?;
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Moves credentials in the URL (`http://user:pass@host/`) to a Basic `Authorization` header.
fn lift_credentials(url: &mut Url, headers: &mut HeaderMap) {
    if url.username().is_empty() && url.password().is_none() {
        return;
    }
    let user = percent_decode(url.username());
    let pass = percent_decode(url.password().unwrap_or_default());
    if !headers.contains_key(AUTHORIZATION) {
        let token = base64_encode(format!("{user}:{pass}").as_bytes());
        if let Ok(v) = HeaderValue::from_str(&format!("Basic {token}")) {
            headers.insert(AUTHORIZATION, v);
        }
    }
    let _ = url.set_username("");
    let _ = url.set_password(None);
}

/// `%XX` sequences to bytes, the rest as it is; invalid UTF-8 becomes U+FFFD.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).and_then(|&c| hex(c)),
            b.get(i + 2).and_then(|&c| hex(c)),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Standard base64 (with padding).
fn base64_encode(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(c.get(1).copied().unwrap_or(0)) << 8)
            | u32::from(c.get(2).copied().unwrap_or(0));
        out.push(A[(n >> 18) as usize & 63] as char);
        out.push(A[(n >> 12) as usize & 63] as char);
        out.push(if c.len() > 1 {
            A[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if c.len() > 2 {
            A[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// Sends the request, following redirects as asked, each hop checked.
async fn exchange(
    client: &Client,
    policy: &EgressPolicy,
    mut spec: Spec,
    buffers: &HostBuffers,
) -> Result<Reply, Failure> {
    let mut hops = 0;
    loop {
        lift_credentials(&mut spec.url, &mut spec.headers);
        check_target(policy, &spec.url)?;
        let mut builder = client
            .request(spec.method.clone(), spec.url.clone())
            .headers(spec.headers.clone());
        if let Some(b) = &spec.body {
            builder = builder.body(b.clone());
        }
        let mut resp = builder.send().await.map_err(|e| classify(&e, &spec.url))?;
        let status = resp.status();
        let location = resp
            .headers()
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .map(str::to_string);
        let is_redirect = matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308);
        if let Some(location) =
            location.filter(|_| is_redirect && spec.redirect != Redirect::Manual)
        {
            if spec.redirect == Redirect::Error {
                return Err(failure(
                    "ERR_REDIRECT",
                    format!("redirect mode is set to error: {} redirected", spec.url),
                ));
            }
            if hops >= spec.max_redirects {
                return Err(failure(
                    "ERR_TOO_MANY_REDIRECTS",
                    format!("maximum redirect reached at: {}", spec.url),
                ));
            }
            let next = spec.url.join(&location).map_err(|_| {
                failure(
                    "ERR_INVALID_URL",
                    format!("invalid redirect location '{location}' from {}", spec.url),
                )
            })?;
            let code = status.as_u16();
            if code == 303 && spec.method != Method::HEAD
                || matches!(code, 301 | 302) && spec.method == Method::POST
            {
                spec.method = Method::GET;
                spec.body = None;
                for h in ["content-type", "content-encoding", "content-language"] {
                    spec.headers.remove(h);
                }
            }
            if next.origin() != spec.url.origin() {
                for h in ["authorization", "cookie", "proxy-authorization"] {
                    spec.headers.remove(h);
                }
            }
            spec.url = next;
            hops += 1;
            continue;
        }
        let body = read_body(&mut resp, spec.max_bytes, &spec.url, buffers).await?;
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        return Ok(Reply {
            status,
            headers,
            url: spec.url,
            redirected: hops > 0,
            body,
        });
    }
}

/// Runs a request under its overall timeout.
async fn perform(
    cell: &ClientCell,
    policy: &Arc<EgressPolicy>,
    spec: Spec,
    buffers: &HostBuffers,
) -> Result<Reply, Failure> {
    let client = client_for(cell, policy)?;
    let timeout = spec.timeout;
    let url = spec.url.to_string();
    match tokio::time::timeout(timeout, exchange(&client, policy, spec, buffers)).await {
        Ok(r) => r,
        Err(_) => Err(failure(
            "ETIMEDOUT",
            format!(
                "the request to {url} timed out after {} ms",
                timeout.as_millis()
            ),
        )),
    }
}

fn type_error(ctx: &Ctx<'_>, code: &str, message: &str) -> rquickjs::Error {
    let e = match Exception::from_message(ctx.clone(), message) {
        Ok(e) => e,
        Err(e) => return e,
    };
    // `from_message` makes an `Error`; scripts check `instanceof TypeError` rarely, the code often.
    let _ = e.as_object().set("name", "TypeError");
    let _ = e.as_object().set("code", code);
    ctx.throw(e.into_value())
}

fn throw_failure(ctx: &Ctx<'_>, f: Failure) -> rquickjs::Error {
    match Exception::from_message(ctx.clone(), &f.message) {
        Ok(e) => {
            let _ = e.as_object().set("code", f.code);
            ctx.throw(e.into_value())
        }
        Err(e) => e,
    }
}

/// A millisecond option: positive and finite, else `None`.
fn millis(v: Option<f64>) -> Option<Duration> {
    v.filter(|m| m.is_finite() && *m > 0.0)
        .map(|m| Duration::from_secs_f64((m / 1000.0).min(86_400.0)))
}

fn parse_spec<'js>(ctx: &Ctx<'js>, o: &Object<'js>) -> rquickjs::Result<Spec> {
    let raw: String = o.get("url")?;
    let url = Url::parse(&raw)
        .map_err(|_| type_error(ctx, "ERR_INVALID_URL", &format!("Invalid URL: {raw}")))?;
    let method: Option<String> = o.get("method")?;
    let method = Method::from_bytes(method.as_deref().unwrap_or("GET").as_bytes())
        .map_err(|_| type_error(ctx, "ERR_INVALID_HTTP_TOKEN", "Invalid HTTP method"))?;
    let mut headers = HeaderMap::new();
    let list: Option<Array> = o.get("headers")?;
    for pair in list.iter().flat_map(|l| l.iter::<Array>()) {
        let pair = pair?;
        let (k, v): (String, String) = (pair.get(0)?, pair.get(1)?);
        let name = HeaderName::from_bytes(k.trim().as_bytes()).map_err(|_| {
            type_error(
                ctx,
                "ERR_INVALID_HTTP_TOKEN",
                &format!("Header name must be a valid HTTP token [\"{k}\"]"),
            )
        })?;
        if HOP_BY_HOP.contains(&name.as_str()) {
            continue;
        }
        let value = HeaderValue::from_bytes(v.trim().as_bytes()).map_err(|_| {
            type_error(
                ctx,
                "ERR_INVALID_CHAR",
                &format!("Invalid character in header content [\"{k}\"]"),
            )
        })?;
        headers.append(name, value);
    }
    let body: Option<TypedArray<u8>> = o.get("body")?;
    let body = body.map(|b| copy_out(ctx, &b)).transpose()?;
    let timeout = millis(o.get("timeout")?)
        .unwrap_or(DEFAULT_TIMEOUT)
        .min(MAX_TIMEOUT);
    let redirect: Option<String> = o.get("redirect")?;
    let redirect = match redirect.as_deref() {
        None | Some("follow") => Redirect::Follow,
        Some("manual") => Redirect::Manual,
        Some("error") => Redirect::Error,
        Some(other) => {
            return Err(type_error(
                ctx,
                "ERR_INVALID_ARG_VALUE",
                &format!("invalid redirect mode '{other}'"),
            ));
        }
    };
    let max_redirects: Option<f64> = o.get("maxRedirects")?;
    let max_redirects = max_redirects
        .filter(|n| n.is_finite() && *n >= 0.0)
        .map_or(MAX_REDIRECTS, |n| (n as usize).min(MAX_REDIRECTS));
    let max_bytes: Option<f64> = o.get("maxBytes")?;
    let max_bytes = max_bytes
        .filter(|n| n.is_finite() && *n >= 0.0)
        .map_or(MAX_RESPONSE_BYTES, |n| (n as usize).min(MAX_RESPONSE_BYTES));
    Ok(Spec {
        method,
        url,
        headers,
        body,
        timeout,
        redirect,
        max_redirects,
        max_bytes,
    })
}

fn reply_to_js<'js>(ctx: &Ctx<'js>, r: Reply) -> rquickjs::Result<Object<'js>> {
    let o = Object::new(ctx.clone())?;
    o.set("status", r.status.as_u16())?;
    o.set("statusText", r.status.canonical_reason().unwrap_or(""))?;
    o.set("url", r.url.as_str())?;
    o.set("redirected", r.redirected)?;
    let headers = Array::new(ctx.clone())?;
    for (i, (k, v)) in r.headers.into_iter().enumerate() {
        let pair = Array::new(ctx.clone())?;
        pair.set(0, k)?;
        pair.set(1, v)?;
        headers.set(i, pair)?;
    }
    o.set("headers", headers)?;
    o.set("body", array_buffer(ctx, r.body)?)?;
    Ok(o)
}

/// Natives of `request`, `axios` and `node-fetch`.
pub fn natives<'js>(ctx: &Ctx<'js>, env: &ModuleEnv) -> rquickjs::Result<Object<'js>> {
    let o = Object::new(ctx.clone())?;
    let policy = env.egress.clone();
    let buffers = env.buffers.clone();
    let native = env.native.clone();
    let client = ClientCell::default();
    o.set(
        "request",
        Function::new(
            ctx.clone(),
            Async(move |ctx: Ctx<'js>, opts: Object<'js>| {
                let spec = parse_spec(&ctx, &opts);
                let policy = policy.clone();
                let (buffers, client) = (buffers.clone(), client.clone());
                let op = native.op();
                async move {
                    let _op = op;
                    let spec = spec?;
                    match perform(&client, &policy, spec, &buffers).await {
                        Ok(reply) => reply_to_js(&ctx, reply),
                        Err(f) => Err(throw_failure(&ctx, f)),
                    }
                }
            }),
        )?,
    )?;
    o.set("defaultTimeout", DEFAULT_TIMEOUT.as_millis() as f64)?;
    Ok(o)
}

fn url_parts<'js>(ctx: &Ctx<'js>, u: &Url) -> rquickjs::Result<Object<'js>> {
    let o = Object::new(ctx.clone())?;
    o.set("href", quirks::href(u))?;
    o.set("origin", quirks::origin(u))?;
    o.set("protocol", quirks::protocol(u))?;
    o.set("username", quirks::username(u))?;
    o.set("password", quirks::password(u))?;
    o.set("host", quirks::host(u))?;
    o.set("hostname", quirks::hostname(u))?;
    o.set("port", quirks::port(u))?;
    o.set("pathname", quirks::pathname(u))?;
    o.set("search", quirks::search(u))?;
    o.set("hash", quirks::hash(u))?;
    Ok(o)
}

fn parse_url(input: &str, base: Option<&str>) -> Option<Url> {
    match base {
        Some(b) => Url::parse(b).ok()?.join(input).ok(),
        None => Url::parse(input).ok(),
    }
}

/// Natives of `url` and `querystring`: WHATWG parsing and the `URL` setters.
pub fn url_natives<'js>(ctx: &Ctx<'js>, _env: &ModuleEnv) -> rquickjs::Result<Object<'js>> {
    let o = Object::new(ctx.clone())?;
    o.set(
        "parse",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, input: String, base: Option<String>| -> rquickjs::Result<Value<'js>> {
                match parse_url(&input, base.as_deref()) {
                    Some(u) => Ok(url_parts(&ctx, &u)?.into_value()),
                    None => Ok(Value::new_null(ctx)),
                }
            },
        )?,
    )?;
    o.set(
        "set",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, href: String, prop: String, value: String| {
                let mut u = Url::parse(&href)
                    .map_err(|_| type_error(&ctx, "ERR_INVALID_URL", "Invalid URL"))?;
                // Setters ignore values they cannot apply, as the WHATWG setters do.
                let _ = match prop.as_str() {
                    "protocol" => quirks::set_protocol(&mut u, &value),
                    "username" => quirks::set_username(&mut u, &value),
                    "password" => quirks::set_password(&mut u, &value),
                    "host" => quirks::set_host(&mut u, &value),
                    "hostname" => quirks::set_hostname(&mut u, &value),
                    "port" => quirks::set_port(&mut u, &value),
                    "pathname" => {
                        quirks::set_pathname(&mut u, &value);
                        Ok(())
                    }
                    "search" => {
                        quirks::set_search(&mut u, &value);
                        Ok(())
                    }
                    "hash" => {
                        quirks::set_hash(&mut u, &value);
                        Ok(())
                    }
                    _ => Ok(()),
                };
                url_parts(&ctx, &u)
            },
        )?,
    )?;
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foo"), "Zm9v");
        assert_eq!(base64_encode(b"user:p@ss"), "dXNlcjpwQHNz");
    }

    #[test]
    fn credentials_in_the_url_become_basic_auth() {
        let mut u = Url::parse("http://us%40er:p%3Ass@h.example/x").unwrap();
        let mut h = HeaderMap::new();
        lift_credentials(&mut u, &mut h);
        assert_eq!(u.as_str(), "http://h.example/x");
        // "us@er:p:ss"
        assert_eq!(h[AUTHORIZATION], "Basic dXNAZXI6cDpzcw==");
    }

    #[test]
    fn targets_must_be_http_and_pass_the_policy() {
        let p = EgressPolicy::allow_all();
        let ok = Url::parse("https://example.com/").unwrap();
        assert!(check_target(&p, &ok).is_ok());
        let ftp = Url::parse("ftp://example.com/").unwrap();
        assert_eq!(
            check_target(&p, &ftp).unwrap_err().code,
            "ERR_UNSUPPORTED_PROTOCOL"
        );
        let meta = Url::parse("http://169.254.169.254/latest/meta-data").unwrap();
        assert_eq!(check_target(&p, &meta).unwrap_err().code, "EGRESS_DENIED");
        // Alternative spellings of the address are normalised by the URL parser.
        let meta2 = Url::parse("http://0xA9FEA9FE/").unwrap();
        assert_eq!(check_target(&p, &meta2).unwrap_err().code, "EGRESS_DENIED");
        let mapped = Url::parse("http://[::ffff:169.254.169.254]/").unwrap();
        assert_eq!(check_target(&p, &mapped).unwrap_err().code, "EGRESS_DENIED");
        for any in [
            "http://0.0.0.0:8080/",
            "http://[::]/",
            "http://0/",
            "http://[::ffff:0.0.0.0]/",
        ] {
            let u = Url::parse(any).unwrap();
            assert_eq!(
                check_target(&p, &u).unwrap_err().code,
                "EGRESS_DENIED",
                "{any}"
            );
        }
    }
}
