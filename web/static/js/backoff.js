// How long to wait before trying to join again. Pure functions (no timers, no DOM), so the rules
// can be checked on their own.
//
// Exponential backoff with full jitter: after the n-th failure in a row the wait is drawn
// uniformly from [0, min(cap, base * 2^n)]. A whole class that lost the server together, or was
// told "overloaded" together, comes back spread over the window instead of in the same instant.
// When the server says when to come back (`retry_after`, `Retry-After`), that is a floor: the
// jittered part is added to it, never subtracted.

/**
 * Milliseconds to wait before the next attempt.
 * @param {number} failures failures in a row so far, counting the one just seen from 0
 * @param {{baseMs?: number, capMs?: number, floorMs?: number, random?: () => number}} [options]
 *   `floorMs`: not sooner than this (the server's retry-after); `random`: a [0, 1) source.
 * @returns {number} a whole number in [floorMs, max(floorMs, capMs)]
 */
export function backoffDelay(failures, { baseMs = 1_000, capMs = 30_000, floorMs = 0, random = Math.random } = {}) {
  const floor = Number.isFinite(floorMs) && floorMs > 0 ? floorMs : 0;
  const n = Math.max(0, Math.min(Math.floor(failures) || 0, 30)); // 2^30 s is past any cap
  const window = Math.min(capMs, baseMs * 2 ** n);
  const spread = Math.max(0, Math.min(window, capMs - floor));
  return Math.round(floor + random() * spread);
}

/**
 * The wait an HTTP `Retry-After` header asks for, in seconds: delta-seconds ("2", "1.5") or an
 * HTTP date. Null when absent or unreadable.
 */
export function parseRetryAfter(value, now = Date.now()) {
  if (value === null || value === undefined) return null;
  const text = String(value).trim();
  if (!text) return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, (at - now) / 1000);
}
