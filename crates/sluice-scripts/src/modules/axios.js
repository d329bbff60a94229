// `axios`: `axios(config)`, `axios(url, config)`, the method aliases, `create`, defaults and
// interceptors, `AxiosError` (`e.response`, `e.isAxiosError`), `baseURL`, `params`, `auth`,
// `timeout`, `responseType`, `validateStatus`, `maxRedirects`, `signal`. Over the host's HTTP
// native, which checks every connection against the tenant's egress policy. No streams,
// progress events, proxies or custom adapters.
(function (module, exports, require, native) {
  'use strict';
  const { URL, URLSearchParams } = require('url');
  const te = new TextEncoder();
  const td = new TextDecoder();
  const VERSION = '1.7.7';
  const isObject = (v) => v !== null && typeof v === 'object';
  const isPlain = (v) => isObject(v) && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);
  const isBytes = (v) => v instanceof ArrayBuffer || ArrayBuffer.isView(v);
  const toBytes = (v) => (v instanceof Uint8Array ? v : v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength));

  class AxiosError extends Error {
    constructor(message, code, config, request, response) {
      super(message);
      this.name = 'AxiosError';
      if (code !== undefined) this.code = code;
      this.config = config;
      this.request = request;
      this.response = response;
      if (response) this.status = response.status;
      this.isAxiosError = true;
    }
    toJSON() {
      return { message: this.message, name: this.name, code: this.code, status: this.response ? this.response.status : undefined, config: this.config };
    }
  }
  for (const c of ['ERR_BAD_OPTION_VALUE', 'ERR_BAD_OPTION', 'ECONNABORTED', 'ETIMEDOUT', 'ERR_NETWORK', 'ERR_FR_TOO_MANY_REDIRECTS', 'ERR_DEPRECATED', 'ERR_BAD_RESPONSE', 'ERR_BAD_REQUEST', 'ERR_CANCELED', 'ERR_NOT_SUPPORT', 'ERR_INVALID_URL']) AxiosError[c] = c;
  class CanceledError extends AxiosError {
    constructor(message, config, request) {
      super(message === undefined || message === null ? 'canceled' : message, 'ERR_CANCELED', config, request);
      this.name = 'CanceledError';
      this.__CANCEL__ = true;
    }
  }

  // axios's params encoding: encodeURIComponent, keeping : $ , [ ] and space as '+'.
  const encode = (s) => encodeURIComponent(s).replace(/%3A/gi, ':').replace(/%24/g, '$').replace(/%2C/gi, ',').replace(/%20/g, '+').replace(/%5B/gi, '[').replace(/%5D/gi, ']');
  const serializeParams = (params) => {
    if (params instanceof URLSearchParams) return params.toString();
    const parts = [];
    for (const key of Object.keys(params)) {
      let v = params[key];
      if (v === null || v === undefined) continue;
      let k = key;
      if (Array.isArray(v)) k = key + '[]';
      else v = [v];
      for (let x of v) {
        if (x instanceof Date) x = x.toISOString();
        else if (isObject(x)) x = JSON.stringify(x);
        parts.push(encode(k) + '=' + encode(String(x)));
      }
    }
    return parts.join('&');
  };
  const isAbsolute = (u) => /^([a-z][a-z\d+\-.]*:)?\/\//i.test(u);
  const fullUrl = (config) => {
    let url = config.url === undefined || config.url === null ? '' : String(config.url);
    if (config.baseURL && !isAbsolute(url)) url = url ? String(config.baseURL).replace(/\/?\/$/, '') + '/' + url.replace(/^\/+/, '') : String(config.baseURL);
    if (config.params) {
      const s = config.paramsSerializer;
      const q = typeof s === 'function' ? s(config.params) : isObject(s) && typeof s.serialize === 'function' ? s.serialize(config.params) : serializeParams(config.params);
      if (q) {
        const h = url.indexOf('#');
        if (h >= 0) url = url.slice(0, h);
        url += (url.indexOf('?') < 0 ? '?' : '&') + q;
      }
    }
    return url;
  };

  const METHOD_KEYS = ['common', 'delete', 'get', 'head', 'options', 'post', 'put', 'patch'];
  // Flat request headers: defaults.common, then defaults[method], then the request's own.
  const flattenHeaders = (headers, method) => {
    const out = {};
    const put = (src) => {
      if (!isObject(src)) return;
      for (const k of Object.keys(src)) {
        if (METHOD_KEYS.includes(k) && isObject(src[k])) continue;
        const existing = Object.keys(out).find((x) => x.toLowerCase() === k.toLowerCase());
        if (existing !== undefined) delete out[existing];
        if (src[k] !== undefined && src[k] !== null && src[k] !== false) out[k] = src[k];
      }
    };
    if (isObject(headers)) {
      put(headers.common);
      put(headers[method]);
      put(headers);
    }
    return out;
  };
  const getHeader = (h, name) => { const k = Object.keys(h).find((x) => x.toLowerCase() === name); return k === undefined ? undefined : h[k]; };
  const setHeader = (h, name, v) => { const k = Object.keys(h).find((x) => x.toLowerCase() === name); if (k !== undefined) delete h[k]; if (v !== undefined) h[name] = v; };

  const defaultTransformRequest = function (data, headers) {
    if (data === undefined || data === null) return data;
    if (typeof data === 'string' || isBytes(data)) return data;
    if (data instanceof URLSearchParams) {
      if (getHeader(headers, 'content-type') === undefined) setHeader(headers, 'Content-Type', 'application/x-www-form-urlencoded;charset=utf-8');
      return data.toString();
    }
    if (isObject(data)) {
      const ct = getHeader(headers, 'content-type');
      if (ct && /application\/x-www-form-urlencoded/i.test(ct)) return new URLSearchParams(data).toString();
      setHeader(headers, 'Content-Type', 'application/json');
      return JSON.stringify(data);
    }
    return data;
  };
  const defaultTransformResponse = function (data) {
    const rt = this && this.responseType;
    if (typeof data === 'string' && data !== '' && (!rt || rt === 'json')) {
      try { return JSON.parse(data); } catch (e) {
        if (rt === 'json') throw new AxiosError(e.message, 'ERR_BAD_RESPONSE', this);
      }
    }
    return data;
  };
  const apply = (fns, config, data, headers, status) => {
    for (const f of [].concat(fns || [])) if (typeof f === 'function') data = f.call(config, data, headers, status);
    return data;
  };

  const responseHeaders = (pairs) => {
    const h = {};
    for (const [k, v] of pairs) {
      if (k === 'set-cookie') (h[k] = h[k] || []).push(v);
      else h[k] = k in h ? h[k] + ', ' + v : v;
    }
    Object.defineProperty(h, 'get', { value: (n) => h[String(n).toLowerCase()], enumerable: false });
    Object.defineProperty(h, 'has', { value: (n) => String(n).toLowerCase() in h, enumerable: false });
    return h;
  };

  const dispatch = (config) => {
    const url = fullUrl(config);
    const method = String(config.method || 'get').toUpperCase();
    const request = { method, path: url, responseURL: url };
    if (config.signal && config.signal.aborted) return Promise.reject(new CanceledError(null, config, request));
    const headers = flattenHeaders(config.headers, String(config.method || 'get').toLowerCase());
    let data = apply(config.transformRequest, config, config.data, headers);
    if (data === undefined || data === null) setHeader(headers, 'content-type', undefined);
    if (config.auth) {
      const user = config.auth.username === undefined ? '' : String(config.auth.username);
      const pass = config.auth.password === undefined ? '' : String(config.auth.password);
      setHeader(headers, 'Authorization', 'Basic ' + Buffer.from(user + ':' + pass, 'utf8').toString('base64'));
    }
    if (getHeader(headers, 'user-agent') === undefined) headers['User-Agent'] = 'axios/' + VERSION;
    let body;
    if (data !== undefined && data !== null) {
      if (typeof data === 'string') body = te.encode(data);
      else if (isBytes(data)) body = toBytes(data);
      else return Promise.reject(new AxiosError('Data after transformation must be a string, an ArrayBuffer, a Buffer, or a Stream', 'ERR_BAD_REQUEST', config));
    }
    const pairs = [];
    for (const k of Object.keys(headers)) pairs.push([k, String(headers[k])]);
    const maxRedirects = config.maxRedirects === undefined ? undefined : Number(config.maxRedirects);
    const maxBytes = Number(config.maxContentLength) > 0 ? Number(config.maxContentLength) : undefined;
    return new Promise((resolve, reject) => {
      let settled = false;
      const signal = config.signal;
      const onAbort = () => { if (!settled) { settled = true; reject(new CanceledError(null, config, request)); } };
      if (signal && typeof signal.addEventListener === 'function') signal.addEventListener('abort', onAbort);
      native.request({
        method,
        url,
        headers: pairs,
        body,
        timeout: Number(config.timeout) || undefined,
        redirect: maxRedirects === 0 ? 'manual' : 'follow',
        maxRedirects,
        maxBytes,
      }).then((r) => {
        if (settled) return;
        settled = true;
        try {
          request.responseURL = r.url;
          const h = responseHeaders(r.headers);
          const rt = config.responseType;
          if (rt === 'stream' || rt === 'blob') throw new AxiosError('responseType "' + rt + '" is not supported in action scripts', 'ERR_NOT_SUPPORT', config, request);
          const payload = rt === 'arraybuffer' ? r.body : td.decode(new Uint8Array(r.body));
          const response = { data: undefined, status: r.status, statusText: r.statusText, headers: h, config, request };
          response.data = apply(config.transformResponse, config, payload, h, r.status);
          const validate = config.validateStatus;
          if (!validate || validate(r.status)) resolve(response);
          else {
            const code = [AxiosError.ERR_BAD_REQUEST, AxiosError.ERR_BAD_RESPONSE][Math.floor(r.status / 100) - 4];
            reject(new AxiosError('Request failed with status code ' + r.status, code, config, request, response));
          }
        } catch (e) {
          reject(e);
        }
      }, (e) => {
        if (settled) return;
        settled = true;
        let err;
        if (e && e.code === 'ETIMEDOUT' && /timed out after/.test(e.message)) {
          const clarify = config.transitional && config.transitional.clarifyTimeoutError;
          err = new AxiosError(config.timeoutErrorMessage || 'timeout of ' + (Number(config.timeout) || native.defaultTimeout) + 'ms exceeded', clarify ? 'ETIMEDOUT' : 'ECONNABORTED', config, request);
        } else if (e && e.code === 'ERR_TOO_MANY_REDIRECTS') {
          err = new AxiosError('Maximum number of redirects exceeded', 'ERR_FR_TOO_MANY_REDIRECTS', config, request);
        } else if (e && e.code === 'ERR_RESPONSE_TOO_LARGE') {
          err = new AxiosError('maxContentLength size of ' + (maxBytes || 'the limit') + ' exceeded', 'ERR_BAD_RESPONSE', config, request);
        } else {
          err = new AxiosError(e && e.message, e && e.code, config, request);
        }
        err.cause = e;
        reject(err);
      }).finally(() => {
        if (signal && typeof signal.removeEventListener === 'function') signal.removeEventListener('abort', onAbort);
      });
    });
  };

  const mergeConfig = (a, b) => {
    const out = Object.assign({}, a, b);
    const ha = (a && a.headers) || {};
    const hb = (b && b.headers) || {};
    const headers = Object.assign({}, ha, hb);
    for (const k of METHOD_KEYS) {
      if (isObject(ha[k]) || isObject(hb[k])) headers[k] = Object.assign({}, isObject(ha[k]) ? ha[k] : {}, isObject(hb[k]) ? hb[k] : {});
    }
    out.headers = headers;
    if (isPlain(a && a.transitional) && isPlain(b && b.transitional)) out.transitional = Object.assign({}, a.transitional, b.transitional);
    return out;
  };

  class InterceptorManager {
    constructor() { this.handlers = []; }
    use(fulfilled, rejected) { this.handlers.push({ fulfilled, rejected }); return this.handlers.length - 1; }
    eject(id) { if (this.handlers[id]) this.handlers[id] = null; }
    clear() { this.handlers = []; }
    forEach(fn) { this.handlers.forEach((h) => { if (h !== null) fn(h); }); }
  }

  const defaults = {
    headers: {
      common: { Accept: 'application/json, text/plain, */*' },
      delete: {}, get: {}, head: {}, options: {},
      post: {}, put: {}, patch: {},
    },
    timeout: 0,
    maxContentLength: -1,
    maxBodyLength: -1,
    transformRequest: [defaultTransformRequest],
    transformResponse: [defaultTransformResponse],
    validateStatus: (status) => status >= 200 && status < 300,
    transitional: { silentJSONParsing: true, forcedJSONParsing: true, clarifyTimeoutError: false },
  };

  const createInstance = (instanceDefaults) => {
    const interceptors = { request: new InterceptorManager(), response: new InterceptorManager() };
    const instance = function axios(configOrUrl, config) { return instance.request(configOrUrl, config); };
    instance.defaults = instanceDefaults;
    instance.interceptors = interceptors;
    instance.request = (configOrUrl, config) => {
      if (typeof configOrUrl === 'string' || configOrUrl instanceof URL) config = Object.assign({}, config, { url: String(configOrUrl) });
      else config = configOrUrl || {};
      const merged = mergeConfig(instance.defaults, config);
      merged.method = String(merged.method || 'get').toLowerCase();
      let chain = Promise.resolve(merged);
      const requestHandlers = [];
      interceptors.request.forEach((h) => requestHandlers.unshift(h));
      for (const h of requestHandlers) chain = chain.then(h.fulfilled, h.rejected);
      chain = chain.then(dispatch);
      interceptors.response.forEach((h) => { chain = chain.then(h.fulfilled, h.rejected); });
      return chain;
    };
    for (const m of ['delete', 'get', 'head', 'options']) {
      instance[m] = (url, config) => instance.request(Object.assign({}, config, { method: m, url }));
    }
    for (const m of ['post', 'put', 'patch']) {
      instance[m] = (url, data, config) => instance.request(Object.assign({}, config, { method: m, url, data }));
    }
    instance.getUri = (config) => fullUrl(mergeConfig(instance.defaults, config || {}));
    instance.create = (config) => createInstance(mergeConfig(instance.defaults, config || {}));
    return instance;
  };

  const axios = createInstance(defaults);
  axios.default = axios;
  axios.AxiosError = AxiosError;
  axios.CanceledError = CanceledError;
  axios.Cancel = CanceledError;
  axios.isAxiosError = (e) => isObject(e) && e.isAxiosError === true;
  axios.isCancel = (e) => Boolean(e && e.__CANCEL__);
  axios.all = (promises) => Promise.all(promises);
  axios.spread = (fn) => (arr) => fn(...arr);
  axios.mergeConfig = mergeConfig;
  axios.VERSION = VERSION;
  module.exports = axios;
})
