// `request`: the callback API of the (deprecated, still ubiquitous) npm client that Auth0's
// templates use: `request(opts, cb)`, `request.get/post/...`, `json`, `form`, `qs`, `auth`,
// `timeout`, `followRedirect`, `encoding: null`. Over the host's HTTP native, which checks every
// connection against the tenant's egress policy. No streams, pipes or cookie jars.
(function (module, exports, require, native) {
  'use strict';
  const { URL } = require('url');
  const querystring = require('querystring');
  const te = new TextEncoder();
  const td = new TextDecoder();
  const isObject = (v) => v !== null && typeof v === 'object';
  const isBytes = (v) => v instanceof Uint8Array || v instanceof ArrayBuffer || ArrayBuffer.isView(v);
  const toBytes = (v) => (v instanceof Uint8Array ? v : v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength));

  // The `qs` package's stringify, as request uses it: nested keys as a[b]=c and a[0]=c, RFC 3986.
  const rfc3986 = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  const qsStringify = (obj) => {
    const parts = [];
    const walk = (key, v) => {
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return;
      if (v === null) { parts.push(rfc3986(key) + '='); return; }
      if (v instanceof Date) v = v.toISOString();
      if (Array.isArray(v)) { v.forEach((x, i) => walk(key + '[' + i + ']', x)); return; }
      if (isObject(v) && !isBytes(v)) { for (const k of Object.keys(v)) walk(key + '[' + k + ']', v[k]); return; }
      parts.push(rfc3986(key) + '=' + rfc3986(String(v)));
    };
    if (isObject(obj)) for (const k of Object.keys(obj)) walk(k, obj[k]);
    return parts.join('&');
  };

  const findHeader = (headers, name) => Object.keys(headers).find((k) => k.toLowerCase() === name);
  const hasHeader = (headers, name) => findHeader(headers, name) !== undefined;
  const setDefault = (headers, name, value) => { if (!hasHeader(headers, name)) headers[name] = value; };
  const base64 = (s) => Buffer.from(s, 'utf8').toString('base64');

  // A minimal stand-in for request's Request object: events and abort.
  class RequestHandle {
    constructor(method, href) {
      this.method = method;
      this.href = href;
      this._events = {};
      this._aborted = false;
    }
    on(event, fn) { (this._events[event] = this._events[event] || []).push(fn); return this; }
    once(event, fn) { const w = (...a) => { this.off(event, w); fn.apply(this, a); }; return this.on(event, w); }
    off(event, fn) { this._events[event] = (this._events[event] || []).filter((f) => f !== fn); return this; }
    removeListener(event, fn) { return this.off(event, fn); }
    emit(event, ...args) { for (const f of (this._events[event] || []).slice()) f.apply(this, args); return true; }
    abort() { this._aborted = true; this.emit('abort'); }
    pipe() { throw new Error('request(...).pipe is not supported in action scripts'); }
  }

  const requestError = (e) => {
    if (!(e instanceof Error)) { const x = new Error(String(e)); return x; }
    if (e.code === 'ETIMEDOUT' && /timed out after/.test(e.message)) {
      const x = new Error('ETIMEDOUT');
      x.code = 'ETIMEDOUT';
      x.connect = false;
      x.cause = e;
      return x;
    }
    return e;
  };

  // Builds the native request from request's options; throws on invalid options.
  const prepare = (o) => {
    let uri = o.uri !== undefined ? o.uri : o.url;
    if (uri === undefined || uri === null || uri === '') throw new Error('options.uri is a required argument');
    if (isObject(uri) && uri.href !== undefined) uri = uri.href;
    uri = String(uri);
    if (o.baseUrl !== undefined) {
      const base = String(o.baseUrl);
      uri = base.replace(/\/+$/, '') + '/' + uri.replace(/^\/+/, '');
    }
    let url;
    try { url = new URL(uri); } catch (e) { throw new Error('Invalid URI "' + uri + '"'); }
    if (isObject(o.qs) && Object.keys(o.qs).length > 0) {
      const q = o.useQuerystring ? querystring.stringify(o.qs) : qsStringify(o.qs);
      if (q) url.search = (url.search ? url.search.slice(1) + '&' : '') + q;
    }
    const method = String(o.method || 'GET').toUpperCase();
    const headers = Object.assign({}, o.headers);
    let body = o.body;
    const json = o.json;
    if (o.form !== undefined) {
      body = typeof o.form === 'string' ? o.form : qsStringify(o.form);
      setDefault(headers, 'content-type', 'application/x-www-form-urlencoded');
    } else if (json !== undefined && json !== false) {
      setDefault(headers, 'accept', 'application/json');
      if (typeof json !== 'boolean') body = json;
      if (body !== undefined && !isBytes(body) && typeof body !== 'string') body = JSON.stringify(body);
      if (body !== undefined) setDefault(headers, 'content-type', 'application/json');
    }
    if (body !== undefined && body !== null && typeof body !== 'string' && !isBytes(body)) throw new Error('Argument error, options.body.');
    if (o.auth) {
      const a = o.auth;
      if (a.bearer !== undefined) {
        headers[findHeader(headers, 'authorization') || 'authorization'] = 'Bearer ' + (typeof a.bearer === 'function' ? a.bearer() : a.bearer);
      } else {
        const user = a.user !== undefined ? a.user : a.username;
        const pass = a.pass !== undefined ? a.pass : a.password;
        if (user === undefined && pass === undefined) throw new Error('auth() received invalid user or password');
        headers[findHeader(headers, 'authorization') || 'authorization'] = 'Basic ' + base64((user === undefined ? '' : String(user)) + ':' + (pass === undefined ? '' : String(pass)));
      }
    }
    const pairs = [];
    for (const k of Object.keys(headers)) {
      const v = headers[k];
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const x of v) pairs.push([k, String(x)]);
      else pairs.push([k, String(v)]);
    }
    // request follows redirects of GET/HEAD/OPTIONS by default, of every method only when asked.
    const mayFollow = o.followRedirect !== false && (o.followAllRedirects || !['POST', 'PUT', 'PATCH', 'DELETE'].includes(method));
    const bytes = body === undefined || body === null ? undefined : typeof body === 'string' ? te.encode(body) : toBytes(body);
    return {
      spec: {
        method,
        url: url.href,
        headers: pairs,
        body: bytes,
        timeout: Number(o.timeout) || undefined,
        redirect: mayFollow ? 'follow' : 'manual',
        maxRedirects: o.maxRedirects === undefined ? undefined : Number(o.maxRedirects),
      },
      headers,
    };
  };

  const makeResponse = (r, o, spec, headersSent) => {
    const headers = {};
    const rawHeaders = [];
    for (const [k, v] of r.headers) {
      rawHeaders.push(k, v);
      if (k === 'set-cookie') (headers[k] = headers[k] || []).push(v);
      else headers[k] = k in headers ? headers[k] + ', ' + v : v;
    }
    let body;
    if (o.encoding === null) body = Buffer.from(r.body);
    else if (o.encoding && !/^utf-?8$/i.test(o.encoding)) body = Buffer.from(r.body).toString(o.encoding);
    else body = td.decode(new Uint8Array(r.body)).replace(/^\uFEFF/, '');
    if (o.json !== undefined && o.json !== false && typeof body === 'string' && body !== '') {
      try { body = JSON.parse(body, o.jsonReviver); } catch (e) { /* request keeps the text */ }
    }
    let uri;
    try { uri = new URL(r.url); } catch (e) { uri = { href: r.url }; }
    const response = {
      statusCode: r.status,
      statusMessage: r.statusText,
      headers,
      rawHeaders,
      httpVersion: '1.1',
      body,
      url: r.url,
      request: { uri, href: r.url, method: spec.method, headers: headersSent },
      caseless: { get: (n) => headers[String(n).toLowerCase()] },
      toJSON() { return { statusCode: this.statusCode, body: this.body, headers: this.headers, request: { uri: this.request.uri, method: this.request.method, headers: this.request.headers } }; },
    };
    return response;
  };

  // request(uri, options, callback) / request(options, callback) / request(uri, callback)
  const initParams = (uri, options, callback) => {
    if (typeof options === 'function') { callback = options; options = undefined; }
    let params = isObject(options) ? Object.assign({}, options) : {};
    if (typeof uri === 'string' || uri instanceof URL) params.uri = String(uri);
    else if (isObject(uri)) params = Object.assign({}, uri, params);
    if (typeof callback === 'function') params.callback = callback;
    return params;
  };

  const run = (o) => {
    const cb = typeof o.callback === 'function' ? o.callback : null;
    const handle = new RequestHandle(String(o.method || 'GET').toUpperCase(), String(o.uri || o.url || ''));
    // Results reach the script on a timer turn, as I/O callbacks do in Node: an exception
    // thrown by the callback is then an uncaught exception of the invocation, not lost.
    const deliver = (err, res, body) => setTimeout(() => {
      if (handle._aborted) return;
      if (err) handle.emit('error', err);
      else { handle.emit('response', res); handle.emit('complete', res, body); }
      if (cb) cb(err, res, body);
    }, 0);
    let prepared;
    try { prepared = prepare(o); } catch (e) { deliver(e); return handle; }
    native.request(prepared.spec).then(
      (r) => { const res = makeResponse(r, o, prepared.spec, prepared.headers); deliver(null, res, res.body); },
      (e) => deliver(requestError(e)));
    return handle;
  };

  const make = (defaults) => {
    const merge = (params) => {
      const p = Object.assign({}, defaults, params);
      if (defaults.headers || params.headers) p.headers = Object.assign({}, defaults.headers, params.headers);
      return p;
    };
    const request = function request(uri, options, callback) { return run(merge(initParams(uri, options, callback))); };
    const verb = (method) => (uri, options, callback) => {
      const p = initParams(uri, options, callback);
      p.method = method;
      return run(merge(p));
    };
    request.get = verb('GET');
    request.head = verb('HEAD');
    request.options = verb('OPTIONS');
    request.post = verb('POST');
    request.put = verb('PUT');
    request.patch = verb('PATCH');
    request.del = verb('DELETE');
    request.delete = verb('DELETE');
    request.defaults = (more) => make(Object.assign({}, defaults, more, { headers: Object.assign({}, defaults.headers, more && more.headers) }));
    request.jar = () => ({ setCookie() {}, getCookieString() { return ''; }, getCookies() { return []; } });
    request.cookie = (s) => s;
    return request;
  };
  module.exports = make({});
})
