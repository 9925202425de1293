// The board of another room, for the teacher: a breakout group's board looked at and drawn on from
// the board panel while the teacher stays in the main room. It looks to the board's view (toolbar,
// canvas, input) like the lesson client does for the teacher's own board: `board` (its own mirror,
// lesson-board.js), `boardOp`, `boardInk`, `boardPointer`, `boardAllow` (naming that board), and
// the board events. It reads the board with `board_get` (from then on its ink comes too), follows
// its ops and re-reads it after a reconnection.

import { Emitter } from './emitter.js';
import { BoardState } from './lesson-board.js';

export class OtherBoard extends Emitter {
  /** @param {import('./protocol.js').LessonClient} client @param {string} boardId a group's id */
  constructor(client, boardId) {
    super();
    this.client = client;
    this.boardId = boardId;
    this.state = new BoardState((type, detail) => this.emit(type, detail), () => client.userId, () => true);
    this.state.id = boardId;
    this.loaded = false;
    this.early = [];
    this.stopped = false;
    this.offs = [
      client.on('board_elsewhere', ({ message }) => this.receive(message)),
      client.on('joined', () => this.load().catch(() => {})),
    ];
  }

  get board() {
    return this.state;
  }

  get staff() {
    return this.client.staff;
  }

  get userId() {
    return this.client.userId;
  }

  get role() {
    return this.client.role;
  }

  get participants() {
    return this.client.participants;
  }

  get room() {
    return this.client.room;
  }

  /** Read the board (`board_get`); events that came while it was read are applied after it. */
  async load() {
    this.loaded = false;
    this.early = [];
    const reply = await this.client.boardGet(this.boardId);
    if (this.stopped) return;
    this.state.replace(reply.board);
    this.loaded = true;
    const early = this.early;
    this.early = [];
    early.forEach((message) => this.state.apply(message));
  }

  receive(message) {
    if (this.stopped || message.board !== this.boardId) return;
    if (!this.loaded) this.early.push(message);
    else this.state.apply(message);
  }

  async boardOp(op) {
    const reply = await this.client.boardOp(op, { board: this.boardId });
    const ops = Array.isArray(reply?.ops) ? reply.ops : [];
    ops.forEach((applied, i) => this.state.receive({ seq: reply.seq - ops.length + 1 + i, by: this.userId, op: applied }));
    return reply;
  }

  boardInk(stroke, { page } = {}) {
    return this.client.boardInk(stroke, { page, board: this.boardId });
  }

  boardPointer(x, y) {
    return this.client.boardPointer(x, y, { board: this.boardId });
  }

  boardAllow(everyone, userIds = []) {
    return this.client.boardAllow(everyone, userIds, { board: this.boardId });
  }

  stop() {
    this.stopped = true;
    this.offs.forEach((off) => off());
    this.state.reset();
  }
}
