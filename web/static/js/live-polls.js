// "Thăm dò / Kiểm tra nhanh": polls and quick quizzes. The teacher writes a question (one answer,
// several, true/false, a short answer or a number), its options and, for a quiz, the correct
// answer, points and a time limit; launches it at once or keeps it prepared and launches it later
// with one click; sees answers come in (a bar per option), closes it and publishes the results.
// A student answers while it is open (and may change the answer until it closes), sees the
// countdown, and once the results are published sees them, with their own score on a quiz.

import { h, replace } from './dom.js';
import { t } from './i18n.js';
import './i18n-classroom.js';
import { clock } from './live-parts.js';
import { act, errorLine, statusLine } from './live-classroom-parts.js';

const KINDS = ['single', 'multiple', 'true_false', 'short', 'number'];
const CHOICE_KINDS = new Set(['single', 'multiple', 'true_false']);
const MAX_OPTIONS = 10;
const REDRAW_ON = ['joined', 'poll', 'poll_counts', 'poll_results'];

function secondsUntil(iso) {
  if (!iso) return null;
  const ms = Date.parse(iso) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, Math.ceil(ms / 1000)) : null;
}

/** A stored answer as text: option names, a text or a number. */
function answerText(poll, answer) {
  if (answer === null || answer === undefined) return '';
  if (Array.isArray(answer)) return answer.map((i) => optionText(poll, i)).join(', ');
  if (typeof answer === 'object') return answerText(poll, answer.choices ?? answer.text ?? answer.number);
  return String(answer);
}

function optionText(poll, index) {
  const text = poll.options?.[index] ?? `#${index}`;
  if (poll.kind === 'true_false') return text === 'Đúng' ? t('poll.true') : text === 'Sai' ? t('poll.false') : text;
  return text;
}

export class PollsPanel {
  constructor(room) {
    this.room = room;
    this.client = room.client;
    this.id = 'polls';
    this.icon = 'poll';
    this.ticker = null;
    this.drafts = new Map(); // poll id -> a student's choice not yet sent
    this.heading = h('h2', { id: 'polls-heading' });
    this.error = errorLine('polls-error');
    this.status = statusLine('polls-status');
    this.list = h('div', { id: 'polls-list', class: 'polls-list' });
    this.empty = h('p', { class: 'muted' });
    this.buildForm();
    this.el = h('section', { id: 'polls-panel', class: 'cls-panel polls-panel', 'aria-labelledby': 'polls-heading' },
      this.heading, this.error, this.status, this.formBox, this.list, this.empty);
    this.offs = [
      this.client.onAny(REDRAW_ON, () => this.render()),
      this.client.on('poll', ({ poll }) => this.onPoll(poll)),
    ];
    this.known = new Map(); // poll id -> {status, published} last seen, to tell students what changed
  }

  label() {
    return t('poll.short_title');
  }

  /** An open poll: "1" (students: one they have not answered yet shows "!"). */
  badge() {
    const open = [...this.client.classroom.polls.values()].filter((p) => p.status === 'open');
    if (!open.length) return null;
    if (!this.client.staff && open.some((p) => !p.mine)) return '!';
    return open.length;
  }

  get teacher() {
    return this.client.role === 'teacher';
  }

  onPoll(poll) {
    if (!poll) return;
    const before = this.known.get(poll.id);
    this.known.set(poll.id, { status: poll.status, published: poll.published });
    if (this.client.staff) return;
    if (poll.status === 'open' && before?.status !== 'open') {
      this.room.say(() => t('poll.new_open', { q: poll.question }));
      this.room.drawer?.notify?.(this.id);
    } else if (poll.published && !before?.published) {
      this.room.say(() => t('poll.results_out', { q: poll.question }));
      this.room.drawer?.notify?.(this.id);
    }
  }

  // --- the teacher's form ---------------------------------------------------------------------
  buildForm() {
    this.formHeading = h('h3', { id: 'poll-form-heading' });
    this.questionLabel = h('label', { for: 'poll-question' });
    this.questionInput = h('textarea', { id: 'poll-question', rows: '2', maxlength: '500' });
    this.kindLabel = h('label', { for: 'poll-kind' });
    this.kindSelect = h('select', { id: 'poll-kind', on: { change: () => this.renderOptions() } });
    this.optionsLegend = h('legend');
    this.optionsList = h('ol', { class: 'poll-options-edit' });
    this.addOption = h('button', { type: 'button', class: 'button ghost small', on: { click: () => { this.optionValues().length < MAX_OPTIONS && this.addOptionRow(''); } } });
    this.optionsBox = h('fieldset', { class: 'poll-fieldset' }, this.optionsLegend, this.optionsList, this.addOption);
    this.tfLabel = h('label', { for: 'poll-tf-correct' });
    this.tfSelect = h('select', { id: 'poll-tf-correct' });
    this.tfBox = h('div', { class: 'field' }, this.tfLabel, this.tfSelect);
    this.correctLabel = h('label', { for: 'poll-correct' });
    this.correctInput = h('input', { type: 'text', id: 'poll-correct', maxlength: '200', autocomplete: 'off' });
    this.correctBox = h('div', { class: 'field' }, this.correctLabel, this.correctInput);
    this.pointsLabel = h('label', { for: 'poll-points' });
    this.pointsInput = h('input', { type: 'number', id: 'poll-points', min: '0', max: '100', step: '0.25', value: '1', inputmode: 'decimal' });
    this.durationLabel = h('label', { for: 'poll-duration' });
    this.durationInput = h('input', { type: 'number', id: 'poll-duration', min: '10', max: '3600', step: '5', inputmode: 'numeric', 'aria-describedby': 'poll-duration-hint' });
    this.durationHint = h('span', { id: 'poll-duration-hint', class: 'muted field-hint' });
    this.anonymousInput = h('input', { type: 'checkbox', id: 'poll-anonymous' });
    this.anonymousText = h('span');
    this.launchButton = h('button', { type: 'submit', id: 'poll-launch', class: 'button primary' });
    this.saveButton = h('button', { type: 'button', id: 'poll-save', class: 'button secondary', on: { click: () => this.create(false) } });
    this.form = h('form', { id: 'poll-form', class: 'poll-form', on: { submit: (event) => { event.preventDefault(); this.create(true); } } },
      h('div', { class: 'field' }, this.questionLabel, this.questionInput),
      h('div', { class: 'field' }, this.kindLabel, this.kindSelect),
      this.optionsBox, this.tfBox, this.correctBox,
      h('div', { class: 'cls-row poll-numbers' }, h('div', { class: 'field' }, this.pointsLabel, this.pointsInput),
        h('div', { class: 'field' }, this.durationLabel, this.durationInput)),
      this.durationHint,
      h('label', { class: 'permit-toggle' }, this.anonymousInput, this.anonymousText),
      h('div', { class: 'cls-row' }, this.launchButton, this.saveButton));
    this.formToggle = h('summary', { class: 'poll-form-summary' });
    this.formBox = h('details', { id: 'poll-new', class: 'poll-new', hidden: true }, this.formToggle, this.form);
    this.addOptionRow('');
    this.addOptionRow('');
  }

  addOptionRow(value) {
    const n = this.optionsList.children.length + 1;
    const id = `poll-option-${n}-${Math.random().toString(36).slice(2, 7)}`;
    const input = h('input', { type: 'text', id, class: 'poll-option-input', maxlength: '200', autocomplete: 'off', value });
    const label = h('label', { for: id, class: 'visually-hidden' });
    const correct = h('input', { type: 'checkbox', class: 'poll-option-correct' });
    const correctText = h('span', { class: 'visually-hidden' });
    const remove = h('button', { type: 'button', class: 'button ghost small poll-option-remove' }, '✕');
    const row = h('li', { class: 'poll-option-row' }, label, input, h('label', { class: 'poll-correct-toggle', title: '' }, correct, h('span', { 'aria-hidden': 'true' }, '✓'), correctText), remove);
    remove.addEventListener('click', () => {
      if (this.optionsList.children.length > 2) row.remove();
      this.renderOptions();
    });
    this.optionsList.append(row);
    this.renderOptions();
    return row;
  }

  optionValues() {
    return [...this.optionsList.querySelectorAll('.poll-option-input')].map((i) => i.value.trim());
  }

  renderOptions() {
    const kind = this.kindSelect.value || 'single';
    const choice = kind === 'single' || kind === 'multiple';
    this.optionsBox.hidden = !choice;
    this.tfBox.hidden = kind !== 'true_false';
    this.correctBox.hidden = kind !== 'short' && kind !== 'number';
    this.correctInput.type = kind === 'number' ? 'number' : 'text';
    if (kind === 'number') this.correctInput.step = 'any';
    [...this.optionsList.children].forEach((row, i) => {
      const n = i + 1;
      row.querySelector('label.visually-hidden').textContent = t('poll.option_n', { n });
      row.querySelector('.poll-option-input').placeholder = t('poll.option_n', { n });
      const correct = row.querySelector('.poll-option-correct');
      correct.type = kind === 'single' ? 'radio' : 'checkbox';
      correct.name = 'poll-correct-option';
      correct.setAttribute('aria-label', t('poll.option_correct', { n }));
      row.querySelector('.poll-correct-toggle').title = t('poll.option_correct', { n });
      const remove = row.querySelector('.poll-option-remove');
      remove.setAttribute('aria-label', t('poll.option_remove', { n }));
      remove.hidden = this.optionsList.children.length <= 2;
    });
    this.addOption.hidden = this.optionsList.children.length >= MAX_OPTIONS;
  }

  /** The form as a poll for the server, or an error text. */
  pollFromForm() {
    const question = this.questionInput.value.trim();
    if (!question) return { error: t('poll.need_question') };
    const kind = this.kindSelect.value;
    const poll = { question, kind, options: [], correct: null, anonymous: this.anonymousInput.checked };
    const points = Number(this.pointsInput.value);
    poll.points = Number.isFinite(points) && this.pointsInput.value !== '' ? points : 1;
    const duration = Math.round(Number(this.durationInput.value));
    poll.duration_s = this.durationInput.value !== '' && duration > 0 ? duration : null;
    if (kind === 'single' || kind === 'multiple') {
      const rows = [...this.optionsList.children].map((row) => ({ text: row.querySelector('.poll-option-input').value.trim(), correct: row.querySelector('.poll-option-correct').checked }))
        .filter((o) => o.text);
      if (rows.length < 2) return { error: t('poll.need_options') };
      poll.options = rows.map((o) => o.text);
      const correct = rows.map((o, i) => (o.correct ? i : -1)).filter((i) => i >= 0);
      poll.correct = correct.length ? (kind === 'single' ? correct.slice(0, 1) : correct) : null;
    } else if (kind === 'true_false') {
      poll.correct = this.tfSelect.value === '' ? null : [Number(this.tfSelect.value)];
    } else if (kind === 'short') {
      poll.correct = this.correctInput.value.trim() || null;
    } else if (kind === 'number') {
      const value = this.correctInput.value.trim();
      poll.correct = value === '' || !Number.isFinite(Number(value)) ? null : Number(value);
    }
    return { poll };
  }

  async create(open) {
    const { poll, error } = this.pollFromForm();
    if (error) {
      this.error.show(error);
      return;
    }
    const button = open ? this.launchButton : this.saveButton;
    const reply = await act(button, this.error, () => this.client.createPoll(poll, { open }));
    if (!reply) return;
    this.questionInput.value = '';
    for (const input of this.optionsList.querySelectorAll('.poll-option-input')) input.value = '';
    for (const input of this.optionsList.querySelectorAll('.poll-option-correct')) input.checked = false;
    this.correctInput.value = '';
    this.status.textContent = open ? '' : t('poll.saved');
    if (open) this.formBox.open = false;
    this.render();
  }

  // --- the polls ------------------------------------------------------------------------------
  /** Bars per option: `counts` of `total` (the bigger of who answered and the highest count). */
  bars(poll, counts, { correct = null, mine = null } = {}) {
    const total = Math.max(1, ...counts, this.client.classroom.pollCounts.get(poll.id)?.answered ?? 0, poll.answered ?? 0);
    return h('ul', { class: 'poll-bars' }, (poll.options ?? []).map((option, i) => {
      const n = counts[i] ?? 0;
      const isCorrect = Array.isArray(correct) && correct.includes(i);
      const isMine = Array.isArray(mine) && mine.includes(i);
      const name = optionText(poll, i);
      const fill = h('span', { class: 'poll-bar-fill' });
      fill.style.width = `${Math.round((100 * n) / total)}%`; // CSSOM: the page's CSP allows no inline style attribute
      return h('li', { class: ['poll-bar', isCorrect && 'is-correct', isMine && 'is-mine'], dataset: { option: String(i), count: String(n) }, 'aria-label': t('poll.bar_label', { option: name, n }) },
        h('span', { class: 'poll-bar-label', 'aria-hidden': 'true' }, isCorrect ? `✓ ${name}` : name),
        h('span', { class: 'poll-bar-track', 'aria-hidden': 'true' }, fill),
        h('span', { class: 'poll-bar-n', 'aria-hidden': 'true' }, String(n)));
    }));
  }

  countdown(poll) {
    if (poll.status !== 'open' || !poll.closes_at) return null;
    return h('p', { class: 'poll-countdown', dataset: { closesAt: poll.closes_at } }, t('poll.left', { time: clock(secondsUntil(poll.closes_at) ?? 0) }));
  }

  card(poll) {
    const staff = this.client.staff;
    const statusText = poll.published ? t('poll.published') : t(`poll.status.${poll.status}`);
    const head = h('div', { class: 'poll-head' },
      h('h3', { class: 'poll-question' }, poll.question),
      h('p', { class: 'poll-meta muted' }, h('span', { class: 'poll-kind' }, t(`poll.kind.${poll.kind}`)), ' · ', h('span', { class: 'poll-status' }, statusText)));
    const body = staff ? this.staffBody(poll) : this.studentBody(poll);
    return h('article', { class: ['poll-card', `is-${poll.status}`, poll.published && 'is-published'], dataset: { pollId: String(poll.id), status: poll.status } },
      head, this.countdown(poll), body);
  }

  staffBody(poll) {
    const parts = [];
    const live = this.client.classroom.pollCounts.get(poll.id);
    const results = this.client.classroom.pollResults.get(poll.id);
    const counts = results?.counts ?? live?.counts ?? poll.counts ?? [];
    const answered = live?.answered ?? poll.answered ?? 0;
    if (poll.status !== 'draft') {
      parts.push(h('p', { class: 'poll-answered' }, live?.total ? t('poll.answered', { n: answered, total: live.total }) : t('poll.answered_n', { n: answered })));
      if (CHOICE_KINDS.has(poll.kind)) parts.push(this.bars(poll, counts, { correct: poll.correct }));
      else if (poll.correct !== null && poll.correct !== undefined) parts.push(h('p', { class: 'poll-correct' }, t('poll.correct_is', { answer: answerText(poll, poll.correct) })));
    }
    if (results?.answers?.length) {
      parts.push(h('details', { class: 'poll-answers' }, h('summary', {}, t('poll.answers_of')),
        h('ul', {}, results.answers.map((a) => h('li', { class: a.correct === true ? 'is-correct' : a.correct === false ? 'is-wrong' : null },
          `${a.full_name}: ${answerText(poll, a.answer)}${a.score !== null && a.score !== undefined ? ` (${a.score})` : ''}`)))));
    }
    if (this.teacher) {
      const buttons = [];
      const button = (label, cls, fn, extra = {}) => {
        const b = h('button', { type: 'button', class: `button small ${cls}`, ...extra }, label);
        b.addEventListener('click', () => act(b, this.error, fn));
        buttons.push(b);
      };
      if (poll.status === 'draft') button(t('poll.open'), 'primary poll-open', () => this.client.openPoll(poll.id), { 'aria-label': t('poll.open_label', { q: poll.question }) });
      if (poll.status === 'open') button(t('poll.close'), 'secondary poll-close', () => this.client.closePoll(poll.id));
      if (poll.status === 'closed' && !poll.published) button(t('poll.publish'), 'primary poll-publish', () => this.client.publishPoll(poll.id));
      if (buttons.length) parts.push(h('div', { class: 'cls-row' }, buttons));
    }
    return h('div', { class: 'poll-body' }, parts);
  }

  studentBody(poll) {
    const mine = poll.mine ?? null;
    if (poll.status === 'open') return this.answerForm(poll, mine);
    const parts = [];
    parts.push(h('p', { class: 'poll-mine' }, mine ? `${t('poll.your_answer')}: ${answerText(poll, mine.answer)}` : t('poll.not_answered')));
    if (!poll.published) {
      parts.push(h('p', { class: 'muted poll-wait' }, t('poll.wait_results')));
      return h('div', { class: 'poll-body' }, parts);
    }
    const results = this.client.classroom.pollResults.get(poll.id);
    const counts = results?.counts ?? poll.counts ?? [];
    const correct = results?.correct ?? poll.correct ?? null;
    if (CHOICE_KINDS.has(poll.kind)) parts.push(this.bars(poll, counts, { correct, mine: Array.isArray(mine?.answer) ? mine.answer : null }));
    if (correct !== null && correct !== undefined) {
      parts.push(h('p', { class: 'poll-correct' }, t('poll.correct_is', { answer: answerText(poll, correct) })));
      if (mine) {
        if (mine.correct === true || mine.correct === false) parts.push(h('p', { class: ['poll-verdict', mine.correct ? 'is-correct' : 'is-wrong'] }, t(mine.correct ? 'poll.you_correct' : 'poll.you_wrong')));
      }
      parts.push(h('p', { class: 'poll-score' }, t('poll.your_score', { score: mine?.score ?? 0, points: poll.points })));
    }
    if (results?.answers?.length) {
      parts.push(h('details', { class: 'poll-answers' }, h('summary', {}, t('poll.answers_of')),
        h('ul', {}, results.answers.map((a) => h('li', {}, `${a.full_name}: ${answerText(poll, a.answer)}`)))));
    }
    return h('div', { class: 'poll-body' }, parts);
  }

  answerForm(poll, mine) {
    const name = `poll-${poll.id}`;
    const draft = this.drafts.get(poll.id);
    const inputs = [];
    let field;
    if (CHOICE_KINDS.has(poll.kind)) {
      const chosen = new Set(draft?.choices ?? (Array.isArray(mine?.answer) ? mine.answer : []));
      const type = poll.kind === 'multiple' ? 'checkbox' : 'radio';
      field = h('fieldset', { class: 'poll-choices' }, h('legend', { class: 'visually-hidden' }, poll.question),
        (poll.options ?? []).map((option, i) => {
          const input = h('input', { type, name, value: String(i), checked: chosen.has(i) });
          input.addEventListener('change', () => this.keepDraft(poll));
          inputs.push(input);
          return h('label', { class: 'poll-choice' }, input, h('span', {}, optionText(poll, i)));
        }));
    } else {
      const id = `poll-answer-${poll.id}`;
      const input = h('input', { id, name, class: 'poll-answer-input', type: poll.kind === 'number' ? 'number' : 'text', step: poll.kind === 'number' ? 'any' : null,
        maxlength: poll.kind === 'short' ? '200' : null, autocomplete: 'off', value: draft?.value ?? (mine ? String(mine.answer ?? '') : '') });
      input.addEventListener('input', () => this.keepDraft(poll));
      inputs.push(input);
      field = h('div', { class: 'field' }, h('label', { for: id }, t('poll.your_answer')), input);
    }
    const send = h('button', { type: 'submit', class: 'button primary poll-send' }, t(mine ? 'poll.change' : 'poll.answer'));
    const form = h('form', { class: 'poll-answer-form', on: { submit: (event) => { event.preventDefault(); this.answer(poll, inputs, send); } } },
      field, h('div', { class: 'cls-row' }, send),
      mine ? h('p', { class: 'poll-sent muted', role: 'status' }, t('poll.sent')) : null);
    return h('div', { class: 'poll-body' }, form);
  }

  keepDraft(poll) {
    const card = this.list.querySelector(`[data-poll-id="${poll.id}"]`);
    if (!card) return;
    if (CHOICE_KINDS.has(poll.kind)) {
      this.drafts.set(poll.id, { choices: [...card.querySelectorAll('input:checked')].map((i) => Number(i.value)) });
    } else {
      this.drafts.set(poll.id, { value: card.querySelector('.poll-answer-input')?.value ?? '' });
    }
  }

  async answer(poll, inputs, button) {
    let answer;
    if (CHOICE_KINDS.has(poll.kind)) {
      const choices = inputs.filter((i) => i.checked).map((i) => Number(i.value));
      if (!choices.length) return this.error.show(t('poll.pick_one'));
      answer = { choices };
    } else {
      const value = inputs[0].value.trim();
      if (!value || (poll.kind === 'number' && !Number.isFinite(Number(value)))) return this.error.show(t('poll.need_answer'));
      answer = poll.kind === 'number' ? { number: Number(value) } : { text: value };
    }
    const reply = await act(button, this.error, () => this.client.answerPoll(poll.id, answer));
    if (reply) this.drafts.delete(poll.id);
    this.render();
    return reply;
  }

  render() {
    const staff = this.client.staff;
    this.heading.textContent = t('poll.heading');
    this.formBox.hidden = !this.teacher;
    if (this.teacher) {
      this.formToggle.textContent = t('poll.new');
      this.questionLabel.textContent = t('poll.question');
      this.kindLabel.textContent = t('poll.kind');
      const kind = this.kindSelect.value || 'single';
      replace(this.kindSelect, KINDS.map((k) => h('option', { value: k }, t(`poll.kind.${k}`))));
      this.kindSelect.value = kind;
      this.optionsLegend.textContent = t('poll.options');
      this.addOption.textContent = `+ ${t('poll.add_option')}`;
      this.tfLabel.textContent = t('poll.correct');
      const tf = this.tfSelect.value;
      replace(this.tfSelect, h('option', { value: '' }, t('poll.correct_none')), h('option', { value: '0' }, t('poll.true')), h('option', { value: '1' }, t('poll.false')));
      this.tfSelect.value = tf;
      this.correctLabel.textContent = t('poll.correct_text');
      this.pointsLabel.textContent = t('poll.points');
      this.durationLabel.textContent = t('poll.duration');
      this.durationHint.textContent = t('poll.duration_hint');
      this.anonymousText.textContent = t('poll.anonymous');
      this.launchButton.textContent = t('poll.launch');
      this.saveButton.textContent = t('poll.save');
      this.renderOptions();
    }
    const polls = [...this.client.classroom.polls.values()].sort((a, b) => {
      const rank = (p) => (p.status === 'open' ? 0 : p.status === 'draft' ? 1 : 2);
      return rank(a) - rank(b) || b.id - a.id;
    });
    // A student's half-chosen answer survives the redraw (it is kept in this.drafts).
    replace(this.list, polls.map((p) => this.card(p)));
    this.empty.textContent = t('poll.none');
    this.empty.hidden = polls.length > 0 || staff;
    const ticking = polls.some((p) => p.status === 'open' && p.closes_at);
    if (ticking) this.ticker ??= setInterval(() => this.tick(), 1000);
    else {
      clearInterval(this.ticker);
      this.ticker = null;
    }
  }

  tick() {
    for (const el of this.list.querySelectorAll('.poll-countdown')) {
      el.textContent = t('poll.left', { time: clock(secondsUntil(el.dataset.closesAt) ?? 0) });
    }
  }

  stop() {
    clearInterval(this.ticker);
    this.ticker = null;
    for (const off of this.offs) off();
  }
}
