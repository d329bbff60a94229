// `structuredClone` (the global): a deep copy of plain data, Dates, RegExps, Maps, Sets, arrays
// and typed arrays, keeping shared and circular references; functions and symbols refuse.
// Loaded on first use of the global; scripts cannot require it.
(function (module) {
  'use strict';
  const clone = (v, seen) => {
    if (v === null || typeof v !== 'object') {
      if (typeof v === 'function' || typeof v === 'symbol') throw new Error('could not be cloned');
      return v;
    }
    if (seen.has(v)) return seen.get(v);
    let out;
    if (v instanceof Date) out = new Date(v.getTime());
    else if (v instanceof RegExp) out = new RegExp(v.source, v.flags);
    else if (v instanceof Map) { out = new Map(); seen.set(v, out); v.forEach((x, k) => out.set(clone(k, seen), clone(x, seen))); return out; }
    else if (v instanceof Set) { out = new Set(); seen.set(v, out); v.forEach((x) => out.add(clone(x, seen))); return out; }
    else if (ArrayBuffer.isView(v)) out = v.slice();
    else if (Array.isArray(v)) { out = []; seen.set(v, out); v.forEach((x, i) => { out[i] = clone(x, seen); }); return out; }
    else { out = {}; seen.set(v, out); for (const k of Object.keys(v)) out[k] = clone(v[k], seen); return out; }
    seen.set(v, out);
    return out;
  };
  module.exports = function structuredClone(v) { return clone(v, new Map()); };
});
