// "Trò chuyện": the lesson's chat. Public messages go to the room you are in (a student in a
// group writes to the group), private ones to the teacher (students) or to any student (staff;
// between students only when the teacher allows it). Messages are drawn with textContent only,
// their http(s) links made into <a>. Staff may delete a message, stop a student's chat and
// allow private messages between students.

import { h, replace } from './dom.js';
import { t } from './i18n.js';
import './i18n-classroom.js';
import { act, errorLine, isShown, linkify, refusalText, studentsHere, timeOf } from './live-classroom-parts.js';

export const CHAT_MAX = 1000;
const REDRAW_ON = ['joined', 'chat', 'chat_history', 'chat_deleted', 'chat_blocked', 'chat_policy', 'participant_joined', 'participant_left', 'room'];

export class ChatPanel {
  constructor(room) {
    this.room = room;
    this.client = room.client;
    this.id = 'chat';
    this.icon = 'chat';
    this.unread = 0;
    this.heading = h('h2', { id: 'chat-heading' });
    this.list = h('ol', { id: 'chat-list', class: 'chat-list', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-labelledby': 'chat-heading' });
    this.empty = h('p', { class: 'muted chat-empty' });
    this.blockedNote = h('p', { id: 'chat-blocked', class: 'cls-note', role: 'status', hidden: true });
    this.policyInput = h('input', { type: 'checkbox', id: 'chat-policy', on: { change: () => this.setPolicy() } });
    this.policyText = h('span');
    this.policy = h('label', { class: 'permit-toggle chat-policy', hidden: true }, this.policyInput, this.policyText);
    this.toLabel = h('label', { for: 'chat-to' });
    this.toSelect = h('select', { id: 'chat-to' });
    this.inputLabel = h('label', { for: 'chat-input', class: 'visually-hidden' });
    this.input = h('textarea', { id: 'chat-input', rows: '2', maxlength: String(CHAT_MAX), autocomplete: 'off', 'aria-describedby': 'chat-counter' });
    this.input.addEventListener('input', () => this.renderCounter());
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.form.requestSubmit();
      }
    });
    this.counter = h('span', { id: 'chat-counter', class: 'chat-counter muted' });
    this.sendButton = h('button', { type: 'submit', id: 'chat-send', class: 'button primary' });
    this.error = errorLine('chat-error');
    this.form = h('form', { id: 'chat-form', class: 'chat-form', on: { submit: (event) => { event.preventDefault(); this.send(); } } },
      h('div', { class: 'field inline chat-to' }, this.toLabel, this.toSelect),
      this.inputLabel, this.input,
      h('div', { class: 'cls-row chat-send-row' }, this.counter, this.sendButton));
    this.el = h('section', { id: 'chat-panel', class: 'cls-panel chat-panel', 'aria-labelledby': 'chat-heading' },
      this.heading, this.policy, this.list, this.empty, this.blockedNote, this.error, this.form);
    this.offs = [
      this.client.onAny(REDRAW_ON, () => this.render()),
      this.client.on('chat', ({ message }) => this.onMessage(message)),
      this.client.on('chat_blocked', ({ mine, blocked }) => {
        if (mine) this.room.say(() => t(blocked ? 'chat.blocked_notice' : 'chat.unblocked_notice'), blocked ? 'warning' : undefined);
      }),
    ];
  }

  label() {
    return t('chat.title');
  }

  badge() {
    return this.unread || null;
  }

  get staff() {
    return this.client.staff;
  }

  get me() {
    return this.client.userId;
  }

  onMessage(message) {
    if (!message || message.from === this.me) return;
    if (isShown(this.el)) return;
    this.unread += 1;
    this.room.drawer?.notify?.(this.id);
  }

  /** Who one may write to: `[{value, label}]`, the room's chat first. */
  recipients() {
    const out = [{ value: '', label: t(this.client.room.id !== 'main' && !this.staff ? 'chat.to_group' : 'chat.to_room') }];
    if (this.staff) {
      for (const p of studentsHere(this.client)) out.push({ value: String(p.user_id), label: t('chat.to_user', { name: p.full_name }) });
      return out;
    }
    const teacherId = this.client.lesson?.teacher_id ?? [...this.client.participants.values()].find((p) => p.role === 'teacher')?.user_id;
    if (teacherId !== undefined && teacherId !== null) out.push({ value: String(teacherId), label: t('chat.to_teacher') });
    if (this.client.classroom.chatPolicy.private_between_students) {
      for (const p of studentsHere(this.client)) {
        if (p.user_id !== this.me) out.push({ value: String(p.user_id), label: t('chat.to_user', { name: p.full_name }) });
      }
    }
    return out;
  }

  nameOf(userId) {
    if (userId === this.me) return t('cls.you');
    for (const p of this.client.participants.values()) if (p.user_id === userId) return p.full_name;
    const msg = this.client.classroom.chat.find((m) => m.from === userId);
    return msg?.from_name ?? `#${userId}`;
  }

  async send() {
    const text = this.input.value.trim();
    if (!text) return;
    if (text.length > CHAT_MAX) {
      this.error.show(t('chat.too_long', { max: CHAT_MAX }));
      return;
    }
    const to = this.toSelect.value ? Number(this.toSelect.value) : null;
    this.sendButton.disabled = true;
    this.error.show(null);
    try {
      await this.client.sendChat(text, { to });
      this.input.value = '';
      this.renderCounter();
      this.input.focus();
    } catch (err) {
      this.error.show(refusalText(err));
      if (err?.code === 'rate_limited' && err.retryAfter) {
        clearTimeout(this.rateTimer);
        this.rateTimer = setTimeout(() => this.error.show(null), err.retryAfter * 1000);
      }
    } finally {
      this.sendButton.disabled = this.client.classroom.chatBlocked && !this.staff;
    }
  }

  setPolicy() {
    const allowed = this.policyInput.checked;
    return act(this.policyInput, this.error, () => this.client.setChatPolicy(allowed)).then(() => this.render());
  }

  renderCounter() {
    const n = this.input.value.length;
    this.counter.textContent = t('chat.counter', { n, max: CHAT_MAX });
    this.counter.classList.toggle('is-over', n > CHAT_MAX * 0.9);
  }

  messageItem(msg) {
    const mine = msg.from === this.me;
    const from = mine ? t('cls.you') : msg.from_name ?? this.nameOf(msg.from);
    const privateTag = msg.to !== null && msg.to !== undefined
      ? h('span', { class: 'chat-private' }, mine ? t('chat.private_to', { name: this.nameOf(msg.to) }) : t('chat.private_from'))
      : null;
    const groupTag = this.staff && msg.room && msg.room !== 'main' ? h('span', { class: 'chat-room' }, msg.room) : null;
    const body = h('p', { class: 'chat-text' });
    if (msg.deleted && !this.staff) {
      body.classList.add('is-deleted');
      body.textContent = t('chat.deleted');
    } else {
      body.append(...linkify(msg.text));
      if (msg.deleted) {
        body.classList.add('is-deleted');
        body.append(' ', h('span', { class: 'chat-deleted-tag' }, `(${t('chat.deleted_staff')})`));
      }
    }
    const actions = [];
    if (this.staff && !msg.deleted) {
      const del = h('button', { type: 'button', class: 'button ghost small chat-delete', 'aria-label': t('chat.delete_label', { name: from }) }, t('chat.delete'));
      del.addEventListener('click', () => act(del, this.error, () => this.client.deleteChat(msg.id)));
      actions.push(del);
    }
    if (this.staff && msg.from_role === 'student') {
      const blocked = this.client.classroom.chatBlockedUsers.has(msg.from);
      const block = h('button', { type: 'button', class: 'button ghost small chat-block', 'aria-pressed': String(blocked),
        'aria-label': t(blocked ? 'chat.unblock_label' : 'chat.block_label', { name: from }) }, t(blocked ? 'chat.unblock' : 'chat.block'));
      block.addEventListener('click', () => act(block, this.error, () => this.client.blockChat(msg.from, !blocked)));
      actions.push(block);
    }
    return h('li', { class: ['chat-msg', mine && 'is-mine', privateTag && 'is-private', msg.from_role === 'teacher' && 'is-teacher'], dataset: { messageId: String(msg.id), from: String(msg.from) } },
      h('p', { class: 'chat-meta' }, h('span', { class: 'chat-from' }, from), privateTag, groupTag, h('time', { class: 'chat-time', datetime: msg.at ?? '' }, timeOf(msg.at, this.room.timeZone))),
      body,
      actions.length ? h('div', { class: 'cls-row chat-actions' }, actions) : null);
  }

  render() {
    const classroom = this.client.classroom;
    this.heading.textContent = t('chat.heading');
    this.policyText.textContent = t('chat.policy');
    this.policy.hidden = !this.staff;
    this.policyInput.checked = classroom.chatPolicy.private_between_students;
    this.toLabel.textContent = t('chat.to');
    this.inputLabel.textContent = t('chat.input');
    this.input.placeholder = t('chat.placeholder');
    this.sendButton.textContent = t('chat.send');
    const chosen = this.toSelect.value;
    const options = this.recipients();
    replace(this.toSelect, options.map((o) => h('option', { value: o.value }, o.label)));
    if (options.some((o) => o.value === chosen)) this.toSelect.value = chosen;
    const atBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 40;
    replace(this.list, classroom.chat.map((msg) => this.messageItem(msg)));
    this.empty.textContent = t('chat.empty');
    this.empty.hidden = classroom.chat.length > 0;
    if (atBottom) this.list.scrollTop = this.list.scrollHeight;
    const blocked = classroom.chatBlocked && !this.staff;
    this.blockedNote.hidden = !blocked;
    this.blockedNote.textContent = t('chat.blocked');
    this.input.disabled = blocked;
    this.sendButton.disabled = blocked;
    this.renderCounter();
    if (isShown(this.el)) this.unread = 0;
  }

  /** The drawer opened this panel: everything is read now. */
  shown() {
    this.unread = 0;
    this.list.scrollTop = this.list.scrollHeight;
  }

  stop() {
    clearTimeout(this.rateTimer);
    for (const off of this.offs) off();
  }
}
