// `util/types`: the `types` of `util`.
(function (module, exports, require) {
  'use strict';
  module.exports = require('util').types;
});
