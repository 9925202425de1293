// Drawing a board page on <canvas> elements, sharp on any screen (devicePixelRatio). Three layers:
//   base  the background (blank, grid, lined, a slide's image) and the page's objects; an added
//         object is drawn on top of what is there, anything else redraws the page once
//   ink   what moves: strokes others are drawing, the laser pointer, the selection (redrawn in the
//         next animation frame after a change, never per event)
//   draw  my own stroke while I draw it, segment by segment
// Page space is 1600 units wide (lesson-board.js); the canvases scale it to their CSS width.

import { h } from './dom.js';
import { PAGE_WIDTH, pageHeight } from './lesson-board.js';

const GRID = 50;
const images = new Map(); // url -> {img, ready, failed, waiters:Set}

/** The URL of a slide's page image (`index` from 0, the URL's page number from 1). */
export function slidePageUrl(slideId, index) {
  return `/api/board/slides/${encodeURIComponent(slideId)}/pages/${Number(index) + 1}.png`;
}

/** A slide image, loaded once; `onReady` is called when it arrives (if it was not ready). */
function slideImage(slideId, index, onReady) {
  const url = slidePageUrl(slideId, index);
  let entry = images.get(url);
  if (!entry) {
    const img = new Image();
    entry = { img, ready: false, failed: false, waiters: new Set() };
    images.set(url, entry);
    const done = (failed) => {
      entry.ready = !failed;
      entry.failed = failed;
      for (const fn of entry.waiters) fn();
      entry.waiters.clear();
    };
    img.addEventListener('load', () => done(false));
    img.addEventListener('error', () => done(true));
    img.src = url;
  }
  if (!entry.ready && !entry.failed && onReady) entry.waiters.add(onReady);
  return entry.ready ? entry.img : null;
}

/** The line width of a stroke's segment at `pressure` (a mouse gives 0.5: the stroke's width). */
function pressureWidth(width, pressure) {
  const p = Number.isFinite(pressure) ? pressure : 0.5;
  return Math.max(0.5, width * (0.4 + 1.2 * p));
}

function strokePath(ctx, points) {
  ctx.beginPath();
  ctx.moveTo(points[0][0], points[0][1]);
  if (points.length === 1) ctx.lineTo(points[0][0] + 0.01, points[0][1]);
  for (let i = 1; i < points.length; i += 1) ctx.lineTo(points[i][0], points[i][1]);
}

/** Draw one board object in page units on `ctx` (its transform maps page units to pixels). */
export function drawObject(ctx, object, { onImage } = {}) {
  const type = object.type;
  ctx.save();
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  ctx.strokeStyle = object.color ?? '#000000';
  ctx.fillStyle = object.color ?? '#000000';
  const width = Number(object.width) || 4;
  if (type === 'stroke' || type === 'highlighter') {
    const points = object.points ?? [];
    if (points.length) {
      if (type === 'highlighter') {
        ctx.globalAlpha = 0.35;
        ctx.lineWidth = width;
        ctx.lineCap = 'butt';
        strokePath(ctx, points);
        ctx.stroke();
      } else {
        const pressures = new Set(points.map((p) => p[2] ?? 0.5));
        if (pressures.size <= 1 || points.length < 2) {
          ctx.lineWidth = pressureWidth(width, points[0][2]);
          strokePath(ctx, points);
          ctx.stroke();
        } else {
          for (let i = 1; i < points.length; i += 1) {
            drawSegment(ctx, points[i - 1], points[i], width);
          }
        }
      }
    }
  } else if (type === 'line' || type === 'arrow') {
    ctx.lineWidth = width;
    ctx.beginPath();
    ctx.moveTo(object.x1, object.y1);
    ctx.lineTo(object.x2, object.y2);
    ctx.stroke();
    if (type === 'arrow') {
      const angle = Math.atan2(object.y2 - object.y1, object.x2 - object.x1);
      const size = Math.max(14, width * 4);
      ctx.beginPath();
      ctx.moveTo(object.x2, object.y2);
      ctx.lineTo(object.x2 - size * Math.cos(angle - Math.PI / 7), object.y2 - size * Math.sin(angle - Math.PI / 7));
      ctx.lineTo(object.x2 - size * Math.cos(angle + Math.PI / 7), object.y2 - size * Math.sin(angle + Math.PI / 7));
      ctx.closePath();
      ctx.fill();
    }
  } else if (type === 'rect' || type === 'ellipse') {
    ctx.lineWidth = width;
    const x = Math.min(object.x1, object.x2);
    const y = Math.min(object.y1, object.y2);
    const w = Math.abs(object.x2 - object.x1);
    const hgt = Math.abs(object.y2 - object.y1);
    ctx.beginPath();
    if (type === 'rect') ctx.rect(x, y, w, hgt);
    else ctx.ellipse(x + w / 2, y + hgt / 2, w / 2, hgt / 2, 0, 0, Math.PI * 2);
    if (object.fill) {
      ctx.fillStyle = object.fill;
      ctx.fill();
    }
    ctx.stroke();
  } else if (type === 'text') {
    const size = Number(object.size) || 32;
    ctx.font = `${size}px system-ui, "Segoe UI", Roboto, "Noto Sans", sans-serif`;
    ctx.textBaseline = 'top';
    String(object.text ?? '').split('\n').forEach((line, i) => ctx.fillText(line, object.x, object.y + i * size * 1.25));
  } else if (type === 'image') {
    const img = slideImage(object.slide_id, object.index, onImage);
    if (img) ctx.drawImage(img, object.x, object.y, object.w, object.h);
    else {
      ctx.strokeStyle = '#9aa5b1';
      ctx.lineWidth = 2;
      ctx.strokeRect(object.x, object.y, object.w, object.h);
    }
  }
  ctx.restore();
}

/** One segment of a pen stroke, its width following the pen's pressure. */
export function drawSegment(ctx, a, b, width, color) {
  if (color) ctx.strokeStyle = color;
  ctx.lineCap = 'round';
  ctx.lineWidth = pressureWidth(width, ((a[2] ?? 0.5) + (b[2] ?? 0.5)) / 2);
  ctx.beginPath();
  ctx.moveTo(a[0], a[1]);
  ctx.lineTo(b[0], b[1]);
  ctx.stroke();
}

/** An object's bounding box in page units `{x, y, w, h}`. */
export function bounds(object) {
  const type = object.type;
  if (type === 'stroke' || type === 'highlighter') {
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const [x, y] of object.points ?? []) {
      x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
    }
    const pad = (Number(object.width) || 4) / 2;
    return { x: x0 - pad, y: y0 - pad, w: x1 - x0 + 2 * pad, h: y1 - y0 + 2 * pad };
  }
  if (type === 'text') {
    const size = Number(object.size) || 32;
    const lines = String(object.text ?? '').split('\n');
    const longest = Math.max(1, ...lines.map((l) => l.length));
    return { x: object.x, y: object.y, w: longest * size * 0.55, h: lines.length * size * 1.25 };
  }
  if (type === 'image') return { x: object.x, y: object.y, w: object.w, h: object.h };
  const pad = (Number(object.width) || 4) / 2;
  const x = Math.min(object.x1, object.x2), y = Math.min(object.y1, object.y2);
  return { x: x - pad, y: y - pad, w: Math.abs(object.x2 - object.x1) + 2 * pad, h: Math.abs(object.y2 - object.y1) + 2 * pad };
}

function segmentDistance(px, py, ax, ay, bx, by) {
  const dx = bx - ax, dy = by - ay;
  const len = dx * dx + dy * dy;
  const t = len ? Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len)) : 0;
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** Whether the point (x, y) touches `object`, within `slop` page units. */
export function hits(object, x, y, slop = 12) {
  const type = object.type;
  const width = Number(object.width) || 4;
  if (type === 'stroke' || type === 'highlighter') {
    const pts = object.points ?? [];
    if (pts.length === 1) return Math.hypot(x - pts[0][0], y - pts[0][1]) <= width / 2 + slop;
    for (let i = 1; i < pts.length; i += 1) {
      if (segmentDistance(x, y, pts[i - 1][0], pts[i - 1][1], pts[i][0], pts[i][1]) <= width / 2 + slop) return true;
    }
    return false;
  }
  if (type === 'line' || type === 'arrow') return segmentDistance(x, y, object.x1, object.y1, object.x2, object.y2) <= width / 2 + slop;
  const b = bounds(object);
  return x >= b.x - slop && x <= b.x + b.w + slop && y >= b.y - slop && y <= b.y + b.h + slop;
}

/** The background of a page, in page units. */
function drawBackground(ctx, page, height, onImage, unitsPerPixel = 1) {
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, PAGE_WIDTH, height);
  const bg = page.background ?? { kind: 'blank' };
  if (bg.kind === 'grid' || bg.kind === 'lined') {
    ctx.save();
    ctx.strokeStyle = bg.kind === 'grid' ? '#d5dde6' : '#c7d3e3';
    ctx.lineWidth = Math.max(1.5, unitsPerPixel); // at least a pixel on a small screen
    ctx.beginPath();
    for (let y = GRID; y < height; y += GRID) {
      ctx.moveTo(0, y);
      ctx.lineTo(PAGE_WIDTH, y);
    }
    if (bg.kind === 'grid') {
      for (let x = GRID; x < PAGE_WIDTH; x += GRID) {
        ctx.moveTo(x, 0);
        ctx.lineTo(x, height);
      }
    }
    ctx.stroke();
    if (bg.kind === 'lined') {
      ctx.strokeStyle = '#e8a0a0';
      ctx.beginPath();
      ctx.moveTo(120, 0);
      ctx.lineTo(120, height);
      ctx.stroke();
    }
    ctx.restore();
  } else if (bg.kind === 'slide') {
    const img = slideImage(bg.slide_id, bg.index, onImage);
    if (img) ctx.drawImage(img, 0, 0, PAGE_WIDTH, height);
  }
}

export class BoardCanvas {
  /** @param {HTMLElement} box the element the page fits in (its width; its height too when its
   *   CSS says `--board-fit: contain`, as on the stage in full screen or a landscape phone) */
  constructor(box) {
    this.box = box;
    this.base = h('canvas', { class: 'board-layer board-base' });
    this.ink = h('canvas', { class: 'board-layer board-ink', 'aria-hidden': 'true' });
    this.draw = h('canvas', { class: 'board-layer board-draw', 'aria-hidden': 'true' });
    this.el = h('div', { class: 'board-canvas' }, this.base, this.ink, this.draw);
    this.page = null;
    this.cssWidth = 0;
    this.scale = 1; // pixels per page unit
    /** Object ids drawn on the base ahead of their `add` (my own, just finished). */
    this.predrawn = new Set();
    /** Object ids left out of the base (being moved: drawn on the ink layer instead). */
    this.hidden = new Set();
    /** Functions drawing on the ink layer (page units), called in order every ink frame. */
    this.overlays = [];
    this.inkFrame = 0;
    this.fit = null; // {width, height}: the box the page must fit in (full screen), else width only
    this._onImage = () => this.redraw();
    this.resizeObserver = typeof ResizeObserver === 'function' ? new ResizeObserver(() => this.resize()) : null;
    this.resizeObserver?.observe(box);
  }

  get height() {
    return pageHeight(this.page);
  }

  /** Show `page` (from the mirror); drawn in full. */
  setPage(page) {
    this.page = page;
    this.resize(true);
  }

  /** The page's size follows the box's width (or fits the box in full screen). */
  resize(force = false) {
    const box = this.box;
    if (!box.isConnected) return;
    const ratio = this.height / PAGE_WIDTH;
    const style = getComputedStyle(box);
    let width = box.clientWidth - (parseFloat(style.paddingLeft) || 0) - (parseFloat(style.paddingRight) || 0);
    if (style.getPropertyValue('--board-fit').trim() === 'contain') {
      const available = box.clientHeight - (parseFloat(style.paddingTop) || 0) - (parseFloat(style.paddingBottom) || 0);
      if (available > 0) width = Math.min(width, available / ratio);
    }
    if (width <= 0) return;
    width = Math.max(1, Math.floor(width));
    const dpr = Math.min(window.devicePixelRatio || 1, 3);
    const pixels = Math.max(1, Math.round(width * dpr));
    if (!force && width === this.cssWidth && this.base.width === pixels) return;
    this.cssWidth = width;
    const cssHeight = Math.round(width * ratio);
    this.el.style.width = `${width}px`;
    this.el.style.height = `${cssHeight}px`;
    for (const canvas of [this.base, this.ink, this.draw]) {
      canvas.width = pixels;
      canvas.height = Math.max(1, Math.round(cssHeight * dpr));
    }
    this.scale = pixels / PAGE_WIDTH;
    this.redraw();
  }

  context(canvas) {
    const ctx = canvas.getContext('2d');
    ctx.setTransform(this.scale, 0, 0, this.scale, 0, 0);
    return ctx;
  }

  /** The whole page again: background and every object (after an update, delete, clear, turn). */
  redraw() {
    const ctx = this.context(this.base);
    ctx.clearRect(0, 0, PAGE_WIDTH, this.height);
    if (!this.page) return;
    drawBackground(ctx, this.page, this.height, this._onImage, 1 / this.scale);
    for (const object of this.page.objects.values()) {
      if (!this.hidden.has(object.id)) drawObject(ctx, object, { onImage: this._onImage });
    }
    this.requestInk();
  }

  /** An object added on top of the page: drawn over what is there (not the whole page). */
  added(object) {
    if (this.predrawn.delete(object.id)) return;
    drawObject(this.context(this.base), object, { onImage: this._onImage });
  }

  /** My own object, drawn before the server has it; its `add` will not draw it twice. */
  predraw(object) {
    this.predrawn.add(object.id);
    drawObject(this.context(this.base), object, { onImage: this._onImage });
  }

  /** The ink layer is drawn again in the next animation frame. */
  requestInk() {
    if (this.inkFrame) return;
    this.inkFrame = requestAnimationFrame(() => {
      this.inkFrame = 0;
      const ctx = this.context(this.ink);
      ctx.clearRect(0, 0, PAGE_WIDTH, this.height);
      for (const overlay of this.overlays) {
        try {
          overlay(ctx);
        } catch (err) {
          console.warn('lophoc: board overlay', err);
        }
      }
    });
  }

  clearDraw() {
    const ctx = this.context(this.draw);
    ctx.clearRect(0, 0, PAGE_WIDTH, this.height);
    return ctx;
  }

  /** Page units of a pointer event. */
  toPage(event) {
    const rect = this.draw.getBoundingClientRect();
    const k = PAGE_WIDTH / (rect.width || 1);
    const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
    // The page's space: a drag that leaves the page keeps to it.
    return [clamp((event.clientX - rect.left) * k, -PAGE_WIDTH, 2 * PAGE_WIDTH), clamp((event.clientY - rect.top) * k, -this.height, 2 * this.height)];
  }

  /** CSS pixels per page unit. */
  get cssScale() {
    return this.cssWidth / PAGE_WIDTH;
  }

  stop() {
    this.resizeObserver?.disconnect();
    cancelAnimationFrame(this.inkFrame);
  }
}
