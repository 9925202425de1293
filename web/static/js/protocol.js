// The live lesson protocol client (docs/protocol.md): one WebSocket for signaling and two
// RTCPeerConnections for media (the send transport: we offer; the receive transport: the server
// offers). No DOM here: the page draws, this module talks. Events go out through `on(type, fn)`.
//
//   const client = new LessonClient(lessonId);
//   client.on('track', ({ track, participant_id, source }) => ...);
//   await client.connect();                  // media token, WebSocket, join
//   await client.publish(micTrack, 'mic', { muted: true });
//   await client.mute('mic', false);
//
// Events: state, joined, participant_joined, participant_left, participant_updated,
// producer_added, producer_removed, producer_muted, active_speaker, permissions, track,
// track_ended, unpublished, transport_state, bye, error, retry, message (any other server message).
//
// Joining is retried until it works or the server refuses for good (forbidden, not_found,
// not_authenticated...): after a failure, after a dropped connection, and when the server says
// `overloaded` (a WebSocket `error` with `retry_after`, or a 503 with `Retry-After` on the media
// token). Waits grow exponentially with full jitter (backoff.js), never shorter than the server
// asked, and start over after a successful join. Before each wait the client emits
// `retry: {error, overloaded, delayMs, until, failures}` (`error` null after a dropped connection).

import { request } from './api.js';
import { backoffDelay } from './backoff.js';

export const SOURCES = ['mic', 'camera', 'screen', 'screen-audio'];
export const SOURCE_KIND = { mic: 'audio', camera: 'video', screen: 'video', 'screen-audio': 'audio' };
export const STATES = ['connecting', 'connected', 'reconnecting', 'closed'];

/** Join errors after which trying again cannot help. */
const FATAL_CODES = new Set(['forbidden', 'not_found', 'not_authenticated', 'bad_message', 'http_403', 'http_404', 'bye']);

const DEFAULTS = {
  requestTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
  pingIntervalMs: 10_000,
  transportGraceMs: 3_000,
  iceGatheringTimeoutMs: 5_000,
  backoffBaseMs: 1_000, // the first wait is up to 1 s, then up to 2, 4, 8... (plus the server's retry-after)
  backoffCapMs: 30_000,
  statsIntervalMs: 250,
  statsKey: 'lophocStats', // put on globalThis for tests and diagnostics; null to turn off
};

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

/** Resolves once `pc` has gathered all its ICE candidates (no trickle), or after `timeoutMs`. */
export function iceGatheringComplete(pc, timeoutMs) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === 'complete') done();
    };
    const timer = setTimeout(done, timeoutMs); // send what we have rather than nothing
    pc.addEventListener('icegatheringstatechange', check);
  });
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

export class LessonClient {
  /**
   * @param {number|string} lessonId
   * @param {object} [options] see DEFAULTS; `getToken: async () => token` replaces the
   *   `POST /api/lessons/{id}/media-token` call; `autoSubscribe: false` joins without subscriptions.
   */
  constructor(lessonId, options = {}) {
    this.lessonId = lessonId;
    this.options = { ...DEFAULTS, ...options };
    this.state = 'closed';
    this.participantId = null;
    this.role = null;
    this.lesson = null;
    this.permissions = {};
    this.iceServers = [];
    /** participant_id -> participant, as the server last described it */
    this.participants = new Map();
    /** producer_id -> producer (`{producer_id, participant_id, source, kind, muted}`) */
    this.producers = new Map();
    this.activeSpeaker = null;

    this._listeners = new Map();
    this._local = new Map(); // source -> { source, track, muted, transceiver, producerId, gen }
    this._stream = new MediaStream(); // the msid all our tracks share
    this._gen = 0; // one generation per join attempt; callbacks of older ones are ignored
    this._nextId = 1;
    this._pending = new Map();
    this._ws = null;
    this._send = null;
    this._recv = null;
    this._sendChain = Promise.resolve();
    this._recvChain = Promise.resolve();
    this._consumersByMid = new Map();
    this._consumersById = new Map();
    this._transportTimers = {};
    this._pingTimer = null;
    this._statsTimer = null;
    this._statsBusy = false;
    this._closed = false;
    this._started = false;
    this._failures = 0; // failed or lost joins in a row, for the backoff
    this._waiting = null; // { timer, resolve } while waiting to join again
    this._joinedOnce = false;
  }

  // --- events -------------------------------------------------------------------------------
  /** Listen to `type`; returns a function that removes the listener. */
  on(type, fn) {
    if (!this._listeners.has(type)) this._listeners.set(type, new Set());
    this._listeners.get(type).add(fn);
    return () => this.off(type, fn);
  }

  off(type, fn) {
    this._listeners.get(type)?.delete(fn);
  }

  _emit(type, detail = {}) {
    for (const fn of [...(this._listeners.get(type) ?? [])]) {
      try {
        fn(detail);
      } catch (err) {
        console.error(`lophoc: a "${type}" listener failed`, err);
      }
    }
  }

  _setState(state) {
    if (this.state === state) return;
    const previous = this.state;
    this.state = state;
    this._emit('state', { state, previous });
  }

  // --- connecting ---------------------------------------------------------------------------
  /** Join the lesson; resolves on the first `joined`, retrying transient failures with backoff. */
  async connect() {
    if (this._started) throw new ProtocolError('conflict', 'connect() was already called');
    this._started = true;
    this._setState('connecting');
    this._startStats();
    await this._joinLoop();
  }

  /** Leave: close the socket and both transports. Local tracks are the caller's to stop. */
  close(reason = 'left', { notify = true } = {}) {
    if (this._closed) return;
    this._closed = true;
    // Say goodbye, so the server logs a departure rather than a dropped connection.
    try {
      if (notify && this.state === 'connected') this._sendMessage({ type: 'leave', id: this._nextId++ });
    } catch {
      // not connected: nothing to say
    }
    this._gen += 1;
    this._teardown(reason);
    if (this._waiting) {
      clearTimeout(this._waiting.timer);
      this._waiting.resolve();
      this._waiting = null;
    }
    this._setState('closed');
    this._stopStats();
  }

  /** Join until it works (resolves) or is refused for good (rejects); transient failures wait and retry. */
  async _joinLoop() {
    for (;;) {
      if (this._closed) throw new ProtocolError('closed', 'the client was closed');
      try {
        await this._joinOnce();
        this._failures = 0;
        return;
      } catch (err) {
        if (this._closed) throw err;
        this._emit('error', { error: err, during: 'join' });
        if (FATAL_CODES.has(err.code)) {
          this.close('refused', { notify: false });
          throw err;
        }
        this._gen += 1;
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
    this._emit('retry', { error, overloaded: error?.code === 'overloaded', delayMs, until: Date.now() + delayMs, failures: this._failures });
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
    const gen = ++this._gen;
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
    this._checkGen(gen);
    const ws = await openSocket(socketUrl(this.lessonId), this.options.connectTimeoutMs);
    if (gen !== this._gen) {
      ws.close();
      this._checkGen(gen);
    }
    this._ws = ws;
    ws.onmessage = (event) => this._onMessage(gen, event);
    ws.onclose = (event) => this._onSocketClose(gen, event);
    ws.onerror = () => {};

    const join = { type: 'join', token };
    if (this.options.autoSubscribe === false) join.auto_subscribe = false;
    const joined = await this._request(join);
    this._checkGen(gen);
    this.participantId = joined.participant_id;
    this.role = joined.role;
    this.lesson = joined.lesson ?? null;
    this.permissions = { ...(joined.permissions ?? {}) };
    this.iceServers = Array.isArray(joined.ice_servers) ? joined.ice_servers : [];
    this.participants = new Map((joined.participants ?? []).map((p) => [p.participant_id, p]));
    this.producers = new Map((joined.producers ?? []).map((p) => [p.producer_id, { muted: false, ...p }]));
    this.recording = joined.recording ?? null;
    this.activeSpeaker = null;
    const rejoin = this._joinedOnce;
    this._joinedOnce = true;
    this._startPing(gen);
    this._setState('connected');
    this._emit('joined', { ...joined, rejoin });
    await this._republish(gen);
  }

  _checkGen(gen) {
    if (gen !== this._gen || this._closed) throw new ProtocolError('disconnected', 'superseded by a newer connection');
  }

  /** The connection is gone: tear everything down and join again (new token, socket, transports). */
  _lost(reason) {
    if (this._closed || this.state === 'reconnecting' || this.state === 'connecting') return;
    this._gen += 1;
    this._teardown(reason);
    this._setState('reconnecting');
    // Jittered from the first try: a class that lost the server together does not return at once.
    // (The count of failures was reset by the join that worked, not here: a connection that keeps
    // dropping right after joining backs off as well.)
    this._waitToRetry(null)
      .then(() => this._joinLoop())
      .catch((err) => {
        if (!this._closed) this._emit('error', { error: err, during: 'reconnect' });
      });
  }

  _teardown(reason) {
    this._stopPing();
    for (const timer of Object.values(this._transportTimers)) clearTimeout(timer);
    this._transportTimers = {};
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
    for (const pending of this._pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new ProtocolError('disconnected', `the connection was closed (${reason})`));
    }
    this._pending.clear();
    for (const pc of [this._send, this._recv]) {
      if (pc) {
        pc.onconnectionstatechange = null;
        pc.close();
      }
    }
    this._send = null;
    this._recv = null;
    this._sendChain = Promise.resolve();
    this._recvChain = Promise.resolve();
    for (const entry of this._local.values()) {
      entry.transceiver = null;
      entry.producerId = null;
    }
    for (const consumer of this._consumersById.values()) this._emit('track_ended', { ...consumer, reason });
    this._consumersById = new Map();
    this._consumersByMid = new Map();
  }

  _onSocketClose(gen, event) {
    if (gen !== this._gen || this._closed) return;
    this._ws = null;
    const why = `socket closed (${event.code}${event.reason ? `: ${event.reason}` : ''})`;
    if (this.state === 'connected') {
      this._lost(why);
      return;
    }
    // Still joining: fail the join now; the join loop tries again.
    for (const pending of this._pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new ProtocolError('disconnected', why));
    }
    this._pending.clear();
  }

  // --- messages -----------------------------------------------------------------------------
  _sendMessage(message) {
    const ws = this._ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) throw new ProtocolError('disconnected', 'not connected');
    ws.send(JSON.stringify(message));
  }

  /** Send a message with a fresh `id`; resolves with the reply carrying it, rejects on `error` or timeout. */
  _request(message, timeoutMs = this.options.requestTimeoutMs) {
    const id = this._nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._pending.delete(id);
        reject(new ProtocolError('timeout', `no reply to "${message.type}" in ${timeoutMs} ms`));
      }, timeoutMs);
      this._pending.set(id, { resolve, reject, timer, type: message.type });
      try {
        this._sendMessage({ ...message, id });
      } catch (err) {
        clearTimeout(timer);
        this._pending.delete(id);
        reject(err);
      }
    });
  }

  _onMessage(gen, event) {
    if (gen !== this._gen || this._closed) return;
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      this._emit('error', { error: new ProtocolError('bad_message', 'the server sent something that is not JSON') });
      return;
    }
    if (!message || typeof message !== 'object') return;
    if (message.id !== undefined && message.id !== null && this._pending.has(message.id)) {
      const pending = this._pending.get(message.id);
      this._pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.type === 'error') pending.reject(new ProtocolError(message.code ?? 'internal', message.message, message));
      else pending.resolve(message);
      return;
    }
    switch (message.type) {
      case 'offer':
        this._recvChain = this._recvChain
          .then(() => this._handleOffer(gen, message))
          .catch((err) => {
            if (gen === this._gen && !this._closed) {
              this._emit('error', { error: err, during: 'offer' });
              this._lost(`receive transport: ${err.message}`);
            }
          });
        break;
      case 'participant_joined':
      case 'participant_updated': {
        const participant = message.participant;
        if (participant?.participant_id) this.participants.set(participant.participant_id, participant);
        if (participant?.participant_id === this.participantId && participant.permissions) {
          this._setPermissions(participant.permissions);
        }
        this._emit(message.type, message);
        break;
      }
      case 'participant_left':
        this.participants.delete(message.participant_id);
        for (const [id, producer] of this.producers) if (producer.participant_id === message.participant_id) this.producers.delete(id);
        if (this.activeSpeaker === message.participant_id) this.activeSpeaker = null;
        this._emit(message.type, message);
        break;
      case 'producer_added':
        if (message.producer?.producer_id) this.producers.set(message.producer.producer_id, { muted: false, ...message.producer });
        this._emit(message.type, message);
        break;
      case 'producer_removed':
        this.producers.delete(message.producer_id);
        this._emit(message.type, message);
        break;
      case 'producer_muted': {
        const producer = this.producers.get(message.producer_id);
        if (producer) producer.muted = Boolean(message.muted);
        this._emit(message.type, message);
        break;
      }
      case 'active_speaker':
        this.activeSpeaker = message.participant_id ?? null;
        this._emit(message.type, message);
        break;
      case 'permissions':
        this._setPermissions(message.permissions ?? {});
        break;
      case 'recording':
        this.recording = { ...(this.recording ?? {}), active: Boolean(message.active), record_students: Boolean(message.record_students) };
        this._emit('recording', message);
        break;
      case 'bye':
        this._emit('bye', message);
        this.close(message.reason ?? 'bye', { notify: false });
        break;
      case 'error':
        this._emit('error', { error: new ProtocolError(message.code ?? 'internal', message.message, message) });
        break;
      case 'pong':
        break; // a late answer to a ping that timed out
      default:
        this._emit('message', message);
    }
  }

  _setPermissions(permissions) {
    const before = this.permissions;
    this.permissions = { ...permissions };
    const changed = SOURCES.some((s) => Boolean(before[s]) !== Boolean(this.permissions[s]));
    if (changed) this._emit('permissions', { permissions: { ...this.permissions } });
    // A revoked source: the server closed its producer; stop sending it too.
    for (const source of SOURCES) {
      if (before[source] && !this.permissions[source] && this._local.has(source) && this.role !== 'teacher') {
        const track = this._local.get(source).track;
        this.unpublish(source)
          .catch(() => {})
          .finally(() => this._emit('unpublished', { source, track, reason: 'revoked' }));
      }
    }
  }

  // --- heartbeat ----------------------------------------------------------------------------
  _startPing(gen) {
    this._stopPing();
    this._pingTimer = setInterval(async () => {
      if (gen !== this._gen) return;
      try {
        await this._request({ type: 'ping' });
      } catch (err) {
        if (gen === this._gen && err.code === 'timeout') this._lost('no pong');
      }
    }, this.options.pingIntervalMs);
  }

  _stopPing() {
    clearInterval(this._pingTimer);
    this._pingTimer = null;
  }

  // --- transports ---------------------------------------------------------------------------
  _newTransport(name, gen) {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    pc.onconnectionstatechange = () => {
      if (gen !== this._gen || this._closed) return;
      const state = pc.connectionState;
      this._emit('transport_state', { transport: name, state });
      if (state === 'failed' || state === 'disconnected') {
        if (!this._transportTimers[name]) {
          this._transportTimers[name] = setTimeout(() => {
            delete this._transportTimers[name];
            if (gen === this._gen && ['failed', 'disconnected'].includes(pc.connectionState)) {
              this._lost(`${name} transport ${pc.connectionState}`);
            }
          }, this.options.transportGraceMs);
        }
      } else if (this._transportTimers[name]) {
        clearTimeout(this._transportTimers[name]);
        delete this._transportTimers[name];
      }
    };
    return pc;
  }

  get sendTransport() {
    return this._send;
  }

  get recvTransport() {
    return this._recv;
  }

  // --- receiving ----------------------------------------------------------------------------
  async _handleOffer(gen, message) {
    if (gen !== this._gen || this._closed) return;
    if (!this._recv) this._recv = this._newTransport('recv', gen);
    const pc = this._recv;
    const consumers = Array.isArray(message.consumers) ? message.consumers : [];
    // Map mids first: the browser's own 'track' events fire inside setRemoteDescription.
    this._consumersByMid = new Map(consumers.map((c) => [String(c.mid), c]));
    await pc.setRemoteDescription({ type: 'offer', sdp: message.sdp });
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    await iceGatheringComplete(pc, this.options.iceGatheringTimeoutMs);
    if (gen !== this._gen || this._closed) return;
    this._sendMessage({ type: 'answer', revision: message.revision, sdp: pc.localDescription.sdp });

    const next = new Map(consumers.map((c) => [c.consumer_id, c]));
    const previous = this._consumersById;
    this._consumersById = next;
    for (const [id, consumer] of previous) {
      const now = next.get(id);
      if (!now || String(now.mid) !== String(consumer.mid)) this._emit('track_ended', { ...consumer, reason: 'closed' });
    }
    const transceivers = pc.getTransceivers();
    for (const [id, consumer] of next) {
      const before = previous.get(id);
      if (before && String(before.mid) === String(consumer.mid)) continue;
      const transceiver = transceivers.find((t) => t.mid === String(consumer.mid));
      if (!transceiver) continue;
      this._emit('track', { ...consumer, track: transceiver.receiver.track, receiver: transceiver.receiver });
    }
  }

  /** The consumers of the latest offer: `[{mid, consumer_id, producer_id, participant_id, source, kind}]`. */
  consumers() {
    return [...this._consumersById.values()];
  }

  subscribe(producerIds) {
    return this._request({ type: 'subscribe', producer_ids: producerIds });
  }

  unsubscribe(producerIds) {
    return this._request({ type: 'unsubscribe', producer_ids: producerIds });
  }

  keyframe(producerId) {
    return this._request({ type: 'keyframe', producer_id: producerId });
  }

  // --- publishing ---------------------------------------------------------------------------
  _enqueueSend(task) {
    const run = this._sendChain.then(task);
    this._sendChain = run.catch(() => {});
    return run;
  }

  /** What we publish: `{source: {track, muted, producerId}}`. */
  localSources() {
    return Object.fromEntries([...this._local].map(([source, e]) => [source, { track: e.track, muted: e.muted, producerId: e.producerId }]));
  }

  /**
   * Publish `track` as `source`. Publishing a source again with another track swaps the track
   * (another camera, say) without renegotiating. While disconnected, the track is kept and
   * published on the next join. Rejects with a ProtocolError (`forbidden`, `conflict`...) when
   * the server refuses; nothing is published then.
   */
  async publish(track, source, { muted = false } = {}) {
    if (!SOURCES.includes(source)) throw new ProtocolError('bad_message', `unknown source ${source}`);
    if (track.kind !== SOURCE_KIND[source]) throw new ProtocolError('bad_message', `a ${track.kind} track cannot be ${source}`);
    const existing = this._local.get(source);
    if (existing) {
      if (existing.track !== track) {
        existing.track = track;
        track.enabled = !existing.muted;
        if (existing.transceiver) await existing.transceiver.sender.replaceTrack(track);
      }
      return;
    }
    const entry = { source, track, muted, transceiver: null, producerId: null, gen: 0 };
    track.enabled = !muted;
    this._local.set(source, entry);
    if (this.state !== 'connected') return;
    const gen = this._gen;
    try {
      await this._enqueueSend(() => this._publishEntry(gen, entry));
    } catch (err) {
      if (this._local.get(source) === entry && !['disconnected'].includes(err.code)) this._local.delete(source);
      throw err;
    }
  }

  async _publishEntry(gen, entry) {
    if (gen !== this._gen || this._closed || this._local.get(entry.source) !== entry) return;
    if (entry.transceiver && entry.gen === gen) return; // published already (by a republish)
    if (!this._send) this._send = this._newTransport('send', gen);
    const pc = this._send;
    const kind = SOURCE_KIND[entry.source];
    const used = new Set([...this._local.values()].map((e) => e.transceiver).filter(Boolean));
    let transceiver = pc
      .getTransceivers()
      .find((t) => !used.has(t) && t.currentDirection !== 'stopped' && t.receiver.track.kind === kind);
    if (transceiver) {
      await transceiver.sender.replaceTrack(entry.track);
      transceiver.direction = 'sendonly';
    } else {
      transceiver = pc.addTransceiver(entry.track, { direction: 'sendonly', streams: [this._stream] });
    }
    entry.transceiver = transceiver;
    entry.gen = gen;
    try {
      await this._negotiateSend(gen);
    } catch (err) {
      // A refused publish changes nothing: the transceiver goes back to the pool, idle.
      entry.transceiver = null;
      if (gen === this._gen) {
        await transceiver.sender.replaceTrack(null).catch(() => {});
        try {
          transceiver.direction = 'inactive';
        } catch {
          // the transport is closed
        }
      }
      throw err;
    }
    if (entry.muted && entry.producerId) {
      await this._request({ type: 'mute', source: entry.source, muted: true }).catch((err) =>
        this._emit('error', { error: err, during: 'mute' }),
      );
    }
  }

  async _negotiateSend(gen) {
    const pc = this._send;
    await pc.setLocalDescription(await pc.createOffer());
    await iceGatheringComplete(pc, this.options.iceGatheringTimeoutMs);
    this._checkGen(gen);
    const tracks = [];
    for (const entry of this._local.values()) {
      const t = entry.transceiver;
      if (t && entry.gen === gen && t.mid !== null && t.direction === 'sendonly') tracks.push({ mid: t.mid, source: entry.source });
    }
    let reply;
    try {
      reply = await this._request({ type: 'publish', sdp: pc.localDescription.sdp, tracks });
      this._checkGen(gen);
      await pc.setRemoteDescription({ type: 'answer', sdp: reply.sdp });
    } catch (err) {
      if (gen === this._gen && pc.signalingState === 'have-local-offer') {
        await pc.setLocalDescription({ type: 'rollback' }).catch(() => {});
      }
      throw err;
    }
    const byMid = new Map((reply.producers ?? []).map((p) => [String(p.mid), p]));
    const bySource = new Map((reply.producers ?? []).map((p) => [p.source, p]));
    for (const entry of this._local.values()) {
      const listed = tracks.find((t) => t.source === entry.source);
      const producer = listed ? (byMid.get(String(listed.mid)) ?? bySource.get(entry.source)) : null;
      entry.producerId = producer?.producer_id ?? null;
    }
    return reply;
  }

  /** After a (re)join: publish every local track again, one at a time (a refusal drops only that one). */
  async _republish(gen) {
    for (const entry of [...this._local.values()]) {
      if (gen !== this._gen || this._closed) return;
      if (entry.track.readyState === 'ended') {
        this._local.delete(entry.source);
        continue;
      }
      try {
        await this._enqueueSend(() => this._publishEntry(gen, entry));
      } catch (err) {
        if (gen !== this._gen || this._closed || err.code === 'disconnected' || err.code === 'timeout') return;
        this._local.delete(entry.source);
        this._emit('unpublished', { source: entry.source, track: entry.track, reason: err.code ?? 'refused', error: err });
      }
    }
  }

  /** Stop publishing `source` (the track is not stopped: it is the caller's). */
  async unpublish(source) {
    const entry = this._local.get(source);
    if (!entry) return;
    this._local.delete(source);
    const gen = this._gen;
    if (!entry.transceiver || entry.gen !== gen || this.state !== 'connected') return;
    await this._enqueueSend(async () => {
      if (gen !== this._gen || this._closed) return;
      const transceiver = entry.transceiver;
      entry.transceiver = null;
      await transceiver.sender.replaceTrack(null);
      transceiver.direction = 'inactive';
      await this._negotiateSend(gen);
    });
  }

  /** Mute or unmute a published source: the track is disabled here and the server stops forwarding it. */
  async mute(source, muted) {
    const entry = this._local.get(source);
    if (!entry) throw new ProtocolError('not_found', `${source} is not published`);
    entry.muted = Boolean(muted);
    entry.track.enabled = !entry.muted;
    if (entry.producerId && this.state === 'connected') {
      await this._request({ type: 'mute', source, muted: entry.muted });
    }
  }

  /** Teacher only: start or stop recording the lesson. */
  record(active) {
    return this._request({ type: 'record', active: Boolean(active) });
  }

  /** Teacher only: allow or revoke a participant's source. */
  permit(participantId, source, allowed) {
    return this._request({ type: 'permit', participant_id: participantId, source, allowed: Boolean(allowed) });
  }

  // --- stats --------------------------------------------------------------------------------
  _startStats() {
    if (!this.options.statsKey || !this.options.statsIntervalMs) return;
    this._statsTimer = setInterval(() => this._publishStats(), this.options.statsIntervalMs);
  }

  _stopStats() {
    clearInterval(this._statsTimer);
    this._statsTimer = null;
    if (this.options.statsKey) globalThis[this.options.statsKey] = { inbound: [], outbound: [], state: this.state };
  }

  async _publishStats() {
    if (this._statsBusy) return;
    this._statsBusy = true;
    try {
      globalThis[this.options.statsKey] = await this.stats();
    } catch {
      // a transport closed while we read it: next time
    } finally {
      this._statsBusy = false;
    }
  }

  /** `{inbound, outbound, state, participant_id, candidate_pair}` from both transports' getStats(). */
  async stats() {
    const inbound = [];
    const outbound = [];
    let candidatePair = null;
    const recv = this._recv;
    if (recv) {
      const report = await recv.getStats();
      const midOfTrack = new Map(recv.getTransceivers().map((t) => [t.receiver.track.id, t.mid]));
      for (const s of report.values()) {
        if (s.type !== 'inbound-rtp') continue;
        const mid = s.mid ?? midOfTrack.get(s.trackIdentifier) ?? null;
        const consumer = mid === null ? null : this._consumersByMid.get(String(mid));
        inbound.push({
          mid,
          consumer_id: consumer?.consumer_id ?? null,
          producer_id: consumer?.producer_id ?? null,
          participant_id: consumer?.participant_id ?? null,
          source: consumer?.source ?? null,
          kind: s.kind,
          framesDecoded: s.framesDecoded ?? 0,
          keyFramesDecoded: s.keyFramesDecoded ?? 0,
          pliCount: s.pliCount ?? 0,
          firCount: s.firCount ?? 0,
          nackCount: s.nackCount ?? 0,
          framesDropped: s.framesDropped ?? 0,
          ssrc: s.ssrc,
          frameWidth: s.frameWidth ?? 0,
          frameHeight: s.frameHeight ?? 0,
          codec: report.get(s.codecId)?.mimeType ?? null,
          packetsReceived: s.packetsReceived ?? 0,
          packetsLost: s.packetsLost ?? 0,
          bytesReceived: s.bytesReceived ?? 0,
          audioLevel: s.audioLevel ?? null,
        });
      }
      candidatePair = selectedPair(report);
    }
    const send = this._send;
    if (send) {
      const report = await send.getStats();
      const sourceOfMid = new Map([...this._local.values()].filter((e) => e.transceiver).map((e) => [e.transceiver.mid, e.source]));
      for (const s of report.values()) {
        if (s.type !== 'outbound-rtp') continue;
        outbound.push({
          mid: s.mid ?? null,
          source: sourceOfMid.get(s.mid) ?? null,
          kind: s.kind,
          framesEncoded: s.framesEncoded ?? 0,
          keyFramesEncoded: s.keyFramesEncoded ?? 0,
          pliCount: s.pliCount ?? 0,
          firCount: s.firCount ?? 0,
          nackCount: s.nackCount ?? 0,
          qualityLimitationReason: s.qualityLimitationReason ?? null,
          ssrc: s.ssrc,
          frameWidth: s.frameWidth ?? 0,
          frameHeight: s.frameHeight ?? 0,
          codec: report.get(s.codecId)?.mimeType ?? null,
          packetsSent: s.packetsSent ?? 0,
          bytesSent: s.bytesSent ?? 0,
        });
      }
      candidatePair ??= selectedPair(report);
    }
    return { inbound, outbound, state: this.state, participant_id: this.participantId, candidate_pair: candidatePair };
  }
}

function selectedPair(report) {
  for (const s of report.values()) {
    if (s.type !== 'transport' || !s.selectedCandidatePairId) continue;
    const pair = report.get(s.selectedCandidatePairId);
    const local = pair && report.get(pair.localCandidateId);
    const remote = pair && report.get(pair.remoteCandidateId);
    if (!pair) return null;
    return {
      state: pair.state,
      local: local ? `${local.address ?? local.ip}:${local.port}` : null,
      remote: remote ? `${remote.address ?? remote.ip}:${remote.port}` : null,
    };
  }
  return null;
}
