//! HTTP clients (`request`, `axios`, `fetch`/`node-fetch`), `URL`/`URLSearchParams`, `url` and
//! `querystring`, against a real HTTP server started by each test; and egress policy on every
//! request and every redirect hop.

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{AppendHeaders, IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::{Value, json};
use sluice_core::ports::{ScriptFailure, ScriptKind, ScriptRequest, ScriptRunner};
use sluice_scripts::egress::Cidr;
use sluice_scripts::{EgressPolicy, Limits, ScriptRuntime};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn limits() -> Limits {
    Limits {
        deadline: Duration::from_secs(15),
        ..Limits::default()
    }
}

fn runtime() -> ScriptRuntime {
    ScriptRuntime::new(limits())
}

async fn echo(method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> axum::Json<Value> {
    let h: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                json!(String::from_utf8_lossy(v.as_bytes())),
            )
        })
        .collect();
    axum::Json(json!({
        "method": method.as_str(),
        "path": uri.path(),
        "query": uri.query(),
        "headers": h,
        "body": String::from_utf8_lossy(&body),
    }))
}

/// Auth0's "Request with Basic Auth" template server: GET /users/{email} with Basic auth.
async fn basic_user(Path(email): Path<String>, headers: HeaderMap) -> Response {
    // "admin:s3cret"
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some("Basic YWRtaW46czNjcmV0")
    {
        return (StatusCode::UNAUTHORIZED, "no").into_response();
    }
    axum::Json(json!({"user_id": "u-1", "email": email, "nickname": "jo"})).into_response()
}

async fn api_login(headers: HeaderMap, body: Bytes) -> Response {
    if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some("k-123") {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "bad key"})),
        )
            .into_response();
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    axum::Json(json!({"id": "u-2", "email": v["email"], "ok": v["password"] == "pw"}))
        .into_response()
}

async fn redirect(Path(n): Path<u32>) -> Response {
    let to = if n == 0 {
        "/echo".to_string()
    } else {
        format!("/redirect/{}", n - 1)
    };
    (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
}

/// Starts the test server; returns its base URL (`http://127.0.0.1:port`).
async fn server() -> String {
    let app = Router::new()
        .route("/echo", any(echo))
        .route("/users/{email}", get(basic_user))
        .route("/api/login", post(api_login))
        .route("/redirect/{n}", get(redirect))
        .route(
            "/to-metadata",
            get(|| async {
                (
                    StatusCode::FOUND,
                    [(header::LOCATION, "http://169.254.169.254/latest/meta-data")],
                )
            }),
        )
        .route(
            "/see-other",
            post(|| async { (StatusCode::SEE_OTHER, [(header::LOCATION, "/echo")]) }),
        )
        .route("/big", get(|| async { vec![b'x'; 11 * 1024 * 1024] }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .route(
            "/text",
            get(|| async {
                (
                    AppendHeaders([
                        (header::CONTENT_TYPE, "text/plain"),
                        (header::SET_COOKIE, "a=1"),
                        (header::SET_COOKIE, "b=2"),
                    ]),
                    "hello there",
                )
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    format!("http://{addr}")
}

/// Runs `body` as the inside of `function login(email, password, cb) { ... }`; `base` is the
/// server's URL, available to the script as `configuration.base`.
async fn run(rt: &ScriptRuntime, base: &str, body: &str) -> Result<Value, ScriptFailure> {
    let source = format!("function login(email, password, cb) {{\n{body}\n}}");
    let mut configuration = BTreeMap::new();
    configuration.insert("base".to_string(), base.to_string());
    configuration.insert("apiKey".to_string(), "k-123".to_string());
    rt.run(ScriptRequest {
        tenant_id: "t".into(),
        connection: None,
        kind: ScriptKind::Login,
        source: source.into(),
        args: vec![json!("jo@example.com"), json!("pw")],
        context: None,
        configuration,
    })
    .await
    .result
}

#[tokio::test]
async fn request_basic_auth_template() {
    let base = server().await;
    let r = run(&runtime(), &base, r#"
      const request = require('request');
      request.get({ url: configuration.base + '/users/' + encodeURIComponent(email), auth: { username: 'admin', password: 's3cret' } }, function (err, response, body) {
        if (err) return cb(err);
        if (response.statusCode === 401) return cb(new WrongUsernameOrPasswordError(email));
        const user = JSON.parse(body);
        request.get({ url: configuration.base + '/users/x', auth: { user: 'admin', pass: 'wrong' } }, function (err2, response2) {
          cb(null, { user_id: user.user_id, email: user.email, ct: response.headers['content-type'], denied: response2.statusCode });
        });
      });
    "#).await;
    assert_eq!(
        r,
        Ok(
            json!({"user_id": "u-1", "email": "jo@example.com", "ct": "application/json", "denied": 401})
        )
    );
}

#[tokio::test]
async fn request_json_form_qs_and_bearer() {
    let base = server().await;
    let r = run(&runtime(), &base, r#"
      const request = require('request');
      request.post({ url: configuration.base + '/echo', json: { email: email, password: password } }, function (err, response, body) {
        if (err) return cb(err);
        request({ url: configuration.base + '/echo', method: 'POST', form: { a: 'b c', n: 1 }, qs: { q: 'x y', list: [1, 2] }, auth: { bearer: 'tok' }, json: true }, function (err2, res2, body2) {
          if (err2) return cb(err2);
          request(configuration.base + '/echo', { encoding: null }, function (err3, res3, body3) {
            cb(null, { status: response.statusCode, sent: JSON.parse(body.body), ct: body.headers['content-type'],
                       form: body2.body, query: body2.query, formCt: body2.headers['content-type'], authz: body2.headers.authorization,
                       isBuffer: Buffer.isBuffer(body3), method3: JSON.parse(body3.toString()).method });
          });
        });
      });
    "#).await.unwrap();
    assert_eq!(r["status"], 200);
    assert_eq!(
        r["sent"],
        json!({"email": "jo@example.com", "password": "pw"})
    );
    assert_eq!(r["ct"], "application/json");
    assert_eq!(r["form"], "a=b%20c&n=1");
    assert_eq!(r["query"], "q=x%20y&list%5B0%5D=1&list%5B1%5D=2");
    assert_eq!(r["formCt"], "application/x-www-form-urlencoded");
    assert_eq!(r["authz"], "Bearer tok");
    assert_eq!(r["isBuffer"], true);
    assert_eq!(r["method3"], "GET");
}

#[tokio::test]
async fn axios_template_and_errors() {
    let base = server().await;
    let r = run(&runtime(), &base, r#"
      const axios = require('axios@0.22.0');
      (async () => {
        const url = configuration.base + '/api/login';
        const ok = await axios.post(url, { email, password }, { timeout: 10000, headers: { 'x-api-key': configuration.apiKey } });
        let status = null, data = null, isAxios = false;
        try {
          await axios.post(url, { email, password }, { timeout: 10000, headers: { 'x-api-key': 'wrong' } });
        } catch (e) {
          status = e.response.status; data = e.response.data; isAxios = e.isAxiosError && axios.isAxiosError(e);
        }
        const api = axios.create({ baseURL: configuration.base, headers: { 'x-from': 'instance' } });
        const got = await api.get('/echo', { params: { q: 'a b', ids: [1, 2] }, auth: { username: 'u', password: 'p' } });
        const text = await axios({ url: configuration.base + '/text' });
        cb(null, { data: ok.data, status: ok.status, statusText: ok.statusText, errStatus: status, errData: data, isAxios,
                   query: got.data.query, from: got.data.headers['x-from'], authz: got.data.headers.authorization,
                   sentCt: got.data.headers['content-type'] || null, text: text.data, cookies: text.headers['set-cookie'] });
      })().catch(cb);
    "#).await.unwrap();
    assert_eq!(
        r["data"],
        json!({"id": "u-2", "email": "jo@example.com", "ok": true})
    );
    assert_eq!(r["status"], 200);
    assert_eq!(r["statusText"], "OK");
    assert_eq!(r["errStatus"], 401);
    assert_eq!(r["errData"], json!({"error": "bad key"}));
    assert_eq!(r["isAxios"], true);
    assert_eq!(r["query"], "q=a+b&ids[]=1&ids[]=2");
    assert_eq!(r["from"], "instance");
    assert_eq!(r["authz"], "Basic dTpw");
    assert_eq!(r["sentCt"], Value::Null);
    assert_eq!(r["text"], "hello there");
    assert_eq!(r["cookies"], json!(["a=1", "b=2"]));
}

#[tokio::test]
async fn fetch_global_and_node_fetch_with_json() {
    let base = server().await;
    let r = run(&runtime(), &base, r#"
      (async () => {
        const res = await fetch(configuration.base + '/echo?x=1', { method: 'post', headers: { 'Content-Type': 'application/json', 'X-Test': 'yes' }, body: JSON.stringify({ email }) });
        const j = await res.json();
        const nf = require('node-fetch');
        const form = await nf(configuration.base + '/echo', { method: 'PUT', body: new URLSearchParams({ a: '1', b: 'x y' }) });
        const fj = await form.json();
        const bytes = await (await fetch(new URL('/echo', configuration.base), { method: 'POST', body: new TextEncoder().encode('raw') })).json();
        const t = await fetch(configuration.base + '/text');
        const missing = await fetch(configuration.base + '/nope');
        cb(null, { ok: res.ok, status: res.status, ct: res.headers.get('CONTENT-TYPE'), method: j.method, query: j.query, sent: JSON.parse(j.body), xt: j.headers['x-test'],
                   formBody: fj.body, formCt: fj.headers['content-type'], raw: bytes.body, text: await t.text(), cookies: t.headers.getSetCookie(),
                   missing: [missing.status, missing.ok], same: nf === fetch && typeof Headers === 'function' && typeof Response === 'function' });
      })().catch(cb);
    "#).await.unwrap();
    assert_eq!(r["ok"], true);
    assert_eq!(r["status"], 200);
    assert_eq!(r["ct"], "application/json");
    assert_eq!(r["method"], "POST");
    assert_eq!(r["query"], "x=1");
    assert_eq!(r["sent"], json!({"email": "jo@example.com"}));
    assert_eq!(r["xt"], "yes");
    assert_eq!(r["formBody"], "a=1&b=x+y");
    assert_eq!(
        r["formCt"],
        "application/x-www-form-urlencoded;charset=UTF-8"
    );
    assert_eq!(r["raw"], "raw");
    assert_eq!(r["text"], "hello there");
    assert_eq!(r["cookies"], json!(["a=1", "b=2"]));
    assert_eq!(r["missing"], json!([404, false]));
    assert_eq!(r["same"], true);
}

#[tokio::test]
async fn redirects_are_followed_capped_and_optional() {
    let base = server().await;
    let r = run(&runtime(), &base, r#"
      (async () => {
        const three = await fetch(configuration.base + '/redirect/2');
        const j = await three.json();
        let tooMany = null;
        try { await fetch(configuration.base + '/redirect/9'); } catch (e) { tooMany = { name: e.name, type: e.type, code: e.code }; }
        const manual = await fetch(configuration.base + '/redirect/0', { redirect: 'manual' });
        const seeOther = await (await fetch(configuration.base + '/see-other', { method: 'POST', body: 'x' })).json();
        require('request').get({ url: configuration.base + '/redirect/0', followRedirect: false }, (err, res) => {
          cb(err, { path: j.path, redirected: three.redirected, url: three.url.replace(configuration.base, ''), tooMany,
                    manual: [manual.status, manual.headers.get('location')], seeOther: [seeOther.method, seeOther.body],
                    requestManual: res && res.statusCode });
        });
      })().catch(cb);
    "#).await.unwrap();
    assert_eq!(r["path"], "/echo");
    assert_eq!(r["redirected"], true);
    assert_eq!(r["url"], "/echo");
    assert_eq!(
        r["tooMany"],
        json!({"name": "FetchError", "type": "max-redirect", "code": "ERR_TOO_MANY_REDIRECTS"})
    );
    assert_eq!(r["manual"], json!([302, "/echo"]));
    assert_eq!(r["seeOther"], json!(["GET", ""]));
    assert_eq!(r["requestManual"], 302);
}

#[tokio::test]
async fn response_size_is_capped() {
    let base = server().await;
    let r = run(&runtime(), &base, r#"
      fetch(configuration.base + '/big').then(() => cb(null, 'no cap'), (e) => {
        require('axios').get(configuration.base + '/big').then(() => cb(null, 'no cap'), (e2) => cb(null, { code: e.code, type: e.type, axios: e2.code }));
      });
    "#).await.unwrap();
    assert_eq!(
        r,
        json!({"code": "ERR_RESPONSE_TOO_LARGE", "type": "max-size", "axios": "ERR_BAD_RESPONSE"})
    );
}

#[tokio::test]
async fn timeouts_reject_with_timeout_codes() {
    let base = server().await;
    let t = Instant::now();
    let r = run(&runtime(), &base, r#"
      const url = configuration.base + '/slow';
      Promise.all([
        fetch(url, { timeout: 200 }).then(() => 'no timeout', (e) => e.type),
        fetch(url, { signal: AbortSignal.timeout(200) }).then(() => 'no timeout', (e) => e.name),
        require('axios').get(url, { timeout: 200 }).then(() => 'no timeout', (e) => e.code + ' ' + e.message),
        new Promise((resolve) => require('request')({ url, timeout: 200 }, (err) => resolve(err && err.code))),
      ]).then((all) => cb(null, all), cb);
    "#).await.unwrap();
    assert_eq!(
        r,
        json!([
            "request-timeout",
            "TimeoutError",
            "ECONNABORTED timeout of 200ms exceeded",
            "ETIMEDOUT"
        ])
    );
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
}

#[tokio::test]
async fn network_failures_carry_node_codes() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let r = run(&runtime(), "", &format!(r#"
      const request = require('request');
      request.get('http://127.0.0.1:{closed}/', (err) => {{
        require('axios').get('http://127.0.0.1:{closed}/').catch((e2) => {{
          fetch('http://127.0.0.1:{closed}/').catch((e3) => {{
            fetch('http://nonexistent.invalid/', {{ timeout: 3000 }}).catch((e4) => {{
              cb(null, {{ request: err.code, message: err.message, axios: e2.code, fetch: e3.code, type: e3.type, dns: e4.code }});
            }});
          }});
        }});
      }});
    "#)).await.unwrap();
    assert_eq!(r["request"], "ECONNREFUSED");
    assert_eq!(
        r["message"],
        format!("connect ECONNREFUSED 127.0.0.1:{closed}")
    );
    assert_eq!(r["axios"], "ECONNREFUSED");
    assert_eq!(r["fetch"], "ECONNREFUSED");
    assert_eq!(r["type"], "system");
    assert_eq!(r["dns"], "ENOTFOUND");
}

const REFUSAL_PROBE: &str = r#"
  const probe = (url) => fetch(url).then(() => 'allowed', (e) => e.code + ': ' + e.message);
  Promise.all([
    probe(configuration.base + '/echo'),
    probe(configuration.base.replace('127.0.0.1', 'localhost') + '/echo'),
    probe('http://169.254.169.254/latest/meta-data/'),
    probe(configuration.base + '/to-metadata'),
    new Promise((resolve) => require('request')('http://169.254.169.254/', (err) => resolve(err.code))),
  ]).then((all) => cb(null, all), cb);
"#;

#[tokio::test]
async fn egress_policy_refuses_denied_networks_clearly() {
    let base = server().await;
    let policy = EgressPolicy {
        deny_cidrs: vec![Cidr::parse("127.0.0.0/8").unwrap()],
        default_allow: true,
        ..Default::default()
    };
    let rt = ScriptRuntime::with_default_egress(limits(), policy);
    let r = run(&rt, &base, REFUSAL_PROBE).await.unwrap();
    let all: Vec<&str> = r
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for (i, m) in all[..4].iter().enumerate() {
        assert!(m.starts_with("EGRESS_DENIED: "), "{i}: {m}");
        assert!(
            m.contains("not allowed by the tenant's egress policy"),
            "{i}: {m}"
        );
    }
    assert!(all[1].contains("localhost"), "{}", all[1]);
    assert_eq!(all[4], "EGRESS_DENIED");
}

#[tokio::test]
async fn metadata_addresses_are_refused_even_on_a_redirect_hop() {
    let base = server().await;
    let r = run(&runtime(), &base, REFUSAL_PROBE).await.unwrap();
    let all: Vec<&str> = r
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(all[0], "allowed");
    assert_eq!(all[1], "allowed");
    for m in &all[2..4] {
        assert!(m.starts_with("EGRESS_DENIED: "), "{m}");
        assert!(m.contains("cloud metadata"), "{m}");
    }
    assert_eq!(all[4], "EGRESS_DENIED");
}

#[tokio::test]
async fn url_and_search_params() {
    let r = run(&runtime(), "", r#"
      const u = new URL('https://user:pa%20ss@Example.COM:8443/a/../b/c?x=1&y=two+words#frag');
      const parts = [u.href, u.protocol, u.username, u.password, u.host, u.hostname, u.port, u.pathname, u.search, u.hash, u.origin];
      const sp = u.searchParams;
      sp.append('z', 'a&b'); sp.set('x', '9'); sp.delete('y');
      const rel = new URL('../d?q', 'http://h/a/b/c').href;
      let invalid = null; try { new URL('not a url'); } catch (e) { invalid = [e.name, e.code]; }
      const p = new URLSearchParams({ a: '1', b: ['2', '3'] });
      const it = new URLSearchParams([['k', 'v'], ['k', 'w']]);
      const seen = []; it.forEach((v, k) => seen.push(k + '=' + v));
      const s = new URLSearchParams('?a=1&a=2&b=%zz&c=%E2%9C%93');
      const url = require('url');
      const legacy = url.parse('http://me:pw@host.com:8080/p/a/t/h?query=string&q=2#hash', true);
      const qs = require('querystring');
      u.pathname = '/new path'; u.port = '443';
      cb(null, { parts, after: u.href, rel, invalid, p: p.toString(), it: [it.getAll('k'), it.has('k'), it.get('nope'), seen, [...it.keys()]],
                 s: [s.getAll('a'), s.get('b'), s.get('c'), s.toString()],
                 legacy: [legacy.protocol, legacy.auth, legacy.hostname, legacy.port, legacy.pathname, legacy.query.q, legacy.hash, legacy.href],
                 fmt: url.format({ protocol: 'https', hostname: 'e.com', pathname: '/x', query: { a: 'b c' } }),
                 resolved: url.resolve('http://a.com/b/c', '../d'), sameUrl: url.URL === URL,
                 qs: [qs.stringify({ a: 'b c', n: [1, 2], e: '' }), JSON.stringify(qs.parse('a=1&a=2&b=x+y&c=%41')), qs.escape('ä &'), qs.unescape('%C3%A4%20%zz')] });
    "#).await.unwrap();
    assert_eq!(
        r["parts"],
        json!([
            "https://user:pa%20ss@example.com:8443/b/c?x=1&y=two+words#frag",
            "https:",
            "user",
            "pa%20ss",
            "example.com:8443",
            "example.com",
            "8443",
            "/b/c",
            "?x=1&y=two+words",
            "#frag",
            "https://example.com:8443"
        ])
    );
    assert_eq!(
        r["after"],
        "https://user:pa%20ss@example.com/new%20path?x=9&z=a%26b#frag"
    );
    assert_eq!(r["rel"], "http://h/a/d?q");
    assert_eq!(r["invalid"], json!(["TypeError", "ERR_INVALID_URL"]));
    assert_eq!(r["p"], "a=1&b=2%2C3");
    assert_eq!(
        r["it"],
        json!([["v", "w"], true, null, ["k=v", "k=w"], ["k", "k"]])
    );
    assert_eq!(
        r["s"],
        json!([["1", "2"], "%zz", "✓", "a=1&a=2&b=%25zz&c=%E2%9C%93"])
    );
    assert_eq!(
        r["legacy"],
        json!([
            "http:",
            "me:pw",
            "host.com",
            "8080",
            "/p/a/t/h",
            "2",
            "#hash",
            "http://me:pw@host.com:8080/p/a/t/h?query=string&q=2#hash"
        ])
    );
    assert_eq!(r["fmt"], "https://e.com/x?a=b%20c");
    assert_eq!(r["resolved"], "http://a.com/d");
    assert_eq!(r["sameUrl"], true);
    assert_eq!(
        r["qs"],
        json!([
            "a=b%20c&n=1&n=2&e=",
            r#"{"a":["1","2"],"b":"x y","c":"A"}"#,
            "%C3%A4%20%26",
            "ä %zz"
        ])
    );
}

#[tokio::test]
async fn invalid_input_rejects_without_crashing_the_container() {
    let base = server().await;
    let rt = runtime();
    let r = run(&rt, &base, r#"
      const out = [];
      const note = (p) => p.then(() => out.push('ok'), (e) => out.push(e.name + ':' + (e.code || '')));
      Promise.all([
        note(fetch('ftp://example.com/')),
        note(fetch(configuration.base + '/echo', { headers: { 'bad header': 'x' } })),
        note(fetch(configuration.base + '/echo', { headers: { 'x-ok': 'line\nbreak' } })),
        note(fetch('nope')),
        note(require('axios').get('/relative')),
        note(fetch(configuration.base + '/echo', { method: 'GET', body: 'x' })),
      ]).then(() => cb(null, out), cb);
    "#).await.unwrap();
    let out: Vec<&str> = r
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(out.len(), 6, "{out:?}");
    assert!(out.iter().all(|o| *o != "ok"), "{out:?}");
    // The container still serves.
    let again = run(
        &rt,
        &base,
        "fetch(configuration.base + '/echo').then((r) => cb(null, r.status), cb);",
    )
    .await;
    assert_eq!(again, Ok(json!(200)));
}

#[tokio::test]
async fn a_throwing_request_callback_fails_the_invocation() {
    let base = server().await;
    let r = run(
        &runtime(),
        &base,
        "require('request')(configuration.base + '/echo', function () { throw new Error('boom in callback'); });",
    )
    .await;
    match r {
        Err(ScriptFailure::Error { message, .. }) => assert!(message.contains("boom"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn tls_failures_are_errors_with_codes() {
    // https:// to a plain-HTTP server: the TLS handshake fails; the client is set up fine.
    let base = server().await;
    let r = run(&runtime(), &base, r#"
      require('axios').get(configuration.base.replace('http:', 'https:')).then(() => cb(null, 'ok'), (e) => cb(null, [e.code, e.message]));
    "#).await.unwrap();
    assert_eq!(r[0], "EPROTO");
    assert!(
        r[1].as_str()
            .unwrap()
            .starts_with("TLS connection to 127.0.0.1:"),
        "{r}"
    );
}

#[tokio::test]
async fn credentials_in_the_url_become_basic_auth() {
    let base = server().await;
    let r = run(&runtime(), &base, r#"
      fetch(configuration.base.replace('http://', 'http://admin:s3cret@') + '/users/a').then((r) => r.json()).then((u) => cb(null, u.user_id), cb);
    "#).await;
    assert_eq!(r, Ok(json!("u-1")));
}

#[tokio::test]
async fn axios_interceptors_instances_and_fetch_abort() {
    let base = server().await;
    let r = run(&runtime(), &base, r#"
      (async () => {
        const axios = require('axios');
        const api = axios.create({ baseURL: configuration.base, timeout: 5000 });
        api.defaults.headers.common['x-common'] = 'c';
        api.interceptors.request.use((config) => { config.headers['x-intercepted'] = 'yes'; return config; });
        const id = api.interceptors.response.use((res) => { res.seen = true; return res; });
        const a = await api.post('/echo', 'plain text', { headers: { 'Content-Type': 'text/plain' } });
        api.interceptors.response.eject(id);
        const b = await api.get('echo', { validateStatus: () => true, responseType: 'text' });
        const ctl = new AbortController();
        const pending = fetch(configuration.base + '/slow', { signal: ctl.signal });
        setTimeout(() => ctl.abort(), 50);
        let aborted = null;
        try { await pending; } catch (e) { aborted = e.name; }
        const h = new Headers([['B', '2'], ['a', '1']]);
        h.append('a', '3');
        cb(null, { intercepted: a.data.headers['x-intercepted'], common: a.data.headers['x-common'], body: a.data.body, ct: a.data.headers['content-type'],
                   seen: a.seen === true, ejected: b.seen === undefined, textType: typeof b.data, aborted, headers: [...h], uri: api.getUri({ url: '/x', params: { a: 1 } }) });
      })().catch(cb);
    "#).await.unwrap();
    assert_eq!(r["intercepted"], "yes");
    assert_eq!(r["common"], "c");
    assert_eq!(r["body"], "plain text");
    assert_eq!(r["ct"], "text/plain");
    assert_eq!(r["seen"], true);
    assert_eq!(r["ejected"], true);
    assert_eq!(r["textType"], "string");
    assert_eq!(r["aborted"], "AbortError");
    assert_eq!(r["headers"], json!([["a", "1, 3"], ["b", "2"]]));
    assert_eq!(r["uri"], format!("{base}/x?a=1"));
}
