// Drawing on the board with a mouse, a pen or a finger (Pointer Events): strokes (with the pen's
// pressure, every coalesced point), lines, arrows, rectangles, ellipses, text (a <textarea> over
// the page, so a Vietnamese input method composes as usual), selecting to move or resize, and the
// teacher's laser pointer. While a stroke is drawn its new points go out as `board_ink` at most
// ~30 times a second; the finished stroke is one `add`. My own drawing is drawn segment by
// segment in animation frames, never the whole page per event.

import { h } from './dom.js';
import { bounds, drawObject, drawSegment, hits } from './board-canvas.js';
import { PAGE_WIDTH } from './lesson-board.js';

const INK_INTERVAL_MS = 40; // the server relays ~30 a second and drops the rest
const INK_MAX_POINTS = 200;
const STROKE_MAX_POINTS = 5000;
const POINTER_INTERVAL_MS = 40;
const HANDLE = 18; // the resize handle's half size, in CSS pixels
export const DRAWING_TOOLS = new Set(['pen', 'highlighter', 'line', 'arrow', 'rect', 'ellipse', 'text', 'select', 'laser']);
const SHAPES = new Set(['line', 'arrow', 'rect', 'ellipse']);

/** A new object id: random base36. */
export function newId() {
  return `${Math.random().toString(36).slice(2, 10)}${Date.now().toString(36).slice(-5)}`;
}

const round = (v) => Math.round(v * 10) / 10;

/** `object` moved by (dx, dy): the fields an `update` sets. */
export function movedFields(object, dx, dy) {
  switch (object.type) {
    case 'stroke':
    case 'highlighter':
      return { points: object.points.map(([x, y, p]) => [round(x + dx), round(y + dy), p ?? 0.5]) };
    case 'text':
      return { x: round(object.x + dx), y: round(object.y + dy) };
    case 'image':
      return { x: round(object.x + dx), y: round(object.y + dy), w: object.w, h: object.h };
    default:
      return { x1: round(object.x1 + dx), y1: round(object.y1 + dy), x2: round(object.x2 + dx), y2: round(object.y2 + dy) };
  }
}

/** `object` scaled from its box's top-left corner by (sx, sy): the fields an `update` sets. */
export function resizedFields(object, box, sx, sy) {
  const fx = (x) => round(box.x + (x - box.x) * sx);
  const fy = (y) => round(box.y + (y - box.y) * sy);
  switch (object.type) {
    case 'stroke':
    case 'highlighter':
      return { points: object.points.map(([x, y, p]) => [fx(x), fy(y), p ?? 0.5]) };
    case 'text':
      return { size: Math.max(8, Math.min(200, Math.round((Number(object.size) || 32) * sy))) };
    case 'image':
      return { x: object.x, y: object.y, w: round(object.w * sx), h: round(object.h * sy) };
    default:
      return { x1: fx(object.x1), y1: fy(object.y1), x2: fx(object.x2), y2: fy(object.y2) };
  }
}

export class BoardInput {
  /**
   * @param {{canvas, client, box: HTMLElement, tool: () => string, color: () => string,
   *   width: () => number, onError: (err) => void, onSelect: () => void}} view
   */
  constructor(view) {
    this.view = view;
    this.canvas = view.canvas;
    this.client = view.client;
    this.gesture = null;
    this.selected = null; // object id
    this.moving = null; // {id, fields}: a moved object until its update comes back
    this.myPointer = null;
    this.pointerSent = 0;
    this.pointerTimer = null;
    this.textBox = null;
    const target = this.canvas.draw;
    target.addEventListener('pointerdown', (e) => this.down(e));
    target.addEventListener('pointermove', (e) => this.move(e));
    target.addEventListener('pointerup', (e) => this.up(e));
    target.addEventListener('pointercancel', (e) => this.up(e, true));
    target.addEventListener('pointerleave', () => this.leave());
    this.canvas.overlays.push((ctx) => this.drawOverlay(ctx));
  }

  get board() {
    return this.client.board;
  }

  get page() {
    return this.canvas.page;
  }

  get tool() {
    return this.view.tool();
  }

  /** The current page changed: anything in progress there is dropped. */
  reset() {
    this.cancelText();
    this.gesture = null;
    this.selected = null;
    this.canvas.clearDraw();
    this.canvas.requestInk();
  }

  down(event) {
    const tool = this.tool;
    if (!DRAWING_TOOLS.has(tool) || !this.page || !this.board.canDraw) return;
    if (event.pointerType === 'mouse' && event.button !== 0) return;
    if (tool === 'laser') {
      this.laser(event);
      return;
    }
    event.preventDefault();
    if (this.gesture) return; // one finger draws; a second is ignored
    const [x, y] = this.canvas.toPage(event);
    if (tool === 'text') {
      this.openText(x, y);
      return;
    }
    this.canvas.draw.setPointerCapture?.(event.pointerId);
    const pageId = this.page.id;
    if (tool === 'pen' || tool === 'highlighter') {
      this.gesture = { kind: 'stroke', pointerId: event.pointerId, pageId, object: this.newStroke(tool, [x, y, this.pressure(event)]), drawn: 1, unsent: [], sentAt: 0 };
      this.gesture.unsent.push(this.gesture.object.points[0]);
      this.frame();
    } else if (SHAPES.has(tool)) {
      this.gesture = { kind: 'shape', pointerId: event.pointerId, pageId, object: { id: newId(), type: tool, x1: round(x), y1: round(y), x2: round(x), y2: round(y), color: this.view.color(), width: this.view.width(), fill: null } };
    } else if (tool === 'select') {
      this.startSelect(event, x, y, pageId);
    }
  }

  newStroke(tool, point) {
    const width = tool === 'highlighter' ? Math.min(64, this.view.width() * 4) : this.view.width();
    return { id: newId(), type: tool === 'pen' ? 'stroke' : 'highlighter', points: [point], color: this.view.color(), width };
  }

  pressure(event) {
    // A mouse reports 0.5 while pressed; a finger often 0 or 1 without meaning it.
    if (event.pointerType !== 'pen') return 0.5;
    return Math.round(Math.max(0.05, Math.min(1, event.pressure || 0.5)) * 100) / 100;
  }

  move(event) {
    if (this.tool === 'laser') {
      if (event.pointerType === 'mouse' || event.buttons) this.laser(event);
      return;
    }
    const g = this.gesture;
    if (!g || g.pointerId !== event.pointerId) return;
    event.preventDefault();
    if (g.kind === 'stroke') {
      const events = typeof event.getCoalescedEvents === 'function' ? event.getCoalescedEvents() : [];
      for (const e of events.length ? events : [event]) {
        const [x, y] = this.canvas.toPage(e);
        const last = g.object.points.at(-1);
        if (Math.abs(last[0] - x) < 0.5 && Math.abs(last[1] - y) < 0.5) continue;
        const point = [round(x), round(y), this.pressure(e)];
        g.object.points.push(point);
        g.unsent.push(point);
      }
      if (g.object.points.length >= STROKE_MAX_POINTS) {
        // A very long stroke is stored as two: the first ends here, the next starts from here.
        const last = g.object.points.at(-1);
        this.finishStroke(g);
        const next = this.newStroke(this.tool, last);
        this.gesture = { ...g, object: next, drawn: 1, unsent: [last], sentAt: 0 };
      }
      this.sendInk();
      this.frame();
    } else if (g.kind === 'shape') {
      const [x, y] = this.canvas.toPage(event);
      g.object.x2 = round(x);
      g.object.y2 = round(y);
      this.frame();
    } else if (g.kind === 'move' || g.kind === 'resize') {
      const [x, y] = this.canvas.toPage(event);
      g.x = x;
      g.y = y;
      this.canvas.requestInk();
    }
  }

  up(event, cancelled = false) {
    if (this.tool === 'laser' && event.pointerType !== 'mouse') this.laserOff();
    const g = this.gesture;
    if (!g || g.pointerId !== event.pointerId) return;
    this.gesture = null;
    cancelAnimationFrame(this.drawFrame);
    this.drawFrame = 0;
    if (g.kind === 'stroke') {
      if (cancelled && g.object.points.length < 2) {
        this.canvas.clearDraw();
        return;
      }
      this.finishStroke(g);
    } else if (g.kind === 'shape') {
      this.canvas.clearDraw();
      const o = g.object;
      if (cancelled || Math.hypot(o.x2 - o.x1, o.y2 - o.y1) < 3) return;
      this.addObject(g.pageId, o);
    } else if (g.kind === 'move' || g.kind === 'resize') {
      if (cancelled) {
        this.endMove(g.id);
        return;
      }
      this.finishMove(g);
    }
  }

  leave() {
    if (this.tool === 'laser') this.laserOff();
  }

  /** Draw my gesture in the next animation frame: only the segments added since the last one. */
  frame() {
    if (this.drawFrame) return;
    this.drawFrame = requestAnimationFrame(() => {
      this.drawFrame = 0;
      const g = this.gesture;
      if (!g) return;
      if (g.kind === 'stroke' && g.object.type === 'stroke') {
        const ctx = this.canvas.context(this.canvas.draw);
        ctx.strokeStyle = g.object.color;
        const pts = g.object.points;
        if (g.drawn === 1 && pts.length === 1) drawSegment(ctx, pts[0], [pts[0][0] + 0.01, pts[0][1], pts[0][2]], g.object.width);
        for (let i = Math.max(1, g.drawn); i < pts.length; i += 1) drawSegment(ctx, pts[i - 1], pts[i], g.object.width);
        g.drawn = pts.length;
      } else {
        // A highlighter (see-through: its path is drawn once) or a shape: this layer only.
        const ctx = this.canvas.clearDraw();
        drawObject(ctx, g.object);
      }
    });
  }

  /** Send the stroke's new points (with the last one sent, so the pieces join), ~30 a second. */
  sendInk(force = false) {
    const g = this.gesture;
    if (!g || g.kind !== 'stroke' || !g.unsent.length) return;
    const now = performance.now();
    if (!force && now - g.sentAt < INK_INTERVAL_MS) {
      if (!g.inkTimer) g.inkTimer = setTimeout(() => { g.inkTimer = null; if (this.gesture === g) this.sendInk(true); }, INK_INTERVAL_MS);
      return;
    }
    g.sentAt = now;
    const points = g.unsent.splice(0, INK_MAX_POINTS);
    const o = g.object;
    this.client.boardInk({ id: o.id, type: o.type, points, color: o.color, width: o.width }, { page: g.pageId }).catch(() => {});
    if (g.unsent.length) g.unsent.unshift(points.at(-1));
  }

  finishStroke(g) {
    clearTimeout(g.inkTimer);
    const object = g.object;
    this.canvas.clearDraw();
    this.addObject(g.pageId, object);
  }

  /** Add my object: drawn at once, then sent; a refusal takes it away again. */
  addObject(pageId, object) {
    const onPage = this.page?.id === pageId;
    if (onPage) this.canvas.predraw(object);
    this.client.boardOp({ kind: 'add', page: pageId, object }).catch((err) => {
      if (this.canvas.predrawn.delete(object.id)) this.canvas.redraw();
      this.view.onError(err);
    });
  }

  // --- select, move, resize ------------------------------------------------------------------
  selectedObject() {
    return this.selected ? this.page?.objects.get(this.selected) ?? null : null;
  }

  /** The object under (x, y), the topmost first. */
  objectAt(x, y) {
    const objects = [...(this.page?.objects.values() ?? [])];
    const slop = 10 / (this.canvas.cssScale || 1);
    for (let i = objects.length - 1; i >= 0; i -= 1) if (hits(objects[i], x, y, slop)) return objects[i];
    return null;
  }

  onHandle(x, y) {
    const object = this.selectedObject();
    if (!object) return false;
    const b = bounds(object);
    const r = HANDLE / (this.canvas.cssScale || 1);
    return Math.abs(x - (b.x + b.w)) <= r && Math.abs(y - (b.y + b.h)) <= r;
  }

  startSelect(event, x, y, pageId) {
    let kind = 'move';
    let object = null;
    if (this.onHandle(x, y)) {
      kind = 'resize';
      object = this.selectedObject();
    } else {
      object = this.objectAt(x, y);
    }
    this.selected = object?.id ?? null;
    this.view.onSelect();
    if (!object) {
      this.canvas.requestInk();
      return;
    }
    this.gesture = { kind, pointerId: event.pointerId, pageId, id: object.id, object: { ...object }, box: bounds(object), x0: x, y0: y, x, y };
    this.canvas.hidden.add(object.id);
    this.canvas.redraw();
  }

  /** The fields the gesture sets on its object now. */
  gestureFields(g) {
    if (g.kind === 'move') return movedFields(g.object, g.x - g.x0, g.y - g.y0);
    const b = g.box;
    const sx = Math.max(0.05, (b.w + g.x - g.x0) / (b.w || 1));
    const sy = Math.max(0.05, (b.h + g.y - g.y0) / (b.h || 1));
    return resizedFields(g.object, b, sx, sy);
  }

  finishMove(g) {
    if (Math.hypot(g.x - g.x0, g.y - g.y0) < 1) {
      this.endMove(g.id);
      return;
    }
    const set = this.gestureFields(g);
    this.moving = { id: g.id, object: { ...g.object, ...set } };
    this.canvas.requestInk();
    this.client.boardOp({ kind: 'update', page: g.pageId, id: g.id, set }).catch((err) => {
      this.endMove(g.id);
      this.view.onError(err);
    });
  }

  /** The moved object's update came back (or failed): drawn in its page again. */
  endMove(id) {
    if (this.moving?.id === id) this.moving = null;
    if (this.canvas.hidden.delete(id)) this.canvas.redraw();
  }

  /** The selection on the ink layer: a dashed box with the resize handle. */
  drawOverlay(ctx) {
    const g = this.gesture;
    let object = null;
    if (g && (g.kind === 'move' || g.kind === 'resize')) object = { ...g.object, ...this.gestureFields(g) };
    else if (this.moving) object = this.moving.object;
    if (object) drawObject(ctx, object, { onImage: () => this.canvas.redraw() });
    const selected = object ?? this.selectedObject();
    if (selected && this.tool === 'select') {
      const b = bounds(selected);
      const k = 1 / (this.canvas.cssScale || 1);
      ctx.save();
      ctx.strokeStyle = '#1d4ed8';
      ctx.lineWidth = 1.5 * k;
      ctx.setLineDash([6 * k, 4 * k]);
      ctx.strokeRect(b.x, b.y, b.w, b.h);
      ctx.setLineDash([]);
      ctx.fillStyle = '#ffffff';
      const r = 6 * k;
      ctx.fillRect(b.x + b.w - r, b.y + b.h - r, 2 * r, 2 * r);
      ctx.strokeRect(b.x + b.w - r, b.y + b.h - r, 2 * r, 2 * r);
      ctx.restore();
    }
    if (this.myPointer) drawLaser(ctx, this.myPointer, k0(this.canvas));
  }

  /** Delete the selected object. */
  deleteSelected() {
    const object = this.selectedObject();
    if (!object || !this.page) return null;
    this.selected = null;
    this.view.onSelect();
    this.canvas.requestInk();
    return this.client.boardOp({ kind: 'delete', page: this.page.id, ids: [object.id] });
  }

  // --- the laser pointer -------------------------------------------------------------------
  laser(event) {
    const [x, y] = this.canvas.toPage(event);
    this.myPointer = { x, y };
    this.canvas.requestInk();
    const now = performance.now();
    clearTimeout(this.pointerTimer);
    if (now - this.pointerSent >= POINTER_INTERVAL_MS) {
      this.pointerSent = now;
      this.client.boardPointer(round(x), round(y)).catch(() => {});
    } else {
      this.pointerTimer = setTimeout(() => this.laser(event), POINTER_INTERVAL_MS);
    }
  }

  laserOff() {
    clearTimeout(this.pointerTimer);
    if (!this.myPointer) return;
    this.myPointer = null;
    this.canvas.requestInk();
    this.client.boardPointer(null, null).catch(() => {});
  }

  // --- text --------------------------------------------------------------------------------
  /** A <textarea> over the page at (x, y): a new text, or the text object under it to edit. */
  openText(x, y) {
    this.cancelText();
    const hit = this.objectAt(x, y);
    const editing = hit?.type === 'text' ? hit : null;
    const size = editing ? Number(editing.size) || 32 : Math.max(8, Math.min(200, 16 + this.view.width() * 4));
    const at = editing ? [editing.x, editing.y] : [x, y];
    const color = editing?.color ?? this.view.color();
    const k = this.canvas.cssScale;
    const box = h('textarea', {
      class: 'board-text-input',
      rows: '1',
      maxlength: '2000',
      'aria-label': this.view.textLabel(),
      spellcheck: 'false',
    });
    box.value = editing?.text ?? '';
    Object.assign(box.style, {
      left: `${at[0] * k}px`,
      top: `${at[1] * k}px`,
      fontSize: `${Math.max(10, size * k)}px`,
      color,
    });
    const state = { box, pageId: this.page.id, editing, x: round(at[0]), y: round(at[1]), size, color, done: false };
    this.textBox = state;
    box.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.commitText();
      } else if (event.key === 'Escape') {
        event.preventDefault();
        this.cancelText();
      }
    });
    box.addEventListener('input', () => this.fitText(box));
    box.addEventListener('blur', () => this.commitText());
    if (editing) {
      this.canvas.hidden.add(editing.id);
      this.canvas.redraw();
    }
    this.view.box.append(box);
    this.fitText(box);
    // Focused after the pointer's own focus handling, so the box keeps it.
    setTimeout(() => box.focus(), 0);
  }

  fitText(box) {
    box.style.height = 'auto';
    box.style.height = `${box.scrollHeight}px`;
    box.style.width = 'auto';
    box.style.width = `${Math.max(60, box.scrollWidth + 8)}px`;
  }

  /** The text is committed: an `add`, an `update` of its text, or a `delete` when emptied. */
  commitText() {
    const state = this.textBox;
    if (!state || state.done) return;
    state.done = true;
    this.textBox = null;
    const text = state.box.value.replace(/\s+$/u, '');
    state.box.remove();
    const { editing, pageId } = state;
    const restore = () => {
      if (editing && this.canvas.hidden.delete(editing.id)) this.canvas.redraw();
    };
    let sent = null;
    if (editing) {
      if (text === editing.text) restore();
      else if (!text) sent = this.client.boardOp({ kind: 'delete', page: pageId, ids: [editing.id] });
      else sent = this.client.boardOp({ kind: 'update', page: pageId, id: editing.id, set: { text } });
      sent?.then(restore, (err) => { restore(); this.view.onError(err); });
    } else if (text) {
      this.addObject(pageId, { id: newId(), type: 'text', x: state.x, y: state.y, text: text.slice(0, 2000), size: state.size, color: state.color });
    }
  }

  cancelText() {
    const state = this.textBox;
    if (!state) return;
    state.done = true;
    this.textBox = null;
    state.box.remove();
    if (state.editing && this.canvas.hidden.delete(state.editing.id)) this.canvas.redraw();
  }
}

function k0(canvas) {
  return 1 / (canvas.cssScale || 1);
}

/** The laser pointer: a red dot with a soft glow, its size in CSS pixels. */
export function drawLaser(ctx, pointer, unitsPerPixel) {
  const r = 7 * unitsPerPixel;
  ctx.save();
  ctx.fillStyle = 'rgb(239 35 60 / 30%)';
  ctx.beginPath();
  ctx.arc(pointer.x, pointer.y, r * 2.2, 0, Math.PI * 2);
  ctx.fill();
  ctx.fillStyle = '#ef233c';
  ctx.beginPath();
  ctx.arc(pointer.x, pointer.y, r, 0, Math.PI * 2);
  ctx.fill();
  ctx.restore();
}

export { PAGE_WIDTH };
