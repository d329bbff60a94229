// `jsonwebtoken`: sign, verify and decode compact JWTs (HS256/384/512, RS256/384/512,
// PS256/384/512, ES256/384) with the npm package's options, errors and messages, built on this
// runtime's `crypto` (keys parsed natively once per container).
(function (module, exports, require, native) {
  'use strict';
  const crypto = require('crypto');
  const { Buffer } = require('buffer');

  class JsonWebTokenError extends Error {
    constructor(message, inner) { super(message); this.name = 'JsonWebTokenError'; if (inner) this.inner = inner; }
  }
  class TokenExpiredError extends JsonWebTokenError {
    constructor(message, expiredAt) { super(message); this.name = 'TokenExpiredError'; this.expiredAt = expiredAt; }
  }
  class NotBeforeError extends JsonWebTokenError {
    constructor(message, date) { super(message); this.name = 'NotBeforeError'; this.date = date; }
  }

  const ALGS = {
    HS256: ['hmac', 'sha256'], HS384: ['hmac', 'sha384'], HS512: ['hmac', 'sha512'],
    RS256: ['rsa', 'sha256'], RS384: ['rsa', 'sha384'], RS512: ['rsa', 'sha512'],
    PS256: ['pss', 'sha256'], PS384: ['pss', 'sha384'], PS512: ['pss', 'sha512'],
    ES256: ['ec', 'sha256'], ES384: ['ec', 'sha384'],
  };
  const b64url = (v) => Buffer.from(v).toString('base64url');
  const UNITS = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000, w: 604800000, y: 31557600000 };
  const ms = (str) => {
    const m = /^(-?(?:\d+)?\.?\d+) *(milliseconds?|msecs?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w|years?|yrs?|y)?$/i.exec(String(str));
    if (!m) return undefined;
    const n = parseFloat(m[1]);
    const u = (m[2] || 'ms').toLowerCase();
    const key = u.startsWith('ms') || u.startsWith('msec') || u.startsWith('milli') ? 'ms' : u[0];
    return n * UNITS[key];
  };
  const timespan = (time, iat, name) => {
    if (typeof time === 'number') return iat + time;
    if (typeof time === 'string') {
      const v = ms(time);
      if (v === undefined) throw new Error('"' + name + '" should be a number of seconds or string representing a timespan');
      return Math.floor(iat + v / 1000);
    }
    throw new Error('"' + name + '" should be a number of seconds or string representing a timespan');
  };
  const keyText = (key) => (typeof key === 'string' ? key : key && key.key !== undefined ? keyText(key.key) : key && key._pem ? key._pem : ArrayBuffer.isView(key) ? Buffer.from(key).toString('utf8') : key);
  const isPem = (k) => typeof k === 'string' && k.includes('-----BEGIN ');

  const signInput = (alg, input, key) => {
    const [kind, h] = ALGS[alg];
    if (kind === 'hmac') return crypto.createHmac(h, key && key._sluiceKey ? key : (typeof key === 'string' || ArrayBuffer.isView(key) ? key : String(key))).update(input).digest();
    if (!isPem(keyText(key))) throw new Error('secretOrPrivateKey must be an asymmetric key when using ' + alg);
    return crypto.sign(h, Buffer.from(input), { key: keyText(key), padding: kind === 'pss' ? 6 : undefined, dsaEncoding: kind === 'ec' ? 'ieee-p1363' : undefined });
  };
  const verifyInput = (alg, input, sig, key) => {
    const [kind, h] = ALGS[alg];
    if (kind === 'hmac') {
      const expected = crypto.createHmac(h, key).update(input).digest();
      return expected.length === sig.length && crypto.timingSafeEqual(expected, sig);
    }
    return crypto.verify(h, Buffer.from(input), { key: keyText(key), padding: kind === 'pss' ? 6 : undefined, dsaEncoding: kind === 'ec' ? 'ieee-p1363' : undefined }, sig);
  };

  const done = (callback, fn) => {
    if (typeof callback !== 'function') return fn();
    let v;
    try { v = fn(); } catch (e) { Promise.resolve().then(() => callback(e)); return undefined; }
    Promise.resolve().then(() => callback(null, v));
    return undefined;
  };

  exports.sign = function (payload, secretOrPrivateKey, options, callback) {
    if (typeof options === 'function') { callback = options; options = {}; }
    options = options || {};
    return done(callback, () => {
      const alg = options.algorithm || 'HS256';
      if (!ALGS[alg]) throw new Error('"algorithm" must be a valid string enum value');
      if (secretOrPrivateKey === undefined || secretOrPrivateKey === null || secretOrPrivateKey === '') throw new Error('secretOrPrivateKey must have a value');
      const header = Object.assign({ alg, typ: 'JWT' }, options.header || {});
      header.alg = alg;
      if (options.keyid) header.kid = options.keyid;
      let body;
      if (typeof payload === 'object' && payload !== null && !ArrayBuffer.isView(payload)) {
        const claims = Object.assign({}, payload);
        const iat = typeof claims.iat === 'number' ? claims.iat : Math.floor(Date.now() / 1000);
        if (!options.noTimestamp) claims.iat = iat;
        if (options.expiresIn !== undefined) {
          if (payload.exp !== undefined) throw new Error('Bad "options.expiresIn" option the payload already has an "exp" property.');
          claims.exp = timespan(options.expiresIn, iat, 'expiresIn');
        }
        if (options.notBefore !== undefined) claims.nbf = timespan(options.notBefore, iat, 'notBefore');
        if (options.audience !== undefined) claims.aud = options.audience;
        if (options.issuer !== undefined) claims.iss = options.issuer;
        if (options.subject !== undefined) claims.sub = options.subject;
        if (options.jwtid !== undefined) claims.jti = options.jwtid;
        body = JSON.stringify(claims);
      } else {
        if (options.expiresIn !== undefined) throw new Error('invalid expiresIn option for string payload');
        body = String(payload);
      }
      const input = b64url(JSON.stringify(header)) + '.' + b64url(body);
      return input + '.' + b64url(signInput(alg, input, secretOrPrivateKey));
    });
  };

  const decodeParts = (token) => {
    if (typeof token !== 'string') return null;
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    try {
      const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
      const raw = Buffer.from(parts[1], 'base64url').toString();
      let payload;
      try { payload = JSON.parse(raw); } catch (e) { payload = raw; }
      return { header, payload, signature: parts[2], input: parts[0] + '.' + parts[1] };
    } catch (e) {
      return null;
    }
  };

  exports.decode = (token, options) => {
    const d = decodeParts(token);
    if (!d) return null;
    return options && options.complete ? { header: d.header, payload: d.payload, signature: d.signature } : d.payload;
  };

  const matches = (expected, value) => (expected instanceof RegExp ? expected.test(value) : expected === value);

  exports.verify = function (token, secretOrPublicKey, options, callback) {
    if (typeof options === 'function') { callback = options; options = {}; }
    options = options || {};
    return done(callback, () => {
      if (!token) throw new JsonWebTokenError('jwt must be provided');
      if (typeof token !== 'string') throw new JsonWebTokenError('jwt must be a string');
      const d = decodeParts(token);
      if (!d) throw new JsonWebTokenError('jwt malformed');
      const alg = d.header.alg;
      if (!d.signature && alg !== 'none') throw new JsonWebTokenError('jwt signature is required');
      if (secretOrPublicKey === undefined || secretOrPublicKey === null || secretOrPublicKey === '') throw new JsonWebTokenError('secret or public key must be provided');
      const pem = isPem(keyText(secretOrPublicKey));
      const allowed = options.algorithms || (pem ? ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384'] : ['HS256', 'HS384', 'HS512']);
      if (!ALGS[alg] || allowed.indexOf(alg) === -1) throw new JsonWebTokenError('invalid algorithm');
      if (ALGS[alg][0] === 'hmac' && pem) throw new JsonWebTokenError('invalid algorithm');
      let valid;
      try { valid = verifyInput(alg, d.input, Buffer.from(d.signature, 'base64url'), secretOrPublicKey); }
      catch (e) { throw new JsonWebTokenError('invalid signature', e); }
      if (!valid) throw new JsonWebTokenError('invalid signature');
      const p = d.payload;
      const now = Math.floor(Date.now() / 1000);
      const tol = options.clockTolerance || 0;
      if (typeof p === 'object' && p !== null) {
        if (p.nbf !== undefined && !options.ignoreNotBefore) {
          if (typeof p.nbf !== 'number') throw new JsonWebTokenError('invalid nbf value');
          if (p.nbf > now + tol) throw new NotBeforeError('jwt not active', new Date(p.nbf * 1000));
        }
        if (p.exp !== undefined && !options.ignoreExpiration) {
          if (typeof p.exp !== 'number') throw new JsonWebTokenError('invalid exp value');
          if (now >= p.exp + tol) throw new TokenExpiredError('jwt expired', new Date(p.exp * 1000));
        }
        if (options.audience) {
          const want = Array.isArray(options.audience) ? options.audience : [options.audience];
          const have = Array.isArray(p.aud) ? p.aud : [p.aud];
          if (!have.some((a) => want.some((w) => matches(w, a)))) throw new JsonWebTokenError('jwt audience invalid. expected: ' + want.join(' or '));
        }
        if (options.issuer) {
          const want = Array.isArray(options.issuer) ? options.issuer : [options.issuer];
          if (want.indexOf(p.iss) === -1) throw new JsonWebTokenError('jwt issuer invalid. expected: ' + want.join(','));
        }
        if (options.subject && p.sub !== options.subject) throw new JsonWebTokenError('jwt subject invalid. expected: ' + options.subject);
        if (options.jwtid && p.jti !== options.jwtid) throw new JsonWebTokenError('jwt jwtid invalid. expected: ' + options.jwtid);
        if (options.maxAge !== undefined) {
          if (typeof p.iat !== 'number') throw new JsonWebTokenError('iat required when maxAge is specified');
          const max = typeof options.maxAge === 'number' ? options.maxAge : ms(options.maxAge) / 1000;
          if (now >= p.iat + max + tol) throw new TokenExpiredError('maxAge exceeded', new Date((p.iat + max) * 1000));
        }
      }
      return options.complete ? { header: d.header, payload: p, signature: d.signature } : p;
    });
  };
  exports.JsonWebTokenError = JsonWebTokenError;
  exports.TokenExpiredError = TokenExpiredError;
  exports.NotBeforeError = NotBeforeError;
})
