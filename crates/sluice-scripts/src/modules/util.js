// `util`: format and inspect (console's formatter too: the prelude loads this module on the
// first console call), promisify, callbackify, inherits, types, TextEncoder and TextDecoder.
// Loaded on first use, so a container whose scripts never log or require it does not hold it.
(function (module, exports, require, native) {
  'use strict';
  const apply = Reflect.apply;
  const PromiseCtor = Promise;
  const promiseThen = Promise.prototype.then;
  const inspectValue = (v, depth) => {
    if (typeof v === 'string') return depth === 0 ? v : JSON.stringify(v);
    if (typeof v === 'function') return '[Function: ' + (v.name || 'anonymous') + ']';
    if (typeof v === 'bigint') return String(v) + 'n';
    if (typeof v === 'symbol') return v.toString();
    if (v === null || typeof v !== 'object') return String(v);
    if (v instanceof Error) return v.stack ? (v.name + ': ' + v.message + '\n' + v.stack).trimEnd() : v.name + ': ' + v.message;
    try {
      const seen = new WeakSet();
      return JSON.stringify(v, (k, x) => {
        if (typeof x === 'object' && x !== null) {
          if (seen.has(x)) return '[Circular]';
          seen.add(x);
        }
        if (typeof x === 'bigint') return String(x) + 'n';
        if (typeof x === 'function') return '[Function: ' + (x.name || 'anonymous') + ']';
        return x;
      });
    } catch (e) {
      return Object.prototype.toString.call(v);
    }
  };
  const format = (...args) => {
    let out = '';
    let i = 0;
    if (typeof args[0] === 'string') {
      const f = args[0];
      i = 1;
      out = f.replace(/%[sdifjoO%]/g, (m) => {
        if (m === '%%') return '%';
        if (i >= args.length) return m;
        const a = args[i++];
        switch (m) {
          case '%s': return typeof a === 'string' ? a : inspectValue(a, 1);
          case '%d': case '%i': return String(m === '%i' ? parseInt(a, 10) : Number(a));
          case '%f': return String(parseFloat(a));
          case '%j': try { return JSON.stringify(a); } catch (e) { return '[Circular]'; }
          default: return inspectValue(a, 1);
        }
      });
    }
    for (; i < args.length; i++) out += (out.length ? ' ' : '') + inspectValue(args[i], 0);
    return out;
  };
  const promisify = (fn) => {
    if (typeof fn !== 'function') throw new TypeError('The "original" argument must be of type function');
    if (fn[promisify.custom]) return fn[promisify.custom];
    return function (...args) {
      return new PromiseCtor((resolve, reject) => {
        apply(fn, this, [...args, (err, ...values) => (err ? reject(err) : resolve(values.length > 1 ? values : values[0]))]);
      });
    };
  };
  promisify.custom = Symbol.for('nodejs.util.promisify.custom');
  class TextEncoder {
    get encoding() { return 'utf-8'; }
    encode(s) { return new Uint8Array(native.utf8Encode(s === undefined ? '' : String(s))); }
  }
  class TextDecoder {
    constructor(label) {
      const l = String(label === undefined ? 'utf-8' : label).toLowerCase();
      if (l !== 'utf-8' && l !== 'utf8') throw new RangeError('Only utf-8 is supported');
    }
    get encoding() { return 'utf-8'; }
    decode(b) {
      if (b === undefined) return '';
      const u = b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      return native.utf8Decode(u);
    }
  }
  const types = Object.freeze({
    isDate: (v) => v instanceof Date,
    isRegExp: (v) => v instanceof RegExp,
    isPromise: (v) => v instanceof PromiseCtor,
    isUint8Array: (v) => v instanceof Uint8Array,
    isNativeError: (v) => v instanceof Error,
  });
  module.exports = Object.freeze({
    format,
    inspect: (v) => inspectValue(v, 1),
    promisify,
    callbackify: (fn) => function (...args) {
      const cb = args.pop();
      apply(promiseThen, PromiseCtor.resolve(apply(fn, this, args)), [(v) => cb(null, v), (e) => cb(e)]);
    },
    inherits: (ctor, superCtor) => { Object.setPrototypeOf(ctor.prototype, superCtor.prototype); Object.setPrototypeOf(ctor, superCtor); ctor.super_ = superCtor; },
    deprecate: (fn) => fn,
    isArray: Array.isArray,
    isDeepStrictEqual: (a, b) => JSON.stringify(a) === JSON.stringify(b),
    types,
    TextEncoder,
    TextDecoder,
  });
});
