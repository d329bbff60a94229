// `buffer`: Node's Buffer as a Uint8Array subclass, with the encodings legacy scripts use
// (utf8, hex, base64, base64url, latin1/binary, ascii, ucs2/utf16le). UTF-8 conversion is native.
(function (module, exports, require, native) {
  'use strict';
  const norm = (enc) => {
    const e = String(enc === undefined ? 'utf8' : enc).toLowerCase();
    switch (e) {
      case 'utf8': case 'utf-8': return 'utf8';
      case 'hex': return 'hex';
      case 'base64': return 'base64';
      case 'base64url': return 'base64url';
      case 'latin1': case 'binary': return 'latin1';
      case 'ascii': return 'ascii';
      case 'ucs2': case 'ucs-2': case 'utf16le': case 'utf-16le': return 'utf16le';
      default: throw new TypeError('Unknown encoding: ' + enc);
    }
  };
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const B64REV = new Int16Array(128).fill(-1);
  for (let i = 0; i < 64; i++) { B64REV[B64.charCodeAt(i)] = i; B64REV[B64URL.charCodeAt(i)] = i; }

  function encode(str, enc) {
    switch (norm(enc)) {
      case 'utf8': return new Uint8Array(native.utf8Encode(str));
      case 'hex': {
        const n = str.length >>> 1;
        const out = new Uint8Array(n);
        let i = 0;
        for (; i < n; i++) {
          const b = parseInt(str.substr(i * 2, 2), 16);
          if (Number.isNaN(b)) break;
          out[i] = b;
        }
        return out.subarray(0, i);
      }
      case 'base64': case 'base64url': {
        const out = [];
        let acc = 0, bits = 0;
        for (let i = 0; i < str.length; i++) {
          const c = str.charCodeAt(i);
          const v = c < 128 ? B64REV[c] : -1;
          if (v < 0) { if (str[i] === '=') break; continue; }
          acc = ((acc << 6) | v) & 0xffffff;
          bits += 6;
          if (bits >= 8) { bits -= 8; out.push((acc >> bits) & 255); }
        }
        return Uint8Array.from(out);
      }
      case 'latin1': case 'ascii': {
        const out = new Uint8Array(str.length);
        for (let i = 0; i < str.length; i++) out[i] = str.charCodeAt(i) & 255;
        return out;
      }
      case 'utf16le': {
        const out = new Uint8Array(str.length * 2);
        for (let i = 0; i < str.length; i++) { const c = str.charCodeAt(i); out[i * 2] = c & 255; out[i * 2 + 1] = c >> 8; }
        return out;
      }
    }
  }

  function decode(bytes, enc) {
    switch (norm(enc)) {
      case 'utf8': return native.utf8Decode(bytes);
      case 'hex': { let s = ''; for (let i = 0; i < bytes.length; i++) s += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16); return s; }
      case 'base64': case 'base64url': {
        const url = norm(enc) === 'base64url';
        const T = url ? B64URL : B64;
        let s = '';
        for (let i = 0; i < bytes.length; i += 3) {
          const n = (bytes[i] << 16) | ((bytes[i + 1] || 0) << 8) | (bytes[i + 2] || 0);
          s += T[(n >> 18) & 63] + T[(n >> 12) & 63];
          s += i + 1 < bytes.length ? T[(n >> 6) & 63] : (url ? '' : '=');
          s += i + 2 < bytes.length ? T[n & 63] : (url ? '' : '=');
        }
        return s;
      }
      case 'latin1': { let s = ''; for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192)); return s; }
      case 'ascii': { let s = ''; for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i] & 127); return s; }
      case 'utf16le': { let s = ''; for (let i = 0; i + 1 < bytes.length; i += 2) s += String.fromCharCode(bytes[i] | (bytes[i + 1] << 8)); return s; }
    }
  }

  class Buffer extends Uint8Array {
    static from(value, encOrOffset, length) {
      if (typeof value === 'string') return Buffer._wrap(encode(value, encOrOffset));
      if (value instanceof ArrayBuffer) return new Buffer(value, encOrOffset || 0, length === undefined ? value.byteLength - (encOrOffset || 0) : length);
      if (ArrayBuffer.isView(value)) return Buffer._wrap(new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice());
      if (Array.isArray(value)) return Buffer._wrap(Uint8Array.from(value, (x) => x & 255));
      if (value && value.type === 'Buffer' && Array.isArray(value.data)) return Buffer.from(value.data);
      throw new TypeError('The first argument must be of type string, Buffer, ArrayBuffer, Array, or Array-like Object.');
    }
    static _wrap(u8) { return new Buffer(u8.buffer, u8.byteOffset, u8.byteLength); }
    static alloc(size, fill, enc) { const b = new Buffer(size); if (fill !== undefined) b.fill(fill, 0, size, enc); return b; }
    static allocUnsafe(size) { return new Buffer(size); }
    static isBuffer(b) { return b instanceof Buffer; }
    static isEncoding(e) { try { norm(e); return true; } catch (x) { return false; } }
    static byteLength(v, enc) { return typeof v === 'string' ? encode(v, enc).length : v.byteLength; }
    static concat(list, total) {
      const len = total === undefined ? list.reduce((n, b) => n + b.length, 0) : total;
      const out = Buffer.alloc(len);
      let off = 0;
      for (const b of list) { if (off >= len) break; out.set(b.subarray(0, len - off), off); off += b.length; }
      return out;
    }
    static compare(a, b) { return a.compare(b); }
    toString(enc, start, end) { return decode(this.subarray(start || 0, end === undefined ? this.length : end), enc); }
    toJSON() { return { type: 'Buffer', data: Array.from(this) }; }
    equals(o) { return this.compare(o) === 0; }
    compare(o) {
      const n = Math.min(this.length, o.length);
      for (let i = 0; i < n; i++) if (this[i] !== o[i]) return this[i] < o[i] ? -1 : 1;
      return this.length === o.length ? 0 : (this.length < o.length ? -1 : 1);
    }
    subarray(s, e) { const u = Uint8Array.prototype.subarray.call(this, s, e); return new Buffer(u.buffer, u.byteOffset, u.byteLength); }
    slice(s, e) { return this.subarray(s, e); }
    write(str, offset, length, enc) {
      if (typeof offset === 'string') { enc = offset; offset = 0; length = undefined; }
      const bytes = encode(str, enc);
      const off = offset || 0;
      const n = Math.min(bytes.length, this.length - off, length === undefined ? Infinity : length);
      this.set(bytes.subarray(0, n), off);
      return n;
    }
    fill(v, start, end, enc) {
      if (typeof v === 'string') {
        const bytes = encode(v, enc);
        for (let i = start || 0, j = 0; i < (end === undefined ? this.length : end); i++, j++) this[i] = bytes[j % bytes.length];
        return this;
      }
      return Uint8Array.prototype.fill.call(this, v, start, end);
    }
    copy(target, tStart, sStart, sEnd) {
      const src = this.subarray(sStart || 0, sEnd === undefined ? this.length : sEnd);
      const n = Math.min(src.length, target.length - (tStart || 0));
      target.set(src.subarray(0, n), tStart || 0);
      return n;
    }
    indexOf(v, from) {
      const needle = typeof v === 'number' ? [v & 255] : (typeof v === 'string' ? encode(v) : v);
      outer: for (let i = from || 0; i <= this.length - needle.length; i++) {
        for (let j = 0; j < needle.length; j++) if (this[i + j] !== needle[j]) continue outer;
        return i;
      }
      return -1;
    }
    includes(v, from) { return this.indexOf(v, from) !== -1; }
  }
  const dv = (b) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ints = {
    UInt8: ['getUint8', 'setUint8', 1], Int8: ['getInt8', 'setInt8', 1],
    UInt16: ['getUint16', 'setUint16', 2], Int16: ['getInt16', 'setInt16', 2],
    UInt32: ['getUint32', 'setUint32', 4], Int32: ['getInt32', 'setInt32', 4],
    Float: ['getFloat32', 'setFloat32', 4], Double: ['getFloat64', 'setFloat64', 8],
  };
  for (const [name, [get, set, size]] of Object.entries(ints)) {
    const ends = size === 1 ? [''] : ['LE', 'BE'];
    for (const end of ends) {
      const le = end === 'LE';
      Buffer.prototype['read' + name + end] = function (o) { return dv(this)[get](o || 0, le); };
      Buffer.prototype['write' + name + end] = function (v, o) { dv(this)[set](o || 0, v, le); return (o || 0) + size; };
      if (name.startsWith('UInt')) {
        Buffer.prototype['readUint' + name.slice(4) + end] = Buffer.prototype['read' + name + end];
        Buffer.prototype['writeUint' + name.slice(4) + end] = Buffer.prototype['write' + name + end];
      }
    }
  }
  module.exports = { Buffer, kMaxLength: 2 ** 31 - 1, constants: { MAX_LENGTH: 2 ** 31 - 1 } };
})
