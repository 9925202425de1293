// The roster ("Người tham gia"): everyone the lesson tells you of, live, with their media state,
// the group they are in while groups run, and for the teacher the permission toggles of each
// student.

import { h, replace } from './dom.js';
import { t } from './i18n.js';
import { errorText, PERMIT_SOURCES, stateIcons } from './live-parts.js';

const REDRAW_ON = ['joined', 'participant_joined', 'participant_left', 'participant_updated', 'producer_added', 'producer_removed', 'producer_muted', 'room', 'breakouts'];

export class RosterPanel {
  /** @param {{client, scene, local, say}} room */
  constructor({ client, scene, local, say }) {
    this.client = client;
    this.scene = scene;
    this.say = say;
    this.rosterEls = new Map(); // participant_id -> parts of the roster entry
    this.list = h('ul', { id: 'roster', class: 'roster' });
    this.heading = h('h2', { id: 'roster-heading' });
    this.el = h('section', { class: 'panel roster-box', 'aria-labelledby': 'roster-heading' }, this.heading, this.list);
    client.onAny(REDRAW_ON, () => this.render());
    client.on('active_speaker', () => this.renderSpeaking());
    local.on('change', () => this.render());
  }

  groupName(roomId) {
    return this.client.breakouts.groups.find((g) => g.id === roomId)?.name ?? roomId;
  }

  render() {
    const scene = this.scene;
    const people = scene.everyone();
    const ids = people.map((p) => p.participant_id);
    for (const [id, parts] of this.rosterEls) {
      if (!ids.includes(id)) {
        parts.el.remove();
        this.rosterEls.delete(id);
      }
    }
    const iTeach = this.client.role === 'teacher';
    people.forEach((p, index) => {
      const id = p.participant_id;
      let parts = this.rosterEls.get(id);
      if (!parts) {
        const name = h('span', { class: 'roster-name' });
        const role = h('span', { class: 'role-badge' });
        const group = h('span', { class: 'group-badge' });
        const states = h('span', { class: 'roster-states' });
        const online = h('span', { class: 'visually-hidden' });
        const permits = h('div', { class: 'permits', role: 'group' });
        const el = h(
          'li',
          { dataset: { participantId: id } },
          h('span', { class: 'live-dot', 'aria-hidden': 'true' }),
          online,
          h('span', { class: 'roster-who' }, name, role, group),
          states,
          permits,
        );
        parts = { el, name, role, group, states, online, permits, inputs: {} };
        this.rosterEls.set(id, parts);
      }
      if (this.list.children[index] !== parts.el) this.list.insertBefore(parts.el, this.list.children[index] ?? null);
      const me = scene.isMe(id);
      parts.el.dataset.role = p.role;
      parts.el.classList.toggle('is-me', me);
      parts.online.textContent = t('room.online');
      parts.name.textContent = me ? `${p.full_name} ${t('room.you')}` : p.full_name;
      parts.role.className = `role-badge role-${p.role}`;
      parts.role.textContent = t(`role.${p.role}`);
      const room = this.client.lessonState.roomOf(p);
      parts.el.dataset.room = room;
      parts.group.hidden = room === 'main';
      parts.group.textContent = room === 'main' ? '' : this.groupName(room);
      replace(parts.states, stateIcons(scene.mediaState(id)));
      const showPermits = iTeach && p.role === 'student';
      parts.permits.hidden = !showPermits;
      if (showPermits) {
        parts.permits.setAttribute('aria-label', t('room.permits_of', { name: p.full_name }));
        for (const source of PERMIT_SOURCES) {
          let entry = parts.inputs[source];
          if (!entry) {
            const input = h('input', { type: 'checkbox', class: 'permit', dataset: { source } });
            input.addEventListener('change', () => this.togglePermit(id, source, input));
            const text = h('span', { class: 'permit-text' });
            const label = h('label', { class: 'permit-toggle' }, input, text);
            parts.permits.append(label);
            entry = { input, text };
            parts.inputs[source] = entry;
          }
          if (!entry.input.disabled) entry.input.checked = Boolean(p.permissions?.[source]);
          entry.text.textContent = t(`room.permit.${source}`);
          entry.input.setAttribute('aria-label', t(`room.allow.${source}`, { name: p.full_name }));
        }
      }
    });
    this.heading.textContent = t('room.roster', { n: people.length });
    this.renderSpeaking();
  }

  renderSpeaking() {
    const speaker = this.client.activeSpeaker;
    for (const [id, parts] of this.rosterEls) parts.el.classList.toggle('speaking', id === speaker);
  }

  async togglePermit(participantId, source, input) {
    const allowed = input.checked;
    input.disabled = true;
    try {
      await this.client.permit(participantId, source, allowed);
    } catch (err) {
      input.checked = !allowed;
      this.say(() => t('room.permit_failed', { error: errorText(err) }), 'error');
    } finally {
      input.disabled = false;
    }
  }
}
