// The teacher's "Thảo luận nhóm" panel: plan the groups (at random from the class, or by hand,
// a select per student), how long and what students may use; then, while groups run, a card per
// group (who is there, who speaks, a call for help), listening in, visiting, moving a student,
// a message to every group, the countdown, and the end.

import { fillSelect, h, replace } from './dom.js';
import { t } from './i18n.js';
import './i18n-breakouts.js';
import { clock, errorText } from './live-parts.js';
import { durationSeconds, groupsFromAssignment, randomGroups, secondsLeft } from './breakout-plan.js';

const REDRAW_ON = ['joined', 'breakouts', 'room', 'participant_joined', 'participant_left', 'participant_updated'];
const ALLOW = ['mic', 'camera', 'screen'];
const MAX_GROUPS = 12;

export class BreakoutsPanel {
  /**
   * @param {{client, classRoster, say}} room `classRoster.rows` is the class (user_id, full_name)
   */
  constructor({ client, classRoster, say, scene }) {
    this.client = client;
    this.scene = scene;
    this.classRoster = classRoster;
    this.say = say;
    this.count = 2;
    this.assignment = new Map(); // user_id -> group index, while planning
    this.cards = new Map(); // group id -> parts of its card
    this.ticker = null;

    this.heading = h('h2', { id: 'breakouts-heading' });
    this.error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    this.status = h('p', { class: 'muted', role: 'status', 'aria-live': 'polite' });
    // The status line and the error, as functions of the page's language (drawn again on a switch).
    this.statusText = null;
    this.errorMessage = null;

    // Planning.
    this.countInput = h('input', { type: 'number', id: 'bo-count', min: '1', max: String(MAX_GROUPS), value: '2', inputmode: 'numeric' });
    this.countInput.addEventListener('change', () => this.setCount(this.countInput.value));
    this.countLabel = h('label', { for: 'bo-count' });
    this.shuffleButton = h('button', { type: 'button', class: 'button secondary', on: { click: () => this.shuffle() } });
    // The groups this class had last time (kept on this device), to start them again with one click.
    this.reuseButton = h('button', { type: 'button', id: 'bo-reuse', class: 'button secondary', hidden: true, on: { click: () => this.reuse() } });
    this.assignLegend = h('legend');
    this.assignList = h('ul', { class: 'bo-assign' });
    this.assignEmpty = h('p', { class: 'muted', hidden: true });
    this.durationInput = h('input', { type: 'number', id: 'bo-duration', min: '1', max: '600', step: '1', inputmode: 'numeric', 'aria-describedby': 'bo-duration-hint' });
    this.durationLabel = h('label', { for: 'bo-duration' });
    this.durationHint = h('span', { id: 'bo-duration-hint', class: 'muted field-hint' });
    this.allowLegend = h('legend');
    this.allowInputs = {};
    const allowLabels = ALLOW.map((source) => {
      const input = h('input', { type: 'checkbox', checked: source !== 'screen', dataset: { source } });
      const text = h('span');
      this.allowInputs[source] = { input, text };
      return h('label', { class: 'permit-toggle' }, input, text);
    });
    this.startButton = h('button', { type: 'submit', id: 'bo-start', class: 'button primary' });
    this.planForm = h(
      'form',
      { class: 'bo-plan', on: { submit: (event) => { event.preventDefault(); this.start(); } } },
      h('div', { class: 'bo-row' }, h('div', { class: 'field inline' }, this.countLabel, this.countInput), this.shuffleButton, this.reuseButton),
      h('fieldset', { class: 'bo-fieldset' }, this.assignLegend, this.assignEmpty, this.assignList),
      h('div', { class: 'field' }, this.durationLabel, this.durationInput, this.durationHint),
      h('fieldset', { class: 'bo-fieldset bo-allow' }, this.allowLegend, allowLabels),
      this.startButton,
    );

    // Running.
    this.countdown = h('p', { id: 'bo-countdown', class: 'bo-countdown' });
    this.groupsHeading = h('h3', { id: 'bo-groups-heading', class: 'visually-hidden' });
    this.grid = h('div', { id: 'breakout-groups', class: 'bo-grid', role: 'list', 'aria-labelledby': 'bo-groups-heading' });
    this.noticeInput = h('input', { type: 'text', id: 'bo-notice', maxlength: '500', autocomplete: 'off' });
    this.noticeLabel = h('label', { for: 'bo-notice' });
    this.noticeButton = h('button', { type: 'submit', class: 'button secondary' });
    this.noticeForm = h(
      'form',
      { class: 'bo-notice', on: { submit: (event) => { event.preventDefault(); this.notice(); } } },
      this.noticeLabel,
      h('div', { class: 'bo-row' }, this.noticeInput, this.noticeButton),
    );
    this.endButton = h('button', { type: 'button', id: 'bo-end', class: 'button danger', on: { click: () => this.end() } });
    // One camera of each group (its latest speaker's) on the group cards: a camera per group, not
    // every camera of the class.
    this.overviewButton = h('button', { type: 'button', id: 'bo-overview', class: 'button secondary', 'aria-pressed': 'false',
                                        on: { click: () => this.act(this.overviewButton, () => this.client.overview(!this.client.breakouts.overview)) } });
    this.running = h('div', { class: 'bo-running', hidden: true }, this.countdown, this.groupsHeading, this.overviewButton, this.grid, this.noticeForm, this.endButton);

    this.el = h('section', { id: 'breakouts', class: 'panel breakouts-box', 'aria-labelledby': 'breakouts-heading', hidden: true },
      this.heading, this.error, this.status, this.planForm, this.running);

    client.onAny(REDRAW_ON, () => this.render());
    scene?.on('remote', () => this.render()); // a group's camera arrived (the overview) or went
    classRoster.onLoad(() => this.render());
  }

  get enabled() {
    return this.client.role === 'teacher';
  }

  get groups() {
    return this.client.breakouts.groups;
  }

  /** The class's students: `[{user_id, full_name}]`, from the class roster. */
  students() {
    return (this.classRoster.rows ?? []).map((r) => ({ user_id: r.user_id, full_name: r.full_name }));
  }

  nameOf(userId) {
    const row = (this.classRoster.rows ?? []).find((r) => r.user_id === userId);
    if (row) return row.full_name;
    for (const p of this.client.participants.values()) if (p.user_id === userId) return p.full_name;
    return `#${userId}`;
  }

  // --- planning -----------------------------------------------------------------------------
  setCount(value) {
    const n = Math.min(MAX_GROUPS, Math.max(1, Math.floor(Number(value)) || 1));
    this.count = n;
    this.countInput.value = String(n);
    this.shuffle();
  }

  /** Deal the class at random into the groups (the teacher may then change any student's group). */
  shuffle() {
    const ids = this.students().map((s) => s.user_id);
    this.assignment = new Map();
    randomGroups(ids, this.count).forEach((members, index) => members.forEach((id) => this.assignment.set(id, index)));
    this.renderPlan(true);
  }

  /** Where this class's last groups are kept on this device. */
  savedKey() {
    const classId = this.client.lessonState?.lesson?.class_id;
    return classId ? `lophoc.breakouts.class.${classId}` : null;
  }

  savedGroups() {
    const key = this.savedKey();
    if (!key) return null;
    try {
      const saved = JSON.parse(localStorage.getItem(key) ?? 'null');
      return Array.isArray(saved?.groups) && saved.groups.length ? saved.groups : null;
    } catch {
      return null;
    }
  }

  /** The class's groups of last time: the same students together again (new students at random). */
  reuse() {
    const saved = this.savedGroups();
    if (!saved) return;
    this.count = Math.min(MAX_GROUPS, saved.length);
    this.countInput.value = String(this.count);
    this.assignment = new Map();
    const known = new Set(this.students().map((s) => s.user_id));
    saved.slice(0, this.count).forEach((userIds, index) => userIds.forEach((id) => { if (known.has(id)) this.assignment.set(id, index); }));
    this.renderPlan(true);
  }

  async start() {
    const groups = groupsFromAssignment(this.assignment, this.count).map((userIds, i) => ({ name: t('bo.group_n', { n: i + 1 }), user_ids: userIds }));
    const key = this.savedKey();
    if (key) {
      try {
        localStorage.setItem(key, JSON.stringify({ groups: groups.map((g) => g.user_ids), saved_at: new Date().toISOString() }));
      } catch {
        // storage full or refused: the groups still start
      }
    }
    if (groups.some((g) => !g.user_ids.length)) {
      this.fail(() => t('bo.empty_groups'));
      return;
    }
    const duration = durationSeconds(this.durationInput.value);
    if (Number.isNaN(duration)) {
      this.durationInput.setCustomValidity(t('bo.duration'));
      this.durationInput.reportValidity();
      this.durationInput.setCustomValidity('');
      return;
    }
    const allow = Object.fromEntries(ALLOW.map((s) => [s, this.allowInputs[s].input.checked]));
    const n = groups.length;
    await this.act(this.startButton, () => this.client.breakoutsStart(groups, { durationS: duration, allow }), () => t('bo.started', { n }));
  }

  // --- running ------------------------------------------------------------------------------
  async notice() {
    const text = this.noticeInput.value.trim();
    if (!text) return;
    const ok = await this.act(this.noticeButton, () => this.client.breakoutsNotice(text), () => t('bo.notice_sent'));
    if (ok) this.noticeInput.value = '';
  }

  async end() {
    await this.act(this.endButton, () => this.client.breakoutsEnd(), () => t('bo.ended'));
  }

  /** Run a command with its button disabled; show its failure, or `done()` in the status line. */
  async act(button, command, done = null) {
    button.disabled = true;
    this.errorMessage = null;
    this.error.hidden = true;
    try {
      await command();
      this.statusText = done;
      this.drawMessages();
      return true;
    } catch (err) {
      this.fail(() => t('bo.failed', { error: err.message && err.code === 'bad_message' ? err.message : errorText(err) }));
      return false;
    } finally {
      button.disabled = false;
      this.render();
    }
  }

  /** Show an error: `text()` gives it in the page's language. */
  fail(text) {
    this.errorMessage = text;
    this.error.textContent = text(); // written even when the same: a repeated failure is told again
    this.error.hidden = false;
  }

  /** The status line and the error in the page's language (written only when they change). */
  drawMessages() {
    const status = this.statusText?.() ?? '';
    if (this.status.textContent !== status) this.status.textContent = status;
    const error = this.errorMessage?.() ?? '';
    if (this.error.textContent !== error) this.error.textContent = error;
  }

  // --- drawing ------------------------------------------------------------------------------
  render() {
    if (!this.enabled) return;
    this.el.hidden = false;
    const running = this.groups.length > 0;
    this.heading.textContent = t('bo.heading');
    this.drawMessages();
    this.planForm.hidden = running;
    this.running.hidden = !running;
    if (running) {
      this.renderGroups();
      this.ticker ??= setInterval(() => this.renderCountdown(), 1000);
    } else {
      clearInterval(this.ticker);
      this.ticker = null;
      this.cards.clear();
      this.grid.replaceChildren();
      this.renderPlan(false);
    }
  }

  renderPlan(force) {
    const students = this.students();
    // New students of the class (the roster loaded late) go to a group at random, once.
    const missing = students.filter((s) => !this.assignment.has(s.user_id));
    if (missing.length && this.assignment.size === 0) {
      this.shuffle();
      return;
    }
    missing.forEach((s, i) => this.assignment.set(s.user_id, i % this.count));
    this.countLabel.textContent = t('bo.count');
    this.shuffleButton.textContent = t('bo.shuffle');
    this.reuseButton.textContent = t('bo.reuse');
    this.reuseButton.hidden = !this.savedGroups();
    this.assignLegend.textContent = t('bo.assign_legend');
    this.assignEmpty.textContent = t('bo.no_students');
    this.assignEmpty.hidden = students.length > 0;
    this.durationLabel.textContent = t('bo.duration');
    this.durationHint.textContent = t('bo.duration_hint');
    this.allowLegend.textContent = t('bo.allow_legend');
    for (const source of ALLOW) this.allowInputs[source].text.textContent = t(`bo.allow.${source}`);
    this.startButton.textContent = t('bo.start');
    this.startButton.disabled = !students.length || this.client.state !== 'connected';
    const signature = JSON.stringify([students, this.count, [...this.assignment], t('bo.group_n', { n: 0 })]);
    if (!force && signature === this.planSignature) return; // leave an open select alone
    this.planSignature = signature;
    const options = Array.from({ length: this.count }, (_, i) => ({ value: i, label: t('bo.group_n', { n: i + 1 }) }));
    replace(
      this.assignList,
      students.map((s) => {
        const select = h('select', { 'aria-label': t('bo.assign_of', { name: s.full_name }), dataset: { userId: String(s.user_id) } });
        fillSelect(select, options, { value: this.assignment.get(s.user_id) ?? 0 });
        select.addEventListener('change', () => {
          this.assignment.set(s.user_id, Number(select.value));
          this.planSignature = null;
        });
        return h('li', { class: 'bo-assign-item' }, h('span', { class: 'bo-student' }, s.full_name), select);
      }),
    );
  }

  renderCountdown() {
    const left = secondsLeft(this.client.breakouts.ends_at);
    if (left === null) this.countdown.textContent = t('bo.no_end');
    else this.countdown.textContent = left > 0 ? t('bo.left', { time: clock(left) }) : t('bo.ended_at_zero');
    this.countdown.dataset.seconds = left === null ? '' : String(left);
  }

  renderGroups() {
    this.renderCountdown();
    this.groupsHeading.textContent = t('bo.groups');
    this.noticeLabel.textContent = t('bo.notice_label');
    this.noticeButton.textContent = t('bo.notice_send');
    this.endButton.textContent = t('bo.end');
    const state = this.client.breakouts;
    const watching = Boolean(state.overview);
    this.overviewButton.hidden = this.client.role !== 'teacher';
    this.overviewButton.textContent = t(watching ? 'bo.overview_stop' : 'bo.overview');
    this.overviewButton.setAttribute('aria-pressed', String(watching));
    const ids = this.groups.map((g) => g.id);
    for (const [id, parts] of this.cards) {
      if (!ids.includes(id)) {
        parts.el.remove();
        this.cards.delete(id);
      }
    }
    this.groups.forEach((group, index) => {
      let parts = this.cards.get(group.id);
      if (!parts) {
        parts = this.card(group);
        this.cards.set(group.id, parts);
      }
      if (this.grid.children[index] !== parts.el) this.grid.insertBefore(parts.el, this.grid.children[index] ?? null);
      this.renderCard(parts, group, state);
    });
  }

  card(group) {
    const id = group.id;
    const name = h('h4', { class: 'bo-group-name', id: `bo-group-${id}-name` });
    const count = h('span', { class: 'bo-group-count muted' });
    const helpText = h('span', { class: 'bo-help-text' });
    const helpDismiss = h('button', { type: 'button', class: 'button small', on: { click: () => this.act(helpDismiss, () => this.client.helpDismiss(id)) } });
    const help = h('p', { class: 'bo-help', role: 'alert', hidden: true }, helpText, ' ', helpDismiss);
    const members = h('ul', { class: 'bo-members' });
    const listen = h('button', { type: 'button', class: 'button secondary small', on: { click: () => this.toggleListen(id, listen) } });
    const visit = h('button', { type: 'button', class: 'button secondary small', on: { click: () => this.toggleVisit(id, visit) } });
    const record = h('button', { type: 'button', class: 'button secondary small bo-record', 'aria-pressed': 'false', on: { click: () => this.toggleRecord(id, record) } });
    const speak = h('button', { type: 'button', class: 'button secondary small bo-speak', 'aria-pressed': 'false', on: { click: () => this.toggleSpeak(id, speak) } });
    const thumb = h('video', { class: 'bo-thumb', autoplay: true, muted: true, playsinline: true, hidden: true });
    thumb.muted = true;
    const moveSelect = h('select', { class: 'bo-move-select' });
    const moveButton = h('button', { type: 'button', class: 'button small', on: { click: () => this.move(id, moveSelect, moveButton) } });
    const el = h(
      'article',
      { class: 'bo-group', role: 'listitem', dataset: { groupId: id }, 'aria-labelledby': `bo-group-${id}-name` },
      h('div', { class: 'bo-group-head' }, name, count),
      thumb,
      help,
      members,
      h('div', { class: 'bo-group-actions' }, listen, speak, visit, record),
      h('div', { class: 'bo-move' }, moveSelect, moveButton),
    );
    return { el, name, count, help, helpText, helpDismiss, members, listen, speak, thumb, visit, record, moveSelect, moveButton };
  }

  renderCard(parts, group, state) {
    // Who is there: the server's `present`, and whoever the teacher's own events place in the
    // group (a student who comes late joins straight into it).
    const present = new Set(group.present ?? []);
    for (const p of this.client.participants.values()) {
      if (p.role === 'student' && this.client.lessonState.roomOf(p) === group.id) present.add(p.user_id);
    }
    const speakingUser = group.speaking ? this.client.participants.get(group.speaking)?.user_id ?? null : null;
    parts.el.classList.toggle('is-speaking', Boolean(group.speaking));
    parts.name.textContent = group.name;
    parts.count.textContent = t('bo.members', { present: present.size, total: (group.user_ids ?? []).length });
    const calls = state.help_calls.filter((c) => c.group_id === group.id);
    parts.help.hidden = !calls.length;
    parts.el.classList.toggle('needs-help', calls.length > 0);
    parts.helpText.textContent = calls.length ? `${t('bo.help', { name: group.name })} (${calls.map((c) => c.full_name).join(', ')})` : '';
    parts.helpDismiss.textContent = t('bo.help_dismiss');
    parts.helpDismiss.setAttribute('aria-label', t('bo.help_dismiss_label', { name: group.name }));
    replace(
      parts.members,
      (group.user_ids ?? []).map((userId) => {
        const here = present.has(userId);
        const speaking = userId === speakingUser;
        return h('li', { class: ['bo-member', here ? 'is-present' : 'is-absent', speaking ? 'speaking' : null], dataset: { userId: String(userId), present: String(here) } },
          h('span', { class: 'bo-member-name' }, this.nameOf(userId)),
          h('span', { class: 'bo-member-state muted' }, ` · ${t(here ? 'bo.present' : 'bo.absent')}${speaking ? ` · ${t('bo.speaking')}` : ''}`));
      }),
    );
    const listening = state.listening === group.id;
    parts.listen.textContent = t(listening ? 'bo.listen_stop' : 'bo.listen');
    parts.listen.setAttribute('aria-pressed', String(listening));
    parts.listen.setAttribute('aria-label', listening ? t('bo.listen_stop') : t('bo.listen_label', { name: group.name }));
    const speaking = state.speaking_to === group.id;
    parts.speak.hidden = this.client.role !== 'teacher';
    parts.speak.textContent = t(speaking ? 'bo.speak_stop' : 'bo.speak');
    parts.speak.setAttribute('aria-pressed', String(speaking));
    parts.speak.setAttribute('aria-label', speaking ? t('bo.speak_stop') : t('bo.speak_label', { name: group.name }));
    // The overview's camera of this group, if we receive one.
    let track = null;
    if (state.overview && this.scene) {
      for (const p of this.client.participants.values()) {
        if (this.client.lessonState.roomOf(p) !== group.id) continue;
        track = this.scene.remoteVideo(p.participant_id, 'camera');
        if (track) break;
      }
    }
    if ((parts.thumb.srcObject?.getVideoTracks?.()[0] ?? null) !== track) parts.thumb.srcObject = track ? new MediaStream([track]) : null;
    parts.thumb.hidden = !track;
    parts.thumb.setAttribute('aria-label', t('bo.thumb_label', { name: group.name }));
    const here = this.client.room.id === group.id;
    parts.visit.textContent = t(here ? 'bo.back_main' : 'bo.visit');
    parts.visit.setAttribute('aria-label', here ? t('bo.back_main') : t('bo.visit_label', { name: group.name }));
    parts.el.classList.toggle('is-mine', here);
    // Off by default; only the teacher turns a group's recording on (not offered when the lesson is never recorded).
    const recording = Boolean(group.recording);
    parts.record.hidden = this.client.role !== 'teacher' || this.client.recording?.mode === 'off';
    parts.record.textContent = t(recording ? 'bo.record_stop' : 'bo.record');
    parts.record.setAttribute('aria-pressed', String(recording));
    parts.record.setAttribute('aria-label', t(recording ? 'bo.record_stop_label' : 'bo.record_label', { name: group.name }));
    parts.record.classList.toggle('is-on', recording);
    parts.el.classList.toggle('is-recorded', recording);
    // Any student of the class not in this group may be moved into it.
    const others = this.students().filter((s) => !(group.user_ids ?? []).includes(s.user_id));
    const where = (userId) => this.groups.find((g) => (g.user_ids ?? []).includes(userId))?.name ?? t('bo.in_main');
    const items = others.map((s) => ({ value: s.user_id, label: `${s.full_name} (${where(s.user_id)})` }));
    const signature = JSON.stringify([items, t('bo.move_pick')]);
    if (signature !== parts.moveSignature) {
      parts.moveSignature = signature;
      fillSelect(parts.moveSelect, items, { placeholder: t('bo.move_pick') });
    }
    parts.moveSelect.setAttribute('aria-label', t('bo.move_label', { name: group.name }));
    parts.moveButton.textContent = t('bo.move');
    parts.moveButton.setAttribute('aria-label', t('bo.move_button_label', { name: group.name }));
  }

  toggleListen(groupId, button) {
    const listening = this.client.breakouts.listening === groupId;
    return this.act(button, () => this.client.listen(listening ? null : groupId));
  }

  toggleSpeak(groupId, button) {
    const speaking = this.client.breakouts.speaking_to === groupId;
    return this.act(button, () => this.client.speak(speaking ? null : groupId));
  }

  toggleVisit(groupId, button) {
    const here = this.client.room.id === groupId;
    return this.act(button, () => this.client.visit(here ? null : groupId));
  }

  toggleRecord(groupId, button) {
    const group = this.groups.find((g) => g.id === groupId);
    return this.act(button, () => this.client.breakoutsRecord(groupId, !group?.recording));
  }

  move(groupId, select, button) {
    const userId = Number(select.value);
    if (!userId) return null;
    return this.act(button, () => this.client.breakoutsMove(groupId, [userId]));
  }

  stop() {
    clearInterval(this.ticker);
    this.ticker = null;
  }
}
