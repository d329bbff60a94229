// `crypto`: the parts of Node's crypto legacy scripts use — hashes, HMAC, random bytes/UUIDs,
// PBKDF2 (including the old 4-argument form defaulting to SHA-1), scrypt, timingSafeEqual —
// over native Rust implementations. Output encodings: hex, base64, base64url, latin1/binary
// or a Buffer.
(function (module, exports, require, native) {
  'use strict';
  const { Buffer } = require('buffer');
  const toBytes = (data, enc) => {
    if (typeof data === 'string') return Buffer.from(data, enc || 'utf8');
    if (data && data._sluiceKey) return data._sluiceKey;
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (data instanceof ArrayBuffer) return new Uint8Array(data);
    throw new TypeError('The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView.');
  };
  const ALGS = { md5: 'md5', sha1: 'sha1', 'sha-1': 'sha1', sha256: 'sha256', 'sha-256': 'sha256', sha384: 'sha384', 'sha-384': 'sha384', sha512: 'sha512', 'sha-512': 'sha512' };
  const alg = (a) => {
    const n = ALGS[String(a).toLowerCase().replace(/^rsa-/, '')];
    if (!n) throw new Error('Digest method not supported: ' + a);
    return n;
  };
  const output = (ab, enc) => {
    const b = Buffer.from(ab);
    return enc === undefined || enc === 'buffer' ? b : b.toString(enc);
  };
  class Hash {
    constructor(algorithm, chunks) { this._alg = alg(algorithm); this._chunks = chunks || []; this._done = false; }
    update(data, enc) {
      if (this._done) throw new Error('Digest already called');
      this._chunks.push(toBytes(data, enc));
      return this;
    }
    digest(enc) {
      if (this._done) throw new Error('Digest already called');
      this._done = true;
      return output(native.digest(this._alg, Buffer.concat(this._chunks)), enc);
    }
    copy() { return new Hash(this._alg, this._chunks.slice()); }
  }
  class Hmac {
    constructor(algorithm, key) { this._alg = alg(algorithm); this._key = toBytes(key); this._chunks = []; this._done = false; }
    update(data, enc) {
      if (this._done) throw new Error('Digest already called');
      this._chunks.push(toBytes(data, enc));
      return this;
    }
    digest(enc) {
      if (this._done) throw new Error('Digest already called');
      this._done = true;
      return output(native.hmac(this._alg, this._key, Buffer.concat(this._chunks)), enc);
    }
  }
  const later = (cb, err, v) => Promise.resolve().then(() => cb(err, v));
  exports.createHash = (a) => new Hash(a);
  exports.createHmac = (a, key) => new Hmac(a, key);
  exports.createSecretKey = (key, enc) => ({ type: 'secret', _sluiceKey: toBytes(key, enc), export: function () { return Buffer.from(this._sluiceKey); } });
  exports.getHashes = () => ['md5', 'sha1', 'sha256', 'sha384', 'sha512'];
  exports.randomBytes = (n, cb) => {
    const b = Buffer.from(native.randomBytes(Number(n)));
    if (typeof cb === 'function') { later(cb, null, b); return undefined; }
    return b;
  };
  exports.pseudoRandomBytes = exports.randomBytes;
  exports.randomUUID = () => native.randomUUID();
  exports.randomInt = (min, max, cb) => {
    if (max === undefined || typeof max === 'function') { cb = max; max = min; min = 0; }
    const range = max - min;
    if (!(range > 0) || range > 2 ** 48) throw new RangeError('The value of "max" is out of range.');
    const v = min + native.randomBelow(range);
    if (typeof cb === 'function') { later(cb, null, v); return undefined; }
    return v;
  };
  exports.pbkdf2Sync = (pw, salt, iterations, keylen, digest) =>
    Buffer.from(native.pbkdf2Sync(toBytes(pw), toBytes(salt), Number(iterations), Number(keylen), alg(digest === undefined ? 'sha1' : digest)));
  exports.pbkdf2 = (pw, salt, iterations, keylen, digest, cb) => {
    if (typeof digest === 'function') { cb = digest; digest = 'sha1'; }
    if (typeof cb !== 'function') throw new TypeError('The "callback" argument must be of type function');
    let p;
    try { p = native.pbkdf2(toBytes(pw), toBytes(salt), Number(iterations), Number(keylen), alg(digest === undefined || digest === null ? 'sha1' : digest)); }
    catch (e) { later(cb, e); return; }
    p.then((ab) => cb(null, Buffer.from(ab)), (e) => cb(e));
  };
  const scryptParams = (o) => {
    o = o || {};
    return [Number(o.N || o.cost || 16384), Number(o.r || o.blockSize || 8), Number(o.p || o.parallelization || 1)];
  };
  exports.scryptSync = (pw, salt, keylen, options) =>
    Buffer.from(native.scryptSync(toBytes(pw), toBytes(salt), Number(keylen), ...scryptParams(options)));
  exports.scrypt = (pw, salt, keylen, options, cb) => {
    if (typeof options === 'function') { cb = options; options = undefined; }
    let p;
    try { p = native.scrypt(toBytes(pw), toBytes(salt), Number(keylen), ...scryptParams(options)); }
    catch (e) { later(cb, e); return; }
    p.then((ab) => cb(null, Buffer.from(ab)), (e) => cb(e));
  };
  exports.timingSafeEqual = (a, b) => {
    const x = toBytes(a), y = toBytes(b);
    if (x.byteLength !== y.byteLength) throw new RangeError('Input buffers must have the same byte length');
    return native.timingSafeEqual(x, y);
  };
  // --- asymmetric signatures (PEM keys: PKCS#8, PKCS#1, SEC1, SPKI) -----------------------------
  const pemOf = (key) => {
    if (typeof key === 'string') return key;
    if (key && key._pem) return key._pem;
    if (ArrayBuffer.isView(key)) return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('utf8');
    if (key && key.key !== undefined) {
      if (key.passphrase) throw new Error('Encrypted private keys are not supported');
      return pemOf(key.key);
    }
    throw new TypeError('The "key" argument must be a PEM string, Buffer, KeyObject or {key}');
  };
  const opts = (key) => ({
    pss: !!(key && key.padding === 6),
    p1363: !!(key && key.dsaEncoding === 'ieee-p1363'),
  });
  const hashOf = (a) => {
    const h = alg(a);
    if (h !== 'sha256' && h !== 'sha384' && h !== 'sha512') throw new Error('Unsupported signature digest: ' + a);
    return h;
  };
  class Sign {
    constructor(a) { this._hash = hashOf(a); this._chunks = []; }
    update(data, enc) { this._chunks.push(toBytes(data, enc)); return this; }
    sign(key, enc) { const o = opts(key); return output(native.asymSign(pemOf(key), this._hash, Buffer.concat(this._chunks), o.pss, o.p1363), enc); }
  }
  class Verify {
    constructor(a) { this._hash = hashOf(a); this._chunks = []; }
    update(data, enc) { this._chunks.push(toBytes(data, enc)); return this; }
    verify(key, sig, enc) { const o = opts(key); return native.asymVerify(pemOf(key), this._hash, Buffer.concat(this._chunks), toBytes(sig, enc), o.pss, o.p1363); }
  }
  exports.createSign = (a) => new Sign(a);
  exports.createVerify = (a) => new Verify(a);
  exports.sign = (a, data, key) => { const o = opts(key); return Buffer.from(native.asymSign(pemOf(key), hashOf(a || 'sha256'), toBytes(data), o.pss, o.p1363)); };
  exports.verify = (a, data, key, sig) => { const o = opts(key); return native.asymVerify(pemOf(key), hashOf(a || 'sha256'), toBytes(data), toBytes(sig), o.pss, o.p1363); };
  const keyObject = (type) => (key) => ({ type, _pem: pemOf(key), export(o) { return this._pem; } });
  exports.createPrivateKey = keyObject('private');
  exports.createPublicKey = keyObject('public');
  exports.constants = { RSA_PKCS1_PADDING: 1, RSA_PKCS1_PSS_PADDING: 6 };
})
