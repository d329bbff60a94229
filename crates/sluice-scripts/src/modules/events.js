// `events`: a plain-JavaScript EventEmitter that works with both ES2015 `class X extends
// EventEmitter` and ES5 `EventEmitter.call(this)` + `util.inherits` (older libraries use both).
(function (module, exports, require, native) {
  'use strict';
  function EventEmitter() {
    if (!this._events || this._events === Object.getPrototypeOf(this)._events) this._events = Object.create(null);
    this._maxListeners = this._maxListeners || undefined;
  }
  EventEmitter.prototype._events = undefined;
  EventEmitter.defaultMaxListeners = 10;
  const listeners = (self, name) => {
    if (!self._events) self._events = Object.create(null);
    return self._events[name] || (self._events[name] = []);
  };
  EventEmitter.prototype.on = EventEmitter.prototype.addListener = function (name, fn) {
    if (typeof fn !== 'function') throw new TypeError('The "listener" argument must be of type function');
    listeners(this, name).push(fn);
    return this;
  };
  EventEmitter.prototype.prependListener = function (name, fn) { listeners(this, name).unshift(fn); return this; };
  EventEmitter.prototype.once = function (name, fn) {
    const self = this;
    function wrapper(...args) { self.removeListener(name, wrapper); return fn.apply(this, args); }
    wrapper.listener = fn;
    return this.on(name, wrapper);
  };
  EventEmitter.prototype.off = EventEmitter.prototype.removeListener = function (name, fn) {
    const l = this._events && this._events[name];
    if (!l) return this;
    const i = l.findIndex((x) => x === fn || x.listener === fn);
    if (i >= 0) l.splice(i, 1);
    return this;
  };
  EventEmitter.prototype.removeAllListeners = function (name) {
    if (!this._events) return this;
    if (name === undefined) this._events = Object.create(null);
    else delete this._events[name];
    return this;
  };
  EventEmitter.prototype.emit = function (name, ...args) {
    const l = this._events && this._events[name];
    if (!l || l.length === 0) {
      if (name === 'error') throw args[0] instanceof Error ? args[0] : new Error('Unhandled error. (' + String(args[0]) + ')');
      return false;
    }
    for (const fn of l.slice()) fn.apply(this, args);
    return true;
  };
  EventEmitter.prototype.listeners = function (name) { return ((this._events && this._events[name]) || []).map((f) => f.listener || f); };
  EventEmitter.prototype.listenerCount = function (name) { return ((this._events && this._events[name]) || []).length; };
  EventEmitter.prototype.eventNames = function () { return this._events ? Object.keys(this._events).filter((k) => this._events[k].length) : []; };
  EventEmitter.prototype.setMaxListeners = function (n) { this._maxListeners = n; return this; };
  EventEmitter.prototype.getMaxListeners = function () { return this._maxListeners === undefined ? EventEmitter.defaultMaxListeners : this._maxListeners; };
  EventEmitter.once = (emitter, name) => new Promise((resolve, reject) => {
    const onError = (e) => { emitter.removeListener(name, onValue); reject(e); };
    const onValue = (...args) => { emitter.removeListener('error', onError); resolve(args); };
    emitter.once(name, onValue);
    if (name !== 'error') emitter.once('error', onError);
  });
  EventEmitter.EventEmitter = EventEmitter;
  module.exports = EventEmitter;
})
