// In the live room: the recording indicator (everyone) with the teacher's record button, and the
// teacher's supervision of the whole class: who is here, who never came, who left, for how long,
// and their microphone and camera. Attendance comes from the server's log (polled); presence and
// media state from the room's events, so the list moves the moment someone joins or leaves.

import { request } from './api.js';
import { h, replace } from './dom.js';
import { addStrings, t } from './i18n.js';

addStrings({
  vi: {
    'rec.on': 'Đang ghi hình tiết học',
    'rec.off': 'Không ghi hình',
    'rec.students': 'Hình ảnh và tiếng của học sinh cũng được ghi.',
    'rec.start': 'Bắt đầu ghi hình',
    'rec.stop': 'Dừng ghi hình',
    'rec.failed': 'Không thể thay đổi việc ghi hình: {message}',
    'sup.heading': 'Sĩ số lớp ({present}/{total} có mặt)',
    'sup.here': 'Đang trong lớp',
    'sup.never': 'Chưa vào lớp',
    'sup.left': 'Đã rời lớp',
    'sup.duration': 'Đã học {time}',
    'sup.mic_on': 'Mic bật',
    'sup.mic_off': 'Mic tắt',
    'sup.cam_on': 'Camera bật',
    'sup.cam_off': 'Camera tắt',
    'sup.report': 'Xem điểm danh chi tiết',
    'sup.load_failed': 'Không tải được sĩ số: {message}',
  },
  en: {
    'rec.on': 'This lesson is being recorded',
    'rec.off': 'Not recording',
    'rec.students': "Students' video and sound are recorded too.",
    'rec.start': 'Start recording',
    'rec.stop': 'Stop recording',
    'rec.failed': 'Could not change the recording: {message}',
    'sup.heading': 'Class roster ({present}/{total} present)',
    'sup.here': 'In the lesson',
    'sup.never': 'Not joined yet',
    'sup.left': 'Left',
    'sup.duration': 'Present for {time}',
    'sup.mic_on': 'Mic on',
    'sup.mic_off': 'Mic off',
    'sup.cam_on': 'Camera on',
    'sup.cam_off': 'Camera off',
    'sup.report': 'Detailed attendance',
    'sup.load_failed': 'Could not load the roster: {message}',
  },
});

const POLL_MS = 5000;

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const hh = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** The recording indicator, and for the teacher the button that starts and stops it. */
export class RecordingControl {
  constructor(client) {
    this.client = client;
    this.badge = h('p', { id: 'rec-indicator', class: 'rec-indicator', role: 'status', 'aria-live': 'polite', hidden: true });
    this.button = h('button', { type: 'button', id: 'btn-record', class: 'button secondary', hidden: true, on: { click: () => this.toggle() } });
    this.error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    this.el = h('div', { class: 'rec-box' }, this.badge, this.button, this.error);
  }

  async toggle() {
    this.button.disabled = true;
    this.error.hidden = true;
    try {
      await this.client.record(!this.client.recording?.active);
    } catch (err) {
      this.error.textContent = t('rec.failed', { message: err.message });
      this.error.hidden = false;
    } finally {
      this.button.disabled = false;
    }
  }

  render() {
    const rec = this.client.recording;
    const active = Boolean(rec?.active);
    this.badge.hidden = !active;
    this.badge.dataset.active = String(active);
    replace(this.badge, h('span', { class: 'rec-dot', 'aria-hidden': 'true' }), t('rec.on'),
      rec?.record_students ? h('span', { class: 'muted' }, ` ${t('rec.students')}`) : null);
    const teacher = this.client.role === 'teacher';
    this.button.hidden = !teacher || rec?.mode === 'off';
    // A phone shows the button's icon alone (a dot to start, a square to stop); its words stay
    // for screen readers and as its tooltip.
    const label = t(active ? 'rec.stop' : 'rec.start');
    replace(this.button, h('span', { class: 'rec-icon', 'aria-hidden': 'true' }), h('span', { class: 'rec-label' }, label));
    this.button.title = label;
    this.button.dataset.active = String(active);
    this.button.setAttribute('aria-pressed', String(active));
  }
}

/** The teacher's (and observers') view of the whole class during the lesson. */
export class ClassRoster {
  constructor(client, lessonId) {
    this.client = client;
    this.lessonId = lessonId;
    this.rows = [];
    this.loadedAt = Date.now();
    this.heading = h('h2', { id: 'class-roster-heading' });
    this.list = h('ul', { id: 'class-roster', class: 'class-roster' });
    this.error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    this.link = h('a', { href: `/lessons/${lessonId}/attendance`, class: 'muted', target: '_blank', rel: 'noopener' });
    this.el = h('section', { class: 'panel class-roster-box', 'aria-labelledby': 'class-roster-heading', hidden: true },
      this.heading, this.error, this.list, h('p', {}, this.link));
    this.timer = null;
    this.ticker = null;
    this.loadListeners = new Set();
  }

  /** Call `fn` after each load of the class (the breakout planner lists its students). */
  onLoad(fn) {
    this.loadListeners.add(fn);
  }

  get enabled() {
    return this.client.role === 'teacher' || this.client.role === 'observer';
  }

  start() {
    if (!this.enabled || this.timer) return;
    this.el.hidden = false;
    this.load();
    this.timer = setInterval(() => this.load(), POLL_MS);
    this.ticker = setInterval(() => this.render(), 1000);
  }

  stop() {
    clearInterval(this.timer);
    clearInterval(this.ticker);
    this.timer = this.ticker = null;
  }

  async load() {
    try {
      const report = await request('GET', `/api/lessons/${this.lessonId}/attendance`);
      this.rows = report.students;
      this.loadedAt = Date.now();
      this.error.hidden = true;
      for (const fn of this.loadListeners) fn(this.rows);
    } catch (err) {
      this.error.textContent = t('sup.load_failed', { message: err.message });
      this.error.hidden = false;
    }
    this.render();
  }

  render() {
    if (!this.enabled) return;
    const c = this.client;
    const live = new Map(); // user_id -> participant ids connected now
    for (const p of c.participants.values()) {
      if (!live.has(p.user_id)) live.set(p.user_id, []);
      live.get(p.user_id).push(p.participant_id);
    }
    const media = (userId, source) => {
      const ids = live.get(userId) ?? [];
      return [...c.producers.values()].find((p) => ids.includes(p.participant_id) && p.source === source) ?? null;
    };
    let present = 0;
    const items = this.rows.map((row) => {
      const here = live.has(row.user_id);
      if (here) present += 1;
      const state = here ? 'here' : row.intervals.length ? 'left' : 'never';
      const extra = row.present_now ? (Date.now() - this.loadedAt) / 1000 : 0;
      const seconds = row.seconds_present + extra;
      const mic = media(row.user_id, 'mic');
      const camera = media(row.user_id, 'camera');
      const micOn = Boolean(mic && !mic.muted);
      const camOn = Boolean(camera && !camera.muted);
      return h('li', { class: ['class-roster-item', `is-${state}`], dataset: { userId: String(row.user_id), state } },
        h('span', { class: 'roster-name' }, row.full_name),
        h('span', { class: 'class-roster-state' }, t(`sup.${state}`)),
        h('span', { class: 'class-roster-time muted' }, seconds > 0 ? t('sup.duration', { time: clock(seconds) }) : ''),
        here ? h('span', { class: 'class-roster-media muted' },
          h('span', { class: micOn ? 'on' : 'off', dataset: { media: 'mic' } }, t(micOn ? 'sup.mic_on' : 'sup.mic_off')), ' · ',
          h('span', { class: camOn ? 'on' : 'off', dataset: { media: 'camera' } }, t(camOn ? 'sup.cam_on' : 'sup.cam_off'))) : null);
    });
    this.heading.textContent = t('sup.heading', { present, total: this.rows.length });
    this.link.textContent = t('sup.report');
    replace(this.list, ...items);
  }
}
