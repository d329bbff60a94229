// `uuid`: v4 (random) and v7 (time-ordered) identifiers, validate/version/parse/stringify and
// NIL/MAX. `require('uuid')` is also callable as v4 (as uuid@3 was).
(function (module, exports, require, native) {
  'use strict';
  const hex = (bytes) => Array.from(bytes, (b) => (b < 16 ? '0' : '') + b.toString(16)).join('');
  const fmt = (h) => h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  const RE = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$/i;
  const crypto = require('crypto');
  const v4 = () => crypto.randomUUID();
  const v7 = () => {
    const b = crypto.randomBytes(16);
    let ms = Date.now();
    for (let i = 5; i >= 0; i--) { b[i] = ms % 256; ms = Math.floor(ms / 256); }
    b[6] = (b[6] & 0x0f) | 0x70;
    b[8] = (b[8] & 0x3f) | 0x80;
    return fmt(hex(b));
  };
  const validate = (s) => typeof s === 'string' && RE.test(s);
  const version = (s) => { if (!validate(s)) throw new TypeError('Invalid UUID'); return parseInt(s[14], 16); };
  const parse = (s) => { if (!validate(s)) throw new TypeError('Invalid UUID'); return Uint8Array.from(s.replace(/-/g, '').match(/../g), (x) => parseInt(x, 16)); };
  const stringify = (a) => fmt(hex(a));
  const api = Object.assign(function uuid() { return v4(); }, {
    v4, v7, validate, version, parse, stringify,
    NIL: '00000000-0000-0000-0000-000000000000', MAX: 'ffffffff-ffff-ffff-ffff-ffffffffffff',
  });
  module.exports = api;
})
