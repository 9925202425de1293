// The board part of the lesson mirror ("Bảng"): the board of the room you are in, as the `joined`
// reply and the server's events last described it. Like LessonState it sends nothing and touches
// no DOM. It applies concrete operations exactly as the server does (add, update, delete, clear,
// add_page, remove_page, turn, show), in the server's order (`seq`), and emits one event per change:
//
//   board {board}            the whole board was replaced (joined, moved to another room, read again)
//   board_op {op, seq, by, page}   one concrete operation was applied (`page`: the page it touched)
//   board_allow {allow}      who may draw changed
//   board_ink {ink}          a stroke being drawn by someone (not stored)
//   board_ink_end {key}      a stroke being drawn is over (its `add` came, or it went quiet)
//   board_pointer {pointer}  the teacher's laser pointer moved (null: gone)

export const PAGE_WIDTH = 1600;
export const PAGE_HEIGHT = 900;
export const MAX_PAGE_HEIGHT = 3200;
const INK_QUIET_MS = 4000;
const GAP_WAIT_MS = 1500;

/** A page's height in page units (width 1600). */
export function pageHeight(page) {
  const height = Number(page?.height);
  return Number.isFinite(height) && height > 0 ? Math.min(height, MAX_PAGE_HEIGHT) : PAGE_HEIGHT;
}

function makePage(page) {
  const objects = new Map();
  const list = Array.isArray(page?.objects) ? page.objects : Object.values(page?.objects ?? {});
  for (const object of list) if (object?.id !== undefined) objects.set(object.id, object);
  return {
    id: String(page?.id ?? ''),
    background: page?.background ?? { kind: 'blank' },
    height: pageHeight(page),
    objects,
  };
}

export class BoardState {
  /**
   * @param {(type: string, detail: object) => void} emit
   * @param {() => number|null} myUserId
   * @param {() => boolean} isStaff
   */
  constructor(emit, myUserId, isStaff) {
    this.emit = emit;
    this.myUserId = myUserId;
    this.isStaff = isStaff;
    this.reset();
  }

  reset() {
    /** The board's id ("main" or a group's id); null before the first join. */
    this.id = null;
    /** Pages in order: `{id, background, height, objects: Map(id -> object) in z-order}`. */
    this.pages = [makePage({ id: 'p1' })];
    this.current = 0;
    this.shown = false;
    this.seq = 0;
    this.allow = { everyone: false, user_ids: [] };
    /** `${user_id}:${id}` -> `{key, user_id, id, type, points, color, width, at}`: strokes being drawn. */
    this.inks = new Map();
    /** The laser pointer `{x, y, user_id}` or null. */
    this.pointer = null;
    /** seq -> operation event that came before one it follows. */
    this.waiting = new Map();
    clearTimeout(this.gapTimer);
    this.gapTimer = null;
  }

  /** Whether this page's user may draw on the board now. */
  get canDraw() {
    if (this.isStaff()) return true;
    const me = this.myUserId();
    return Boolean(this.allow.everyone) || (me !== null && (this.allow.user_ids ?? []).includes(me));
  }

  /** The page shown to everyone. */
  get page() {
    return this.pages[Math.min(Math.max(this.current, 0), this.pages.length - 1)] ?? null;
  }

  pageById(id) {
    return this.pages.find((p) => p.id === id) ?? null;
  }

  /** The `joined` reply's board (or none). */
  applyJoined(joined) {
    if (joined.board && typeof joined.board === 'object') this.replace(joined.board);
  }

  /** A whole board (`joined.board`, a `board` event, `board_get`'s reply) replaces what we knew. */
  replace(board) {
    const inks = this.inks;
    this.reset();
    this.id = board.board ?? board.id ?? null;
    const pages = Array.isArray(board.pages) && board.pages.length ? board.pages : [{ id: 'p1' }];
    this.pages = pages.map(makePage);
    this.current = Number.isInteger(board.current) ? board.current : 0;
    this.shown = Boolean(board.shown);
    this.seq = Number(board.seq) || 0;
    this.setAllow(board.allow, { quiet: true });
    for (const key of inks.keys()) this.emit('board_ink_end', { key });
    this.emit('board', { board: this });
  }

  /** Apply a server event; false when it is not the board's. */
  apply(message) {
    if (message.type !== 'board' && this.id !== null && message.board !== undefined && message.board !== this.id) this.emit('board_elsewhere', { message });
    switch (message.type) {
      case 'board':
        // Another room's board a staff member looked at, sent again: theirs is not replaced.
        if (message.elsewhere) this.emit('board_elsewhere', { message });
        else this.replace(message);
        return true;
      case 'board_op':
        if (this.id !== null && message.board !== undefined && message.board !== this.id) return true;
        this.receive(message);
        return true;
      case 'board_allow':
        if (this.id !== null && message.board !== undefined && message.board !== this.id) return true;
        this.setAllow(message);
        return true;
      case 'board_ink':
        if (this.id !== null && message.board !== undefined && message.board !== this.id) return true;
        this.ink(message);
        return true;
      case 'board_pointer':
        if (this.id !== null && message.board !== undefined && message.board !== this.id) return true;
        this.pointer = message.x === null || message.x === undefined ? null : { x: Number(message.x), y: Number(message.y), user_id: message.user_id ?? null };
        this.emit('board_pointer', { pointer: this.pointer });
        return true;
      default:
        return false;
    }
  }

  setAllow(allow, { quiet = false } = {}) {
    this.allow = { everyone: Boolean(allow?.everyone), user_ids: Array.isArray(allow?.user_ids) ? allow.user_ids.map(Number) : [] };
    if (!quiet) this.emit('board_allow', { allow: this.allow });
  }

  /**
   * One operation event `{seq, by, at, op}`, or one of the reply to our own request. Applied in
   * `seq` order: one that comes early waits for those before it (a while; then it is applied).
   */
  receive(event) {
    const seq = Number(event.seq);
    if (!Number.isFinite(seq) || !event.op) return;
    if (seq <= this.seq) return; // already applied (our own reply, then its event)
    if (seq > this.seq + 1) {
      this.waiting.set(seq, event);
      if (!this.gapTimer) this.gapTimer = setTimeout(() => this.flush(true), GAP_WAIT_MS);
      return;
    }
    this.applyEvent(event);
    this.flush(false);
  }

  /** Apply the operations waiting for their turn; `force`: skip a gap that never filled. */
  flush(force) {
    clearTimeout(this.gapTimer);
    this.gapTimer = null;
    while (this.waiting.size) {
      let next = this.waiting.get(this.seq + 1);
      if (!next && force) next = this.waiting.get(Math.min(...this.waiting.keys()));
      if (!next) break;
      this.waiting.delete(Number(next.seq));
      this.applyEvent(next);
    }
    for (const seq of [...this.waiting.keys()]) if (seq <= this.seq) this.waiting.delete(seq);
    if (this.waiting.size) this.gapTimer = setTimeout(() => this.flush(true), GAP_WAIT_MS);
  }

  applyEvent(event) {
    this.seq = Number(event.seq);
    let page = null;
    try {
      page = this.applyOp(event.op);
    } catch (err) {
      console.warn('lophoc: board operation', event.op, err);
      return;
    }
    if (event.op.kind === 'add' && event.op.object) this.endInk(`${event.by}:${event.op.object.id}`);
    this.emit('board_op', { op: event.op, seq: this.seq, by: event.by ?? null, at: event.at ?? null, page });
  }

  /** Apply one concrete operation; returns the page it touched (or null). */
  applyOp(op) {
    switch (op.kind) {
      case 'add': {
        const page = this.pageById(op.page);
        if (!page || !op.object?.id) return null;
        page.objects.delete(op.object.id);
        const at = Number.isInteger(op.at) ? op.at : page.objects.size;
        if (at >= page.objects.size) {
          page.objects.set(op.object.id, { ...op.object });
        } else {
          // Put back under others (an undone delete): its old place in the z-order.
          const items = [...page.objects.entries()];
          items.splice(Math.max(0, at), 0, [op.object.id, { ...op.object }]);
          page.objects = new Map(items);
        }
        return page;
      }
      case 'update': {
        const page = this.pageById(op.page);
        const object = page?.objects.get(op.id);
        if (!object) return page;
        page.objects.set(op.id, { ...object, ...(op.set ?? {}) });
        return page;
      }
      case 'delete': {
        const page = this.pageById(op.page);
        for (const id of op.ids ?? []) page?.objects.delete(id);
        return page;
      }
      case 'clear': {
        const page = this.pageById(op.page);
        page?.objects.clear();
        return page;
      }
      case 'add_page': {
        const page = makePage(op.page);
        if (this.pageById(page.id)) return null;
        const at = Number.isInteger(op.at) ? Math.min(Math.max(op.at, 0), this.pages.length) : this.pages.length;
        this.pages.splice(at, 0, page);
        if (this.pages.length > 1 && at <= this.current) this.current += 1; // the page shown stays shown
        return page;
      }
      case 'remove_page': {
        const index = this.pages.findIndex((p) => p.id === op.page);
        if (index < 0) return null;
        const [page] = this.pages.splice(index, 1);
        if (index < this.current || this.current >= this.pages.length) this.current = Math.max(0, this.current - 1);
        return page;
      }
      case 'turn':
        this.current = Math.min(Math.max(Number(op.index) || 0, 0), Math.max(0, this.pages.length - 1));
        return this.page;
      case 'show':
        this.shown = Boolean(op.active);
        return null;
      default:
        return null;
    }
  }

  /** A stroke being drawn (`{user_id, page, stroke: {id, type, points, color, width}}`): its
   * points are added to what came before under the same id. */
  ink(message) {
    const stroke = message.stroke ?? {};
    if (stroke.id === undefined) return;
    const key = `${message.user_id}:${stroke.id}`;
    const points = Array.isArray(stroke.points) ? stroke.points : [];
    const ink = this.inks.get(key) ?? { key, user_id: message.user_id ?? null, id: stroke.id, points: [] };
    ink.type = stroke.type === 'highlighter' ? 'highlighter' : 'stroke';
    ink.page = message.page ?? ink.page ?? this.page?.id ?? null;
    ink.points = ink.points.concat(points).slice(-5000);
    ink.color = stroke.color ?? ink.color;
    ink.width = stroke.width ?? ink.width;
    clearTimeout(ink.timer);
    ink.timer = setTimeout(() => this.endInk(key), INK_QUIET_MS);
    this.inks.set(key, ink);
    this.emit('board_ink', { ink, added: points.length });
  }

  endInk(key) {
    const ink = this.inks.get(key);
    if (!ink) return;
    clearTimeout(ink.timer);
    this.inks.delete(key);
    this.emit('board_ink_end', { key });
  }
}
