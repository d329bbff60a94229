// `pg` (node-postgres): Client, Pool, the legacy pg.connect(conString, cb(err, client, done)) of
// pg <= 6, parameters prepared as npm pg prepares them, and results shaped as npm pg returns
// them; the wire protocol is native (tokio-postgres), see pg.rs.
(function (module, exports, require, native) {
  'use strict';
  const Buffer = require('buffer').Buffer;
  const defer = typeof setTimeout === 'function' ? setTimeout : (f) => Promise.resolve().then(f);
  const noop = () => {};
  // Calls a script's callback outside any promise chain: what it throws fails the invocation
  // (as an uncaught exception would in node) instead of vanishing in a rejected promise.
  const call = (cb, args) => {
    try {
      cb.apply(undefined, args);
    } catch (e) {
      defer(() => { throw e; }, 0);
    }
  };
  const settle = (promise, cb) => {
    if (typeof cb !== 'function') return promise;
    promise.then((v) => call(cb, [null, v]), (e) => call(cb, [e]));
    return undefined;
  };

  class DatabaseError extends Error {
    constructor(message) {
      super(message);
      this.name = 'error';
    }
  }
  const toError = (info) => {
    const e = info.kind === 'db' ? new DatabaseError(info.message) : new Error(info.message);
    for (const k of Object.keys(info)) if (k !== 'kind' && k !== 'message') e[k] = info[k];
    return e;
  };
  const unwrap = (r) => {
    if (r && r.error !== undefined) throw toError(r.error);
    return r;
  };

  const defaults = {
    host: 'localhost', user: undefined, database: undefined, password: null, port: 5432,
    connectionString: undefined, ssl: false, application_name: undefined,
    max: 10, poolSize: 10, poolIdleTimeout: 30000, idleTimeoutMillis: 10000, parseInt8: false,
  };

  // --- parameters: text forms as npm pg's prepareValue makes them -----------------------------
  const hex = (u8) => {
    let s = '';
    for (let i = 0; i < u8.length; i++) s += (u8[i] < 16 ? '0' : '') + u8[i].toString(16);
    return s;
  };
  const pad = (n, w) => String(n).padStart(w || 2, '0');
  const dateToString = (d) => {
    let off = -d.getTimezoneOffset();
    let year = d.getFullYear();
    const bc = year < 1;
    if (bc) year = Math.abs(year) + 1;
    let s = pad(year, 4) + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' + pad(d.getHours()) + ':' +
      pad(d.getMinutes()) + ':' + pad(d.getSeconds()) + '.' + pad(d.getMilliseconds(), 3);
    if (off < 0) { s += '-'; off = -off; } else s += '+';
    s += pad(Math.floor(off / 60)) + ':' + pad(off % 60);
    return bc ? s + ' BC' : s;
  };
  const bytesOf = (v) => (v instanceof Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  const escapeElement = (s) => '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
  const arrayString = (a) => '{' + a.map((x) => {
    if (x === null || x === undefined) return 'NULL';
    if (Array.isArray(x)) return arrayString(x);
    if (ArrayBuffer.isView(x)) return '"\\\\x' + hex(bytesOf(x)) + '"';
    return escapeElement(prepareValue(x));
  }).join(',') + '}';
  function prepareValue(v, seen) {
    if (v === null || v === undefined) return null;
    if (typeof v === 'object') {
      if (ArrayBuffer.isView(v)) return '\\x' + hex(bytesOf(v));
      if (v instanceof Date) return dateToString(v);
      if (Array.isArray(v)) return arrayString(v);
      if (typeof v.toPostgres === 'function') {
        seen = seen || [];
        if (seen.indexOf(v) !== -1) throw new Error('circular reference detected while preparing "' + v + '" for query');
        seen.push(v);
        return prepareValue(v.toPostgres(prepareValue), seen);
      }
      return JSON.stringify(v);
    }
    return v.toString();
  }

  // --- results --------------------------------------------------------------------------------
  const typeParsers = {};
  const types = {
    setTypeParser(oid, format, parser) {
      if (typeof format === 'function') parser = format;
      typeParsers[oid] = parser;
    },
    getTypeParser(oid) { return typeParsers[oid] || ((v) => v); },
    builtins: {
      BOOL: 16, BYTEA: 17, CHAR: 18, INT8: 20, INT2: 21, INT4: 23, TEXT: 25, OID: 26, JSON: 114,
      FLOAT4: 700, FLOAT8: 701, BPCHAR: 1042, VARCHAR: 1043, DATE: 1082, TIME: 1083, TIMESTAMP: 1114,
      TIMESTAMPTZ: 1184, INTERVAL: 1186, NUMERIC: 1700, UUID: 2950, JSONB: 3802,
    },
  };
  // A timestamp without time zone (or a date) is read as local time, as npm pg does.
  const localDate = (ms) => {
    const u = new Date(ms);
    const d = new Date(0);
    d.setFullYear(u.getUTCFullYear(), u.getUTCMonth(), u.getUTCDate());
    d.setHours(u.getUTCHours(), u.getUTCMinutes(), u.getUTCSeconds(), u.getUTCMilliseconds());
    return d;
  };
  const convert = (v, c) => {
    if (v === null || c === '') return v;
    if (Array.isArray(v)) return v.map((x) => convert(x, c));
    if (c === 'bytes') return Buffer.from(v);
    if (typeof v !== 'number' || !isFinite(v)) return v;
    return c === 'date' ? new Date(v) : localDate(v);
  };
  const parserFor = (oid) => typeParsers[oid] || (oid === 20 && defaults.parseInt8 ? (s) => parseInt(s, 10) : undefined);
  // The command tag is read from the statement's text: its first word, or after WITH the first
  // main keyword outside the common table expressions. Only some commands count rows.
  const MAIN = /^(SELECT|INSERT|UPDATE|DELETE|MERGE|VALUES|TABLE)$/;
  const COUNTED = /^(SELECT|INSERT|UPDATE|DELETE|MERGE|MOVE|FETCH|COPY)$/;
  const tag = (w) => (w === 'VALUES' || w === 'TABLE' ? 'SELECT' : w);
  const commandOf = (sql) => {
    const text = sql.replace(/--[^\n]*|\/\*[\s\S]*?\*\/|'(?:[^']|'')*'|"(?:[^"]|"")*"/g, ' ');
    const re = /[()]|[A-Za-z_][A-Za-z0-9_$]*/g;
    let depth = 0;
    let inWith = false;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const t = m[0];
      if (t === '(') depth++;
      else if (t === ')') depth--;
      else {
        const w = t.toUpperCase();
        if (!inWith) {
          if (w !== 'WITH') return tag(w);
          inWith = true;
        } else if (depth === 0 && MAIN.test(w)) return tag(w);
      }
    }
    return inWith ? 'SELECT' : null;
  };
  const makeResult = (r, rowMode, command) => {
    const fields = r.fields.map((f) => ({
      name: f.name, tableID: f.tableID, columnID: f.columnID, dataTypeID: f.dataTypeID,
      dataTypeSize: -1, dataTypeModifier: f.dataTypeModifier, format: 'text',
    }));
    const convs = r.fields.map((f) => f.conv);
    const parsers = r.fields.map((f) => parserFor(f.dataTypeID));
    const value = (v, i) => {
      const p = parsers[i];
      if (p && v !== null && typeof v !== 'object') return p(typeof v === 'boolean' ? (v ? 't' : 'f') : String(v));
      return convert(v, convs[i]);
    };
    const rows = r.rows.map((raw) => {
      const vals = raw.map(value);
      if (rowMode === 'array') return vals;
      const o = {};
      for (let i = 0; i < fields.length; i++) o[fields[i].name] = vals[i];
      return o;
    });
    return {
      command, rowCount: command === null || COUNTED.test(command) ? r.count : null, oid: command === 'INSERT' ? 0 : null,
      rows, fields, rowAsArray: rowMode === 'array',
    };
  };

  // --- events (enough for on('error', fn) and friends) -----------------------------------------
  class Emitter {
    on(name, fn) { (this._events[name] = this._events[name] || []).push(fn); return this; }
    addListener(name, fn) { return this.on(name, fn); }
    once(name, fn) {
      const w = (...a) => { this.removeListener(name, w); fn.apply(this, a); };
      w.listener = fn;
      return this.on(name, w);
    }
    removeListener(name, fn) {
      const l = this._events[name];
      if (l) this._events[name] = l.filter((x) => x !== fn && x.listener !== fn);
      return this;
    }
    off(name, fn) { return this.removeListener(name, fn); }
    removeAllListeners(name) { if (name === undefined) this._events = {}; else delete this._events[name]; return this; }
    listeners(name) { return (this._events[name] || []).slice(); }
    listenerCount(name) { return (this._events[name] || []).length; }
    emit(name, ...args) {
      const l = this._events[name];
      if (!l || l.length === 0) return false;
      for (const fn of l.slice()) call(fn.bind(this), args);
      return true;
    }
  }

  // --- connection strings (pg-connection-string's subset) -------------------------------------
  const decode = (v) => {
    try { return decodeURIComponent(v); } catch (e) { return v; }
  };
  // postgres://user:password@host:port/database?param=value; empty parts are left out.
  const parseConnectionString = (cs) => {
    const bad = (why) => new Error('pg: invalid connection string: ' + why + ' (expected postgres://user:password@host:port/database)');
    const m = /^postgres(?:ql)?:\/\/(.*)$/.exec(cs);
    if (!m) throw bad('it must start with postgres:// or postgresql://');
    let rest = m[1];
    const o = {};
    const q = rest.indexOf('?');
    const query = q < 0 ? '' : rest.slice(q + 1);
    if (q >= 0) rest = rest.slice(0, q);
    const at = rest.lastIndexOf('@');
    if (at >= 0) {
      const auth = rest.slice(0, at);
      const colon = auth.indexOf(':');
      o.user = decode(colon < 0 ? auth : auth.slice(0, colon));
      if (colon >= 0) o.password = decode(auth.slice(colon + 1));
      rest = rest.slice(at + 1);
    }
    const slash = rest.indexOf('/');
    if (slash >= 0) {
      o.database = decode(rest.slice(slash + 1));
      rest = rest.slice(0, slash);
    }
    const hp = /^(?:\[([^\]]*)\]|([^:]*))(?::(\d*))?$/.exec(rest);
    if (!hp) throw bad('invalid host or port');
    o.host = decode(hp[1] !== undefined ? hp[1] : hp[2]);
    if (hp[3]) o.port = Number(hp[3]);
    for (const pair of query.split('&')) {
      const eq = pair.indexOf('=');
      const k = eq < 0 ? pair : pair.slice(0, eq);
      const v = decode(eq < 0 ? '' : pair.slice(eq + 1));
      if (k === 'ssl') o.ssl = v === 'true' || v === '1';
      else if (k === 'sslmode') o.ssl = !/^(disable|allow|prefer)$/.test(v);
      else if (k === 'sslcert' || k === 'sslkey' || k === 'sslrootcert') o.ssl = true;
      else if (k === 'connect_timeout' && Number(v) > 0) o.connectionTimeoutMillis = Number(v) * 1000;
      else if (k === 'dbname') o.database = v;
      else if (k === 'host' || k === 'port' || k === 'user' || k === 'password' || k === 'application_name' || k === 'options') o[k] = v;
    }
    for (const k of Object.keys(o)) if (o[k] === '' && k !== 'password') delete o[k];
    return o;
  };

  // --- Client ---------------------------------------------------------------------------------
  // A client dropped without end() closes its connection when it is garbage collected.
  const registry = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry((h) => native.close(h)) : null;
  const str = (v) => (v === undefined || v === null ? undefined : String(v));
  const num = (v) => (v === undefined || v === null || v === '' ? undefined : Number(v));

  class Client extends Emitter {
    constructor(config) {
      super();
      const c = typeof config === 'string' ? { connectionString: config } : Object.assign({}, config || {});
      this._events = {};
      this._config = c;
      this._handle = 0;
      this._state = 'new';
      this._ready = new Promise((resolve, reject) => { this._readyResolve = resolve; this._readyReject = reject; });
      this._ready.catch(noop);
      this.user = c.user === undefined ? defaults.user : c.user;
      this.database = c.database === undefined ? defaults.database : c.database;
      this.host = c.host === undefined ? defaults.host : c.host;
      this.port = c.port === undefined ? defaults.port : c.port;
      this.ssl = c.ssl === undefined ? defaults.ssl : c.ssl;
    }
    _options(password) {
      const cs = this._config.connectionString === undefined ? defaults.connectionString : this._config.connectionString;
      // A connection string's parts override the config's fields (as npm pg merges them).
      const c = cs ? Object.assign({}, this._config, parseConnectionString(String(cs))) : this._config;
      if (c.password !== this._config.password) password = c.password;
      const pick = (k) => (c[k] === undefined ? defaults[k] : c[k]);
      const extra = [];
      for (const k of ['statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout']) {
        if (typeof c[k] === 'number' && c[k] > 0) extra.push('-c ' + k + '=' + Math.floor(c[k]));
      }
      if (c.options !== undefined) extra.unshift(String(c.options));
      return {
        host: str(pick('host')), port: num(pick('port')),
        user: str(pick('user')), password: str(password), database: str(pick('database')),
        ssl: Boolean(pick('ssl')), application_name: str(pick('application_name')),
        connectionTimeoutMillis: num(c.connectionTimeoutMillis), options: extra.length ? extra.join(' ') : undefined,
      };
    }
    connect(cb) {
      if (this._state !== 'new') {
        const e = new Error('Client has already been connected. You cannot reuse a client.');
        return settle(Promise.reject(e), cb);
      }
      this._state = 'connecting';
      const pw = this._config.password === undefined ? defaults.password : this._config.password;
      const p = Promise.resolve(typeof pw === 'function' ? pw() : pw)
        .then((password) => native.connect(this._options(password)))
        .then((r) => {
          unwrap(r);
          if (this._state === 'ended') {
            native.close(r.handle);
            throw new Error('Connection terminated');
          }
          this._handle = r.handle;
          this._state = 'connected';
          // The token must not be the client: QuickJS holds unregister tokens strongly.
          this._token = {};
          if (registry) registry.register(this, r.handle, this._token);
          this._readyResolve();
        })
        .catch((e) => {
          if (this._state !== 'ended') this._state = 'error';
          this._readyReject(e);
          throw e;
        });
      if (typeof cb === 'function') {
        p.then(() => call(cb, [null, this]), (e) => call(cb, [e]));
        return undefined;
      }
      return p;
    }
    query(config, values, cb) {
      if (config === null || config === undefined) throw new TypeError('Client was passed a null or undefined query');
      let text = config;
      let rowMode;
      if (typeof values === 'function') { cb = values; values = undefined; }
      if (typeof config === 'object') {
        if (typeof config.submit === 'function') throw new Error('pg: submittable queries (cursors, streams) are not supported');
        text = config.text;
        rowMode = config.rowMode;
        if (config.values !== undefined) values = config.values;
        if (typeof cb !== 'function' && typeof config.callback === 'function') cb = config.callback;
      }
      const p = (async () => {
        if (values !== undefined && values !== null && !Array.isArray(values)) throw new TypeError('Query values must be an array');
        if (typeof text !== 'string') throw new TypeError('Client was passed a query without text');
        const params = (values || []).map((v) => prepareValue(v));
        if (this._state === 'ended') throw new Error('Client was closed and is not queryable');
        await this._ready;
        if (this._state !== 'connected') throw new Error('Client was closed and is not queryable');
        const r = unwrap(await native.query(this._handle, text, params));
        if (r.multi !== undefined) {
          const all = r.multi.map((x) => makeResult(x, rowMode, null));
          return all.length === 1 ? all[0] : all;
        }
        return makeResult(r, rowMode, commandOf(text));
      })();
      return settle(p, cb);
    }
    _open() { return this._state === 'connected' && native.isOpen(this._handle); }
    end(cb) {
      const was = this._state;
      this._state = 'ended';
      if (this._handle) {
        native.close(this._handle);
        if (registry) registry.unregister(this._token);
        this._handle = 0;
      }
      this._readyReject(new Error('Connection terminated'));
      if (was !== 'ended') this.emit('end');
      return settle(Promise.resolve(), cb);
    }
    escapeIdentifier(s) { return escapeIdentifier(s); }
    escapeLiteral(s) { return escapeLiteral(s); }
  }

  // --- Pool -----------------------------------------------------------------------------------
  class Pool extends Emitter {
    constructor(options) {
      super();
      this._events = {};
      this.options = Object.assign({}, options || {});
      const max = Number(this.options.max);
      this.options.max = max > 0 ? Math.floor(max) : defaults.max;
      if (this.options.idleTimeoutMillis === undefined) this.options.idleTimeoutMillis = defaults.idleTimeoutMillis;
      this._clients = [];
      this._idle = [];
      this._waiting = [];
      this.ending = false;
      this.ended = false;
    }
    get totalCount() { return this._clients.length; }
    get idleCount() { return this._idle.length; }
    get waitingCount() { return this._waiting.length; }
    _remove(client) {
      this._clients = this._clients.filter((c) => c !== client);
      this._idle = this._idle.filter((i) => i.client !== client);
      client.end();
      if (this.ending && this._clients.length === 0) this.ended = true;
    }
    // Idle clients past idleTimeoutMillis, or whose connection died, are closed (lazily: here).
    _sweep() {
      const limit = Number(this.options.idleTimeoutMillis);
      const now = Date.now();
      for (const i of this._idle.slice()) {
        if ((limit > 0 && now - i.at > limit) || !i.client._open()) this._remove(i.client);
      }
    }
    _lease(client) {
      let released = false;
      client.release = (err) => {
        if (released) throw new Error('Release called on client which has already been released to the pool.');
        released = true;
        this._release(client, err);
      };
      return client;
    }
    _release(client, err) {
      if (err || this.ending || !client._open()) {
        this._remove(client);
        this._grow();
        return;
      }
      const w = this._waiting.shift();
      if (w) w.resolve(this._lease(client));
      else this._idle.push({ client, at: Date.now() });
    }
    _grow() {
      if (this._waiting.length > 0 && this._clients.length < this.options.max) {
        const w = this._waiting.shift();
        this._newClient(w.resolve, w.reject);
      }
    }
    _newClient(resolve, reject) {
      const client = new Client(this.options);
      this._clients.push(client);
      client.connect().then(() => resolve(this._lease(client)), (e) => {
        this._clients = this._clients.filter((c) => c !== client);
        reject(e);
        this._grow();
      });
    }
    connect(cb) {
      const p = new Promise((resolve, reject) => {
        if (this.ending) { reject(new Error('Cannot use a pool after calling end on the pool')); return; }
        this._sweep();
        const idle = this._idle.pop();
        if (idle) resolve(this._lease(idle.client));
        else if (this._clients.length < this.options.max) this._newClient(resolve, reject);
        else this._waiting.push({ resolve, reject });
      });
      if (typeof cb !== 'function') return p;
      p.then((c) => call(cb, [null, c, c.release]), (e) => call(cb, [e, undefined, noop]));
      return undefined;
    }
    query(text, values, cb) {
      if (typeof values === 'function') { cb = values; values = undefined; }
      const p = this.connect().then((client) => client.query(text, values).then(
        (r) => { client.release(); return r; },
        (e) => { client.release(e); throw e; }));
      return settle(p, cb);
    }
    end(cb) {
      if (this.ending) return settle(Promise.reject(new Error('Called end on pool more than once')), cb);
      this.ending = true;
      for (const i of this._idle.slice()) this._remove(i.client);
      for (const w of this._waiting.splice(0)) w.reject(new Error('Cannot use a pool after calling end on the pool'));
      if (this._clients.length === 0) this.ended = true;
      return settle(Promise.resolve(), cb);
    }
  }

  function escapeIdentifier(s) { return '"' + String(s).replace(/"/g, '""') + '"'; }
  function escapeLiteral(s) {
    let backslash = false;
    let out = "'";
    for (const c of String(s)) {
      if (c === "'") out += "''";
      else if (c === '\\') { out += '\\\\'; backslash = true; } else out += c;
    }
    out += "'";
    return backslash ? ' E' + out : out;
  }

  // --- pg <= 6: pg.connect(config, cb(err, client, done)) over pools kept per config ------------
  const pools = {};
  const connect = (config, cb) => {
    if (typeof config === 'function') { cb = config; config = null; }
    const key = JSON.stringify(config || {});
    let pool = pools[key];
    if (!pool || pool.ending) {
      const opts = typeof config === 'string' ? { connectionString: config } : Object.assign({}, config || {});
      opts.max = opts.max || opts.poolSize || defaults.poolSize;
      opts.idleTimeoutMillis = opts.idleTimeoutMillis || opts.poolIdleTimeout || defaults.poolIdleTimeout;
      pool = pools[key] = new Pool(opts);
    }
    const p = pool.connect();
    if (typeof cb !== 'function') return p;
    p.then((client) => {
      let done = false;
      const release = (err) => {
        if (done) return;
        done = true;
        client.release(err);
      };
      call(cb, [null, client, release]);
    }, (e) => call(cb, [e, undefined, noop]));
    return undefined;
  };
  const end = () => {
    for (const k of Object.keys(pools)) {
      pools[k].end();
      delete pools[k];
    }
  };

  module.exports = {
    Client, Pool, DatabaseError, types, defaults, connect, end, pools,
    escapeIdentifier, escapeLiteral, native: null, Query: undefined,
  };
})
