// What the page knows of the live lesson, as the server last described it: who is here
// (participants), what they publish (producers), who speaks, your permissions, the recording,
// the room you are in and, for the teacher, the breakout groups. It applies server messages and
// emits one event per change; it sends nothing and touches no DOM.
//
// Events: participant_joined, participant_left, participant_updated, producer_added,
// producer_removed, producer_muted, active_speaker, permissions ({permissions, before}),
// recording, room, breakouts, breakouts_ending, notice; and those of the classroom part
// (lesson-classroom.js: chat, questions, hands, reactions, polls, moderation, the lesson's times).

import { ClassroomState } from './lesson-classroom.js';
import { BoardState } from './lesson-board.js';

export const SOURCES = ['mic', 'camera', 'screen', 'screen-audio'];
export const MAIN_ROOM = 'main';

const NO_BREAKOUTS = Object.freeze({ groups: [], ends_at: null, allow: null, help_calls: [], listening: null, speaking_to: null, overview: false });

export class LessonState {
  /** @param {(type: string, detail: object) => void} emit */
  constructor(emit) {
    this.emit = emit;
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
    this.recording = null;
    /** The room you are in: `{id, name, ends_at, allow}` (`id` "main" outside the groups). */
    this.room = { id: MAIN_ROOM, name: null, ends_at: null, allow: null };
    /** The teacher's (and observers') view of every group: the last `breakouts` state. */
    this.breakouts = NO_BREAKOUTS;
    /** `{in_s, until}` once the server warns that the groups end soon; null otherwise. */
    this.ending = null;
    /** The teacher's messages to the groups, oldest first: `{text, from, at}`. */
    this.notices = [];
    /** Chat, questions, hands, reactions, polls and the room's moderation. */
    this.classroom = new ClassroomState(emit, () => this.userId);
    /** The board of the room you are in (lesson-board.js). */
    this.board = new BoardState(emit, () => this.userId, () => this.staff);
  }

  /** The user id of this page (null before the first join). */
  get userId() {
    return this._userId ?? this.participants.get(this.participantId)?.user_id ?? null;
  }

  /** Teacher or observer. */
  get staff() {
    return this.role === 'teacher' || this.role === 'observer';
  }

  /** A (re)join: everything is as the `joined` reply says. */
  applyJoined(joined) {
    this.participantId = joined.participant_id;
    this.role = joined.role;
    this.lesson = joined.lesson ?? null;
    this.permissions = { ...(joined.permissions ?? {}) };
    this.iceServers = Array.isArray(joined.ice_servers) ? joined.ice_servers : [];
    this.participants = new Map((joined.participants ?? []).map((p) => [p.participant_id, p]));
    this.producers = new Map((joined.producers ?? []).map((p) => [p.producer_id, { muted: false, ...p }]));
    this.recording = joined.recording ?? null;
    this.activeSpeaker = null;
    const me = this.participants.get(this.participantId);
    this._userId = joined.user_id ?? me?.user_id ?? null;
    const room = typeof joined.room === 'object' && joined.room ? joined.room : { room: joined.room ?? me?.room ?? MAIN_ROOM };
    this._setRoom(room);
    if (joined.breakouts) this.applyBreakouts(joined.breakouts);
    this.classroom.applyJoined(joined);
    this.board.applyJoined(joined);
  }

  /** The participant `id`, or null. */
  participant(id) {
    return this.participants.get(id) ?? null;
  }

  /** The room of a participant (the server's `room`, "main" when it says nothing). */
  roomOf(participant) {
    return participant?.room ?? MAIN_ROOM;
  }

  get inGroup() {
    return this.room.id !== MAIN_ROOM;
  }

  /** Apply a server event; false when it is not one of the lesson's state. */
  apply(message) {
    switch (message.type) {
      case 'participant_joined':
      case 'participant_updated': {
        const participant = message.participant;
        if (participant?.participant_id) this.participants.set(participant.participant_id, participant);
        if (participant?.participant_id === this.participantId && participant.permissions) {
          this.setPermissions(participant.permissions);
        }
        this.emit(message.type, message);
        return true;
      }
      case 'participant_left':
        this.participants.delete(message.participant_id);
        for (const [id, producer] of this.producers) if (producer.participant_id === message.participant_id) this.producers.delete(id);
        if (this.activeSpeaker === message.participant_id) this.activeSpeaker = null;
        this.emit(message.type, message);
        return true;
      case 'producer_added':
        if (message.producer?.producer_id) this.producers.set(message.producer.producer_id, { muted: false, ...message.producer });
        this.emit(message.type, message);
        return true;
      case 'producer_removed':
        this.producers.delete(message.producer_id);
        this.emit(message.type, message);
        return true;
      case 'producer_muted': {
        const producer = this.producers.get(message.producer_id);
        if (producer) producer.muted = Boolean(message.muted);
        this.emit(message.type, message);
        return true;
      }
      case 'active_speaker':
        this.activeSpeaker = message.participant_id ?? null;
        this.emit(message.type, message);
        return true;
      case 'permissions':
        this.setPermissions(message.permissions ?? {});
        return true;
      case 'recording':
        this.recording = { ...(this.recording ?? {}), active: Boolean(message.active), record_students: Boolean(message.record_students) };
        if ('wanted' in message) this.recording.wanted = Boolean(message.wanted);
        this.emit('recording', message);
        return true;
      case 'room':
        this.applyRoom(message);
        return true;
      case 'breakouts':
        this.applyBreakouts(message);
        return true;
      case 'breakouts_ending': {
        const seconds = Number(message.in_s) || 0;
        this.ending = { in_s: seconds, until: Date.now() + seconds * 1000 };
        this.emit('breakouts_ending', message);
        return true;
      }
      case 'notice':
        this.notices = [...this.notices, { text: String(message.text ?? ''), from: message.from ?? null, at: Date.now() }].slice(-20);
        this.emit('notice', message);
        return true;
      default:
        return this.classroom.apply(message) || this.board.apply(message);
    }
  }

  /** Your permissions changed: emits `permissions` with what they were before, when they differ. */
  setPermissions(permissions) {
    const before = this.permissions;
    this.permissions = { ...permissions };
    const changed = SOURCES.some((s) => Boolean(before[s]) !== Boolean(this.permissions[s]));
    if (changed) this.emit('permissions', { permissions: { ...this.permissions }, before });
  }

  /** You were moved: the room's people and media replace what you knew. */
  applyRoom(message) {
    const previous = this.room.id;
    if (Array.isArray(message.participants)) {
      this.participants = new Map(message.participants.map((p) => [p.participant_id, p]));
    }
    if (Array.isArray(message.producers)) {
      this.producers = new Map(message.producers.map((p) => [p.producer_id, { muted: false, ...p }]));
    }
    if (this.activeSpeaker && !this.participants.has(this.activeSpeaker)) this.activeSpeaker = null;
    this._setRoom(message);
    if (this.room.id !== previous) {
      this.ending = null;
      if (!this.inGroup) this.notices = [];
    }
    this.emit('room', { ...message, previous });
  }

  _setRoom(message) {
    const id = message.room ?? MAIN_ROOM;
    this.room = {
      id,
      name: id === MAIN_ROOM ? null : (message.name ?? null),
      ends_at: message.ends_at ?? null,
      allow: message.allow ?? null,
    };
  }

  /** The groups as the server last described them (`{groups: []}` when none run). */
  applyBreakouts(state) {
    this.breakouts = {
      groups: Array.isArray(state?.groups) ? state.groups : [],
      ends_at: state?.ends_at ?? null,
      allow: state?.allow ?? null,
      help_calls: Array.isArray(state?.help_calls) ? state.help_calls : [],
      listening: state?.listening ?? null,
      speaking_to: state?.speaking_to ?? null,
      overview: Boolean(state?.overview),
    };
    if (!this.breakouts.groups.length) this.ending = null;
    this.emit('breakouts', this.breakouts);
  }
}
