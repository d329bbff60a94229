// `node-fetch` and the globals `fetch`, `Headers`, `Request`, `Response`, `AbortController`,
// `AbortSignal`: the fetch API over the host's HTTP native, which checks every connection
// against the tenant's egress policy and caps time, redirects and response size. Bodies are
// buffered (no streams). node-fetch v2 options `timeout`, `follow` and `size` are honoured.
(function (module, exports, require, native) {
  'use strict';
  const { URL, URLSearchParams } = require('url');
  const te = new TextEncoder();
  const td = new TextDecoder();

  const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  const headerName = (n) => {
    n = String(n);
    if (!TOKEN.test(n)) throw new TypeError('Header name must be a valid HTTP token ["' + n + '"]');
    return n.toLowerCase();
  };
  const headerValue = (v) => String(v).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');

  class Headers {
    #map = new Map();
    constructor(init) {
      if (init === undefined || init === null) return;
      if (init instanceof Headers) {
        for (const [k, v] of init.#map) this.#map.set(k, v.slice());
        return;
      }
      if (typeof init !== 'object' && typeof init !== 'function') throw new TypeError('Headers init must be an object or an iterable');
      if (typeof init[Symbol.iterator] === 'function') {
        for (const pair of init) {
          const p = typeof pair === 'string' ? [] : Array.from(pair);
          if (p.length !== 2) throw new TypeError('Header pairs must contain exactly two items');
          this.append(p[0], p[1]);
        }
        return;
      }
      for (const k of Object.keys(init)) {
        const v = init[k];
        if (Array.isArray(v)) for (const x of v) this.append(k, x);
        else if (v !== undefined) this.append(k, v);
      }
    }
    append(name, value) {
      const n = headerName(name);
      const l = this.#map.get(n);
      if (l) l.push(headerValue(value));
      else this.#map.set(n, [headerValue(value)]);
    }
    set(name, value) { this.#map.set(headerName(name), [headerValue(value)]); }
    get(name) {
      const l = this.#map.get(headerName(name));
      return l === undefined ? null : l.join(', ');
    }
    getSetCookie() { return (this.#map.get('set-cookie') || []).slice(); }
    has(name) { return this.#map.has(headerName(name)); }
    delete(name) { this.#map.delete(headerName(name)); }
    *entries() {
      for (const k of [...this.#map.keys()].sort()) {
        if (k === 'set-cookie') for (const v of this.#map.get(k)) yield [k, v];
        else yield [k, this.#map.get(k).join(', ')];
      }
    }
    *keys() { for (const [k] of this.entries()) yield k; }
    *values() { for (const [, v] of this.entries()) yield v; }
    [Symbol.iterator]() { return this.entries(); }
    forEach(fn, thisArg) { for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this); }
    // node-fetch v2: every value of every header.
    raw() { const o = {}; for (const [k, v] of this.#map) o[k] = v.slice(); return o; }
    toJSON() { const o = {}; for (const [k, v] of this.entries()) o[k] = k in o ? o[k] + ', ' + v : v; return o; }
    get [Symbol.toStringTag]() { return 'Headers'; }
  }

  const toBytes = (b) => {
    if (b instanceof Uint8Array) return b;
    if (b instanceof ArrayBuffer) return new Uint8Array(b);
    if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    return null;
  };
  // A body and the content type it implies.
  const extractBody = (body) => {
    if (body === undefined || body === null) return [null, null];
    if (typeof body === 'string') return [te.encode(body), 'text/plain;charset=UTF-8'];
    if (body instanceof URLSearchParams) return [te.encode(body.toString()), 'application/x-www-form-urlencoded;charset=UTF-8'];
    const bytes = toBytes(body);
    if (bytes) return [bytes, null];
    if (typeof body.pipe === 'function' || typeof body.getReader === 'function') throw new TypeError('Streaming request bodies are not supported in action scripts');
    return [te.encode(String(body)), 'text/plain;charset=UTF-8'];
  };

  class FetchError extends Error {
    constructor(message, type, systemError) {
      super(message);
      this.name = 'FetchError';
      this.type = type;
      if (systemError) {
        this.code = this.errno = systemError.code;
        this.cause = systemError;
      }
    }
  }
  const abortError = (message) => {
    const e = new Error(message || 'This operation was aborted');
    e.name = 'AbortError';
    e.type = 'aborted';
    e.code = 'ABORT_ERR';
    return e;
  };

  class AbortSignal {
    #listeners = [];
    constructor() {
      this.aborted = false;
      this.reason = undefined;
      this.onabort = null;
    }
    addEventListener(type, fn) { if (type === 'abort' && typeof fn === 'function') this.#listeners.push(fn); }
    removeEventListener(type, fn) { this.#listeners = this.#listeners.filter((f) => f !== fn); }
    throwIfAborted() { if (this.aborted) throw this.reason; }
    static abort(reason) { const c = new AbortController(); c.abort(reason); return c.signal; }
    static timeout(ms) {
      const c = new AbortController();
      setTimeout(() => {
        const e = abortError('The operation was aborted due to timeout');
        e.name = 'TimeoutError';
        c.abort(e);
      }, ms);
      return c.signal;
    }
    static fire(signal, reason) {
      if (signal.aborted) return;
      signal.aborted = true;
      signal.reason = reason === undefined ? abortError() : reason;
      const event = { type: 'abort', target: signal };
      if (typeof signal.onabort === 'function') signal.onabort(event);
      for (const f of signal.#listeners.splice(0)) f.call(signal, event);
    }
  }
  class AbortController {
    constructor() { this.signal = new AbortSignal(); }
    abort(reason) { AbortSignal.fire(this.signal, reason); }
  }

  const METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH'];
  class Request {
    #body;
    constructor(input, init) {
      init = init || {};
      const from = input instanceof Request ? input : null;
      const url = from ? from.url : input instanceof URL ? input.href : String(input && input.href !== undefined ? input.href : input);
      let parsed;
      try { parsed = new URL(url); } catch (e) { throw new TypeError('Invalid URL: ' + url); }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TypeError('Only HTTP(S) protocols are supported');
      this.url = parsed.href;
      const m = String(init.method || (from && from.method) || 'GET');
      this.method = METHODS.includes(m.toUpperCase()) ? m.toUpperCase() : m;
      this.headers = new Headers(init.headers !== undefined ? init.headers : from ? from.headers : undefined);
      let body = init.body !== undefined ? init.body : null;
      if (body !== null && (this.method === 'GET' || this.method === 'HEAD')) throw new TypeError('Request with GET/HEAD method cannot have body');
      const [bytes, type] = extractBody(body);
      this.#body = bytes || (init.body === undefined && from ? from.#body : null);
      if (type && !this.headers.has('content-type')) this.headers.set('content-type', type);
      this.redirect = init.redirect || (from ? from.redirect : 'follow');
      this.signal = init.signal || (from ? from.signal : null) || null;
      this.timeout = init.timeout !== undefined ? init.timeout : from ? from.timeout : 0;
      this.follow = init.follow !== undefined ? init.follow : from ? from.follow : 20;
      this.size = init.size !== undefined ? init.size : from ? from.size : 0;
    }
    static bodyOf(r) { return r.#body; }
    clone() { return new Request(this); }
    get [Symbol.toStringTag]() { return 'Request'; }
  }

  class Response {
    #bytes;
    #used = false;
    constructor(body, init) {
      init = init || {};
      const [bytes, type] = extractBody(body);
      this.#bytes = bytes || new Uint8Array(0);
      this.status = init.status === undefined ? 200 : Number(init.status);
      this.statusText = init.statusText === undefined ? '' : String(init.statusText);
      this.headers = new Headers(init.headers);
      if (type && !this.headers.has('content-type')) this.headers.set('content-type', type);
      this.url = init.url || '';
      this.redirected = Boolean(init.redirected);
      this.type = 'default';
      this.body = null;
    }
    get ok() { return this.status >= 200 && this.status < 300; }
    get bodyUsed() { return this.#used; }
    #consume() {
      if (this.#used) return Promise.reject(new TypeError('body used already for: ' + this.url));
      this.#used = true;
      return Promise.resolve(this.#bytes);
    }
    arrayBuffer() { return this.#consume().then((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)); }
    bytes() { return this.#consume().then((b) => b.slice()); }
    buffer() { return this.#consume().then((b) => Buffer.from(b)); }
    text() { return this.#consume().then((b) => td.decode(b)); }
    json() {
      return this.text().then((t) => {
        try { return JSON.parse(t); } catch (e) {
          throw new FetchError('invalid json response body at ' + this.url + ' reason: ' + e.message, 'invalid-json');
        }
      });
    }
    clone() {
      if (this.#used) throw new TypeError('Cannot clone: already read');
      return new Response(this.#bytes.slice(), { status: this.status, statusText: this.statusText, headers: this.headers, url: this.url, redirected: this.redirected });
    }
    static json(data, init) {
      const r = new Response(JSON.stringify(data), init);
      r.headers.set('content-type', 'application/json');
      return r;
    }
    static error() { const r = new Response(null, { status: 0 }); r.type = 'error'; return r; }
    static redirect(url, status) { return new Response(null, { status: status || 302, headers: { location: new URL(String(url)).href } }); }
    get [Symbol.toStringTag]() { return 'Response'; }
  }

  const failure = (e, url) => {
    if (e && e.code === 'ETIMEDOUT' && /timed out after/.test(e.message)) return new FetchError('network timeout at: ' + url, 'request-timeout', e);
    if (e && e.code === 'ERR_TOO_MANY_REDIRECTS') return new FetchError(e.message, 'max-redirect', e);
    if (e && e.code === 'ERR_RESPONSE_TOO_LARGE') return new FetchError('content size at ' + url + ' over limit: ' + e.message, 'max-size', e);
    if (e && e.code === 'ERR_REDIRECT') return new FetchError(e.message, 'no-redirect', e);
    if (e instanceof TypeError) return e;
    return new FetchError('request to ' + url + ' failed, reason: ' + (e && e.message), 'system', e);
  };

  const fetch = function fetch(input, init) {
    return new Promise((resolve, reject) => {
      const req = new Request(input, init);
      const signal = req.signal;
      if (signal && signal.aborted) { reject(signal.reason === undefined ? abortError() : signal.reason); return; }
      let settled = false;
      const onAbort = () => { if (!settled) { settled = true; reject(signal.reason === undefined ? abortError() : signal.reason); } };
      if (signal && typeof signal.addEventListener === 'function') signal.addEventListener('abort', onAbort);
      if (!req.headers.has('accept')) req.headers.set('accept', '*/*');
      const body = Request.bodyOf(req);
      const follow = Number(req.follow);
      native.request({
        method: req.method,
        url: req.url,
        headers: [...req.headers],
        body: body === null ? undefined : body,
        timeout: Number(req.timeout) || undefined,
        redirect: req.redirect,
        maxRedirects: isFinite(follow) ? follow : undefined,
        maxBytes: Number(req.size) || undefined,
      }).then((r) => {
        if (settled) return;
        settled = true;
        if (signal && typeof signal.removeEventListener === 'function') signal.removeEventListener('abort', onAbort);
        resolve(new Response(new Uint8Array(r.body), { status: r.status, statusText: r.statusText, headers: r.headers, url: r.url, redirected: r.redirected }));
      }, (e) => {
        if (settled) return;
        settled = true;
        reject(failure(e, req.url));
      });
    });
  };
  fetch.default = fetch;
  fetch.Headers = Headers;
  fetch.Request = Request;
  fetch.Response = Response;
  fetch.FetchError = FetchError;
  fetch.AbortError = abortError;
  fetch.AbortController = AbortController;
  fetch.AbortSignal = AbortSignal;
  fetch.isRedirect = (code) => [301, 302, 303, 307, 308].includes(code);
  module.exports = fetch;
})
