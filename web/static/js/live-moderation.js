// "Quản lý lớp" (teacher and observers): mute everyone, turn off the students' cameras, lock the
// room ("Khóa phòng") with the waiting list (let in or deny), send a student out (confirmed in
// place), give the lesson 5, 10 or 15 more minutes, end it. For everyone: the warnings before
// the room closes, the teacher muting you, and, for a student in a locked room, the waiting
// screen ("Đang chờ giáo viên cho vào lớp") until the teacher lets them in or turns them away.

import { h, replace } from './dom.js';
import { t } from './i18n.js';
import './i18n-classroom.js';
import { act, confirmIn, errorLine, statusLine, studentsHere, timeOf } from './live-classroom-parts.js';

const EXTEND_MINUTES = [5, 10, 15];
const REDRAW_ON = ['joined', 'lock', 'waiting_list', 'lesson_times', 'participant_joined', 'participant_left', 'participant_updated'];
const BYE_TEXT = { denied: 'mod.denied', removed: 'mod.removed_you', lesson_ended: 'mod.lesson_ended' };

export class ModerationPanel {
  constructor(room) {
    this.room = room;
    this.client = room.client;
    this.id = 'moderation';
    this.icon = '🛡️';
    this.heading = h('h2', { id: 'mod-heading' });
    this.error = errorLine('mod-error');
    this.status = statusLine('mod-status');
    this.muteAll = h('button', { type: 'button', id: 'mod-mute-all', class: 'button secondary',
      on: { click: () => this.command(this.muteAll, () => this.client.moderate('mute_all'), 'mod.muted_all') } });
    this.camerasOff = h('button', { type: 'button', id: 'mod-cameras-off', class: 'button secondary',
      on: { click: () => this.command(this.camerasOff, () => this.client.moderate('cameras_off'), 'mod.cameras_done') } });
    this.lockButton = h('button', { type: 'button', id: 'mod-lock', class: 'button secondary', 'aria-pressed': 'false',
      on: { click: () => act(this.lockButton, this.error, () => this.client.lock(!this.client.classroom.moderation.locked)) } });
    this.lockNote = h('p', { id: 'mod-lock-note', class: 'muted' });
    this.waitingHeading = h('h3', { id: 'mod-waiting-heading' });
    this.waiting = h('ul', { id: 'mod-waiting', class: 'mod-list', 'aria-labelledby': 'mod-waiting-heading' });
    this.waitingEmpty = h('p', { class: 'muted' });
    this.peopleHeading = h('h3', { id: 'mod-people-heading' });
    this.people = h('ul', { id: 'mod-people', class: 'mod-list', 'aria-labelledby': 'mod-people-heading' });
    this.peopleEmpty = h('p', { class: 'muted' });
    this.confirmBox = h('div', { id: 'mod-confirm', class: 'cls-confirm', role: 'group', hidden: true });
    this.timeHeading = h('h3', { id: 'mod-time-heading' });
    this.times = h('p', { id: 'mod-times' });
    this.extendButtons = EXTEND_MINUTES.map((n) => {
      const b = h('button', { type: 'button', class: 'button secondary small mod-extend', dataset: { minutes: String(n) } });
      b.addEventListener('click', () => act(b, this.error, async () => {
        await this.client.extend(n);
        this.status.textContent = t('mod.extended', { time: timeOf(this.client.classroom.moderation.closes_at, this.room.timeZone) });
      }));
      return b;
    });
    this.endButton = h('button', { type: 'button', id: 'mod-end', class: 'button danger',
      on: { click: () => confirmIn(this.confirmBox, t('mod.end_confirm'), t('mod.end_yes'), () => act(this.endButton, this.error, () => this.client.endLesson())) } });
    this.el = h('section', { id: 'mod-panel', class: 'cls-panel mod-panel', 'aria-labelledby': 'mod-heading' },
      this.heading, this.error, this.status, this.confirmBox,
      h('div', { class: 'cls-row mod-media' }, this.muteAll, this.camerasOff),
      h('div', { class: 'mod-lock' }, this.lockButton, this.lockNote),
      this.waitingHeading, this.waiting, this.waitingEmpty,
      this.peopleHeading, this.people, this.peopleEmpty,
      this.timeHeading, this.times, h('div', { class: 'cls-row' }, this.extendButtons), h('div', { class: 'cls-row mod-end' }, this.endButton));

    // For everyone: the waiting screen, the warnings, being muted.
    this.waitTitle = h('h2', { id: 'wait-title' });
    this.waitText = h('p', { id: 'wait-text' });
    this.waitLeave = h('button', { type: 'button', class: 'button secondary', on: { click: () => this.leave() } });
    this.waitScreen = h('div', { id: 'waiting-screen', class: 'waiting-screen', role: 'alertdialog', 'aria-modal': 'true', 'aria-labelledby': 'wait-title', 'aria-describedby': 'wait-text', hidden: true },
      h('div', { class: 'waiting-box' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), this.waitTitle, this.waitText, this.waitLeave));
    this.waitingFor = null; // 'waiting' | a bye reason, while the screen shows
    this.offs = [
      this.client.onAny(REDRAW_ON, () => this.render()),
      this.client.onAny(['lock', 'waiting_list'], () => this.room.drawer?.notify?.(this.id)),
      this.client.on('waiting_list', ({ waiting }) => {
        if (waiting?.length) this.room.drawer?.notify?.(this.id);
      }),
      this.client.on('waiting', () => this.showWaiting('waiting')),
      this.client.on('joined', () => this.showWaiting(null)),
      this.client.on('bye', ({ reason }) => {
        if (BYE_TEXT[reason] && this.client.role !== 'teacher') this.showWaiting(reason);
      }),
      this.client.on('lesson_ending', (message) => this.warnEnding(message)),
      this.client.on('muted', (message) => this.onMuted(message)),
      this.client.on('lock', ({ locked }) => {
        if (!this.client.staff) this.room.say(() => t(locked ? 'mod.lock_notice' : 'mod.unlock_notice'));
      }),
    ];
  }

  label() {
    return t('mod.title');
  }

  available() {
    return this.client.staff;
  }

  /** Students waiting to be let in. */
  badge() {
    return this.client.staff ? this.client.classroom.moderation.waiting.length || null : null;
  }

  async command(button, fn, doneKey) {
    const reply = await act(button, this.error, fn);
    if (reply) this.status.textContent = t(doneKey);
  }

  // --- for everyone -----------------------------------------------------------------------------
  showWaiting(why) {
    this.waitingFor = why;
    if (why && !this.waitScreen.isConnected) document.body.append(this.waitScreen);
    this.waitScreen.hidden = !why;
    this.renderWaiting();
    if (why) this.waitLeave.focus();
  }

  renderWaiting() {
    const why = this.waitingFor;
    if (!why) return;
    this.waitScreen.dataset.reason = why;
    this.waitTitle.textContent = why === 'waiting' ? t('mod.wait_title') : t(BYE_TEXT[why]);
    this.waitText.textContent = why === 'waiting' ? t('mod.wait_text') : '';
    this.waitText.hidden = why !== 'waiting';
    this.waitScreen.querySelector('.spinner').hidden = why !== 'waiting';
    this.waitLeave.textContent = t('nav.back_to_lessons');
  }

  leave() {
    this.showWaiting(null);
    if (this.room.onLeave) this.room.onLeave();
    else location.assign('/lessons');
  }

  warnEnding({ closes_at: closesAt, in_s: seconds }) {
    const minutes = Math.round((Number(seconds) || 0) / 60);
    const time = timeOf(closesAt, this.room.timeZone);
    this.room.say(() => (minutes >= 1 ? t('mod.ending', { min: minutes, time }) : t('mod.ending_soon', { time })), 'warning');
  }

  async onMuted({ source = 'mic' }) {
    if (source !== 'mic') return;
    const local = this.room.local;
    if (local) {
      local.micMuted = true;
      local.changed?.();
    }
    try {
      if (this.client.localSources().mic) await this.client.mute('mic', true);
    } catch (err) {
      console.warn('lophoc: muting the microphone', err);
    }
    this.room.say(() => t('mod.muted_by_teacher'));
  }

  // --- the staff's panel ------------------------------------------------------------------------
  waitingItem(w) {
    const name = w.full_name;
    const admit = h('button', { type: 'button', class: 'button primary small mod-admit', 'aria-label': t('mod.admit_label', { name }) }, t('mod.admit'));
    admit.addEventListener('click', () => act(admit, this.error, () => this.client.admit(w.user_id, true)));
    const deny = h('button', { type: 'button', class: 'button secondary small mod-deny', 'aria-label': t('mod.deny_label', { name }) }, t('mod.deny'));
    deny.addEventListener('click', () => act(deny, this.error, () => this.client.admit(w.user_id, false)));
    return h('li', { class: 'mod-item', dataset: { userId: String(w.user_id) } },
      h('span', { class: 'mod-name' }, name, ' ', h('span', { class: 'muted' }, w.since ? t('mod.waiting_since', { time: timeOf(w.since, this.room.timeZone) }) : '')),
      h('span', { class: 'cls-row' }, admit, deny));
  }

  personItem(p) {
    const name = p.full_name;
    const remove = h('button', { type: 'button', class: 'button ghost small mod-remove', 'aria-label': t('mod.remove_label', { name }) }, t('mod.remove'));
    remove.addEventListener('click', () => confirmIn(this.confirmBox, t('mod.remove_confirm', { name }), t('mod.remove_yes'), async () => {
      const reply = await act(remove, this.error, () => this.client.remove(p.user_id));
      if (reply) this.status.textContent = t('mod.removed', { name });
    }));
    return h('li', { class: 'mod-item', dataset: { userId: String(p.user_id) } }, h('span', { class: 'mod-name' }, name), remove);
  }

  render() {
    this.renderWaiting();
    if (!this.client.staff) return;
    const moderation = this.client.classroom.moderation;
    const tz = this.room.timeZone;
    this.heading.textContent = t('mod.heading');
    this.muteAll.textContent = t('mod.mute_all');
    this.camerasOff.textContent = t('mod.cameras_off');
    this.lockButton.textContent = `🔒 ${t(moderation.locked ? 'mod.unlock' : 'mod.lock')}`;
    this.lockButton.setAttribute('aria-pressed', String(moderation.locked));
    this.lockButton.classList.toggle('is-on', moderation.locked);
    this.lockNote.textContent = t(moderation.locked ? 'mod.locked' : 'mod.unlocked');
    this.waitingHeading.textContent = t('mod.waiting');
    replace(this.waiting, moderation.waiting.map((w) => this.waitingItem(w)));
    this.waitingEmpty.textContent = t('mod.waiting_none');
    this.waitingEmpty.hidden = moderation.waiting.length > 0;
    this.peopleHeading.textContent = t('mod.people');
    const students = studentsHere(this.client);
    replace(this.people, students.map((p) => this.personItem(p)));
    this.peopleEmpty.textContent = t('mod.people_none');
    this.peopleEmpty.hidden = students.length > 0;
    this.timeHeading.textContent = t('mod.time');
    const endsAt = moderation.ends_at ?? this.client.lesson?.ends_at;
    this.times.textContent = endsAt ? t('mod.ends_at', { time: timeOf(endsAt, tz), closes: timeOf(moderation.closes_at ?? endsAt, tz) }) : '';
    const canExtend = this.client.role === 'teacher';
    this.extendButtons.forEach((b) => {
      b.textContent = t('mod.extend', { n: b.dataset.minutes });
      b.hidden = !canExtend;
    });
    this.endButton.textContent = t('mod.end');
  }

  stop() {
    for (const off of this.offs) off();
    this.waitScreen.remove();
  }
}
