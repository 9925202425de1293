// "Hỏi đáp": questions of the class. Anyone asks; everyone but the author likes a question; the
// list sorts by likes or by time. Staff answer in writing or mark a question "Đã trả lời trực
// tiếp", mark it done or hide it (a hidden question stays with staff and its author).

import { h, replace } from './dom.js';
import { t } from './i18n.js';
import './i18n-classroom.js';
import { act, errorLine, linkify, statusLine, timeOf } from './live-classroom-parts.js';

const MAX_QUESTION = 500;
const STATUS_ORDER = { open: 0, answered: 1, done: 2, hidden: 3 };

export class QuestionsPanel {
  constructor(room) {
    this.room = room;
    this.client = room.client;
    this.id = 'questions';
    this.icon = 'questions';
    this.sort = 'votes';
    this.answering = null; // the question id whose answer form is open
    this.heading = h('h2', { id: 'qa-heading' });
    this.inputLabel = h('label', { for: 'qa-input', class: 'visually-hidden' });
    this.input = h('textarea', { id: 'qa-input', rows: '2', maxlength: String(MAX_QUESTION) });
    this.askButton = h('button', { type: 'submit', id: 'qa-ask', class: 'button primary' });
    this.error = errorLine('qa-error');
    this.status = statusLine('qa-status');
    this.form = h('form', { id: 'qa-form', class: 'qa-form', on: { submit: (event) => { event.preventDefault(); this.ask(); } } },
      this.inputLabel, this.input, h('div', { class: 'cls-row' }, this.askButton));
    this.sortLabel = h('label', { for: 'qa-sort' });
    this.sortSelect = h('select', { id: 'qa-sort', on: { change: () => { this.sort = this.sortSelect.value; this.render(); } } });
    this.list = h('ol', { id: 'qa-list', class: 'qa-list', 'aria-labelledby': 'qa-heading' });
    this.empty = h('p', { class: 'muted' });
    this.el = h('section', { id: 'qa-panel', class: 'cls-panel qa-panel', 'aria-labelledby': 'qa-heading' },
      this.heading, this.form, this.error, this.status, h('div', { class: 'field inline qa-sort' }, this.sortLabel, this.sortSelect), this.list, this.empty);
    this.offs = [this.client.onAny(['joined', 'question', 'participant_joined'], () => this.render())];
  }

  label() {
    return t('qa.title');
  }

  /** Open questions: what the teacher has still to answer. */
  badge() {
    return [...this.client.classroom.questions.values()].filter((q) => q.status === 'open').length || null;
  }

  get staff() {
    return this.client.staff;
  }

  async ask() {
    const text = this.input.value.trim();
    if (!text) return;
    const done = await act(this.askButton, this.error, () => this.client.ask(text));
    if (done) {
      this.input.value = '';
      this.status.textContent = t('qa.asked');
    }
  }

  sorted() {
    const items = [...this.client.classroom.questions.values()];
    const time = (q) => Date.parse(q.at ?? '') || 0;
    return items.sort((a, b) => {
      if (this.sort === 'time') return time(b) - time(a) || b.id - a.id;
      return (STATUS_ORDER[a.status] ?? 9) - (STATUS_ORDER[b.status] ?? 9) || (b.votes ?? 0) - (a.votes ?? 0) || time(a) - time(b);
    });
  }

  item(q) {
    const mine = q.author_id === this.client.userId;
    const name = mine ? t('cls.you') : q.author_name;
    const voted = this.client.classroom.myVotes.has(q.id);
    const votes = q.votes ?? 0;
    const vote = h('button', { type: 'button', class: ['button', 'small', 'qa-vote', voted ? 'primary' : 'secondary'], 'aria-pressed': String(voted),
      disabled: mine, 'aria-label': t('qa.vote_label', { name, n: votes }) }, `▲ ${votes}`);
    vote.addEventListener('click', () => act(vote, this.error, () => this.client.vote(q.id, !voted)).then(() => this.render()));
    const answer = q.answered_live
      ? h('p', { class: 'qa-answer' }, t('qa.answered_live'))
      : q.answer ? h('p', { class: 'qa-answer' }, t('qa.answer_prefix', { text: '' }), ...linkify(q.answer)) : null;
    const actions = this.staff ? this.staffActions(q, name) : null;
    return h('li', { class: ['qa-item', `is-${q.status}`], dataset: { questionId: String(q.id), status: q.status } },
      h('div', { class: 'qa-top' }, vote,
        h('div', { class: 'qa-body' },
          h('p', { class: 'qa-text' }, ...linkify(q.text)),
          h('p', { class: 'qa-meta muted' }, h('span', { class: 'qa-author' }, name), ' · ', timeOf(q.at, this.room.timeZone), ' · ',
            h('span', { class: 'qa-status' }, t(`qa.status.${q.status}`))))),
      answer, actions);
  }

  staffActions(q, name) {
    const box = h('div', { class: 'qa-actions' });
    const button = (label, fn, extra = {}) => {
      const b = h('button', { type: 'button', class: 'button secondary small', ...extra }, label);
      b.addEventListener('click', () => act(b, this.error, fn).then(() => this.render()));
      return b;
    };
    const buttons = [];
    if (q.status !== 'answered' || !q.answer) {
      const open = h('button', { type: 'button', class: 'button secondary small qa-answer-open', 'aria-expanded': String(this.answering === q.id) }, t('qa.answer'));
      open.addEventListener('click', () => {
        this.answering = this.answering === q.id ? null : q.id;
        this.render();
        this.list.querySelector(`[data-question-id="${q.id}"] .qa-answer-input`)?.focus();
      });
      buttons.push(open);
    }
    if (!q.answered_live) buttons.push(button(t('qa.live'), () => this.client.answerQuestion(q.id, { live: true }), { class: 'button secondary small qa-live' }));
    if (q.status !== 'done') buttons.push(button(t('qa.done'), () => this.client.setQuestionStatus(q.id, 'done'), { class: 'button secondary small qa-done' }));
    if (q.status !== 'hidden') buttons.push(button(t('qa.hide'), () => this.client.setQuestionStatus(q.id, 'hidden'), { class: 'button ghost small qa-hide' }));
    if (q.status === 'hidden' || q.status === 'done') buttons.push(button(t('qa.reopen'), () => this.client.setQuestionStatus(q.id, 'open'), { class: 'button ghost small qa-reopen' }));
    box.append(h('div', { class: 'cls-row' }, buttons));
    if (this.answering === q.id) {
      const inputId = `qa-answer-${q.id}`;
      const input = h('textarea', { id: inputId, class: 'qa-answer-input', rows: '2', maxlength: '1000' });
      const send = h('button', { type: 'submit', class: 'button primary small' }, t('qa.answer_send'));
      const form = h('form', { class: 'qa-answer-form', on: { submit: async (event) => {
        event.preventDefault();
        const text = input.value.trim();
        if (!text) return;
        const ok = await act(send, this.error, () => this.client.answerQuestion(q.id, { text }));
        if (ok) this.answering = null;
        this.render();
      } } }, h('label', { for: inputId, class: 'visually-hidden' }, t('qa.answer_input', { name })), input, h('div', { class: 'cls-row' }, send));
      box.append(form);
    }
    return box;
  }

  render() {
    this.heading.textContent = t('qa.heading');
    this.inputLabel.textContent = t('qa.input');
    this.input.placeholder = t('qa.placeholder');
    this.askButton.textContent = t('qa.ask');
    this.sortLabel.textContent = t('qa.sort');
    replace(this.sortSelect, h('option', { value: 'votes' }, t('qa.sort_votes')), h('option', { value: 'time' }, t('qa.sort_time')));
    this.sortSelect.value = this.sort;
    // Keep a half-typed answer across redraws.
    const typing = this.answering !== null ? this.list.querySelector('.qa-answer-input') : null;
    const draft = typing?.value ?? '';
    const focused = typing && document.activeElement === typing;
    const items = this.sorted();
    replace(this.list, items.map((q) => this.item(q)));
    if (typing) {
      const again = this.list.querySelector('.qa-answer-input');
      if (again) {
        again.value = draft;
        if (focused) again.focus();
      }
    }
    this.empty.textContent = t('qa.empty');
    this.empty.hidden = items.length > 0;
  }

  stop() {
    for (const off of this.offs) off();
  }
}
