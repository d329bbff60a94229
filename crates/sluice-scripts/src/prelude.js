// The script environment's JavaScript half, evaluated once per container before any script.
// It receives `host` (native functions owned by the container) and returns the helpers the
// container keeps for itself; neither `host` nor the helpers are reachable from scripts.
(function (host) {
  'use strict';
  const g = globalThis;
  const apply = Reflect.apply;
  const defineProperty = Object.defineProperty;
  const freeze = Object.freeze;
  const promiseThen = Promise.prototype.then;
  const PromiseCtor = Promise;
  const dateGetTime = Date.prototype.getTime;
  const dateISO = Date.prototype.toISOString;
  const numberIsFinite = Number.isFinite;
  const define = (name, value) =>
    defineProperty(g, name, { value, writable: false, enumerable: false, configurable: false });

  // --- Stack traces: a script's Error.prepareStackTrace sees call sites without functions ---
  // The engine hands the hook V8-style call sites whose getFunction()/getThis() would give
  // scripts this prelude's internal functions. The hook is kept here and given copies that
  // answer everything else and never a function or receiver.
  {
    let hook;
    const site = (c) => {
      const ask = (m) => () => (typeof c[m] === 'function' ? c[m]() : undefined);
      const copy = {};
      for (const m of ['getFileName', 'getLineNumber', 'getColumnNumber', 'getFunctionName',
        'getMethodName', 'getTypeName', 'getEvalOrigin', 'isNative', 'isToplevel', 'isEval',
        'isConstructor', 'isAsync', 'isPromiseAll', 'getPromiseIndex', 'getScriptNameOrSourceURL']) {
        copy[m] = ask(m);
      }
      copy.getFunction = () => undefined;
      copy.getThis = () => undefined;
      const text = String(c);
      copy.toString = () => text;
      return freeze(copy);
    };
    const wrapped = (err, sites) => apply(hook, Error, [err, Array.from(sites, site)]);
    // The engine keeps the hook in an internal slot behind its own accessor: give it the
    // wrapper, keep the script's function here.
    const engine = Object.getOwnPropertyDescriptor(Error, 'prepareStackTrace');
    const install = engine && typeof engine.set === 'function' ? engine.set : () => {};
    defineProperty(Error, 'prepareStackTrace', {
      get: () => hook,
      set: (f) => {
        hook = f;
        apply(install, Error, [typeof f === 'function' ? wrapped : undefined]);
      },
      enumerable: false,
      configurable: false,
    });
  }

  // The host reads an error's stack through the engine's accessor on Error.prototype; it stays
  // the engine's (a script may still give its own errors an own `stack`).
  {
    const d = Object.getOwnPropertyDescriptor(Error.prototype, 'stack');
    if (d && d.configurable) {
      defineProperty(Error.prototype, 'stack', { get: d.get, set: d.set, enumerable: d.enumerable, configurable: false });
    }
  }

  // --- Auth0's error classes (shapes of auth0-authz-rules-api) -------------------------------
  class WrongUsernameOrPasswordError extends Error {
    constructor(user_id, message) {
      super(message === undefined ? 'Wrong email or password.' : message);
      this.name = 'WrongUsernameOrPasswordError';
      this.code = 'wrongusernameorpassword';
      this.user_id = user_id;
      this.statusCode = 400;
    }
  }
  class ValidationError extends Error {
    constructor(code, message) {
      super(message);
      this.name = 'ValidationError';
      this.code = code;
      this.description = message;
      this.statusCode = 400;
    }
  }
  class AuthorizationError extends Error {
    constructor(code, message) {
      super(message);
      this.name = 'AuthorizationError';
      this.code = code;
      this.description = message;
      this.statusCode = 401;
    }
  }
  class UnauthorizedError extends AuthorizationError {
    constructor(message) {
      super('unauthorized', message);
      this.name = 'UnauthorizedError';
    }
  }
  for (const C of [WrongUsernameOrPasswordError, ValidationError, AuthorizationError, UnauthorizedError]) {
    freeze(C.prototype);
    define(C.name, freeze(C));
  }

  // --- console: util.format's formatting, captured by the host -------------------------------
  // `util` (the formatter) is loaded on the first console call.
  const consoleObj = {};
  for (const level of ['log', 'info', 'warn', 'error', 'debug', 'trace']) {
    const sink = level === 'trace' ? 'debug' : level;
    // host.write answers false once this invocation's output cap is reached: stop formatting.
    consoleObj[level] = function (...args) { if (host.accepting()) host.write(sink, apply(util().format, undefined, args)); };
  }
  define('console', freeze(consoleObj));

  // --- timers ---------------------------------------------------------------------------------
  let nextTimer = 1;
  const setTimeout = function (fn, ms, ...args) {
    if (typeof fn !== 'function') throw new TypeError('The "callback" argument must be of type function');
    const id = nextTimer++;
    host.setTimer(id, Math.max(0, Number(ms) || 0), () => fn(...args), false);
    return id;
  };
  const setInterval = function (fn, ms, ...args) {
    if (typeof fn !== 'function') throw new TypeError('The "callback" argument must be of type function');
    const id = nextTimer++;
    host.setTimer(id, Math.max(1, Number(ms) || 0), () => fn(...args), true);
    return id;
  };
  const clearTimer = (id) => { if (typeof id === 'number') host.clearTimer(id); };
  define('setTimeout', setTimeout);
  define('setInterval', setInterval);
  define('clearTimeout', clearTimer);
  define('clearInterval', clearTimer);
  define('setImmediate', (fn, ...args) => setTimeout(fn, 0, ...args));
  define('clearImmediate', clearTimer);
  const queueMicrotask = (fn) => { apply(promiseThen, PromiseCtor.resolve(), [() => fn()]); };
  if (typeof g.queueMicrotask !== 'function') define('queueMicrotask', queueMicrotask);

  // --- process: nothing of the host ------------------------------------------------------------
  const started = Date.now();
  define('process', freeze({
    env: freeze({}),
    version: 'v22.11.0',
    versions: freeze({ node: '22.11.0' }),
    platform: 'linux',
    arch: 'x64',
    argv: freeze([]),
    pid: 1,
    nextTick: (fn, ...args) => queueMicrotask(() => fn(...args)),
    hrtime: Object.assign((prev) => {
      const ns = Math.round((Date.now() - started) * 1e6);
      const t = [Math.floor(ns / 1e9), ns % 1e9];
      return prev ? [t[0] - prev[0], t[1] - prev[1]] : t;
    }, { bigint: () => BigInt(Math.round((Date.now() - started) * 1e6)) }),
    uptime: () => (Date.now() - started) / 1000,
    memoryUsage: () => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: 0 }),
    cwd: () => '/',
    exit: () => { throw new Error('process.exit is not available in action scripts'); },
    kill: () => { throw new Error('process.kill is not available in action scripts'); },
    on: () => undefined,
  }));
  define('global', g);

  // --- require: host modules first, then operator-added packages --------------------------------
  // Host modules (and util) win over packages of the same name, and forbidden built-ins stay
  // forbidden wherever the require comes from. Packages are found and read by the host, confined
  // to the operator's package directory: a script reaches only allow-listed packages, a package
  // file may require anything in the directory (its dependencies).
  const moduleCache = new Map();
  const packages = host.packages;
  // Package modules by normalised file name. A module is cached before it runs (circular
  // requires see its partial exports) and removed if it throws, so the next require runs it
  // again rather than returning a half-built module.
  const packageCache = new Map();
  // Script-level package requests already resolved: module name -> file name.
  const scriptResolved = new Map();
  const NONE = {};
  // 'name', 'name@1.2.3', '@scope/name@1.2.3', 'name@1.2.3/sub', 'node:name' -> module name.
  const moduleName = (spec) => {
    let s = spec.startsWith('node:') ? spec.slice(5) : spec;
    const at = s.indexOf('@', s.startsWith('@') ? 1 : 0);
    if (at > 0) {
      const rest = s.slice(at + 1);
      const slash = rest.indexOf('/');
      s = s.slice(0, at) + (slash < 0 ? '' : rest.slice(slash));
    }
    return s;
  };
  const checkId = (spec) => {
    if (typeof spec !== 'string' || spec === '') throw new TypeError('The "id" argument must be of type string');
  };
  const notFound = (message, requireStack) => {
    const e = new Error(requireStack ? message + '\nRequire stack:\n- ' + requireStack.join('\n- ') : message);
    e.code = 'MODULE_NOT_FOUND';
    if (requireStack) e.requireStack = requireStack;
    throw e;
  };
  const forbidden = (name) => notFound("Module '" + name + "' is not available to action scripts (no file system, process or raw network access)");
  // A host module's exports, or NONE.
  const builtin = (name) => {
    if (moduleCache.has(name)) return moduleCache.get(name);
    const def = host.loadModule(name);
    if (def === undefined) return NONE;
    const module = { exports: {}, id: name };
    apply(def.factory, undefined, [module, module.exports, require, def.natives]);
    moduleCache.set(name, module.exports);
    return module.exports;
  };
  const loadPackage = (filename) => {
    const cached = packageCache.get(filename);
    if (cached !== undefined) return cached.exports;
    const module = { id: filename, filename, exports: {}, loaded: false, children: [], paths: [] };
    module.require = packageRequire(filename);
    packageCache.set(filename, module);
    let ok = false;
    try {
      const code = packages.load(filename);
      if (typeof code === 'string') {
        try {
          module.exports = JSON.parse(code);
        } catch (e) {
          e.message = filename + ': ' + e.message;
          throw e;
        }
      } else {
        const dirname = filename.slice(0, filename.lastIndexOf('/'));
        apply(code, module.exports, [module.exports, module.require, module, filename, dirname]);
      }
      ok = true;
    } finally {
      if (!ok) packageCache.delete(filename);
    }
    module.loaded = true;
    return module.exports;
  };
  // The `require` of the package file `parent`.
  const packageRequire = (parent) => {
    const isPath = (s) => s === '.' || s === '..' || s.startsWith('./') || s.startsWith('../') || s.startsWith('/');
    const resolve = (spec) => {
      checkId(spec);
      const filename = packages.resolve(spec, parent);
      if (filename == null) notFound("Cannot find module '" + spec + "'", [parent]);
      return filename;
    };
    const req = function require(spec) {
      checkId(spec);
      if (!isPath(spec)) {
        const name = spec.startsWith('node:') ? spec.slice(5) : spec;
        const b = builtin(name);
        if (b !== NONE) return b;
        if (host.forbidden(name)) forbidden(name);
        if (name !== spec) notFound("Cannot find module '" + spec + "'", [parent]);
      }
      return loadPackage(resolve(spec));
    };
    req.resolve = resolve;
    return req;
  };
  // The host's own modules behind globals (`sluice:...`) are not for scripts to require.
  const require = function require(spec) {
    checkId(spec);
    const name = moduleName(spec);
    if (name.startsWith('sluice:')) notFound("Cannot find module '" + spec + "'");
    const b = builtin(name);
    if (b !== NONE) return b;
    if (host.forbidden(name)) forbidden(name);
    let filename = scriptResolved.get(name);
    if (filename === undefined) {
      if (packages.configured && !spec.startsWith('node:')) {
        if (!name.startsWith('.') && !name.startsWith('/') && !packages.allowed(name)) {
          notFound("Cannot find module '" + spec + "': its package is not in the allow list of packages action scripts may require");
        }
        filename = packages.resolve(name, null);
      }
      if (filename == null) notFound("Cannot find module '" + spec + "'");
      scriptResolved.set(name, filename);
    }
    return loadPackage(filename);
  };
  define('require', require);
  let utilExports;
  const util = () => utilExports || (utilExports = builtin('util'));
  // The runtime's own notes describe a value with `util`, which loads on first use from globals
  // the script may have broken by then: the note is written whatever the script did.
  const StringCtor = String;
  const describe = (v) => {
    try { return util().format('%s', v); } catch (e1) {
      try { return StringCtor(v); } catch (e2) { return '[a value that cannot be printed]'; }
    }
  };
  // Pre-Node-16 "magic" globals, when the tenant turned them on: each loads on first use.
  if (host.legacyGlobals === true) {
    const lazy = (name, make) => defineProperty(g, name, {
      configurable: true,
      enumerable: false,
      get() { const v = make(); defineProperty(g, name, { value: v, writable: true, configurable: true }); return v; },
      set(v) { defineProperty(g, name, { value: v, writable: true, configurable: true }); },
    });
    lazy('bcrypt', () => require('bcrypt'));
    lazy('crypto', () => require('crypto'));
    lazy('jwt', () => require('jsonwebtoken'));
    lazy('uuid', () => require('uuid'));
    lazy('request', () => require('request'));
    lazy('pg', () => require('pg'));
    lazy('mysql', () => (options) => require('mysql').createConnection(options));
    lazy('postgres', () => (conString, cb) => {
      const client = new (require('pg').Client)(conString);
      client.connect((err) => cb(err, client));
    });
  }
  // Buffer is loaded on first use (most scripts never touch it).
  defineProperty(g, 'Buffer', {
    configurable: true,
    enumerable: false,
    get() {
      const B = require('buffer').Buffer;
      defineProperty(g, 'Buffer', { value: B, writable: true, configurable: true, enumerable: false });
      return B;
    },
  });
  // --- web globals from host modules, loaded on first use: fetch & co. and URL ------------------
  const lazyGlobal = (name, load) => {
    const settle = (value) => defineProperty(g, name, { value, writable: true, configurable: true, enumerable: false });
    defineProperty(g, name, {
      configurable: true,
      enumerable: false,
      get() { const v = load(); settle(v); return v; },
      set(v) { settle(v); },
    });
  };
  for (const n of ['fetch', 'Headers', 'Request', 'Response', 'AbortController', 'AbortSignal']) {
    if (!(n in g)) lazyGlobal(n, () => (n === 'fetch' ? require('node-fetch') : require('node-fetch')[n]));
  }
  for (const n of ['URL', 'URLSearchParams']) if (!(n in g)) lazyGlobal(n, () => require('url')[n]);
  for (const n of ['TextEncoder', 'TextDecoder']) if (typeof g[n] !== 'function') lazyGlobal(n, () => util()[n]);
  if (typeof g.structuredClone !== 'function') lazyGlobal('structuredClone', () => builtin('sluice:structuredClone'));

  // --- the invocation contract ------------------------------------------------------------------
  const isThenable = (r) => r !== null && (typeof r === 'object' || typeof r === 'function') && typeof r.then === 'function';
  const asError = (e, what) => (e === undefined || e === null ? new Error(what + ' with ' + String(e)) : e);
  // Calls `fn(...args, callback)`. The first callback call wins; a synchronous throw or a
  // rejected returned promise is an error unless the callback was already called.
  // How the host reads a Date in a result (what Date.prototype.toJSON gives), with the
  // original methods: a script's replacements are never called by the host.
  const dateJSON = (d) => (numberIsFinite(apply(dateGetTime, d, [])) ? apply(dateISO, d, []) : null);
  const invoke = (fn, args, done) => {
    let called = false;
    const callback = function (err, result) {
      if (called) {
        host.warn('the callback was called more than once; later calls are ignored');
        return;
      }
      called = true;
      done(err === undefined ? null : err, result, dateJSON);
    };
    args[args.length] = callback;
    let ret;
    try {
      ret = apply(fn, undefined, args);
    } catch (e) {
      if (!called) { called = true; done(asError(e, 'the script threw'), undefined, dateJSON); }
      else host.warn('the script threw after calling the callback: ' + describe(e));
      return;
    }
    if (isThenable(ret)) {
      const onRejected = (e) => {
        if (!called) { called = true; done(asError(e, 'the script\'s promise was rejected'), undefined, dateJSON); }
        else host.warn('the script\'s promise was rejected after the callback was called: ' + describe(e));
      };
      if (ret instanceof PromiseCtor) apply(promiseThen, ret, [undefined, onRejected]);
      else ret.then(undefined, onRejected);
    }
  };
  // `configuration` is an accessor the script can neither delete nor redefine; the host swaps
  // the frozen object behind it.
  let currentConfiguration = freeze({});
  defineProperty(g, 'configuration', { get: () => currentConfiguration, enumerable: false, configurable: false });
  const setConfiguration = (cfg) => { currentConfiguration = freeze(cfg); };
  return { invoke, setConfiguration };
})
