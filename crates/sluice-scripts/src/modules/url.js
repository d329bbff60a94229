// `url` and `querystring`, and the WHATWG `URL` / `URLSearchParams` behind the globals. URL
// parsing and the URL setters are native (the `url` crate follows the WHATWG URL standard);
// form encoding, `URLSearchParams`, the legacy `url.parse`/`url.format` and `querystring` are
// here. The same file serves both modules: `require('querystring')` gets the querystring API.
(function (module, exports, require, native) {
  'use strict';
  const te = new TextEncoder();
  const td = new TextDecoder();

  // Lone surrogates become U+FFFD (encodeURIComponent would throw on them).
  const wellFormed = (s) => String(s).replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
  const isHex = (b) => (b >= 48 && b <= 57) || (b >= 65 && b <= 70) || (b >= 97 && b <= 102);
  // Percent-decoding that never throws: invalid sequences stay, invalid UTF-8 becomes U+FFFD.
  const percentDecode = (s) => {
    if (s.indexOf('%') < 0) return s;
    try { return decodeURIComponent(s); } catch (e) { /* lenient path below */ }
    const bytes = te.encode(s);
    const out = new Uint8Array(bytes.length);
    let n = 0;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] === 37 && i + 2 < bytes.length && isHex(bytes[i + 1]) && isHex(bytes[i + 2])) {
        out[n++] = parseInt(String.fromCharCode(bytes[i + 1], bytes[i + 2]), 16);
        i += 2;
      } else out[n++] = bytes[i];
    }
    return td.decode(out.subarray(0, n));
  };
  // application/x-www-form-urlencoded: only *-._ and alphanumerics stay, space is '+'.
  const formEncode = (s) => encodeURIComponent(wellFormed(s))
    .replace(/[!'()~]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
    .replace(/%20/g, '+');
  const formDecode = (s) => percentDecode(s.replace(/\+/g, ' '));
  const parseForm = (s) => {
    if (s.startsWith('?')) s = s.slice(1);
    const list = [];
    for (const part of s.split('&')) {
      if (part === '') continue;
      const i = part.indexOf('=');
      list.push(i < 0 ? [formDecode(part), ''] : [formDecode(part.slice(0, i)), formDecode(part.slice(i + 1))]);
    }
    return list;
  };

  let linkParams, resetParams;
  class URLSearchParams {
    #list = [];
    #onChange = null;
    static {
      linkParams = (p, onChange) => { p.#onChange = onChange; };
      resetParams = (p, query) => { p.#list = parseForm(query); };
    }
    constructor(init) {
      if (init === undefined || init === null) return;
      if (init instanceof URLSearchParams) { this.#list = init.#list.map((p) => [p[0], p[1]]); return; }
      if (typeof init === 'object' || typeof init === 'function') {
        if (typeof init[Symbol.iterator] === 'function') {
          for (const pair of init) {
            const p = typeof pair === 'string' ? null : Array.from(pair);
            if (!p || p.length !== 2) throw new TypeError('Each query pair must be an iterable [name, value] tuple');
            this.#list.push([wellFormed(p[0]), wellFormed(p[1])]);
          }
          return;
        }
        for (const k of Object.keys(init)) this.#list.push([wellFormed(k), wellFormed(init[k])]);
        return;
      }
      this.#list = parseForm(String(init));
    }
    #changed() { if (this.#onChange) this.#onChange(this.toString()); }
    get size() { return this.#list.length; }
    append(name, value) { this.#list.push([wellFormed(name), wellFormed(value)]); this.#changed(); }
    delete(name, value) {
      name = String(name);
      this.#list = this.#list.filter((p) => p[0] !== name || (value !== undefined && p[1] !== String(value)));
      this.#changed();
    }
    get(name) { name = String(name); const p = this.#list.find((x) => x[0] === name); return p ? p[1] : null; }
    getAll(name) { name = String(name); return this.#list.filter((p) => p[0] === name).map((p) => p[1]); }
    has(name, value) { name = String(name); return this.#list.some((p) => p[0] === name && (value === undefined || p[1] === String(value))); }
    set(name, value) {
      name = wellFormed(name);
      value = wellFormed(value);
      const i = this.#list.findIndex((p) => p[0] === name);
      if (i < 0) this.#list.push([name, value]);
      else this.#list = this.#list.filter((p, j) => j <= i || p[0] !== name).map((p, j) => (j === i ? [name, value] : p));
      this.#changed();
    }
    sort() {
      this.#list = this.#list.map((p, i) => [p, i]).sort((a, b) => (a[0][0] < b[0][0] ? -1 : a[0][0] > b[0][0] ? 1 : a[1] - b[1])).map((x) => x[0]);
      this.#changed();
    }
    forEach(fn, thisArg) {
      if (typeof fn !== 'function') throw new TypeError('The "callback" argument must be of type function');
      for (const [k, v] of this.#list.slice()) fn.call(thisArg, v, k, this);
    }
    *entries() { for (const p of this.#list.slice()) yield [p[0], p[1]]; }
    *keys() { for (const p of this.#list.slice()) yield p[0]; }
    *values() { for (const p of this.#list.slice()) yield p[1]; }
    [Symbol.iterator]() { return this.entries(); }
    toString() { return this.#list.map((p) => formEncode(p[0]) + '=' + formEncode(p[1])).join('&'); }
    get [Symbol.toStringTag]() { return 'URLSearchParams'; }
  }

  const invalid = (input) => {
    const e = new TypeError('Invalid URL');
    e.code = 'ERR_INVALID_URL';
    e.input = input;
    return e;
  };
  const parse = (input, base) => {
    input = String(input);
    const p = native.parse(input, base === undefined ? undefined : String(base));
    if (p === null) throw invalid(input);
    return p;
  };

  class URL {
    #p;
    #params = null;
    constructor(url, base) {
      if (arguments.length === 0) throw new TypeError('The "url" argument must be specified');
      this.#p = parse(url, base);
    }
    static canParse(url, base) { try { parse(url, base); return true; } catch (e) { return false; } }
    static parse(url, base) { try { return new URL(url, base); } catch (e) { return null; } }
    #set(prop, value) {
      this.#p = native.set(this.#p.href, prop, String(value));
      if (this.#params) resetParams(this.#params, this.#p.search);
    }
    get href() { return this.#p.href; }
    set href(v) { this.#p = parse(v); if (this.#params) resetParams(this.#params, this.#p.search); }
    get origin() { return this.#p.origin; }
    get protocol() { return this.#p.protocol; }
    set protocol(v) { this.#set('protocol', v); }
    get username() { return this.#p.username; }
    set username(v) { this.#set('username', v); }
    get password() { return this.#p.password; }
    set password(v) { this.#set('password', v); }
    get host() { return this.#p.host; }
    set host(v) { this.#set('host', v); }
    get hostname() { return this.#p.hostname; }
    set hostname(v) { this.#set('hostname', v); }
    get port() { return this.#p.port; }
    set port(v) { this.#set('port', v); }
    get pathname() { return this.#p.pathname; }
    set pathname(v) { this.#set('pathname', v); }
    get search() { return this.#p.search; }
    set search(v) { this.#set('search', v); }
    get hash() { return this.#p.hash; }
    set hash(v) { this.#set('hash', v); }
    get searchParams() {
      if (!this.#params) {
        this.#params = new URLSearchParams(this.#p.search);
        linkParams(this.#params, (q) => { this.#p = native.set(this.#p.href, 'search', q); });
      }
      return this.#params;
    }
    toString() { return this.#p.href; }
    toJSON() { return this.#p.href; }
    get [Symbol.toStringTag]() { return 'URL'; }
  }

  // --- querystring (Node's module) ------------------------------------------------------------
  const primitive = (v) => {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' && isFinite(v)) return String(v);
    if (typeof v === 'bigint') return String(v);
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    return '';
  };
  const qs = {};
  qs.escape = (s) => encodeURIComponent(wellFormed(s));
  qs.unescape = (s) => percentDecode(String(s));
  qs.stringify = (obj, sep, eq, options) => {
    sep = sep || '&';
    eq = eq || '=';
    const enc = options && typeof options.encodeURIComponent === 'function' ? options.encodeURIComponent : qs.escape;
    if (obj === null || typeof obj !== 'object') return '';
    const parts = [];
    for (const k of Object.keys(obj)) {
      const v = obj[k];
      const key = enc(primitive(k)) + eq;
      if (Array.isArray(v)) for (const x of v) parts.push(key + enc(primitive(x)));
      else parts.push(key + enc(primitive(v)));
    }
    return parts.join(sep);
  };
  qs.parse = (str, sep, eq, options) => {
    sep = sep || '&';
    eq = eq || '=';
    const out = Object.create(null);
    if (typeof str !== 'string' || str.length === 0) return out;
    const dec = options && typeof options.decodeURIComponent === 'function' ? options.decodeURIComponent : qs.unescape;
    const maxKeys = options && typeof options.maxKeys === 'number' ? options.maxKeys : 1000;
    let parts = str.split(sep);
    if (maxKeys > 0) parts = parts.slice(0, maxKeys);
    for (const part of parts) {
      if (part === '') continue;
      const i = part.indexOf(eq);
      const k = dec((i < 0 ? part : part.slice(0, i)).replace(/\+/g, ' '));
      const v = i < 0 ? '' : dec(part.slice(i + eq.length).replace(/\+/g, ' '));
      if (!(k in out)) out[k] = v;
      else if (Array.isArray(out[k])) out[k].push(v);
      else out[k] = [out[k], v];
    }
    return out;
  };
  qs.encode = qs.stringify;
  qs.decode = qs.parse;

  if (module.id === 'querystring') {
    module.exports = qs;
    return;
  }

  // --- the legacy url API: url.parse, url.format, url.resolve ------------------------------------
  const SLASHED = ['http:', 'https:', 'ftp:', 'gopher:', 'file:', 'ws:', 'wss:'];
  class Url {
    constructor() {
      this.protocol = null; this.slashes = null; this.auth = null; this.host = null; this.port = null;
      this.hostname = null; this.hash = null; this.search = null; this.query = null;
      this.pathname = null; this.path = null; this.href = null;
    }
    format() { return legacyFormat(this); }
  }
  const legacyParse = (str, parseQuery, slashesDenoteHost) => {
    if (typeof str !== 'string') throw new TypeError('The "url" argument must be of type string');
    const u = new Url();
    let rest = str.trim();
    const h = rest.indexOf('#');
    if (h >= 0) { u.hash = rest.slice(h); rest = rest.slice(0, h); }
    const q = rest.indexOf('?');
    if (q >= 0) { u.search = rest.slice(q); rest = rest.slice(0, q); }
    const pm = /^[a-zA-Z][a-zA-Z0-9+.-]*:/.exec(rest);
    if (pm) { u.protocol = pm[0].toLowerCase(); rest = rest.slice(pm[0].length); }
    if (rest.startsWith('//') && (u.protocol || slashesDenoteHost) && u.protocol !== 'javascript:') {
      u.slashes = true;
      rest = rest.slice(2);
      const end = rest.indexOf('/');
      let authority = end < 0 ? rest : rest.slice(0, end);
      rest = end < 0 ? '' : rest.slice(end);
      const at = authority.lastIndexOf('@');
      if (at >= 0) { u.auth = percentDecode(authority.slice(0, at)); authority = authority.slice(at + 1); }
      const port = /:(\d*)$/.exec(authority);
      if (port) { u.port = port[1] || null; authority = authority.slice(0, port.index); }
      u.hostname = authority.toLowerCase().replace(/^\[(.*)\]$/, '$1');
      u.host = authority.toLowerCase() + (u.port ? ':' + u.port : '');
    }
    u.pathname = rest || (u.slashes && SLASHED.includes(u.protocol) ? '/' : null);
    u.query = parseQuery ? qs.parse(u.search ? u.search.slice(1) : '') : (u.search ? u.search.slice(1) : null);
    if (u.pathname !== null || u.search !== null) u.path = (u.pathname || '') + (u.search || '');
    u.href = legacyFormat(u);
    return u;
  };
  const legacyFormat = (o) => {
    if (typeof o === 'string') o = legacyParse(o);
    if (o instanceof URL) return o.href;
    if (o === null || typeof o !== 'object') throw new TypeError('The "urlObject" argument must be one of type object or string');
    let protocol = o.protocol || '';
    if (protocol && !protocol.endsWith(':')) protocol += ':';
    const auth = o.auth ? encodeURIComponent(o.auth).replace(/%3A/i, ':') + '@' : '';
    let host = '';
    if (o.host) host = auth + o.host;
    else if (o.hostname) {
      const hn = String(o.hostname);
      host = auth + (hn.includes(':') && !hn.startsWith('[') ? '[' + hn + ']' : hn) + (o.port ? ':' + o.port : '');
    }
    let pathname = o.pathname || '';
    let hash = o.hash || '';
    let search = o.search || '';
    if (!search && o.query) search = typeof o.query === 'object' ? qs.stringify(o.query) : String(o.query);
    if (search && search[0] !== '?') search = '?' + search;
    if (hash && hash[0] !== '#') hash = '#' + hash;
    if (o.slashes || host || SLASHED.includes(protocol)) {
      host = '//' + host;
      if (pathname && pathname[0] !== '/') pathname = '/' + pathname;
    }
    pathname = pathname.replace(/[?#]/g, encodeURIComponent);
    return protocol + host + pathname + search.replace('#', '%23') + hash;
  };
  const resolve = (from, to) => {
    const r = new URL(String(to), new URL(String(from), 'resolve://'));
    if (r.protocol === 'resolve:') return r.pathname + r.search + r.hash;
    return r.href;
  };

  exports.URL = URL;
  exports.URLSearchParams = URLSearchParams;
  exports.Url = Url;
  exports.parse = legacyParse;
  exports.format = (o, options) => {
    if (o instanceof URL && options && typeof options === 'object') {
      const u = new URL(o.href);
      if (options.auth === false) { u.username = ''; u.password = ''; }
      if (options.search === false) u.search = '';
      if (options.fragment === false) u.hash = '';
      return u.href;
    }
    return legacyFormat(o);
  };
  exports.resolve = resolve;
  exports.domainToASCII = (d) => { try { return new URL('http://' + d).hostname; } catch (e) { return ''; } };
})
