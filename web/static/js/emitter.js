// A small event emitter: `on(type, fn)` returns the function that removes the listener; a
// listener that throws is logged, never propagated (the others still run).

export class Emitter {
  constructor() {
    this._listeners = new Map();
  }

  /** Listen to `type`; returns a function that removes the listener. */
  on(type, fn) {
    if (!this._listeners.has(type)) this._listeners.set(type, new Set());
    this._listeners.get(type).add(fn);
    return () => this.off(type, fn);
  }

  /** Listen to each of `types` with one function; returns the function that removes them all. */
  onAny(types, fn) {
    const offs = types.map((type) => this.on(type, fn));
    return () => offs.forEach((off) => off());
  }

  off(type, fn) {
    this._listeners.get(type)?.delete(fn);
  }

  emit(type, detail = {}) {
    for (const fn of [...(this._listeners.get(type) ?? [])]) {
      try {
        fn(detail);
      } catch (err) {
        console.error(`lophoc: a "${type}" listener failed`, err);
      }
    }
  }
}
