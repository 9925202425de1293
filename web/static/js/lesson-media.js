// The media of a live lesson (docs/protocol.md): the send transport (we offer; it carries what
// we publish) and the receive transport (the server offers; one consumer per m-line), what we
// publish (local sources, republished after every join), and getStats() figures for tests and
// diagnostics (polled only when asked for: options.statsKey). Signaling goes through the
// connection (lesson-connection.js); the room's state (ICE servers, our participant id) comes
// from the lesson-state mirror.
//
// Events: track, track_ended, unpublished, transport_state, error.

import { ProtocolError } from './lesson-connection.js';
import { SOURCES } from './lesson-state.js';

export const SOURCE_KIND = { mic: 'audio', camera: 'video', screen: 'video', 'screen-audio': 'audio' };

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

export class LessonMedia {
  /**
   * @param {import('./lesson-connection.js').LessonConnection} conn
   * @param {import('./lesson-state.js').LessonState} lesson
   * @param {(type: string, detail: object) => void} emit
   */
  constructor(conn, lesson, emit) {
    this.conn = conn;
    this.lesson = lesson;
    this.emit = emit;
    this._local = new Map(); // source -> { source, track, muted, transceiver, producerId, gen }
    this._stream = new MediaStream(); // the msid all our tracks share
    this._send = null;
    this._recv = null;
    this._sendChain = Promise.resolve();
    this._recvChain = Promise.resolve();
    this._consumersByMid = new Map();
    this._consumersById = new Map();
    this._transportTimers = {};
    this._statsTimer = null;
    this._statsBusy = false;
  }

  /** The connection is gone: close both transports; every consumer's track ends. */
  teardown(reason) {
    for (const timer of Object.values(this._transportTimers)) clearTimeout(timer);
    this._transportTimers = {};
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
    for (const consumer of this._consumersById.values()) this.emit('track_ended', { ...consumer, reason });
    this._consumersById = new Map();
    this._consumersByMid = new Map();
  }

  /** An `offer` for the receive transport: answered in order, one at a time. */
  onOffer(gen, message) {
    this._recvChain = this._recvChain
      .then(() => this._handleOffer(gen, message))
      .catch((err) => {
        if (this.conn.isCurrent(gen)) {
          this.emit('error', { error: err, during: 'offer' });
          this.conn.lost(`receive transport: ${err.message}`);
        }
      });
  }

  /** Your permissions lost a source: the server closed its producer; stop sending it too. */
  revoked(before, permissions) {
    for (const source of SOURCES) {
      if (before[source] && !permissions[source] && this._local.has(source) && this.lesson.role !== 'teacher') {
        const track = this._local.get(source).track;
        this.unpublish(source)
          .catch(() => {})
          .finally(() => this.emit('unpublished', { source, track, reason: 'revoked' }));
      }
    }
  }

  // --- transports ---------------------------------------------------------------------------
  _newTransport(name, gen) {
    const pc = new RTCPeerConnection({ iceServers: this.lesson.iceServers, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    pc.onconnectionstatechange = () => {
      if (gen !== this.conn.gen || this.conn.closed) return;
      const state = pc.connectionState;
      this.emit('transport_state', { transport: name, state });
      if (state === 'failed' || state === 'disconnected') {
        if (!this._transportTimers[name]) {
          this._transportTimers[name] = setTimeout(() => {
            delete this._transportTimers[name];
            if (gen === this.conn.gen && ['failed', 'disconnected'].includes(pc.connectionState)) {
              this.conn.lost(`${name} transport ${pc.connectionState}`);
            }
          }, this.conn.options.transportGraceMs);
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
    if (gen !== this.conn.gen || this.conn.closed) return;
    if (!this._recv) this._recv = this._newTransport('recv', gen);
    const pc = this._recv;
    const consumers = Array.isArray(message.consumers) ? message.consumers : [];
    // Map mids first: the browser's own 'track' events fire inside setRemoteDescription.
    this._consumersByMid = new Map(consumers.map((c) => [String(c.mid), c]));
    await pc.setRemoteDescription({ type: 'offer', sdp: message.sdp });
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    await iceGatheringComplete(pc, this.conn.options.iceGatheringTimeoutMs);
    if (gen !== this.conn.gen || this.conn.closed) return;
    this.conn.send({ type: 'answer', revision: message.revision, sdp: pc.localDescription.sdp });

    const next = new Map(consumers.map((c) => [c.consumer_id, c]));
    const previous = this._consumersById;
    this._consumersById = next;
    for (const [id, consumer] of previous) {
      const now = next.get(id);
      if (!now || String(now.mid) !== String(consumer.mid)) this.emit('track_ended', { ...consumer, reason: 'closed' });
    }
    const transceivers = pc.getTransceivers();
    for (const [id, consumer] of next) {
      const before = previous.get(id);
      if (before && String(before.mid) === String(consumer.mid)) continue;
      const transceiver = transceivers.find((t) => t.mid === String(consumer.mid));
      if (!transceiver) continue;
      this.emit('track', { ...consumer, track: transceiver.receiver.track, receiver: transceiver.receiver });
    }
  }

  /** The consumers of the latest offer: `[{mid, consumer_id, producer_id, participant_id, source, kind}]`. */
  consumers() {
    return [...this._consumersById.values()];
  }

  subscribe(producerIds) {
    return this.conn.request({ type: 'subscribe', producer_ids: producerIds });
  }

  unsubscribe(producerIds) {
    return this.conn.request({ type: 'unsubscribe', producer_ids: producerIds });
  }

  keyframe(producerId) {
    return this.conn.request({ type: 'keyframe', producer_id: producerId });
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
    if (this.conn.state !== 'connected') return;
    const gen = this.conn.gen;
    try {
      await this._enqueueSend(() => this._publishEntry(gen, entry));
    } catch (err) {
      if (this._local.get(source) === entry && !['disconnected'].includes(err.code)) this._local.delete(source);
      throw err;
    }
  }

  async _publishEntry(gen, entry) {
    if (gen !== this.conn.gen || this.conn.closed || this._local.get(entry.source) !== entry) return;
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
      if (gen === this.conn.gen) {
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
      await this.conn.request({ type: 'mute', source: entry.source, muted: true }).catch((err) =>
        this.emit('error', { error: err, during: 'mute' }),
      );
    }
  }

  async _negotiateSend(gen) {
    const pc = this._send;
    await pc.setLocalDescription(await pc.createOffer());
    await iceGatheringComplete(pc, this.conn.options.iceGatheringTimeoutMs);
    this.conn.checkGen(gen);
    const tracks = [];
    for (const entry of this._local.values()) {
      const t = entry.transceiver;
      if (t && entry.gen === gen && t.mid !== null && t.direction === 'sendonly') tracks.push({ mid: t.mid, source: entry.source });
    }
    let reply;
    try {
      reply = await this.conn.request({ type: 'publish', sdp: pc.localDescription.sdp, tracks });
      this.conn.checkGen(gen);
      await pc.setRemoteDescription({ type: 'answer', sdp: reply.sdp });
    } catch (err) {
      if (gen === this.conn.gen && pc.signalingState === 'have-local-offer') {
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
  async republish(gen) {
    for (const entry of [...this._local.values()]) {
      if (gen !== this.conn.gen || this.conn.closed) return;
      if (entry.track.readyState === 'ended') {
        this._local.delete(entry.source);
        continue;
      }
      try {
        await this._enqueueSend(() => this._publishEntry(gen, entry));
      } catch (err) {
        if (gen !== this.conn.gen || this.conn.closed || err.code === 'disconnected' || err.code === 'timeout') return;
        this._local.delete(entry.source);
        this.emit('unpublished', { source: entry.source, track: entry.track, reason: err.code ?? 'refused', error: err });
      }
    }
  }

  /** Stop publishing `source` (the track is not stopped: it is the caller's). */
  async unpublish(source) {
    const entry = this._local.get(source);
    if (!entry) return;
    this._local.delete(source);
    const gen = this.conn.gen;
    if (!entry.transceiver || entry.gen !== gen || this.conn.state !== 'connected') return;
    await this._enqueueSend(async () => {
      if (gen !== this.conn.gen || this.conn.closed) return;
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
    if (entry.producerId && this.conn.state === 'connected') {
      await this.conn.request({ type: 'mute', source, muted: entry.muted });
    }
  }

  // --- stats --------------------------------------------------------------------------------
  /** Publish stats() on globalThis[statsKey] every statsIntervalMs: only when the options name a key. */
  startStats() {
    if (this._statsTimer) return;
    if (!this.conn.options.statsKey || !this.conn.options.statsIntervalMs) return;
    this._statsTimer = setInterval(() => this._publishStats(), this.conn.options.statsIntervalMs);
  }

  stopStats() {
    clearInterval(this._statsTimer);
    this._statsTimer = null;
    if (this.conn.options.statsKey) globalThis[this.conn.options.statsKey] = { inbound: [], outbound: [], state: this.conn.state };
  }

  async _publishStats() {
    if (this._statsBusy) return;
    this._statsBusy = true;
    try {
      globalThis[this.conn.options.statsKey] = await this.stats();
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
    return { inbound, outbound, state: this.conn.state, participant_id: this.lesson.participantId, candidate_pair: candidatePair };
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
