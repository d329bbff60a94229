// `bcrypt` / `bcryptjs`: the npm APIs (callback and Promise forms) over native Rust bcrypt,
// hashing on a blocking thread so the script's event loop never stalls.
(function (module, exports, require, native) {
  'use strict';
  const settle = (promise, cb) => {
    if (typeof cb !== 'function') return promise;
    promise.then((v) => cb(null, v), (e) => cb(e));
    return undefined;
  };
  const saltArg = (s) => (typeof s === 'number' ? String(Math.floor(s)) : String(s));
  exports.genSaltSync = (rounds, minor) => native.genSalt(rounds === undefined ? 10 : Number(rounds), minor === undefined ? 'b' : String(minor));
  exports.genSalt = (rounds, minor, cb) => {
    if (typeof rounds === 'function') { cb = rounds; rounds = undefined; }
    if (typeof minor === 'function') { cb = minor; minor = undefined; }
    return settle(new Promise((resolve) => resolve(exports.genSaltSync(rounds, minor))), cb);
  };
  exports.hashSync = (password, salt) => native.hashSync(String(password), saltArg(salt === undefined ? 10 : salt));
  exports.hash = (password, salt, cb) => {
    if (typeof salt === 'function') { cb = salt; salt = 10; }
    return settle(native.hash(String(password), saltArg(salt === undefined ? 10 : salt)), cb);
  };
  exports.compareSync = (password, hash) => native.compareSync(String(password), String(hash));
  exports.compare = (password, hash, cb) => settle(native.compare(String(password), String(hash)), cb);
  exports.getRounds = (hash) => native.getRounds(String(hash));
  exports.truncates = (password) => native.utf8Length(String(password)) > 72;
})
