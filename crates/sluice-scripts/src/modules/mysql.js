// `mysql`, `mysql2` and `mysql2/promise`: npm mysql's API (and mysql2's promise API) over native
// MySQL connections owned by the container (mysql.rs). `module.id` says which flavour loads.
// - Placeholders are formatted client-side exactly like npm mysql (a port of `sqlstring`), then
//   sent with the text protocol. The runtime's local time zone is UTC: `timezone: 'local'` (the
//   default) formats and reads DATETIMEs as UTC; 'Z' and '+HH:MM' work as in npm mysql.
// - Results: rows are RowDataPacket objects (integers -> number, BIGINT past 2^53 -> string,
//   DECIMAL -> string, dates -> Date, binary -> Buffer); writes give an OkPacket (mysql2:
//   ResultSetHeader). An OkPacket has no `length`: `results.length > 0` after an UPDATE (a bug of
//   Auth0's MySQL template) is false here exactly as with npm mysql.
// - Callbacks run from a timer, so an exception thrown in one fails the invocation at once. An
//   'error' event nobody listens to is dropped (Node would crash the process).
// - mysql2 differs only where scripts see it: ResultSetHeader, JSON columns parsed, `.promise()`.
// - Not supported: TLS (`ssl`), socketPath, changeUser, pool clusters, streaming, prepared
//   statements (mysql2 `execute` formats client-side like `query`).
(function (module, exports, require, native) {
  'use strict';
  const { Buffer } = require('buffer');
  const MYSQL2 = module.id !== 'mysql';
  const PROMISE = module.id === 'mysql2/promise';
  const noop = () => undefined;
  const later = (fn, ...args) => { if (typeof fn === 'function') setTimeout(() => fn(...args), 0); };

  // --- sqlstring 2.3 (escaping is security-critical: keep it byte-for-byte faithful) ----------
  const ID_GLOBAL_REGEXP = /`/g;
  const QUAL_GLOBAL_REGEXP = /\./g;
  const CHARS_GLOBAL_REGEXP = /[\0\b\t\n\r\x1a"'\\]/g; // eslint-disable-line no-control-regex
  const CHARS_ESCAPE_MAP = {
    '\0': '\\0', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\r': '\\r',
    '\x1a': '\\Z', '"': '\\"', '\'': '\\\'', '\\': '\\\\',
  };
  const escapeString = (v) => {
    const val = '' + v;
    let chunkIndex = CHARS_GLOBAL_REGEXP.lastIndex = 0;
    let escapedVal = '';
    let match;
    while ((match = CHARS_GLOBAL_REGEXP.exec(val))) {
      escapedVal += val.slice(chunkIndex, match.index) + CHARS_ESCAPE_MAP[match[0]];
      chunkIndex = CHARS_GLOBAL_REGEXP.lastIndex;
    }
    if (chunkIndex === 0) return "'" + val + "'";
    if (chunkIndex < val.length) return "'" + escapedVal + val.slice(chunkIndex) + "'";
    return "'" + escapedVal + "'";
  };
  const zeroPad = (n, len) => { let s = n.toString(); while (s.length < len) s = '0' + s; return s; };
  const convertTimezone = (tz) => {
    if (tz === 'Z') return 0;
    const m = String(tz).match(/([+\-\s])(\d\d):?(\d\d)?/);
    if (m) return (m[1] === '-' ? -1 : 1) * (parseInt(m[2], 10) + (m[3] ? parseInt(m[3], 10) : 0) / 60) * 60;
    return false;
  };
  const SqlString = {};
  SqlString.escapeId = function escapeId(val, forbidQualified) {
    if (Array.isArray(val)) {
      let sql = '';
      for (let i = 0; i < val.length; i++) sql += (i === 0 ? '' : ', ') + SqlString.escapeId(val[i], forbidQualified);
      return sql;
    }
    if (forbidQualified) return '`' + String(val).replace(ID_GLOBAL_REGEXP, '``') + '`';
    return '`' + String(val).replace(ID_GLOBAL_REGEXP, '``').replace(QUAL_GLOBAL_REGEXP, '`.`') + '`';
  };
  SqlString.escape = function escape(val, stringifyObjects, timeZone) {
    if (val === undefined || val === null) return 'NULL';
    switch (typeof val) {
      case 'boolean': return val ? 'true' : 'false';
      case 'number': return val + '';
      case 'object':
        if (Object.prototype.toString.call(val) === '[object Date]') return SqlString.dateToString(val, timeZone || 'local');
        if (Array.isArray(val)) return SqlString.arrayToList(val, timeZone);
        if (Buffer.isBuffer(val)) return SqlString.bufferToString(val);
        if (typeof val.toSqlString === 'function') return String(val.toSqlString());
        if (stringifyObjects) return escapeString(val.toString());
        return SqlString.objectToValues(val, timeZone);
      default: return escapeString(val);
    }
  };
  SqlString.arrayToList = function arrayToList(array, timeZone) {
    let sql = '';
    for (let i = 0; i < array.length; i++) {
      const val = array[i];
      if (Array.isArray(val)) sql += (i === 0 ? '' : ', ') + '(' + SqlString.arrayToList(val, timeZone) + ')';
      else sql += (i === 0 ? '' : ', ') + SqlString.escape(val, true, timeZone);
    }
    return sql;
  };
  SqlString.format = function format(sql, values, stringifyObjects, timeZone) {
    if (values == null) return sql;
    if (!Array.isArray(values)) values = [values];
    let chunkIndex = 0;
    const placeholdersRegex = /\?+/g;
    let result = '';
    let valuesIndex = 0;
    let match;
    while (valuesIndex < values.length && (match = placeholdersRegex.exec(sql))) {
      const len = match[0].length;
      if (len > 2) continue;
      const value = len === 2
        ? SqlString.escapeId(values[valuesIndex])
        : SqlString.escape(values[valuesIndex], stringifyObjects, timeZone);
      result += sql.slice(chunkIndex, match.index) + value;
      chunkIndex = placeholdersRegex.lastIndex;
      valuesIndex++;
    }
    if (chunkIndex === 0) return sql;
    if (chunkIndex < sql.length) return result + sql.slice(chunkIndex);
    return result;
  };
  // 'local' is the runtime's zone, which is UTC.
  SqlString.dateToString = function dateToString(date, timeZone) {
    const dt = new Date(date);
    if (isNaN(dt.getTime())) return 'NULL';
    if (timeZone !== 'local') {
      const tz = convertTimezone(timeZone);
      if (tz !== false && tz !== 0) dt.setTime(dt.getTime() + tz * 60000);
    }
    const str = zeroPad(dt.getUTCFullYear(), 4) + '-' + zeroPad(dt.getUTCMonth() + 1, 2) + '-' + zeroPad(dt.getUTCDate(), 2) + ' ' +
      zeroPad(dt.getUTCHours(), 2) + ':' + zeroPad(dt.getUTCMinutes(), 2) + ':' + zeroPad(dt.getUTCSeconds(), 2) + '.' +
      zeroPad(dt.getUTCMilliseconds(), 3);
    return escapeString(str);
  };
  SqlString.bufferToString = function bufferToString(buffer) { return 'X' + escapeString(buffer.toString('hex')); };
  SqlString.objectToValues = function objectToValues(object, timeZone) {
    let sql = '';
    for (const key in object) {
      const val = object[key];
      if (typeof val === 'function') continue;
      sql += (sql.length === 0 ? '' : ', ') + SqlString.escapeId(key) + ' = ' + SqlString.escape(val, true, timeZone);
    }
    return sql;
  };
  SqlString.raw = function raw(sql) {
    if (typeof sql !== 'string') throw new TypeError('argument "sql" must be a string');
    return { toSqlString: function toSqlString() { return sql; } };
  };

  // --- types, packets, errors -------------------------------------------------------------------
  const Types = {
    DECIMAL: 0, TINY: 1, SHORT: 2, LONG: 3, FLOAT: 4, DOUBLE: 5, NULL: 6, TIMESTAMP: 7, LONGLONG: 8,
    INT24: 9, DATE: 10, TIME: 11, DATETIME: 12, YEAR: 13, NEWDATE: 14, VARCHAR: 15, BIT: 16,
    TIMESTAMP2: 17, DATETIME2: 18, TIME2: 19, JSON: 245, NEWDECIMAL: 246, ENUM: 247, SET: 248,
    TINY_BLOB: 249, MEDIUM_BLOB: 250, LONG_BLOB: 251, BLOB: 252, VAR_STRING: 253, STRING: 254, GEOMETRY: 255,
  };
  const TYPE_NAMES = {};
  for (const k of Object.keys(Types)) TYPE_NAMES[Types[k]] = k;
  const ZEROFILL_FLAG = 64;

  class RowDataPacket {}
  class FieldPacket {
    constructor(c) {
      this.catalog = 'def'; this.db = c.db; this.table = c.table; this.orgTable = c.orgTable;
      this.name = c.name; this.orgName = c.orgName; this.charsetNr = c.charsetNr; this.length = c.length;
      this.type = c.type; this.flags = c.flags; this.decimals = c.decimals; this.default = undefined;
      this.zeroFill = (c.flags & ZEROFILL_FLAG) !== 0; this.protocol41 = true;
    }
  }
  const changedRows = (message) => { const m = /\schanged:\s*(\d+)/i.exec(message); return m ? parseInt(m[1], 10) : 0; };
  class OkPacket {
    constructor(s) {
      this.fieldCount = 0; this.affectedRows = s.affectedRows; this.insertId = s.insertId;
      this.warningCount = s.warningCount; this.message = s.message; this.protocol41 = true;
      this.changedRows = changedRows(s.message);
    }
  }
  class ResultSetHeader {
    constructor(s) {
      this.fieldCount = 0; this.affectedRows = s.affectedRows; this.insertId = s.insertId;
      this.info = s.message; this.warningStatus = s.warningCount; this.changedRows = changedRows(s.message);
    }
  }

  const mkError = (code, message, fatal) => { const e = new Error(message); e.code = code; e.fatal = !!fatal; return e; };
  // The natives reject with plain descriptors; scripts get Errors shaped like npm mysql's.
  const toError = (d, sql) => {
    if (d instanceof Error) return d;
    if (d === null || typeof d !== 'object') return new Error(String(d));
    const e = new Error(d.message);
    e.code = d.code;
    if (d.errno !== undefined) e.errno = d.errno;
    if (d.sqlMessage !== undefined) e.sqlMessage = d.sqlMessage;
    if (d.sqlState !== undefined) e.sqlState = d.sqlState;
    if (d.syscall !== undefined) e.syscall = d.syscall;
    if (d.address !== undefined) e.address = d.address;
    if (d.port !== undefined) e.port = d.port;
    if (sql !== undefined && d.sqlState !== undefined) { e.index = 0; e.sql = sql; }
    e.fatal = !!d.fatal;
    return e;
  };

  // --- typing rows -------------------------------------------------------------------------------
  const typeMatch = (type, list) => (Array.isArray(list) ? list.indexOf(TYPE_NAMES[type]) !== -1 : Boolean(list));
  const DATE_RE = /^(\d{4})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?)?$/;
  const parseDate = (raw, timeZone) => {
    const m = DATE_RE.exec(raw);
    if (!m) return raw;
    const mo = Number(m[2]);
    const d = Number(m[3]);
    if (mo < 1 || mo > 12 || d < 1 || d > 31) return raw; // '0000-00-00': npm mysql returns the string
    const dt = new Date(0);
    dt.setUTCFullYear(Number(m[1]), mo - 1, d);
    dt.setUTCHours(Number(m[4] || 0), Number(m[5] || 0), Number(m[6] || 0), m[7] ? Number((m[7] + '00').slice(0, 3)) : 0);
    const tz = timeZone === 'local' ? 0 : convertTimezone(timeZone);
    if (tz) dt.setTime(dt.getTime() - tz * 60000);
    return isNaN(dt.getTime()) ? raw : dt;
  };
  const typeCell = (raw, c, o) => {
    if (raw === null) return null;
    if (c.binary) return Buffer.from(raw);
    const zeroFilled = (c.flags & ZEROFILL_FLAG) !== 0 && raw[0] === '0';
    switch (c.type) {
      case Types.TIMESTAMP: case Types.TIMESTAMP2: case Types.DATE: case Types.DATETIME: case Types.DATETIME2: case Types.NEWDATE:
        return typeMatch(c.type, o.dateStrings) ? raw : parseDate(raw, o.timezone);
      case Types.TINY: case Types.SHORT: case Types.LONG: case Types.INT24: case Types.YEAR: case Types.FLOAT: case Types.DOUBLE:
        return zeroFilled ? raw : Number(raw);
      case Types.LONGLONG: {
        if (zeroFilled || o.bigNumberStrings) return raw;
        const n = Number(raw);
        return Number.isSafeInteger(n) ? n : raw;
      }
      case Types.DECIMAL: case Types.NEWDECIMAL:
        return o.decimalNumbers && !zeroFilled ? Number(raw) : raw;
      case Types.JSON:
        if (!MYSQL2) return raw;
        try { return JSON.parse(raw); } catch (e) { return raw; }
      default:
        return raw;
    }
  };
  const castField = (c, raw) => ({
    db: c.db, table: c.table, name: c.name, type: TYPE_NAMES[c.type], length: c.length,
    string: () => (raw === null ? null : (typeof raw === 'string' ? raw : Buffer.from(raw).toString())),
    buffer: () => (raw === null ? null : Buffer.from(raw)),
    geometry: () => null,
  });
  // One result set as npm mysql gives it: [rows, fields] or [OkPacket, undefined].
  const shape = (set, o, q, conn) => {
    if (set.ok) return [MYSQL2 ? new ResultSetHeader(set) : new OkPacket(set), undefined];
    const cols = set.columns;
    const fields = cols.map((c) => new FieldPacket(c));
    const typeCast = q.typeCast !== undefined ? q.typeCast : o.typeCast;
    const nest = q.nestTables !== undefined ? q.nestTables : o.nestTables;
    const asArray = q.rowsAsArray !== undefined ? q.rowsAsArray : o.rowsAsArray;
    const rows = set.rows.map((raw) => {
      const row = asArray ? [] : new RowDataPacket();
      for (let j = 0; j < cols.length; j++) {
        const c = cols[j];
        const r = raw[j];
        let v;
        if (typeof typeCast === 'function') v = typeCast.call(conn, castField(c, r), () => typeCell(r, c, o));
        else if (typeCast === false) v = r === null ? null : (c.charsetNr === 63 ? Buffer.from(r) : r);
        else v = typeCell(r, c, o);
        if (asArray) row.push(v);
        else if (nest === true) { if (row[c.table] === undefined) row[c.table] = {}; row[c.table][c.name] = v; }
        else if (typeof nest === 'string' && nest) row[c.table + nest + c.name] = v;
        else row[c.name] = v;
      }
      return row;
    });
    return [rows, fields];
  };

  // --- a small EventEmitter ----------------------------------------------------------------------
  class Emitter {
    constructor() { Object.defineProperty(this, '_events', { value: new Map(), writable: true }); }
    on(ev, fn) { const l = this._events.get(ev) || []; l.push(fn); this._events.set(ev, l); return this; }
    addListener(ev, fn) { return this.on(ev, fn); }
    once(ev, fn) { const w = (...a) => { this.off(ev, w); fn.apply(this, a); }; w.listener = fn; return this.on(ev, w); }
    off(ev, fn) { const l = this._events.get(ev); if (l) this._events.set(ev, l.filter((x) => x !== fn && x.listener !== fn)); return this; }
    removeListener(ev, fn) { return this.off(ev, fn); }
    removeAllListeners(ev) { if (ev === undefined) this._events.clear(); else this._events.delete(ev); return this; }
    listenerCount(ev) { return (this._events.get(ev) || []).length; }
    listeners(ev) { return (this._events.get(ev) || []).slice(); }
    emit(ev, ...args) { const l = this._events.get(ev); if (!l || !l.length) return false; for (const fn of l.slice()) fn.apply(this, args); return true; }
    setMaxListeners() { return this; }
  }

  // --- configuration -------------------------------------------------------------------------------
  const parseUrl = (url) => {
    const m = /^mysqlx?:\/\/([^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?/i.exec(String(url));
    if (!m) throw new TypeError('Invalid connection URL: expected mysql://user:password@host:port/database');
    const out = {};
    let hostPart = m[1];
    const at = hostPart.lastIndexOf('@');
    if (at >= 0) {
      const auth = hostPart.slice(0, at);
      hostPart = hostPart.slice(at + 1);
      const colon = auth.indexOf(':');
      out.user = decodeURIComponent(colon < 0 ? auth : auth.slice(0, colon));
      if (colon >= 0) out.password = decodeURIComponent(auth.slice(colon + 1));
    }
    const hp = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(hostPart);
    if (hp) { out.host = hp[1].replace(/^\[|\]$/g, ''); if (hp[2]) out.port = Number(hp[2]); } else out.host = hostPart;
    if (m[2]) out.database = decodeURIComponent(m[2]);
    if (m[3]) {
      for (const pair of m[3].split('&')) {
        if (!pair) continue;
        const eq = pair.indexOf('=');
        const k = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
        const v = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1));
        try { out[k] = JSON.parse(v); } catch (e) { out[k] = v; }
      }
    }
    return out;
  };
  const str = (v) => (v === undefined || v === null ? undefined : String(v));
  const normalize = (input) => {
    let c = typeof input === 'string' ? parseUrl(input) : Object.assign({}, input || {});
    if (typeof c.uri === 'string') c = Object.assign(parseUrl(c.uri), c);
    const pick = (k, d) => (c[k] === undefined ? d : c[k]);
    const cfg = Object.assign({}, c, {
      host: str(c.host) || 'localhost',
      port: c.port === undefined || c.port === null || c.port === '' ? 3306 : Number(c.port),
      user: str(c.user),
      password: str(c.password !== undefined ? c.password : c.password1),
      database: str(c.database),
      connectTimeout: Number(pick('connectTimeout', 10000)),
      multipleStatements: Boolean(c.multipleStatements),
      timezone: pick('timezone', 'local'),
      typeCast: pick('typeCast', true),
      dateStrings: pick('dateStrings', false),
      bigNumberStrings: Boolean(c.bigNumberStrings),
      decimalNumbers: Boolean(c.decimalNumbers),
      stringifyObjects: Boolean(c.stringifyObjects),
      nestTables: c.nestTables,
      rowsAsArray: c.rowsAsArray,
      connectionLimit: Number(pick('connectionLimit', 10)),
      waitForConnections: pick('waitForConnections', true) !== false,
      queueLimit: Number(pick('queueLimit', 0)),
    });
    return cfg;
  };
  const formatWith = (cfg, self, sql, values) => {
    if (typeof cfg.queryFormat === 'function') return cfg.queryFormat.call(self, sql, values, cfg.timezone);
    return SqlString.format(sql, values, cfg.stringifyObjects, cfg.timezone);
  };

  // --- queries --------------------------------------------------------------------------------------
  class Query extends Emitter {
    constructor(options, callback) {
      super();
      this.sql = options.sql;
      this.values = options.values;
      this.typeCast = options.typeCast;
      this.nestTables = options.nestTables;
      this.rowsAsArray = options.rowsAsArray;
      Object.defineProperty(this, '_callback', { value: callback, writable: true });
    }
  }
  const createQuery = (sql, values, callback) => {
    if (sql instanceof Query) return sql;
    let cb = callback;
    let options = {};
    if (typeof sql === 'function') cb = sql;
    else if (typeof sql === 'object' && sql !== null) {
      options = Object.create(sql);
      if (typeof values === 'function') cb = values;
      else if (values !== undefined) Object.defineProperty(options, 'values', { value: values });
    } else {
      options.sql = sql;
      if (typeof values === 'function') cb = values;
      else if (values !== undefined) options.values = values;
    }
    if (cb !== undefined && typeof cb !== 'function') throw new TypeError('argument callback must be a function when provided');
    return new Query(options, cb);
  };
  // Settles a query from a timer: callback or 'error', then 'end'.
  const settle = (conn, q, err, sets) => setTimeout(() => {
    // 'end' even when a callback throws: a pool releases its connection on it.
    try {
      if (err) {
        if (q._callback) q._callback(err);
        else if (!q.emit('error', err, 0)) conn._unhandled(err);
        return;
      }
      const shaped = sets.map((s) => shape(s, conn.config, q, conn));
      for (let i = 0; i < shaped.length; i++) {
        const [rows, fields] = shaped[i];
        if (fields) q.emit('fields', fields, i);
        if (Array.isArray(rows) && fields) rows.forEach((r) => q.emit('result', r, i));
        else q.emit('result', rows, i);
      }
      if (q._callback) {
        if (shaped.length === 1) q._callback(null, shaped[0][0], shaped[0][1]);
        else q._callback(null, shaped.map((s) => s[0]), shaped.map((s) => s[1]));
      }
    } finally {
      q.emit('end');
    }
  }, 0);

  // FinalizationRegistry closes the native connection of a Connection the script dropped. The
  // unregister token is a separate object: QuickJS holds tokens strongly, so the Connection
  // itself as its token would never be collected.
  const registry = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry((h) => native.destroy(h)) : null;
  const watch = (conn, h) => { if (registry) registry.register(conn, h, conn._s.token); };
  const unwatch = (conn) => { if (registry) registry.unregister(conn._s.token); };

  // --- connections ----------------------------------------------------------------------------------
  class Connection extends Emitter {
    constructor(config) {
      super();
      this.config = normalize(config);
      this.state = 'disconnected';
      this.threadId = null;
      Object.defineProperty(this, '_s', {
        value: { handle: null, opening: null, fatal: null, quit: false, destroyed: false, chain: Promise.resolve(), token: {} },
      });
    }
    _alive() {
      const s = this._s;
      return s.handle !== null && !s.fatal && !s.quit && !s.destroyed && native.isOpen(s.handle);
    }
    _unhandled(err) { this.emit('error', err); }
    _enqueue(run) {
      const s = this._s;
      const p = s.chain.then(run);
      s.chain = p.then(noop, noop);
      return p;
    }
    _fail(e) {
      const s = this._s;
      if (!e.fatal) return e;
      s.fatal = e;
      if (s.handle !== null) { native.destroy(s.handle); unwatch(this); s.handle = null; }
      this.state = 'protocol_error';
      return e;
    }
    _open() {
      const s = this._s;
      if (s.destroyed) return Promise.reject(mkError('PROTOCOL_ENQUEUE_AFTER_DESTROY', 'Cannot enqueue Query after being destroyed.', true));
      if (s.fatal) return Promise.reject(s.fatal);
      if (s.handle !== null) return Promise.resolve(s.handle);
      if (s.opening) return s.opening;
      const c = this.config;
      let start;
      if (c.ssl) {
        start = Promise.reject({ code: 'HANDSHAKE_NO_SSL_SUPPORT', fatal: true, message: 'TLS (the ssl option) is not supported by this runtime\'s mysql module yet: connect without ssl, over a private network' });
      } else if (c.socketPath) {
        start = Promise.reject({ code: 'ER_BAD_CONFIG', fatal: true, message: 'socketPath is not supported: action scripts connect over TCP (host and port)' });
      } else {
        start = native.connect({
          host: c.host, port: c.port, user: c.user, password: c.password, database: c.database,
          connectTimeout: c.connectTimeout, multipleStatements: c.multipleStatements,
        });
      }
      s.opening = start.then((r) => {
        if (s.destroyed) { native.destroy(r.handle); throw mkError('PROTOCOL_ENQUEUE_AFTER_DESTROY', 'Cannot enqueue Query after being destroyed.', true); }
        s.handle = r.handle;
        this.threadId = r.threadId;
        this.state = 'authenticated';
        watch(this, r.handle);
        this.emit('connect');
        return r.handle;
      }, (d) => { this.state = 'disconnected'; throw this._fail(toError(d)); });
      return s.opening;
    }
    connect(options, callback) {
      if (typeof options === 'function') callback = options;
      this._open().then(() => later(callback, null), (e) => {
        if (typeof callback === 'function') later(callback, e);
        else setTimeout(() => this._unhandled(e), 0);
      });
    }
    _dispatch(q) {
      const s = this._s;
      const early = s.destroyed ? mkError('PROTOCOL_ENQUEUE_AFTER_DESTROY', 'Cannot enqueue Query after being destroyed.', true)
        : s.quit ? mkError('PROTOCOL_ENQUEUE_AFTER_QUIT', 'Cannot enqueue Query after invoking quit.', true)
          : s.fatal ? mkError('PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR', 'Cannot enqueue Query after fatal error.', true) : null;
      if (early) { settle(this, q, early); return q; }
      const sql = q.sql === undefined || q.sql === null ? '' : String(q.sql);
      this._enqueue(() => this._open().then((h) => native.query(h, sql)))
        .then((sets) => settle(this, q, null, sets), (d) => settle(this, q, this._fail(toError(d, sql))));
      return q;
    }
    query(sql, values, cb) {
      const q = createQuery(sql, values, cb);
      if (q.sql) q.sql = this.format(q.sql, q.values);
      return this._dispatch(q);
    }
    execute(sql, values, cb) { return this.query(sql, values, cb); }
    _simple(sql, options, cb) {
      if (typeof options === 'function') cb = options;
      return this.query(sql, (err) => later(cb, err || null));
    }
    beginTransaction(options, cb) { return this._simple('START TRANSACTION', options, cb); }
    commit(options, cb) { return this._simple('COMMIT', options, cb); }
    rollback(options, cb) { return this._simple('ROLLBACK', options, cb); }
    ping(options, cb) { return this._simple('SELECT 1', options, cb); }
    changeUser(options, cb) {
      if (typeof options === 'function') cb = options;
      later(cb, mkError('ER_NOT_SUPPORTED_YET', 'changeUser is not supported: open a new connection instead', false));
    }
    end(options, cb) {
      if (typeof options === 'function') cb = options;
      const s = this._s;
      if (s.quit || s.destroyed) { later(cb, mkError('PROTOCOL_ENQUEUE_AFTER_QUIT', 'Cannot enqueue Quit after invoking quit.', true)); return; }
      s.quit = true;
      // After queued queries, and after a connect() still in flight.
      this._enqueue(() => Promise.resolve(s.opening).then(noop, noop).then(() => {
        const h = s.handle;
        s.handle = null;
        if (h === null) return undefined;
        unwatch(this);
        return native.end(h);
      })).then(() => { this.state = 'disconnected'; later(cb, null); this.emit('end'); }, (e) => later(cb, toError(e)));
    }
    destroy() {
      const s = this._s;
      s.destroyed = true;
      this.state = 'disconnected';
      if (s.handle !== null) { native.destroy(s.handle); unwatch(this); s.handle = null; }
    }
    pause() {}
    resume() {}
    escape(value) { return SqlString.escape(value, this.config.stringifyObjects, this.config.timezone); }
    escapeId(value) { return SqlString.escapeId(value, false); }
    format(sql, values) { return formatWith(this.config, this, sql, values); }
    promise() { return new PromiseConnection(this); }
  }

  // --- pools ------------------------------------------------------------------------------------------
  class PoolConnection extends Connection {
    constructor(pool, config) {
      super(config);
      Object.defineProperty(this, '_pool', { value: pool });
      Object.defineProperty(this, '_released', { value: false, writable: true });
    }
    release() { this._pool.releaseConnection(this); }
    end() { this.release(); } // npm mysql 2.x: end() on a pooled connection releases it
    destroy() { Connection.prototype.destroy.call(this); this._pool._remove(this); }
  }

  class Pool extends Emitter {
    constructor(config) {
      super();
      this.config = normalize(config);
      Object.defineProperty(this, '_p', { value: { all: [], free: [], queue: [], closed: false } });
    }
    getConnection(cb) {
      const p = this._p;
      if (p.closed) { later(cb, mkError('POOL_CLOSED', 'Pool is closed.')); return; }
      while (p.free.length) {
        const c = p.free.shift();
        if (c._alive()) { this._acquire(c, cb); return; }
        this._forget(c);
      }
      const limit = this.config.connectionLimit;
      if (!(limit > 0) || p.all.length < limit) {
        const c = new PoolConnection(this, this.config);
        p.all.push(c);
        c.connect((err) => {
          if (err) { this._remove(c); cb(err); return; }
          if (p.closed) { c.destroy(); cb(mkError('POOL_CLOSED', 'Pool is closed.')); return; }
          this.emit('connection', c);
          this._acquire(c, cb);
        });
        return;
      }
      if (!this.config.waitForConnections) { later(cb, mkError('POOL_CONNLIMIT', 'No connections available.')); return; }
      if (this.config.queueLimit > 0 && p.queue.length >= this.config.queueLimit) { later(cb, mkError('POOL_ENQUEUELIMIT', 'Queue limit reached.')); return; }
      this.emit('enqueue');
      p.queue.push(cb);
    }
    _acquire(c, cb) { c._released = false; this.emit('acquire', c); later(cb, null, c); }
    releaseConnection(c) {
      const p = this._p;
      if (c._released) return;
      c._released = true;
      if (p.closed || !c._alive()) { this._remove(c); if (p.closed) c.destroy(); return; }
      this.emit('release', c);
      if (p.queue.length) this._acquire(c, p.queue.shift());
      else p.free.push(c);
    }
    _forget(c) {
      const p = this._p;
      p.all = p.all.filter((x) => x !== c);
      p.free = p.free.filter((x) => x !== c);
    }
    _remove(c) {
      this._forget(c);
      const p = this._p;
      if (!p.closed && p.queue.length) this.getConnection(p.queue.shift());
    }
    query(sql, values, cb) {
      const q = createQuery(sql, values, cb);
      if (q.sql) q.sql = this.format(q.sql, q.values);
      this.getConnection((err, conn) => {
        if (err) { settle(this, q, err); return; }
        q.once('end', () => conn.release());
        conn._dispatch(q);
      });
      return q;
    }
    execute(sql, values, cb) { return this.query(sql, values, cb); }
    _unhandled(err) { this.emit('error', err); }
    end(cb) {
      const p = this._p;
      if (p.closed) { later(cb, mkError('POOL_CLOSED', 'Pool is closed.')); return; }
      p.closed = true;
      for (const w of p.queue.splice(0)) later(w, mkError('POOL_CLOSED', 'Pool is closed.'));
      const all = p.all.splice(0);
      p.free = [];
      let pending = all.length;
      if (pending === 0) { later(cb, null); return; }
      const one = () => { if (--pending === 0) later(cb, null); };
      for (const c of all) Connection.prototype.end.call(c, one);
    }
    escape(value) { return SqlString.escape(value, this.config.stringifyObjects, this.config.timezone); }
    escapeId(value) { return SqlString.escapeId(value, false); }
    format(sql, values) { return formatWith(this.config, this, sql, values); }
    promise() { return new PromisePool(this); }
  }

  // --- mysql2's promise API ----------------------------------------------------------------------------
  const rowsAndFields = (target, method, sql, values) => new Promise((resolve, reject) => {
    target[method](sql, values, (err, rows, fields) => (err ? reject(err) : resolve([rows, fields])));
  });
  const done = (fn) => new Promise((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));
  class PromiseConnection extends Emitter {
    constructor(conn) {
      super();
      this.connection = conn;
      this.config = conn.config;
      this._events = conn._events; // events are the wrapped connection's
    }
    get threadId() { return this.connection.threadId; }
    get state() { return this.connection.state; }
    query(sql, values) { return rowsAndFields(this.connection, 'query', sql, values); }
    execute(sql, values) { return rowsAndFields(this.connection, 'query', sql, values); }
    connect() { return done((cb) => this.connection.connect(cb)); }
    beginTransaction() { return done((cb) => this.connection.beginTransaction(cb)); }
    commit() { return done((cb) => this.connection.commit(cb)); }
    rollback() { return done((cb) => this.connection.rollback(cb)); }
    ping() { return done((cb) => this.connection.ping(cb)); }
    changeUser(o) { return done((cb) => this.connection.changeUser(o, cb)); }
    end() { return done((cb) => this.connection.end(cb)); }
    destroy() { this.connection.destroy(); }
    release() { if (typeof this.connection.release === 'function') this.connection.release(); }
    escape(v) { return this.connection.escape(v); }
    escapeId(v) { return this.connection.escapeId(v); }
    format(sql, values) { return this.connection.format(sql, values); }
    prepare() { return Promise.reject(mkError('ER_NOT_SUPPORTED_YET', 'prepared statements are not supported: use execute() or query() with ? placeholders')); }
    unprepare() {}
  }
  class PromisePool extends Emitter {
    constructor(pool) {
      super();
      this.pool = pool;
      this.config = pool.config;
      this._events = pool._events;
    }
    query(sql, values) { return rowsAndFields(this.pool, 'query', sql, values); }
    execute(sql, values) { return rowsAndFields(this.pool, 'query', sql, values); }
    getConnection() {
      return new Promise((resolve, reject) => this.pool.getConnection((err, c) => (err ? reject(err) : resolve(new PromiseConnection(c)))));
    }
    releaseConnection(c) { this.pool.releaseConnection(c instanceof PromiseConnection ? c.connection : c); }
    end() { return done((cb) => this.pool.end(cb)); }
    escape(v) { return this.pool.escape(v); }
    escapeId(v) { return this.pool.escapeId(v); }
    format(sql, values) { return this.pool.format(sql, values); }
  }

  // --- exports ---------------------------------------------------------------------------------------------
  const unsupported = (what) => () => { throw mkError('ER_NOT_SUPPORTED_YET', what + ' is not supported by this runtime\'s mysql module'); };
  exports.escape = SqlString.escape;
  exports.escapeId = SqlString.escapeId;
  exports.format = SqlString.format;
  exports.raw = SqlString.raw;
  exports.Types = Object.freeze(Object.assign({}, Types));
  exports.createQuery = createQuery;
  exports.createPoolCluster = unsupported('createPoolCluster');
  if (PROMISE) {
    exports.createConnection = (config) => {
      const c = new Connection(config);
      return new Promise((resolve, reject) => c.connect((err) => (err ? reject(err) : resolve(new PromiseConnection(c)))));
    };
    exports.createPool = (config) => new PromisePool(new Pool(config));
  } else {
    exports.createConnection = (config) => new Connection(config);
    exports.createPool = (config) => new Pool(config);
  }
  if (MYSQL2) {
    exports.Connection = Connection;
    exports.Pool = Pool;
    exports.PromiseConnection = PromiseConnection;
    exports.PromisePool = PromisePool;
  }
})
