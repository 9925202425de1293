// A student's group ("Bạn đang ở Nhóm 2"): shown while you are in a group, with the countdown to
// its end, the 30-second warning, the teacher's messages and the "Gọi giáo viên" button. Back
// in the main room it hides and the normal room returns. While the teacher records the group
// (and the lesson's recording runs), "Nhóm đang được ghi hình" says so.

import { h, replace } from './dom.js';
import { t } from './i18n.js';
import './i18n-breakouts.js';
import { clock, errorText } from './live-parts.js';
import { secondsLeft } from './breakout-plan.js';

export class GroupPanel {
  /** @param {{client, say}} room */
  constructor({ client, say }) {
    this.client = client;
    this.say = say;
    this.helpActive = false;
    this.ticker = null;
    this.heading = h('h2', { id: 'group-heading' });
    this.countdown = h('p', { id: 'group-countdown', class: 'bo-countdown' });
    this.ending = h('p', { id: 'group-ending', class: 'group-ending', role: 'alert', hidden: true });
    this.teacherHere = h('p', { class: 'muted', hidden: true });
    /** group id -> whether the teacher records it (the server's `group_recording` events). */
    this.groupRecording = new Map();
    this.recorded = h('p', { id: 'group-recorded', class: 'group-recorded', role: 'status', 'aria-live': 'polite', hidden: true });
    this.noticesHeading = h('h3', { id: 'group-notices-heading', class: 'visually-hidden' });
    this.notices = h('ul', { id: 'group-notices', class: 'group-notices', 'aria-live': 'polite', 'aria-labelledby': 'group-notices-heading' });
    this.helpButton = h('button', { type: 'button', id: 'btn-help', class: 'button secondary', 'aria-pressed': 'false', on: { click: () => this.toggleHelp() } });
    this.helpNote = h('p', { class: 'muted', role: 'status', 'aria-live': 'polite' });
    this.el = h('section', { id: 'group-box', class: 'panel group-box', 'aria-labelledby': 'group-heading', hidden: true },
      this.heading, this.recorded, this.countdown, this.ending, this.teacherHere, this.noticesHeading, this.notices, h('div', { class: 'group-help' }, this.helpButton, this.helpNote));
    client.on('room', (event) => this.onRoom(event));
    client.on('joined', () => this.render());
    client.onAny(['participant_joined', 'participant_left', 'notice', 'breakouts_ending', 'recording'], () => this.render());
    client.on('message', (message) => {
      if (message.type !== 'group_recording') return;
      this.groupRecording.set(message.group_id, Boolean(message.active));
      this.render();
    });
  }

  get inGroup() {
    return this.client.room.id !== 'main';
  }

  onRoom({ previous }) {
    const room = this.client.room;
    if (room.id === 'main') this.groupRecording.clear(); // entering a group tells again
    if (room.id !== previous) {
      this.helpActive = false;
      const name = room.name ?? room.id;
      if (room.id !== 'main') this.say(() => t('grp.moved', { name }));
      else if (previous && previous !== 'main' && this.client.role === 'student') this.say(() => t('grp.back'));
    }
    this.render();
  }

  async toggleHelp() {
    const next = !this.helpActive;
    this.helpButton.disabled = true;
    try {
      await this.client.help(next);
      this.helpActive = next;
    } catch (err) {
      this.say(() => errorText(err), 'error');
    } finally {
      this.helpButton.disabled = false;
      this.render();
    }
  }

  /** The group you are in is being recorded now: the teacher turned it on and the lesson records. */
  get groupRecorded() {
    return this.inGroup && this.groupRecording.get(this.client.room.id) === true && Boolean(this.client.recording?.active);
  }

  teacherInGroup() {
    return [...this.client.participants.values()].some((p) => p.role === 'teacher' && this.client.lessonState.roomOf(p) === this.client.room.id);
  }

  render() {
    const show = this.inGroup && this.client.role !== 'teacher';
    this.el.hidden = !show;
    if (!show) {
      clearInterval(this.ticker);
      this.ticker = null;
      return;
    }
    const room = this.client.room;
    this.el.dataset.room = room.id;
    this.heading.textContent = t('grp.heading', { name: room.name ?? room.id });
    const recorded = this.groupRecorded;
    this.recorded.hidden = !recorded;
    this.recorded.textContent = recorded ? t('grp.recorded') : '';
    this.el.classList.toggle('is-recorded', recorded);
    const teacherHere = this.teacherInGroup();
    if (teacherHere) this.helpActive = false; // a visit clears the call
    this.teacherHere.hidden = !teacherHere;
    this.teacherHere.textContent = t('grp.teacher_here');
    this.noticesHeading.textContent = t('grp.notices');
    replace(this.notices, this.client.lessonState.notices.map((n) => h('li', { class: 'group-notice' }, t('grp.notice', { text: n.text }))));
    this.notices.hidden = !this.client.lessonState.notices.length;
    this.helpButton.textContent = t(this.helpActive ? 'grp.help_cancel' : 'grp.help');
    this.helpButton.setAttribute('aria-pressed', String(this.helpActive));
    this.helpButton.classList.toggle('is-on', this.helpActive);
    this.helpNote.textContent = this.helpActive ? t('grp.help_sent') : '';
    this.tick();
    this.ticker ??= setInterval(() => this.tick(), 1000);
  }

  /** The countdown to the group's end and, in the last seconds, the warning. */
  tick() {
    const left = secondsLeft(this.client.room.ends_at);
    this.countdown.hidden = left === null;
    this.countdown.dataset.seconds = left === null ? '' : String(left);
    if (left !== null) this.countdown.textContent = left > 0 ? t('bo.left', { time: clock(left) }) : t('bo.ended_at_zero');
    const ending = this.client.lessonState.ending;
    const warn = Boolean(ending) && (left === null || left > 0);
    // Written when it appears or the language switched: an alert is not repeated each second.
    if (warn && (this.ending.hidden || this.ending.textContent !== t('grp.ending'))) this.ending.textContent = t('grp.ending');
    this.ending.hidden = !warn;
  }

  stop() {
    clearInterval(this.ticker);
    this.ticker = null;
  }
}
