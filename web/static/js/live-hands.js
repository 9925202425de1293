// "Giơ tay": a student raises or lowers their hand and tells the teacher how they follow ("Đã
// hiểu", "Chưa hiểu", 👍; one at a time, pressed again to take it back). The teacher sees the
// hands in the order they were raised, gives one the floor ("Mời phát biểu": their microphone is
// allowed) or lowers one or all, and sees how many students chose each reaction.

import { h, replace } from './dom.js';
import { t } from './i18n.js';
import './i18n-classroom.js';
import { REACTIONS } from './lesson-classroom.js';
import { act, errorLine, timeOf } from './live-classroom-parts.js';

export class HandsPanel {
  constructor(room) {
    this.room = room;
    this.client = room.client;
    this.id = 'hands';
    this.icon = 'hand';
    this.heading = h('h2', { id: 'hands-heading' });
    this.error = errorLine('hands-error');
    // A student's part.
    this.handButton = h('button', { type: 'button', id: 'btn-hand', class: 'button primary large', 'aria-pressed': 'false', on: { click: () => this.toggleHand() } });
    this.handNote = h('p', { id: 'hand-note', class: 'muted', role: 'status', 'aria-live': 'polite' });
    this.reactHeading = h('h3', { id: 'react-heading' });
    this.reactButtons = Object.fromEntries(REACTIONS.map((r) => [r, h('button', { type: 'button', class: 'button secondary react-button', dataset: { reaction: r }, 'aria-pressed': 'false',
      on: { click: () => this.react(r) } })]));
    this.student = h('div', { class: 'hands-student' }, this.handButton, this.handNote,
      h('div', { role: 'group', 'aria-labelledby': 'react-heading', class: 'react-box' }, this.reactHeading, h('div', { class: 'cls-row react-row' }, Object.values(this.reactButtons))));
    // The teacher's part.
    this.queueHeading = h('h3', { id: 'hands-queue-heading' });
    this.queue = h('ol', { id: 'hands-queue', class: 'hands-queue', 'aria-labelledby': 'hands-queue-heading' });
    this.queueEmpty = h('p', { class: 'muted' });
    this.lowerAll = h('button', { type: 'button', id: 'hands-lower-all', class: 'button secondary small',
      on: { click: () => act(this.lowerAll, this.error, () => this.client.lowerHand(null)) } });
    this.countsHeading = h('h3', { id: 'react-counts-heading' });
    this.counts = h('ul', { id: 'react-counts', class: 'react-counts', 'aria-labelledby': 'react-counts-heading' });
    this.clearButton = h('button', { type: 'button', class: 'button ghost small',
      on: { click: () => act(this.clearButton, this.error, () => this.client.clearReactions()) } });
    this.staffBox = h('div', { class: 'hands-staff' }, h('div', { class: 'cls-row cls-row-between' }, this.queueHeading, this.lowerAll), this.queue, this.queueEmpty,
      h('div', { class: 'cls-row cls-row-between' }, this.countsHeading, this.clearButton), this.counts);
    this.el = h('section', { id: 'hands-panel', class: 'cls-panel hands-panel', 'aria-labelledby': 'hands-heading' }, this.heading, this.error, this.student, this.staffBox);
    this.offs = [
      this.client.onAny(['joined', 'hands', 'reactions', 'participant_joined', 'participant_left'], () => this.render()),
      this.client.on('hands', () => this.room.drawer?.notify?.(this.id)),
      this.client.on('hand_lowered', () => {
        if (!this.client.staff) this.room.say(() => t('hand.lowered_by_teacher'));
      }),
      this.client.on('floor', ({ user_id: userId, full_name: name }) => {
        this.room.say(() => (userId === this.client.userId ? t('hand.floor_you') : t('hand.floor_given', { name })));
      }),
    ];
  }

  label() {
    return t('hand.title');
  }

  badge() {
    const queue = this.client.classroom.hands;
    if (this.client.staff) return queue.length || null;
    return this.myPlace() ? '✋' : null;
  }

  /** My place in the queue (1 = first), or 0. */
  myPlace() {
    return this.client.classroom.hands.findIndex((hand) => hand.user_id === this.client.userId) + 1;
  }

  toggleHand() {
    const raised = this.myPlace() > 0;
    return act(this.handButton, this.error, () => (raised ? this.client.lowerHand() : this.client.raiseHand()));
  }

  react(reaction) {
    const mine = this.client.classroom.reactions.mine;
    const button = this.reactButtons[reaction];
    return act(button, this.error, () => this.client.react(mine === reaction ? null : reaction));
  }

  reactionLabel(reaction) {
    return reaction === 'thumbs_up' ? t('react.thumbs_up_label') : t(`react.${reaction}`);
  }

  queueItem(hand, index) {
    const name = hand.full_name;
    const floor = h('button', { type: 'button', class: 'button primary small hand-floor', 'aria-label': t('hand.floor_label', { name }) }, t('hand.floor'));
    floor.addEventListener('click', () => act(floor, this.error, () => this.client.giveFloor(hand.user_id)));
    const lower = h('button', { type: 'button', class: 'button secondary small hand-lower', 'aria-label': t('hand.lower_label', { name }) }, t('hand.lower_one'));
    lower.addEventListener('click', () => act(lower, this.error, () => this.client.lowerHand(hand.user_id)));
    const canFloor = this.client.role === 'teacher';
    return h('li', { class: 'hand-item', dataset: { userId: String(hand.user_id) } },
      h('span', { class: 'hand-order', 'aria-hidden': 'true' }, String(index + 1)),
      h('span', { class: 'hand-name' }, name, ' ', h('span', { class: 'muted hand-time' }, timeOf(hand.at, this.room.timeZone))),
      h('span', { class: 'cls-row hand-actions' }, canFloor ? floor : null, lower));
  }

  render() {
    const classroom = this.client.classroom;
    const staff = this.client.staff;
    this.heading.textContent = t('hand.heading');
    this.student.hidden = staff;
    this.staffBox.hidden = !staff;
    if (!staff) {
      const place = this.myPlace();
      this.handButton.textContent = `✋ ${t(place ? 'hand.lower' : 'hand.raise')}`;
      this.handButton.setAttribute('aria-pressed', String(place > 0));
      this.handButton.classList.toggle('is-on', place > 0);
      this.handNote.textContent = place ? t('hand.raised', { n: place }) : '';
      this.reactHeading.textContent = t('react.heading');
      for (const [reaction, button] of Object.entries(this.reactButtons)) {
        const on = classroom.reactions.mine === reaction;
        button.textContent = t(`react.${reaction}`);
        if (reaction === 'thumbs_up') button.setAttribute('aria-label', t('react.thumbs_up_label'));
        button.setAttribute('aria-pressed', String(on));
        button.classList.toggle('is-on', on);
      }
      return;
    }
    this.queueHeading.textContent = t('hand.queue');
    this.lowerAll.textContent = t('hand.lower_all');
    this.lowerAll.hidden = !classroom.hands.length;
    replace(this.queue, classroom.hands.map((hand, i) => this.queueItem(hand, i)));
    this.queueEmpty.textContent = t('hand.none');
    this.queueEmpty.hidden = classroom.hands.length > 0;
    this.countsHeading.textContent = t('react.counts');
    this.clearButton.textContent = t('react.clear');
    replace(this.counts, REACTIONS.map((r) => h('li', { class: 'react-count', dataset: { reaction: r } },
      h('span', { 'aria-hidden': r === 'thumbs_up' ? 'true' : null }, t(`react.${r}`)),
      r === 'thumbs_up' ? h('span', { class: 'visually-hidden' }, t('react.thumbs_up_label')) : null,
      h('strong', { class: 'react-n' }, String(classroom.reactions.counts[r] ?? 0)))));
  }

  stop() {
    for (const off of this.offs) off();
  }
}
