// What the live room shows, asked of the lesson's state, what we receive and what we publish:
// who is in your room, their media state, which video track shows whom, what goes on the stage.
// It keeps the received tracks (by consumer) and emits `remote` when they change; the panels
// ask it and draw.

import { Emitter } from './emitter.js';
import { byRoleAndName } from './live-parts.js';

export class Scene extends Emitter {
  /**
   * @param {import('./protocol.js').LessonClient} client
   * @param {import('./live-local-media.js').LocalMedia} local
   */
  constructor(client, local) {
    super();
    this.client = client;
    this.local = local;
    this.remote = new Map(); // consumer_id -> { track, producer_id, participant_id, source, kind }
    this.removedProducers = new Set(); // closed producers whose consumer the next offer ends
    client.on('producer_removed', ({ producer_id: id }) => this.removedProducers.add(id));
    client.on('track', (consumer) => {
      if (consumer.participant_id === client.participantId) return; // never play ourselves back
      this.remote.set(consumer.consumer_id, consumer);
      this.emit('remote', { added: consumer });
    });
    client.on('track_ended', (consumer) => {
      this.remote.delete(consumer.consumer_id);
      this.emit('remote', { ended: consumer });
    });
  }

  participant(id) {
    return this.client.participants.get(id) ?? null;
  }

  isMe(id) {
    return id === this.client.participantId;
  }

  /** Whether `participant` is in the room you are in (the teacher hears of every room). */
  inMyRoom(participant) {
    return this.client.lessonState.roomOf(participant) === this.client.room.id;
  }

  /** The participants of your room, teacher first. */
  people() {
    return [...this.client.participants.values()].filter((p) => this.inMyRoom(p)).sort(byRoleAndName);
  }

  /** Everyone the lesson tells you of (the teacher: every room), teacher first. */
  everyone() {
    return [...this.client.participants.values()].sort(byRoleAndName);
  }

  /** The remote video track of `participantId`'s `source`, if we receive it. */
  remoteVideo(participantId, source) {
    for (const c of this.remote.values()) {
      if (c.participant_id === participantId && c.source === source && c.kind === 'video' && !this.removedProducers.has(c.producer_id)) {
        return c.track;
      }
    }
    return null;
  }

  /** `{mic, camera, screen, any}` of a participant: true when on (published and not muted). */
  mediaState(participantId) {
    if (this.isMe(participantId)) {
      const l = this.local.tracks;
      return {
        mic: Boolean(l.mic) && !this.local.micMuted,
        camera: Boolean(l.camera),
        screen: Boolean(l.screen),
        any: Boolean(l.mic || l.camera || l.screen),
      };
    }
    const state = { mic: false, camera: false, screen: false, any: false };
    for (const p of this.client.producers.values()) {
      if (p.participant_id !== participantId) continue;
      state.any = true;
      if (p.source in state) state[p.source] = !p.muted;
    }
    return state;
  }

  /** The lesson's teacher, when in your room. */
  teacher() {
    for (const p of this.client.participants.values()) if (p.role === 'teacher' && this.inMyRoom(p)) return p;
    return null;
  }

  /** The stage: the teacher's camera and a shared screen (the teacher's first), with their owners. */
  stageTracks() {
    const teacher = this.teacher();
    let camera = null;
    if (this.client.role === 'teacher') camera = this.local.tracks.camera;
    else if (teacher) camera = this.remoteVideo(teacher.participant_id, 'camera');
    let screen = null;
    let screenOwner = null;
    if (this.local.tracks.screen) {
      screen = this.local.tracks.screen;
      screenOwner = this.client.participantId;
    } else {
      const candidates = [...this.remote.values()].filter(
        (c) => c.source === 'screen' && c.kind === 'video' && !this.removedProducers.has(c.producer_id) && this.inMyRoom(this.participant(c.participant_id)),
      );
      candidates.sort((a, b) => (this.participant(b.participant_id)?.role === 'teacher') - (this.participant(a.participant_id)?.role === 'teacher'));
      if (candidates.length) {
        screen = candidates[0].track;
        screenOwner = candidates[0].participant_id;
      }
    }
    return { teacher, camera, screen, screenOwner };
  }
}
