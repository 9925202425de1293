// The students' tiles of your room: each student with a microphone or camera on, their video
// (or initials), name and media state. In a group, only the group's members.

import { h, replace } from './dom.js';
import { t } from './i18n.js';
import { initials, setVideoTrack, stateIcons, videoElement } from './live-parts.js';

const REDRAW_ON = ['joined', 'participant_joined', 'participant_left', 'participant_updated', 'producer_added', 'producer_removed', 'producer_muted', 'room'];

export class TilesPanel {
  /** @param {{client, scene, local}} room */
  constructor({ client, scene, local }) {
    this.client = client;
    this.scene = scene;
    this.local = local;
    this.tileEls = new Map(); // participant_id -> parts of the tile
    this.tiles = h('div', { id: 'tiles', class: 'tiles' });
    this.empty = h('p', { class: 'tiles-empty muted' });
    this.heading = h('h2', { id: 'tiles-heading', class: 'tiles-heading' });
    this.el = h('section', { class: 'tiles-box', 'aria-labelledby': 'tiles-heading' }, this.heading, this.tiles, this.empty);
    client.onAny(REDRAW_ON, () => this.render());
    client.on('active_speaker', () => this.renderSpeaking());
    scene.on('remote', () => this.render());
    local.on('change', () => this.render());
  }

  render() {
    const scene = this.scene;
    const ids = [];
    for (const p of scene.people()) {
      if (p.role === 'teacher' || p.role === 'observer') continue;
      if (scene.mediaState(p.participant_id).any) ids.push(p.participant_id);
    }
    for (const [id, parts] of this.tileEls) {
      if (!ids.includes(id)) {
        setVideoTrack(parts.video, null);
        parts.el.remove();
        this.tileEls.delete(id);
      }
    }
    ids.forEach((id, index) => {
      let parts = this.tileEls.get(id);
      if (!parts) {
        const video = videoElement({ class: 'tile-video' });
        const avatar = h('span', { class: 'tile-avatar', 'aria-hidden': 'true' });
        const name = h('span', { class: 'tile-name' });
        const states = h('span', { class: 'tile-states' });
        const el = h('figure', { class: 'tile', dataset: { participantId: id } }, video, avatar, h('figcaption', { class: 'tile-caption' }, name, states));
        parts = { el, video, avatar, name, states };
        this.tileEls.set(id, parts);
      }
      if (this.tiles.children[index] !== parts.el) this.tiles.insertBefore(parts.el, this.tiles.children[index] ?? null);
      const p = scene.participant(id);
      const media = scene.mediaState(id);
      const me = scene.isMe(id);
      const track = me ? this.local.tracks.camera : scene.remoteVideo(id, 'camera');
      setVideoTrack(parts.video, media.camera ? track : null);
      parts.video.setAttribute('aria-label', t('room.tile_video', { name: p?.full_name ?? '' }));
      parts.el.classList.toggle('has-video', Boolean(media.camera && track));
      parts.el.classList.toggle('is-me', me);
      parts.avatar.textContent = initials(p?.full_name);
      parts.name.textContent = me ? `${p?.full_name ?? ''} ${t('room.you')}` : p?.full_name ?? '';
      replace(parts.states, stateIcons(media));
    });
    const group = this.client.room.id !== 'main' ? this.client.room.name : null;
    this.heading.textContent = group ? t('room.tiles_group', { name: group }) : t('room.tiles');
    this.empty.textContent = t('room.no_tiles');
    this.empty.hidden = ids.length > 0;
    this.renderSpeaking();
  }

  renderSpeaking() {
    const speaker = this.client.activeSpeaker;
    for (const [id, parts] of this.tileEls) parts.el.classList.toggle('speaking', id === speaker);
  }
}
