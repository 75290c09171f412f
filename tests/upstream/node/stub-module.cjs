// An inert stand-in for the rendering packages Scenes imports (see build.mjs): any property,
// call or construction yields another stand-in. It must never be reached by interpolation;
// interpolate.mjs fails loudly if a stand-in value ends up in a result.
'use strict';
const STUB = Symbol.for('welfare-monitor.stub');
function make() {
  const fn = function () {};
  return new Proxy(fn, {
    get(target, prop) {
      if (prop === STUB) return true;
      if (prop === '__esModule') return undefined;
      if (prop === 'prototype') return target.prototype;
      if (prop === Symbol.toPrimitive) return () => '[stub]';
      return make();
    },
    apply() { return make(); },
    construct() { return make(); },
  });
}
module.exports = make();
