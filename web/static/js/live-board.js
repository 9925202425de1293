// "Bảng" in the live room: the board of the room you are in. The board view (toolbar and page)
// takes the stage for everyone in the main room while the teacher shows it (the teacher's camera
// goes small beside it); otherwise it lives in its side panel. The panel also holds the teacher's
// controls: show on the stage, who may draw, uploading slides, starting an empty board from an
// earlier lesson's, and (while breakout groups run) looking at and drawing on any group's board
// ("Bảng chung" / a group's name: that board takes the panel; the teacher's own stage shows the
// camera meanwhile). A student follows the page the teacher shows, scaled to the screen's width,
// and draws once allowed.

import { h, replace } from './dom.js';
import { t } from './i18n.js';
import './i18n-board.js';
import { BoardCanvas, drawObject } from './board-canvas.js';
import { BoardInput, DRAWING_TOOLS, drawLaser, newId } from './board-input.js';
import { BoardReuse, BoardToolbar, SlideUpload } from './board-tools.js';
import { OtherBoard } from './board-other.js';
import { act, errorLine, refusalText, studentsHere } from './live-classroom-parts.js';

/** The operations that change what the panel says (the others only change the page). */
const PANEL_OPS = new Set(['show', 'turn', 'add_page', 'remove_page']);

/** The board itself: its toolbar and its page, drawn and drawn on. `source`: the lesson client
 * (the board of my room) or an OtherBoard (another room's, for the teacher). */
export class BoardView {
  constructor(room, source = room.client) {
    this.room = room;
    this.client = source;
    this.error = errorLine('board-error');
    this.wrap = h('div', { id: 'board-wrap', class: 'board-wrap', tabindex: '-1' });
    this.canvas = new BoardCanvas(this.wrap);
    this.canvas.el.id = 'board-canvas';
    this.canvas.base.id = 'board-base';
    this.canvas.base.setAttribute('role', 'img');
    this.wrap.append(this.canvas.el);
    this.toolbar = new BoardToolbar({
      client: this.client,
      onTool: () => this.toolChanged(),
      onAction: (action, arg) => this.action(action, arg),
    });
    this.input = new BoardInput({
      canvas: this.canvas,
      client: this.client,
      box: this.wrap,
      tool: () => this.toolbar.currentTool(),
      color: () => this.toolbar.color,
      width: () => this.toolbar.width,
      onError: (err) => this.error.show(refusalText(err)),
      onSelect: () => {},
      textLabel: () => t('board.text_input'),
    });
    this.canvas.overlays.unshift((ctx) => this.drawOthers(ctx));
    this.el = h('div', { id: 'board-view', class: 'board-view' }, this.toolbar.el, this.wrap, this.error);
    this.wrap.addEventListener('keydown', (event) => {
      if ((event.key === 'Delete' || event.key === 'Backspace') && event.target === this.wrap) {
        event.preventDefault();
        this.action('delete');
      }
    });
    this.offs = [
      this.client.on('board', () => this.pageChanged()),
      this.client.on('board_op', (e) => this.onOp(e)),
      this.client.on('board_allow', () => this.render()),
      this.client.onAny(['board_ink', 'board_ink_end', 'board_pointer'], () => this.canvas.requestInk()),
    ];
    this.pageChanged();
  }

  get board() {
    return this.client.board;
  }

  /** Strokes others are drawing on this page, and the teacher's laser pointer. */
  drawOthers(ctx) {
    const page = this.canvas.page;
    for (const ink of this.board.inks.values()) {
      if (ink.page && page && ink.page !== page.id) continue;
      if (ink.points.length) drawObject(ctx, { type: ink.type, points: ink.points, color: ink.color, width: ink.width });
    }
    const pointer = this.board.pointer;
    if (pointer && pointer.user_id !== this.client.userId) drawLaser(ctx, pointer, 1 / (this.canvas.cssScale || 1));
  }

  /** The page shown changed (or the whole board did): drawn in full. */
  pageChanged() {
    this.input.reset();
    this.canvas.predrawn.clear();
    this.canvas.hidden.clear();
    this.canvas.setPage(this.board.page);
    this.render();
  }

  onOp({ op, page }) {
    const shown = this.board.page;
    if (shown !== this.canvas.page) {
      this.pageChanged();
      return;
    }
    if (['add_page', 'remove_page', 'turn', 'show'].includes(op.kind)) {
      this.render();
      return;
    }
    if (!page || page !== shown) return;
    if (op.kind === 'add') {
      if (Number.isInteger(op.at) && op.at < page.objects.size - 1) this.canvas.redraw();
      else this.canvas.added(page.objects.get(op.object.id) ?? op.object);
      return;
    }
    if (op.kind === 'update' && this.input.moving?.id === op.id) {
      this.input.moving = null;
      this.canvas.hidden.delete(op.id);
    }
    if (op.kind === 'delete' || op.kind === 'clear') {
      if (this.input.selected && !page.objects.has(this.input.selected)) this.input.selected = null;
    }
    this.canvas.redraw();
  }

  toolChanged() {
    this.input.cancelText();
    this.render();
  }

  async action(action, arg) {
    const board = this.board;
    const page = board.page;
    this.error.show(null);
    try {
      if (action === 'undo' || action === 'redo') await this.client.boardOp({ kind: action });
      else if (action === 'delete') {
        if (!this.input.selectedObject()) this.error.show(t('board.nothing_selected'));
        else await this.input.deleteSelected();
      } else if (action === 'clear' && page) await this.client.boardOp({ kind: 'clear', page: page.id });
      else if (action === 'turn') {
        const index = Math.min(Math.max(0, arg), board.pages.length - 1);
        if (index !== board.current) await this.client.boardOp({ kind: 'turn', index });
      } else if (action === 'add_page') {
        const at = board.current + 1;
        await this.client.boardOp({ kind: 'add_page', page: { id: newId(), background: { kind: arg } }, at });
        await this.client.boardOp({ kind: 'turn', index: at });
      } else if (action === 'remove_page' && page && board.pages.length > 1) {
        await this.client.boardOp({ kind: 'remove_page', page: page.id });
      }
    } catch (err) {
      console.warn('lophoc: board', action, err);
      this.error.show(refusalText(err));
    }
  }

  render() {
    this.toolbar.render();
    const tool = this.toolbar.currentTool();
    const drawing = this.board.canDraw && DRAWING_TOOLS.has(tool);
    // Only while a drawing tool is chosen does a finger draw instead of scrolling the page.
    this.wrap.classList.toggle('is-drawing', drawing);
    this.wrap.dataset.tool = tool;
    const n = this.board.pages.length;
    this.canvas.base.setAttribute('aria-label', t('board.canvas', { k: this.board.current + 1, n }));
    this.canvas.requestInk();
  }

  stop() {
    this.offs.forEach((off) => off());
    this.input.cancelText();
    this.canvas.stop();
  }
}

/** The side panel "Bảng": where the board is when it is not on the stage, and the teacher's controls. */
export class BoardPanel {
  constructor(room) {
    this.room = room;
    this.client = room.client;
    this.id = 'board';
    this.icon = '🖍️';
    /** The board looked at: the client (my room's) or an OtherBoard (a group's, for staff). */
    this.source = this.client;
    this.view = new BoardView(room);
    this.heading = h('h2', { id: 'board-heading' });
    this.pickLabel = h('label', { for: 'board-pick', class: 'board-pick-label' });
    this.pick = h('select', { id: 'board-pick', class: 'board-pick', on: { change: () => this.lookAt(this.pick.value) } });
    this.pickRow = h('div', { class: 'board-pick-row', hidden: true }, this.pickLabel, this.pick);
    this.status = h('p', { id: 'board-status', class: 'muted board-status', role: 'status' });
    this.error = errorLine('board-panel-error');
    this.showButton = h('button', { type: 'button', id: 'board-show', class: 'button primary small', on: { click: () => this.toggleShow() } });
    this.allowInput = h('input', { type: 'checkbox', id: 'board-allow-all', on: { change: () => this.setAllow() } });
    this.allowText = h('span');
    this.allowAll = h('label', { class: 'permit-toggle board-allow-all' }, this.allowInput, this.allowText);
    this.someSummary = h('summary');
    this.someList = h('ul', { class: 'board-allow-list' });
    this.allowSome = h('details', { class: 'board-allow-some' }, this.someSummary, this.someList);
    this.upload = new SlideUpload({ client: this.client, lessonId: room.lesson.id, onError: () => {} });
    this.reuse = new BoardReuse({ lessonId: room.lesson.id, timeZone: room.timeZone, onCopied: () => this.render() });
    this.staffBox = h('div', { class: 'board-staff' }, h('div', { class: 'cls-row' }, this.showButton), this.allowAll, this.allowSome,
      this.upload.el, this.reuse.el);
    this.slot = h('div', { class: 'board-slot', id: 'board-slot' });
    this.el = h('section', { id: 'board-panel', class: 'cls-panel board-panel', 'aria-labelledby': 'board-heading' },
      this.heading, this.pickRow, this.status, this.staffBox, this.error, this.slot);
    this.wasAllowed = null;
    this.offs = [
      this.client.onAny(['board', 'board_allow', 'room', 'joined'], () => this.render()),
      this.client.on('board_op', ({ op }) => {
        if (PANEL_OPS.has(op.kind)) this.render();
      }),
      this.client.onAny(['participant_joined', 'participant_left'], () => this.renderAllow()),
      this.client.on('board_allow', () => this.tellStudent()),
      this.client.onAny(['breakouts', 'room'], () => this.followRooms()),
    ];
    this.sourceOffs = [];
    this.render();
  }

  label() {
    return t('board.title');
  }

  badge() {
    return null;
  }

  /** The board looked at. */
  get board() {
    return this.source.board;
  }

  /** Whether the board looked at is my room's. */
  get own() {
    return this.source === this.client;
  }

  /** The boards staff may look at: the main room's and each running group's, `{id, name}`. */
  boards() {
    if (!this.client.staff) return [];
    const groups = this.client.breakouts?.groups ?? [];
    if (!groups.length) return [];
    return [{ id: 'main', name: t('board.main_board') }, ...groups.map((g) => ({ id: g.id, name: g.name }))];
  }

  /** The id of the board looked at ("main" or a group's id). */
  lookingAt() {
    return this.own ? (this.client.room?.id ?? 'main') : this.source.boardId;
  }

  /** Look at (and draw on) the board of `boardId`: my room's is the client's; another is read. */
  async lookAt(boardId) {
    const mine = (this.client.room?.id ?? 'main') === boardId;
    if (boardId === this.lookingAt()) return;
    this.error.show(null);
    let source = this.client;
    if (!mine) {
      source = new OtherBoard(this.client, boardId);
      try {
        await source.load();
      } catch (err) {
        console.warn('lophoc: board_get', boardId, err);
        source.stop();
        this.error.show(refusalText(err));
        this.renderPick();
        return;
      }
    }
    this.use(source);
  }

  use(source) {
    if (source === this.source) return;
    const before = this.source;
    this.sourceOffs.forEach((off) => off());
    this.sourceOffs = [];
    this.source = source;
    if (before !== this.client) before.stop();
    this.view.stop();
    this.view.el.remove();
    this.view = new BoardView(this.room, source);
    this.upload.client = source;
    if (source !== this.client) {
      this.sourceOffs = [
        source.onAny(['board', 'board_allow'], () => this.render()),
        source.on('board_op', ({ op }) => {
          if (PANEL_OPS.has(op.kind)) this.render();
        }),
      ];
    }
    this.render();
  }

  /** Groups started, ended or I moved: back to my room's board when the one looked at is gone or mine. */
  followRooms() {
    if (this.own) {
      this.renderPick();
      return;
    }
    const id = this.source.boardId;
    const running = this.boards().some((b) => b.id === id);
    if (!running || id === (this.client.room?.id ?? 'main')) this.use(this.client);
    else this.renderPick();
  }

  /** On the stage while my main room's board is looked at and shown; in this panel otherwise. */
  place() {
    const stage = this.room.stage;
    const onStage = Boolean(stage?.showBoard) && this.own && this.board.shown && this.client.room.id === 'main';
    if (onStage) stage.showBoard(this.view.el);
    else {
      stage?.showBoard?.(null);
      if (this.view.el.parentElement !== this.slot) this.slot.append(this.view.el);
    }
    this.onStage = onStage;
    this.view.canvas.resize();
  }

  async toggleShow() {
    const active = !this.board.shown;
    await act(this.showButton, this.error, () => this.source.boardOp({ kind: 'show', active }));
    this.render();
  }

  setAllow(userIds = this.board.allow.user_ids) {
    const everyone = this.allowInput.checked;
    return act(this.allowInput, this.error, () => this.source.boardAllow(everyone, userIds));
  }

  /** A student is told when they may draw. */
  tellStudent() {
    if (this.client.staff) return;
    const allowed = this.board.canDraw;
    if (allowed && this.wasAllowed === false) this.room.say?.(() => t('board.allowed_you'));
    this.wasAllowed = allowed;
  }

  /** The students who may be let draw on the board looked at: a group's own students for a group's. */
  students() {
    const students = studentsHere(this.client);
    if (this.own) return students;
    const group = (this.client.breakouts?.groups ?? []).find((g) => g.id === this.source.boardId);
    if (!group) return students;
    const ids = new Set((group.user_ids ?? []).map(Number));
    return students.filter((p) => ids.has(Number(p.user_id)));
  }

  renderAllow() {
    const allow = this.board.allow;
    this.allowText.textContent = t('board.allow_all');
    this.allowInput.checked = allow.everyone;
    this.someSummary.textContent = t('board.allow_some');
    this.allowSome.hidden = allow.everyone;
    const students = this.students();
    if (!students.length) {
      replace(this.someList, h('li', { class: 'muted' }, t('board.allow_none')));
      return;
    }
    replace(this.someList, students.map((p) => {
      const input = h('input', { type: 'checkbox', checked: allow.user_ids.includes(p.user_id), dataset: { userId: String(p.user_id) } });
      input.addEventListener('change', () => {
        const ids = new Set(this.board.allow.user_ids);
        if (input.checked) ids.add(p.user_id);
        else ids.delete(p.user_id);
        act(input, this.error, () => this.source.boardAllow(false, [...ids]));
      });
      return h('li', {}, h('label', { class: 'permit-toggle' }, input, h('span', {}, p.full_name)));
    }));
  }

  renderPick() {
    const boards = this.boards();
    this.pickRow.hidden = boards.length === 0;
    this.pickLabel.textContent = t('board.pick');
    if (!boards.length) {
      replace(this.pick);
      return;
    }
    const current = this.lookingAt();
    replace(this.pick, boards.map((b) => h('option', { value: b.id }, b.name)));
    this.pick.value = current;
  }

  /** Whether my main room's board is untouched (a board is copied only into one with no ops). */
  emptyMain() {
    const board = this.client.board;
    return this.own && this.client.room.id === 'main' && board.seq === 0
      && board.pages.length === 1 && board.pages[0].objects.size === 0;
  }

  render() {
    const board = this.board;
    const staff = this.client.staff;
    const main = this.client.room.id === 'main';
    const boardName = this.own ? null : (this.boards().find((b) => b.id === this.source.boardId)?.name ?? this.source.boardId);
    this.heading.textContent = boardName ? t('board.group_heading', { name: boardName }) : (main ? t('board.heading') : t('board.in_group'));
    this.renderPick();
    this.place();
    let status;
    if (!this.own) status = t('board.looking_at', { name: boardName });
    else if (main && board.shown) status = t(this.onStage ? 'board.on_stage' : 'board.shown');
    else if (main) status = t('board.not_shown');
    else status = '';
    if (!staff) status = [status, t(board.canDraw ? 'board.may_draw' : 'board.not_allowed')].filter(Boolean).join(' ');
    this.status.textContent = status;
    this.staffBox.hidden = !staff;
    this.showButton.hidden = !main || !this.own;
    this.showButton.textContent = t(board.shown ? 'board.hide' : 'board.show');
    this.showButton.setAttribute('aria-pressed', String(board.shown));
    this.upload.el.hidden = this.client.role !== 'teacher';
    this.upload.render();
    this.reuse.el.hidden = this.client.role !== 'teacher' || !this.emptyMain();
    if (this.reuse.el.hidden) this.reuse.el.open = false;
    this.reuse.render();
    if (staff) this.renderAllow();
    if (this.wasAllowed === null && this.client.participantId) this.wasAllowed = board.canDraw;
    this.view.render();
  }

  stop() {
    this.offs.forEach((off) => off());
    this.sourceOffs.forEach((off) => off());
    if (this.source !== this.client) this.source.stop();
    this.room.stage?.showBoard?.(null);
    this.view.stop();
  }
}
