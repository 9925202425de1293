// The board's toolbar: the tools (pen, highlighter, shapes, text, select, laser pointer), colours
// and widths, delete, clear, undo and redo, and the pages (turn, add, remove); and uploading
// slides (a PDF or an image becomes one board page per slide page). One compact row that scrolls
// sideways on a phone; the shapes and the colours open a second row under it. And starting an
// empty board from an earlier lesson's ("Dùng lại bảng của tiết trước").

import { h, replace } from './dom.js';
import { t } from './i18n.js';
import './i18n-board.js';
import { readCookie, request } from './api.js';
import { dayKey, formatDay } from './format.js';
import { MAX_PAGE_HEIGHT, PAGE_HEIGHT } from './lesson-board.js';
import { newId } from './board-input.js';

export const COLORS = ['#1f2933', '#d62828', '#1d4ed8', '#15803d', '#f59e0b', '#7c3aed', '#ffffff'];
export const WIDTHS = [2, 4, 8, 16];
const SHAPE_TOOLS = ['line', 'arrow', 'rect', 'ellipse'];
const TOOL_ICONS = {
  view: '✋', pen: '✏️', highlighter: '🖍️', line: '╱', arrow: '↗', rect: '▭', ellipse: '◯',
  text: 'T', select: '⬚', laser: '🔴',
};
const STAFF_TOOLS = new Set(['laser']);

function toolButton(id, iconText, onClick) {
  return h('button', { type: 'button', class: 'board-tool', id, on: { click: onClick } }, h('span', { 'aria-hidden': 'true' }, iconText));
}

// Sizes and colours are set through the style object (the pages' CSP refuses style attributes).
function swatch(color) {
  const el = h('span', { class: 'board-swatch' });
  el.style.background = color;
  return el;
}

function widthDot(width) {
  const el = h('span', { class: 'board-width-dot' });
  el.style.width = el.style.height = `${Math.min(20, 3 + width)}px`;
  return el;
}

export class BoardToolbar {
  /**
   * @param {{client, staff: () => boolean, canDraw: () => boolean, onTool: (tool) => void,
   *   onAction: (action, arg?) => void}} options
   */
  constructor({ client, onTool, onAction }) {
    this.client = client;
    this.onTool = onTool;
    this.onAction = onAction;
    this.tool = null;
    this.shape = 'line';
    this.color = COLORS[0];
    this.width = WIDTHS[1];
    this.tray = null; // 'shapes' | 'style' | 'page' | null
    this.buttons = new Map();
    const tool = (name) => {
      const button = toolButton(`board-tool-${name}`, TOOL_ICONS[name], () => this.choose(name));
      button.dataset.tool = name;
      this.buttons.set(name, button);
      return button;
    };
    this.shapeButton = toolButton('board-tool-shapes', TOOL_ICONS.line, () => this.toggleTray('shapes'));
    this.styleButton = toolButton('board-tool-style', '', () => this.toggleTray('style'));
    this.swatch = h('span', { class: 'board-swatch', 'aria-hidden': 'true' });
    this.styleButton.replaceChildren(this.swatch);
    this.undoButton = toolButton('board-undo', '↶', () => this.onAction('undo'));
    this.redoButton = toolButton('board-redo', '↷', () => this.onAction('redo'));
    this.deleteButton = toolButton('board-delete', '🗑️', () => this.onAction('delete'));
    this.clearButton = toolButton('board-clear', '🧹', () => this.onAction('clear'));
    this.drawTools = h('div', { class: 'board-tool-group board-draw-tools', role: 'group' },
      tool('view'), tool('pen'), tool('highlighter'), this.shapeButton, tool('text'), tool('select'), tool('laser'),
      this.styleButton, this.undoButton, this.redoButton, this.deleteButton, this.clearButton);
    this.prevButton = toolButton('board-prev', '‹', () => this.onAction('turn', this.client.board.current - 1));
    this.nextButton = toolButton('board-next', '›', () => this.onAction('turn', this.client.board.current + 1));
    this.pageLabel = h('span', { id: 'board-page-label', class: 'board-page-label', 'aria-live': 'polite' });
    this.pageSelect = h('select', { id: 'board-page-select', class: 'board-page-select', on: { change: () => this.onAction('turn', Number(this.pageSelect.value)) } });
    this.addPageButton = toolButton('board-add-page', '+', () => this.toggleTray('page'));
    this.removePageButton = toolButton('board-remove-page', '−', () => this.onAction('remove_page'));
    this.pageTools = h('div', { class: 'board-tool-group board-page-tools', role: 'group' },
      this.prevButton, this.pageLabel, this.pageSelect, this.nextButton, this.addPageButton, this.removePageButton);
    this.trayEl = h('div', { class: 'board-tray', id: 'board-tray', hidden: true });
    this.row = h('div', { class: 'board-toolbar-row' }, this.drawTools, this.pageTools);
    this.el = h('div', { class: 'board-toolbar', role: 'toolbar' }, this.row, this.trayEl);
  }

  get staff() {
    return this.client.staff;
  }

  /** The tool a page starts with: the teacher's pen; a student looks (and scrolls) first. */
  defaultTool() {
    return this.staff ? 'pen' : 'view';
  }

  choose(name) {
    this.tool = name;
    if (SHAPE_TOOLS.includes(name)) this.shape = name;
    if (this.tray === 'shapes') this.tray = null;
    this.onTool(name);
    this.render();
  }

  toggleTray(which) {
    this.tray = this.tray === which ? null : which;
    this.render();
  }

  /** The current tool, or the default one when drawing is not allowed. */
  currentTool() {
    const board = this.client.board;
    if (!board.canDraw) return 'view';
    if (!this.tool || (STAFF_TOOLS.has(this.tool) && !this.staff)) this.tool = this.defaultTool();
    return this.tool;
  }

  renderTray() {
    this.trayEl.hidden = !this.tray;
    if (this.tray === 'shapes') {
      replace(this.trayEl, SHAPE_TOOLS.map((name) => {
        const b = toolButton(`board-tool-${name}`, TOOL_ICONS[name], () => this.choose(name));
        b.dataset.tool = name;
        const label = t(`board.tool.${name}`);
        b.setAttribute('aria-label', label);
        b.title = label;
        b.setAttribute('aria-pressed', String(this.tool === name));
        return b;
      }));
    } else if (this.tray === 'style') {
      const colors = COLORS.map((color, i) => {
        const label = t(`board.color.${i}`);
        const b = h('button', { type: 'button', class: 'board-color', 'aria-label': label, title: label, 'aria-pressed': String(color === this.color), dataset: { color } },
          swatch(color));
        b.addEventListener('click', () => { this.color = color; this.render(); this.onTool(this.tool); });
        return b;
      });
      const widths = WIDTHS.map((width) => {
        const label = t('board.width_n', { n: width });
        const b = h('button', { type: 'button', class: 'board-width', 'aria-label': label, title: label, 'aria-pressed': String(width === this.width), dataset: { width: String(width) } },
          widthDot(width));
        b.addEventListener('click', () => { this.width = width; this.render(); this.onTool(this.tool); });
        return b;
      });
      replace(this.trayEl,
        h('div', { class: 'board-tool-group', role: 'group', 'aria-label': t('board.colors') }, colors),
        h('div', { class: 'board-tool-group', role: 'group', 'aria-label': t('board.widths') }, widths));
    } else if (this.tray === 'page') {
      replace(this.trayEl, ['blank', 'grid', 'lined'].map((kind) => {
        const b = h('button', { type: 'button', class: 'button secondary small board-add-kind', dataset: { background: kind } }, t(`board.page.${kind}`));
        b.addEventListener('click', () => { this.tray = null; this.render(); this.onAction('add_page', kind); });
        return b;
      }));
    } else {
      replace(this.trayEl);
    }
  }

  render() {
    const board = this.client.board;
    const canDraw = board.canDraw;
    const staff = this.staff;
    const tool = this.currentTool();
    this.drawTools.hidden = !canDraw;
    for (const [name, button] of this.buttons) {
      const label = t(`board.tool.${name}`);
      button.setAttribute('aria-label', label);
      button.title = label;
      button.setAttribute('aria-pressed', String(tool === name));
      button.hidden = STAFF_TOOLS.has(name) && !staff;
    }
    const shapeOn = SHAPE_TOOLS.includes(tool);
    this.shapeButton.replaceChildren(h('span', { 'aria-hidden': 'true' }, TOOL_ICONS[shapeOn ? tool : this.shape]));
    this.shapeButton.setAttribute('aria-label', t('board.tool.shapes'));
    this.shapeButton.title = t('board.tool.shapes');
    this.shapeButton.setAttribute('aria-pressed', String(shapeOn));
    this.shapeButton.setAttribute('aria-expanded', String(this.tray === 'shapes'));
    this.swatch.style.background = this.color;
    this.styleButton.setAttribute('aria-label', t('board.style'));
    this.styleButton.title = t('board.style');
    this.styleButton.setAttribute('aria-expanded', String(this.tray === 'style'));
    const labels = [[this.undoButton, 'board.undo'], [this.redoButton, 'board.redo'], [this.deleteButton, 'board.delete'], [this.clearButton, 'board.clear'],
      [this.prevButton, 'board.prev'], [this.nextButton, 'board.next'], [this.addPageButton, 'board.add_page'], [this.removePageButton, 'board.remove_page']];
    for (const [button, key] of labels) {
      button.setAttribute('aria-label', t(key));
      button.title = t(key);
    }
    const n = board.pages.length;
    const k = board.current + 1;
    this.pageLabel.textContent = t('board.page_of', { k, n });
    // Turning and adding pages is the teacher's; a student follows the page the teacher shows.
    this.prevButton.hidden = this.nextButton.hidden = !staff;
    this.prevButton.disabled = board.current <= 0;
    this.nextButton.disabled = board.current >= n - 1;
    this.pageSelect.hidden = !staff || n < 2;
    this.pageSelect.setAttribute('aria-label', t('board.pages'));
    replace(this.pageSelect, board.pages.map((page, i) => h('option', { value: String(i) }, t(page.background?.kind === 'slide' ? 'board.page_slide_n' : 'board.page_n', { n: i + 1 }))));
    this.pageSelect.value = String(board.current);
    this.clearButton.hidden = !staff; // clearing a page is the teacher's (a student deletes shapes)
    this.addPageButton.hidden = !staff;
    this.addPageButton.setAttribute('aria-expanded', String(this.tray === 'page'));
    this.removePageButton.hidden = !staff;
    this.removePageButton.disabled = n < 2;
    if (!canDraw && this.tray !== 'page') this.tray = null;
    if (!staff && this.tray === 'page') this.tray = null;
    this.renderTray();
  }
}

/** The height in page units of the k-th page (from 0) of a converted slide file. */
export function slidePageHeight(slide, k) {
  const height = Number(slide.page_heights?.[k] ?? slide.height);
  const width = Number(slide.width) || 1600;
  if (!Number.isFinite(height) || height <= 0) return PAGE_HEIGHT;
  return Math.max(10, Math.min(MAX_PAGE_HEIGHT, Math.round((height * 1600) / width)));
}

/**
 * Uploading slides: the file goes as the raw body of POST /api/lessons/{id}/board/slides, then its
 * conversion is followed (GET /api/board/slides/{sid}) until every page is ready, then one board
 * page per slide page is added after the current one and the first of them is shown.
 */
export class SlideUpload {
  constructor({ client, lessonId, onError }) {
    this.client = client;
    this.lessonId = lessonId;
    this.onError = onError;
    this.busy = false;
    this.input = h('input', { type: 'file', id: 'board-slides-file', class: 'visually-hidden', accept: 'application/pdf,image/png,image/jpeg,.pdf,.png,.jpg,.jpeg' });
    this.input.addEventListener('change', () => {
      const file = this.input.files?.[0];
      this.input.value = '';
      if (file) this.upload(file);
    });
    this.label = h('label', { for: 'board-slides-file', class: 'button secondary small board-upload-button' });
    this.progress = h('progress', { id: 'board-slides-progress', max: '1', value: '0', hidden: true });
    this.status = h('p', { id: 'board-slides-status', class: 'cls-status muted', role: 'status', 'aria-live': 'polite' });
    this.el = h('div', { class: 'board-upload' }, this.input, this.label, this.progress, this.status);
    this.render();
  }

  say(text) {
    this.status.textContent = text ?? '';
  }

  render() {
    this.label.textContent = t('board.upload');
    this.label.classList.toggle('is-busy', this.busy);
    this.input.disabled = this.busy;
  }

  async upload(file) {
    if (this.busy) return;
    this.busy = true;
    this.render();
    this.progress.hidden = false;
    this.progress.value = 0;
    this.say(t('board.uploading', { name: file.name }));
    try {
      const headers = { 'Content-Type': file.type || 'application/octet-stream', 'X-Filename': encodeURIComponent(file.name), Accept: 'application/json' };
      const csrf = readCookie('lophoc_csrf');
      if (csrf) headers['X-CSRF-Token'] = csrf;
      const response = await fetch(`/api/lessons/${encodeURIComponent(this.lessonId)}/board/slides`, { method: 'POST', headers, body: file, credentials: 'same-origin' });
      const data = await response.json().catch(() => null);
      if (!response.ok) throw Object.assign(new Error(data?.error?.message ?? response.statusText), { code: data?.error?.code, status: response.status });
      const slide = await this.follow(data.id);
      await this.addPages(slide);
      this.say(t('board.uploaded', { n: slide.pages }));
    } catch (err) {
      console.warn('lophoc: slides', err);
      this.say(t('board.upload_failed', { error: err?.message ?? String(err) }));
      this.onError?.(err);
    } finally {
      this.busy = false;
      this.progress.hidden = true;
      this.render();
    }
  }

  /** Poll the conversion until it is ready (or failed). */
  async follow(slideId) {
    for (;;) {
      const response = await fetch(`/api/board/slides/${encodeURIComponent(slideId)}`, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
      const slide = await response.json().catch(() => null);
      if (!response.ok || !slide) throw new Error(slide?.error?.message ?? response.statusText);
      this.progress.value = Number(slide.progress) || 0;
      if (slide.status === 'ready') return slide;
      if (slide.status === 'failed') throw new Error(slide.message ?? t('board.convert_failed', { error: slide.error ?? '' }));
      this.say(t('board.converting', { p: Math.round((Number(slide.progress) || 0) * 100) }));
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
  }

  /** One board page per slide page, after the current page; the first of them is shown. */
  async addPages(slide) {
    const board = this.client.board;
    const start = board.current + 1;
    for (let k = 0; k < slide.pages; k += 1) {
      const page = { id: `s${slide.id}-${k + 1}-${newId().slice(0, 6)}`, background: { kind: 'slide', slide_id: Number(slide.id), index: k }, height: slidePageHeight(slide, k) };
      await this.client.boardOp({ kind: 'add_page', page, at: start + k });
      this.progress.value = (k + 1) / slide.pages;
    }
    if (slide.pages > 0) await this.client.boardOp({ kind: 'turn', index: start });
  }
}

/**
 * "Dùng lại bảng của tiết trước": the teacher's earlier lessons of the same subject whose board has
 * content (GET /api/lessons/{id}/board/sources), one button each; choosing one copies its board into
 * this lesson's empty one (POST /api/lessons/{id}/board/copy). In a live lesson the room then sends
 * everyone in the main room the copied board; `onCopied` gets the copy as the REST answer has it.
 */
export class BoardReuse {
  constructor({ lessonId, timeZone, onCopied }) {
    this.lessonId = lessonId;
    this.timeZone = timeZone;
    this.onCopied = onCopied;
    this.sources = null; // null: not read yet
    this.busy = false;
    this.summary = h('summary', { id: 'board-reuse-summary' });
    this.list = h('ul', { id: 'board-reuse-list', class: 'board-reuse-list' });
    this.status = h('p', { id: 'board-reuse-status', class: 'cls-status muted', role: 'status', 'aria-live': 'polite' });
    this.el = h('details', { id: 'board-reuse', class: 'board-reuse' }, this.summary, this.status, this.list);
    this.el.addEventListener('toggle', () => {
      if (this.el.open) this.load();
    });
    this.render();
  }

  base() {
    return `/api/lessons/${encodeURIComponent(this.lessonId)}/board`;
  }

  async load() {
    this.sources = null;
    this.status.textContent = t('board.reuse_loading');
    this.render();
    try {
      const data = await request('GET', `${this.base()}/sources`);
      this.sources = Array.isArray(data?.lessons) ? data.lessons : [];
      this.status.textContent = this.sources.length ? '' : t('board.reuse_none');
    } catch (err) {
      console.warn('lophoc: board sources', err);
      this.sources = [];
      this.status.textContent = t('board.failed', { error: err?.message ?? String(err) });
    }
    this.render();
  }

  async copy(source) {
    if (this.busy) return;
    this.busy = true;
    this.status.textContent = t('board.reuse_copying', { title: source.title });
    this.render();
    try {
      const board = await request('POST', `${this.base()}/copy`, { body: { from_lesson_id: source.id } });
      this.status.textContent = t('board.reuse_done', { title: source.title });
      this.el.open = false;
      this.onCopied?.(board);
    } catch (err) {
      console.warn('lophoc: board copy', err);
      this.status.textContent = err?.status === 409 ? t('board.reuse_not_empty') : t('board.failed', { error: err?.message ?? String(err) });
    } finally {
      this.busy = false;
      this.render();
    }
  }

  render() {
    this.summary.textContent = t('board.reuse');
    if (!this.sources) {
      replace(this.list);
      return;
    }
    replace(this.list, this.sources.map((source) => {
      const day = formatDay(dayKey(source.starts_at, this.timeZone), { day: '2-digit', month: '2-digit', year: 'numeric' });
      const button = h('button', { type: 'button', class: 'button secondary small board-reuse-choice', disabled: this.busy, dataset: { lessonId: String(source.id) } },
        h('span', { class: 'board-reuse-title' }, source.title),
        h('span', { class: 'muted board-reuse-facts' }, t('board.reuse_facts', { day, klass: source.class_name, n: source.pages })));
      button.addEventListener('click', () => this.copy(source));
      return h('li', {}, button);
    }));
  }
}
