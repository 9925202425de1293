// "Bảng của tiết học" on the lesson page (outside the live room): the lesson's main board to
// download, as one PDF or a PNG per page. The lesson's teacher (and administrators) let the class
// read it ("Cho học sinh xem và tải bảng": POST /api/lessons/{id}/board/publish) and always have
// the links; a student of the class has them once the board is published, else a short note.
// What to offer comes from GET /api/lessons/{id}/board/downloads (never refused to the class).

import { request } from './api.js';
import { h, replace } from './dom.js';
import { t } from './i18n.js';
import './i18n-board.js';

const MAX_PAGE_LINKS = 300;

export class BoardArchive {
  /** @param {{lesson: object, user: object}} options */
  constructor({ lesson, user }) {
    this.lesson = lesson;
    this.user = user;
    this.info = null; // {published, pages, objects} once read
    this.failed = null;
    this.busy = false;
    this.heading = h('h2', { id: 'lesson-board-heading' });
    this.publishInput = h('input', { type: 'checkbox', id: 'lesson-board-publish', on: { change: () => this.publish(this.publishInput.checked) } });
    this.publishText = h('span');
    this.publishRow = h('label', { class: 'permit-toggle lesson-board-publish' }, this.publishInput, this.publishText);
    this.note = h('p', { id: 'lesson-board-note', class: 'muted', role: 'status' });
    this.links = h('div', { id: 'lesson-board-links', class: 'lesson-board-links' });
    this.error = h('p', { id: 'lesson-board-error', class: 'form-error', role: 'alert', hidden: true });
    this.el = h('section', { id: 'lesson-board', class: 'panel lesson-board', 'aria-labelledby': 'lesson-board-heading' },
      this.heading, this.publishRow, this.note, this.links, this.error);
    this.render();
  }

  /** The lesson's teacher or an administrator. */
  get staff() {
    return this.user.role === 'admin' || this.user.id === this.lesson.teacher_id;
  }

  /** Whether this user is offered the section at all (the lesson's staff and its class's students). */
  get shown() {
    return this.staff || this.user.role === 'student';
  }

  base() {
    return `/api/lessons/${encodeURIComponent(this.lesson.id)}/board`;
  }

  setLesson(lesson) {
    this.lesson = lesson;
  }

  async refresh() {
    if (!this.shown || this.busy) return;
    try {
      this.info = await request('GET', `${this.base()}/downloads`);
      this.failed = null;
    } catch (err) {
      console.warn('lophoc: board downloads', err);
      this.failed = err;
    }
    this.render();
  }

  async publish(published) {
    this.busy = true;
    this.publishInput.disabled = true;
    this.error.hidden = true;
    try {
      const done = await request('POST', `${this.base()}/publish`, { body: { published } });
      this.info = { ...(this.info ?? { pages: 1, objects: 0 }), published: Boolean(done.published) };
    } catch (err) {
      console.warn('lophoc: board publish', err);
      this.error.textContent = t('board.failed', { error: err?.message ?? String(err) });
      this.error.hidden = false;
    } finally {
      this.busy = false;
      this.publishInput.disabled = false;
      this.render();
    }
  }

  renderLinks() {
    const pages = Math.min(Number(this.info?.pages) || 0, MAX_PAGE_LINKS);
    if (!pages) {
      replace(this.links);
      return;
    }
    const pdf = h('a', { id: 'lesson-board-pdf', class: 'button secondary', href: `${this.base()}.pdf`, download: `bang-tiet-${this.lesson.id}.pdf` }, t('board.archive_pdf'));
    const pngs = [];
    for (let n = 1; n <= pages; n += 1) {
      pngs.push(h('li', {}, h('a', { class: 'lesson-board-png', href: `${this.base()}/pages/${n}.png`, download: `bang-tiet-${this.lesson.id}-trang-${n}.png`, 'aria-label': t('board.archive_png_label', { n }) },
        t('board.archive_png', { n }))));
    }
    replace(this.links, pdf, h('p', { class: 'muted lesson-board-png-title' }, t('board.archive_pngs')), h('ul', { class: 'lesson-board-pngs' }, pngs));
  }

  render() {
    this.el.hidden = !this.shown;
    this.heading.textContent = t('board.archive');
    this.publishRow.hidden = !this.staff;
    this.publishText.textContent = t('board.archive_publish');
    const info = this.info;
    this.publishInput.checked = Boolean(info?.published);
    let note = '';
    if (this.failed) note = t('board.failed', { error: this.failed.message ?? String(this.failed) });
    else if (!info) note = t('common.loading');
    else if (this.staff) note = t(info.published ? 'board.archive_published' : 'board.archive_private');
    else if (!info.published) note = t('board.archive_not_yet');
    this.note.textContent = note;
    this.note.hidden = !note;
    if (info && (this.staff || info.published)) this.renderLinks();
    else replace(this.links);
  }
}
