// The live lesson protocol client (docs/protocol.md), kept apart from the UI: no DOM here, the
// page draws, this module talks. It is made of three parts, each in its own module:
//
//   lesson-connection.js  the WebSocket: media token, join, retry with backoff, request/reply, ping
//   lesson-state.js       the mirror of the lesson: participants, producers, permissions,
//                         recording, your room and the breakout groups; emits one event per change
//   lesson-media.js       the two WebRTC transports, what we publish, what we receive, stats
//
//   const client = new LessonClient(lessonId);
//   client.on('track', ({ track, participant_id, source }) => ...);
//   await client.connect();                  // media token, WebSocket, join
//   await client.publish(micTrack, 'mic', { muted: true });
//   await client.mute('mic', false);
//
// Events: state, joined, participant_joined, participant_left, participant_updated,
// producer_added, producer_removed, producer_muted, active_speaker, permissions, recording,
// room, breakouts, breakouts_ending, notice, track, track_ended, unpublished, transport_state,
// bye, error, retry, waiting (the room is locked: wait for the teacher), message (any other
// server message); the classroom's (lesson-classroom.js): chat, chat_deleted, chat_blocked,
// chat_policy, question, hands, hand_lowered, floor, reactions, poll, poll_counts, poll_results,
// lock, waiting_list, lesson_ending, lesson_times, muted; the board's (lesson-board.js): board,
// board_op, board_allow, board_ink, board_ink_end, board_pointer.

import { Emitter } from './emitter.js';
import { LessonConnection, ProtocolError, STATES } from './lesson-connection.js';
import { LessonMedia, SOURCE_KIND, iceGatheringComplete } from './lesson-media.js';
import { LessonState, MAIN_ROOM, SOURCES } from './lesson-state.js';

export { REACTIONS } from './lesson-classroom.js';
export { MAIN_ROOM, ProtocolError, SOURCES, SOURCE_KIND, STATES, iceGatheringComplete };

const DEFAULTS = {
  requestTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
  pingIntervalMs: 10_000,
  transportGraceMs: 3_000,
  iceGatheringTimeoutMs: 5_000,
  backoffBaseMs: 1_000, // the first wait is up to 1 s, then up to 2, 4, 8... (plus the server's retry-after)
  backoffCapMs: 30_000,
  // getStats() figures put on globalThis[statsKey] every statsIntervalMs, for tests and diagnostics
  // only: off unless a key is given (reading both transports' stats costs the page CPU).
  statsIntervalMs: 250,
  statsKey: null,
};

export class LessonClient extends Emitter {
  /**
   * @param {number|string} lessonId
   * @param {object} [options] see DEFAULTS; `getToken: async () => token` replaces the
   *   `POST /api/lessons/{id}/media-token` call; `autoSubscribe: false` joins without subscriptions.
   */
  constructor(lessonId, options = {}) {
    super();
    this.lessonId = lessonId;
    this.options = { ...DEFAULTS, ...options };
    const emit = (type, detail) => this.emit(type, detail);
    this.lessonState = new LessonState(emit);
    this.conn = new LessonConnection(lessonId, this.options, emit, {
      joined: (joined) => this.lessonState.applyJoined(joined),
      afterJoin: (gen) => this.media.republish(gen),
      message: (gen, message) => this._onMessage(gen, message),
      teardown: (reason) => this.media.teardown(reason),
    });
    this.media = new LessonMedia(this.conn, this.lessonState, emit);
    // A revoked source: the server closed its producer; stop sending it too.
    this.on('permissions', ({ permissions, before }) => this.media.revoked(before ?? {}, permissions));
  }

  // --- what the lesson is (lesson-state.js) ----------------------------------------------------
  get state() {
    return this.conn.state;
  }

  get participantId() {
    return this.lessonState.participantId;
  }

  get role() {
    return this.lessonState.role;
  }

  get lesson() {
    return this.lessonState.lesson;
  }

  get permissions() {
    return this.lessonState.permissions;
  }

  get iceServers() {
    return this.lessonState.iceServers;
  }

  get participants() {
    return this.lessonState.participants;
  }

  get producers() {
    return this.lessonState.producers;
  }

  get activeSpeaker() {
    return this.lessonState.activeSpeaker;
  }

  get recording() {
    return this.lessonState.recording;
  }

  /** The room you are in: `{id, name, ends_at, allow}`. */
  get room() {
    return this.lessonState.room;
  }

  /** The breakout groups (teacher and observers): `{groups, ends_at, allow, help_calls, listening}`. */
  get breakouts() {
    return this.lessonState.breakouts;
  }

  /** Chat, questions, hands, reactions, polls, moderation (lesson-classroom.js). */
  get classroom() {
    return this.lessonState.classroom;
  }

  /** The board of the room you are in (lesson-board.js). */
  get board() {
    return this.lessonState.board;
  }

  /** This page's user id. */
  get userId() {
    return this.lessonState.userId;
  }

  /** Teacher or observer. */
  get staff() {
    return this.lessonState.staff;
  }

  // --- connecting (lesson-connection.js) -------------------------------------------------------
  /** Join the lesson; resolves on the first `joined`, retrying transient failures with backoff. */
  async connect() {
    const connecting = this.conn.connect();
    this.media.startStats();
    await connecting;
  }

  /** Leave: close the socket and both transports. Local tracks are the caller's to stop. */
  close(reason = 'left', { notify = true } = {}) {
    if (this.conn.closed) return;
    this.conn.close(reason, { notify });
    this.media.stopStats();
  }

  _onMessage(gen, message) {
    if (message.type === 'offer') {
      this.media.onOffer(gen, message);
      return;
    }
    if (message.type === 'bye') {
      this.emit('bye', message);
      this.close(message.reason ?? 'bye', { notify: false });
      return;
    }
    if (!this.lessonState.apply(message)) this.emit('message', message);
  }

  /** Send a request and wait for its reply (for what has no method of its own). */
  request(message) {
    return this.conn.request(message);
  }

  // --- media (lesson-media.js) -----------------------------------------------------------------
  get sendTransport() {
    return this.media.sendTransport;
  }

  get recvTransport() {
    return this.media.recvTransport;
  }

  /** The consumers of the latest offer: `[{mid, consumer_id, producer_id, participant_id, source, kind}]`. */
  consumers() {
    return this.media.consumers();
  }

  subscribe(producerIds) {
    return this.media.subscribe(producerIds);
  }

  unsubscribe(producerIds) {
    return this.media.unsubscribe(producerIds);
  }

  keyframe(producerId) {
    return this.media.keyframe(producerId);
  }

  /** What we publish: `{source: {track, muted, producerId}}`. */
  localSources() {
    return this.media.localSources();
  }

  /** Publish `track` as `source` (see LessonMedia.publish). */
  publish(track, source, options) {
    return this.media.publish(track, source, options);
  }

  unpublish(source) {
    return this.media.unpublish(source);
  }

  mute(source, muted) {
    return this.media.mute(source, muted);
  }

  stats() {
    return this.media.stats();
  }

  // --- the teacher's commands ------------------------------------------------------------------
  /** Teacher only: start or stop recording the lesson. */
  record(active) {
    return this.conn.request({ type: 'record', active: Boolean(active) });
  }

  /** Teacher only: allow or revoke a participant's source. */
  permit(participantId, source, allowed) {
    return this.conn.request({ type: 'permit', participant_id: participantId, source, allowed: Boolean(allowed) });
  }

  /** A breakout command; the reply's `breakouts` is the new state of the groups. */
  async _breakouts(message) {
    const reply = await this.conn.request(message);
    if (reply?.breakouts) this.lessonState.applyBreakouts(reply.breakouts);
    return reply;
  }

  /** Teacher: start group work. `groups: [{name, user_ids}]`, `durationS` null for no end, `allow: {mic, camera, screen}`. */
  breakoutsStart(groups, { durationS = null, allow = {} } = {}) {
    return this._breakouts({ type: 'breakouts_start', groups, duration_s: durationS, allow });
  }

  /** Teacher: move students into a group now (`"main"` brings them back). */
  breakoutsMove(groupId, userIds) {
    return this._breakouts({ type: 'breakouts_move', group_id: groupId, user_ids: userIds });
  }

  /** Teacher: everyone back to the main room. */
  breakoutsEnd() {
    return this._breakouts({ type: 'breakouts_end' });
  }

  /** Teacher: a message to every group. */
  breakoutsNotice(text) {
    return this._breakouts({ type: 'breakouts_notice', text });
  }

  /** Teacher: hear a group without joining it (null stops). */
  listen(groupId) {
    return this._breakouts({ type: 'listen', group_id: groupId });
  }

  /** Teacher: be heard in a group without joining it (null stops). */
  speak(groupId) {
    return this._breakouts({ type: 'speak', group_id: groupId });
  }

  /** Teacher: receive one camera of each group (its latest speaker's) for the grid. */
  overview(active) {
    return this._breakouts({ type: 'overview', active: Boolean(active) });
  }

  /** Teacher: move into a group (null: back to the main room). */
  visit(groupId) {
    return this._breakouts({ type: 'visit', group_id: groupId });
  }

  /** Teacher: turn a group's recording on or off (off by default: its students are not recorded). */
  breakoutsRecord(groupId, active) {
    return this._breakouts({ type: 'breakouts_record', group_id: groupId, active: Boolean(active) });
  }

  /** Teacher: clear a group's call for help. */
  helpDismiss(groupId) {
    return this._breakouts({ type: 'help_dismiss', group_id: groupId });
  }

  /** Student: raise (or lower) the group's call for the teacher. */
  help(active) {
    return this.conn.request({ type: 'help', active: Boolean(active) });
  }

  // --- the classroom (chat, questions, hands, reactions, polls, moderation) -------------------
  /** A request whose reply may carry the new state of a question, a poll or a chat message. */
  async _classroom(message) {
    const reply = await this.conn.request(message);
    this.classroom.applyReply(reply);
    return reply;
  }

  /** Chat: `to` a user id for a private message (null: the room's chat); `room` (staff) a group's chat. */
  sendChat(text, { to = null, room } = {}) {
    const message = { type: 'chat', text, to };
    if (room) message.room = room;
    return this._classroom(message);
  }

  /** Staff: delete a chat message. */
  deleteChat(messageId) {
    return this.conn.request({ type: 'chat_delete', message_id: messageId });
  }

  /** Staff: stop (or allow again) a student's chat. */
  blockChat(userId, blocked) {
    return this.conn.request({ type: 'chat_block', user_id: userId, blocked: Boolean(blocked) });
  }

  /** Staff: may students write privately to each other. */
  setChatPolicy(privateBetweenStudents) {
    return this.conn.request({ type: 'chat_policy', private_between_students: Boolean(privateBetweenStudents) });
  }

  /** Ask a question. */
  ask(text) {
    return this._classroom({ type: 'question_ask', text });
  }

  /** Vote a question up (or take the vote back). */
  async vote(questionId, vote) {
    const reply = await this._classroom({ type: 'question_vote', question_id: questionId, vote: Boolean(vote) });
    this.classroom.setVote(questionId, vote);
    return reply;
  }

  /** Staff: answer a question in writing (`text`) or say it was answered aloud (`live`). */
  answerQuestion(questionId, { text = null, live = false } = {}) {
    const message = { type: 'question_answer', question_id: questionId, live: Boolean(live) };
    if (text) message.text = text;
    return this._classroom(message);
  }

  /** Staff: a question's status: open, done or hidden. */
  setQuestionStatus(questionId, status) {
    return this._classroom({ type: 'question_status', question_id: questionId, status });
  }

  /** Student: raise the hand. */
  raiseHand() {
    return this.conn.request({ type: 'hand', raised: true });
  }

  /** Student: lower the own hand; staff: lower a student's hand (`userId`), or everyone's (null). */
  lowerHand(userId) {
    if (userId === undefined) return this.conn.request({ type: 'hand', raised: false });
    return this.conn.request({ type: 'hand_lower', user_id: userId });
  }

  /** Teacher: give a student the floor (lowers their hand, allows their microphone). */
  giveFloor(userId) {
    return this.conn.request({ type: 'floor', user_id: userId });
  }

  /** Student: the current reaction (understood, confused, thumbs_up), or null to clear it. */
  async react(reaction) {
    const reply = await this.conn.request({ type: 'react', reaction: reaction ?? null });
    this.classroom.setMyReaction(reaction ?? null);
    return reply;
  }

  /** Staff: clear every reaction. */
  clearReactions() {
    return this.conn.request({ type: 'reactions_clear' });
  }

  /** Teacher: make a poll (the REST body's shape); `open` launches it at once, else it is kept as a draft. */
  createPoll(poll, { open = true } = {}) {
    return this._classroom({ type: 'poll_create', poll, open: Boolean(open) });
  }

  openPoll(pollId) {
    return this._classroom({ type: 'poll_open', poll_id: pollId });
  }

  closePoll(pollId) {
    return this._classroom({ type: 'poll_close', poll_id: pollId });
  }

  publishPoll(pollId) {
    return this._classroom({ type: 'poll_publish', poll_id: pollId });
  }

  /** Student: answer (or change the answer) while the poll is open: `{choices}`, `{text}` or `{number}`. */
  async answerPoll(pollId, answer) {
    const reply = await this.conn.request({ type: 'poll_answer', poll_id: pollId, ...answer });
    this.classroom.setMyAnswer(pollId, reply?.answer ?? answer);
    return reply;
  }

  /** Staff: `mute_all` or `cameras_off`. */
  moderate(action) {
    return this.conn.request({ type: 'moderate', action });
  }

  /** Staff: lock the room (students who were not in it wait to be admitted) or open it. */
  lock(locked) {
    return this.conn.request({ type: 'lock', locked: Boolean(locked) });
  }

  /** Staff: let a waiting student in, or turn them away. */
  admit(userId, admit = true) {
    return this.conn.request({ type: 'admit', user_id: userId, admit: Boolean(admit) });
  }

  /** Staff: send a student out of the lesson (they wait to be admitted if they come back). */
  remove(userId) {
    return this.conn.request({ type: 'remove', user_id: userId });
  }

  /** Staff: end the lesson for everyone. */
  endLesson() {
    return this.conn.request({ type: 'end_lesson' });
  }

  /** Teacher: give the lesson `minutes` more. */
  extend(minutes) {
    return this.conn.request({ type: 'extend', minutes });
  }

  // --- the board ("Bảng") ---------------------------------------------------------------------
  /** Change the board (`board`: staff may name a group's); the reply's concrete ops are applied at once. */
  async boardOp(op, { board } = {}) {
    const message = { type: 'board_op', op };
    if (board) message.board = board;
    const reply = await this.conn.request(message);
    const ops = Array.isArray(reply?.ops) ? reply.ops : [];
    if (!board || board === this.board.id) {
      ops.forEach((applied, i) => this.board.receive({ seq: reply.seq - ops.length + 1 + i, by: this.userId, op: applied }));
    }
    return reply;
  }

  /** New points of a stroke being drawn (`stroke`: {id, type, points, color, width}) on `page`,
   * shown live to the others and not stored; the reply says whether it was relayed. */
  boardInk(stroke, { page, board } = {}) {
    const message = { type: 'board_ink', stroke };
    if (page) message.page = page;
    if (board) message.board = board;
    return this.conn.request(message);
  }

  /** Staff: the laser pointer at (x, y) in page units, or gone (null). */
  boardPointer(x, y, { board } = {}) {
    const message = { type: 'board_pointer', x, y };
    if (board) message.board = board;
    return this.conn.request(message);
  }

  /** Staff: who may draw on the board. */
  boardAllow(everyone, userIds = [], { board } = {}) {
    const message = { type: 'board_allow', everyone: Boolean(everyone), user_ids: userIds };
    if (board) message.board = board;
    return this.conn.request(message);
  }

  /** Staff: a board as `joined` describes it (`board`: "main" or a group's id). */
  boardGet(board) {
    return this.conn.request({ type: 'board_get', board });
  }
}
