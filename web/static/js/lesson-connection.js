// The signaling connection of a live lesson (docs/protocol.md): media token, WebSocket, `join`,
// request/reply by `id`, heartbeat, and joining again after a failure or a dropped connection.
// It knows nothing of participants or media: after a join it hands the `joined` reply to its
// owner (hooks.joined, hooks.afterJoin), every other server message to hooks.message, and asks
// the owner to let go of what hangs on the connection with hooks.teardown.
//
// Joining is retried until it works or the server refuses for good (forbidden, not_found,
// not_authenticated...): after a failure, after a dropped connection, and when the server says
// `overloaded` (a WebSocket `error` with `retry_after`, or a 503 with `Retry-After` on the media
// token). Waits grow exponentially with full jitter (backoff.js), never shorter than the server
// asked, and start over after a successful join. Before each wait it emits
// `retry: {error, overloaded, delayMs, until, failures}` (`error` null after a dropped connection).
// In a locked room the join is answered `waiting` first (emitted as `waiting`, no timeout), then
// `joined` when the teacher admits us, or `bye` (denied), which ends the join for good.

import { request } from './api.js';
import { backoffDelay } from './backoff.js';

export const STATES = ['connecting', 'connected', 'reconnecting', 'closed'];

/** Join errors after which trying again cannot help. */
const FATAL_CODES = new Set(['forbidden', 'not_found', 'not_authenticated', 'bad_message', 'http_403', 'http_404', 'bye', 'lesson_ended']);

/**
 * A refusal from the server (`{"type": "error", "code"}`) or a failure of the client (timeout,
 * disconnected). `retryAfter`: seconds the server asked us to wait (`overloaded`), or null.
 */
export class ProtocolError extends Error {
  constructor(code, message, reply = null, retryAfter = reply?.retry_after ?? null) {
    super(message || code);
    this.name = 'ProtocolError';
    this.code = code;
    this.reply = reply;
    const seconds = Number(retryAfter);
    this.retryAfter = retryAfter !== null && Number.isFinite(seconds) && seconds >= 0 ? seconds : null;
  }
}

function socketUrl(lessonId) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/api/lessons/${encodeURIComponent(lessonId)}/ws`;
}

/** Open a WebSocket; rejects when it closes before opening or takes longer than `timeoutMs`. */
function openSocket(url, timeoutMs) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => {
      cleanup();
      ws.close();
      reject(new ProtocolError('timeout', 'the WebSocket did not open in time'));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      ws.onopen = ws.onclose = ws.onerror = null;
    };
    ws.onopen = () => {
      cleanup();
      resolve(ws);
    };
    ws.onerror = () => {}; // a close event with the details follows
    ws.onclose = (event) => {
      cleanup();
      reject(new ProtocolError('disconnected', `the WebSocket closed before opening (${event.code})`));
    };
  });
}

export class LessonConnection {
  /**
   * @param {number|string} lessonId
   * @param {object} options requestTimeoutMs, connectTimeoutMs, pingIntervalMs, backoffBaseMs,
   *   backoffCapMs, getToken, autoSubscribe
   * @param {(type: string, detail: object) => void} emit the owner's events
   * @param {{joined, afterJoin, message, teardown}} hooks
   */
  constructor(lessonId, options, emit, hooks) {
    this.lessonId = lessonId;
    this.options = options;
    this.emit = emit;
    this.hooks = hooks;
    this.state = 'closed';
    this.gen = 0; // one generation per join attempt; callbacks of older ones are ignored
    this.closed = false;
    this._started = false;
    this._nextId = 1;
    this._pending = new Map();
    this._ws = null;
    this._pingTimer = null;
    this._failures = 0; // failed or lost joins in a row, for the backoff
    this._waiting = null; // { timer, resolve } while waiting to join again
    this._joinedOnce = false;
  }

  _setState(state) {
    if (this.state === state) return;
    const previous = this.state;
    this.state = state;
    this.emit('state', { state, previous });
  }

  /** Join the lesson; resolves on the first `joined`, retrying transient failures with backoff. */
  async connect() {
    if (this._started) throw new ProtocolError('conflict', 'connect() was already called');
    this._started = true;
    this._setState('connecting');
    await this._joinLoop();
  }

  /** Leave: say goodbye (unless `notify` is false), close the socket, end any wait. */
  close(reason = 'left', { notify = true } = {}) {
    if (this.closed) return;
    this.closed = true;
    // Say goodbye, so the server logs a departure rather than a dropped connection.
    try {
      if (notify && this.state === 'connected') this.send({ type: 'leave', id: this._nextId++ });
    } catch {
      // not connected: nothing to say
    }
    this.gen += 1;
    this._teardown(reason);
    if (this._waiting) {
      clearTimeout(this._waiting.timer);
      this._waiting.resolve();
      this._waiting = null;
    }
    this._setState('closed');
  }

  /** Join until it works (resolves) or is refused for good (rejects); transient failures wait and retry. */
  async _joinLoop() {
    for (;;) {
      if (this.closed) throw new ProtocolError('closed', 'the client was closed');
      try {
        await this._joinOnce();
        this._failures = 0;
        return;
      } catch (err) {
        if (this.closed) throw err;
        this.emit('error', { error: err, during: 'join' });
        if (FATAL_CODES.has(err.code)) {
          this.close('refused', { notify: false });
          throw err;
        }
        this.gen += 1;
        this._teardown('retry');
        await this._waitToRetry(err);
      }
    }
  }

  /**
   * Wait before joining again: full jitter over a window that doubles with each failure in a row
   * (capped), on top of the server's retry-after when it gave one. Emits `retry` first; close()
   * ends the wait early.
   */
  _waitToRetry(error) {
    const floorMs = error?.retryAfter ? error.retryAfter * 1000 : 0;
    const delayMs = backoffDelay(this._failures, { baseMs: this.options.backoffBaseMs, capMs: this.options.backoffCapMs, floorMs });
    this._failures += 1;
    this.emit('retry', { error, overloaded: error?.code === 'overloaded', delayMs, until: Date.now() + delayMs, failures: this._failures });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this._waiting = null;
        resolve();
      }, delayMs);
      this._waiting = { timer, resolve };
    });
  }

  async _mediaToken() {
    if (this.options.getToken) return this.options.getToken();
    const reply = await request('POST', `/api/lessons/${encodeURIComponent(this.lessonId)}/media-token`);
    if (!reply?.token) throw new ProtocolError('not_authenticated', 'no media token in the reply');
    return reply.token;
  }

  async _joinOnce() {
    const gen = ++this.gen;
    this._teardown('rejoin');
    let token;
    try {
      token = await this._mediaToken();
    } catch (err) {
      // A network failure is transient (status 0). A 503 `overloaded` is the server asking us to
      // come back later; any other 503 (stopping, a proxy) is retried too, both after Retry-After.
      if (!err.status) throw err;
      let code = `http_${err.status}`;
      if (err.status === 401) code = 'not_authenticated';
      else if (err.code === 'overloaded') code = 'overloaded';
      throw new ProtocolError(code, err.message, null, err.retryAfter ?? null);
    }
    this.checkGen(gen);
    const ws = await openSocket(socketUrl(this.lessonId), this.options.connectTimeoutMs);
    if (gen !== this.gen) {
      ws.close();
      this.checkGen(gen);
    }
    this._ws = ws;
    ws.onmessage = (event) => this._onMessage(gen, event);
    ws.onclose = (event) => this._onSocketClose(gen, event);
    ws.onerror = () => {};

    const join = { type: 'join', token };
    if (this.options.autoSubscribe === false) join.auto_subscribe = false;
    const joined = await this.request(join);
    this.checkGen(gen);
    this.hooks.joined(joined);
    const rejoin = this._joinedOnce;
    this._joinedOnce = true;
    this._startPing(gen);
    this._setState('connected');
    this.emit('joined', { ...joined, rejoin });
    await this.hooks.afterJoin(gen);
  }

  /** Throws unless `gen` is still the current connection. */
  checkGen(gen) {
    if (gen !== this.gen || this.closed) throw new ProtocolError('disconnected', 'superseded by a newer connection');
  }

  isCurrent(gen) {
    return gen === this.gen && !this.closed;
  }

  /** The connection is gone: tear everything down and join again (new token, socket, transports). */
  lost(reason) {
    if (this.closed || this.state === 'reconnecting' || this.state === 'connecting') return;
    this.gen += 1;
    this._teardown(reason);
    this._setState('reconnecting');
    // Jittered from the first try: a class that lost the server together does not return at once.
    // (The count of failures was reset by the join that worked, not here: a connection that keeps
    // dropping right after joining backs off as well.)
    this._waitToRetry(null)
      .then(() => this._joinLoop())
      .catch((err) => {
        if (!this.closed) this.emit('error', { error: err, during: 'reconnect' });
      });
  }

  _teardown(reason) {
    this._stopPing();
    if (this._ws) {
      const ws = this._ws;
      this._ws = null;
      ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(1000, reason.slice(0, 100));
      } catch {
        // already closing
      }
    }
    this._rejectPending(`the connection was closed (${reason})`);
    this.hooks.teardown(reason);
  }

  _rejectPending(why) {
    for (const pending of this._pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new ProtocolError('disconnected', why));
    }
    this._pending.clear();
  }

  _onSocketClose(gen, event) {
    if (gen !== this.gen || this.closed) return;
    this._ws = null;
    const why = `socket closed (${event.code}${event.reason ? `: ${event.reason}` : ''})`;
    if (this.state === 'connected') {
      this.lost(why);
      return;
    }
    // Still joining: fail the join now; the join loop tries again.
    this._rejectPending(why);
  }

  // --- messages -----------------------------------------------------------------------------
  /** Send a message as it is (no reply expected). */
  send(message) {
    const ws = this._ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) throw new ProtocolError('disconnected', 'not connected');
    ws.send(JSON.stringify(message));
  }

  /** Send a message with a fresh `id`; resolves with the reply carrying it, rejects on `error` or timeout. */
  request(message, timeoutMs = this.options.requestTimeoutMs) {
    const id = this._nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._pending.delete(id);
        reject(new ProtocolError('timeout', `no reply to "${message.type}" in ${timeoutMs} ms`));
      }, timeoutMs);
      this._pending.set(id, { resolve, reject, timer, type: message.type });
      try {
        this.send({ ...message, id });
      } catch (err) {
        clearTimeout(timer);
        this._pending.delete(id);
        reject(err);
      }
    });
  }

  _onMessage(gen, event) {
    if (gen !== this.gen || this.closed) return;
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      this.emit('error', { error: new ProtocolError('bad_message', 'the server sent something that is not JSON') });
      return;
    }
    if (!message || typeof message !== 'object') return;
    if (message.id !== undefined && message.id !== null && this._pending.has(message.id)) {
      const pending = this._pending.get(message.id);
      // A locked room: the join is answered `waiting` first, then `joined` (same id) once the
      // teacher admits us, however long that takes, or `bye` (denied).
      if (pending.type === 'join' && message.type === 'waiting') {
        clearTimeout(pending.timer);
        this.emit('waiting', message);
        return;
      }
      this._pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.type === 'error') pending.reject(new ProtocolError(message.code ?? 'internal', message.message, message));
      else if (message.type === 'bye') {
        pending.reject(new ProtocolError('bye', message.reason, message));
        this.hooks.message(gen, message);
      } else pending.resolve(message);
      return;
    }
    if (message.type === 'bye') {
      // Turned away while waiting (a `bye` without the join's id): the join fails for good.
      for (const [id, pending] of this._pending) {
        if (pending.type !== 'join') continue;
        this._pending.delete(id);
        clearTimeout(pending.timer);
        pending.reject(new ProtocolError('bye', message.reason, message));
      }
    }
    switch (message.type) {
      case 'error':
        this.emit('error', { error: new ProtocolError(message.code ?? 'internal', message.message, message) });
        break;
      case 'pong':
        break; // a late answer to a ping that timed out
      default:
        this.hooks.message(gen, message);
    }
  }

  // --- heartbeat ----------------------------------------------------------------------------
  _startPing(gen) {
    this._stopPing();
    this._pingTimer = setInterval(async () => {
      if (gen !== this.gen) return;
      try {
        await this.request({ type: 'ping' });
      } catch (err) {
        if (gen === this.gen && err.code === 'timeout') this.lost('no pong');
      }
    }, this.options.pingIntervalMs);
  }

  _stopPing() {
    clearInterval(this._pingTimer);
    this._pingTimer = null;
  }
}
