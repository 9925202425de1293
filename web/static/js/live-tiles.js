// The students' tiles of your room: each student with a microphone or camera on, their video
// (or initials), name and media state, in a grid of small tiles. Who spoke lately comes first;
// the rest go by name, a page at a time ("Trang 1/3"), so a class of 40 is a few screens. In a
// group, only the group's members.

import { h, replace } from './dom.js';
import { t } from './i18n.js';
import { icon, initials, setVideoTrack, stateIcons, videoElement } from './live-parts.js';

const REDRAW_ON = ['joined', 'participant_joined', 'participant_left', 'participant_updated', 'producer_added', 'producer_removed', 'producer_muted', 'room'];
const SPEAKERS_FIRST = 4; // how many recent speakers lead the tiles
const NARROW = '(max-width: 40rem)';

/**
 * The order and the page of the tiles: recent `speakers` (most recent first) lead, then `ids` in
 * their own order; `page` is clamped. Returns `{ids, page, pages}` for that page.
 */
export function tilePage(ids, speakers, page, perPage) {
  const present = new Set(ids);
  const lead = speakers.filter((id) => present.has(id));
  const ordered = [...lead, ...ids.filter((id) => !lead.includes(id))];
  const size = Math.max(1, perPage);
  const pages = Math.max(1, Math.ceil(ordered.length / size));
  const current = Math.min(Math.max(1, page), pages);
  return { ids: ordered.slice((current - 1) * size, current * size), page: current, pages, total: ordered.length };
}

export class TilesPanel {
  /** @param {{client, scene, local}} room */
  constructor({ client, scene, local }) {
    this.client = client;
    this.scene = scene;
    this.local = local;
    this.tileEls = new Map(); // participant_id -> parts of the tile
    this.speakers = []; // participant ids, most recent speaker first
    this.page = 1;
    this.perPage = 8;
    this.tiles = h('div', { id: 'tiles', class: 'tiles' });
    this.empty = h('p', { class: 'tiles-empty muted' });
    this.heading = h('h2', { id: 'tiles-heading', class: 'tiles-heading' });
    const pageButton = (id, iconName, step) =>
      h('button', { type: 'button', id, class: 'pager-button', on: { click: () => this.turn(step) } }, icon(iconName));
    this.prev = pageButton('tiles-prev', 'prev', -1);
    this.next = pageButton('tiles-next', 'next', 1);
    this.pageText = h('span', { id: 'tiles-page', class: 'pager-text', 'aria-live': 'polite' });
    this.pager = h('div', { class: 'pager', role: 'group' }, this.prev, this.pageText, this.next);
    this.el = h(
      'section',
      { id: 'tiles-box', class: 'tiles-box', 'aria-labelledby': 'tiles-heading' },
      h('div', { class: 'tiles-head' }, this.heading, this.pager),
      this.tiles,
      this.empty,
    );
    client.onAny(REDRAW_ON, () => this.render());
    client.on('active_speaker', () => this.onSpeaker());
    scene.on('remote', () => this.render());
    local.on('change', () => this.render());
    this.resize = typeof ResizeObserver === 'function' ? new ResizeObserver(() => this.onResize()) : null;
    this.resize?.observe(this.tiles);
  }

  /** Tiles on a page: as many rows as fit a phone's screen or a desktop's space below the stage. */
  pageSize() {
    const columns = getComputedStyle(this.tiles).gridTemplateColumns.split(' ').filter(Boolean).length || 2;
    const rows = window.matchMedia?.(NARROW).matches ? 4 : 3;
    return Math.max(2, columns * rows);
  }

  onResize() {
    const size = this.pageSize();
    if (size !== this.perPage) this.render();
  }

  onSpeaker() {
    const speaker = this.client.activeSpeaker;
    if (speaker && !this.speakers.slice(0, SPEAKERS_FIRST).includes(speaker)) {
      // A new voice leads; one already among the leaders keeps its place (no tiles jumping).
      this.speakers = [speaker, ...this.speakers.filter((id) => id !== speaker)].slice(0, SPEAKERS_FIRST);
      this.render();
    } else {
      this.renderSpeaking();
    }
  }

  turn(step) {
    this.page += step;
    this.render();
  }

  /** Students of your room with a microphone or camera on, in the scene's order. */
  candidates() {
    const ids = [];
    for (const p of this.scene.people()) {
      if (p.role === 'teacher' || p.role === 'observer') continue;
      if (this.scene.mediaState(p.participant_id).any) ids.push(p.participant_id);
    }
    return ids;
  }

  render() {
    const scene = this.scene;
    const all = this.candidates();
    this.perPage = this.pageSize();
    const { ids, page, pages, total } = tilePage(all, this.speakers, this.page, this.perPage);
    this.page = page;
    for (const [id, parts] of this.tileEls) {
      if (!all.includes(id)) {
        setVideoTrack(parts.video, null);
        parts.el.remove();
        this.tileEls.delete(id);
      } else if (!ids.includes(id) && parts.el.isConnected) {
        setVideoTrack(parts.video, null); // another page: nothing to draw
        parts.el.remove();
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
    const heading = group ? t('room.tiles_group', { name: group }) : t('room.tiles');
    this.heading.textContent = total ? `${heading} (${total})` : heading;
    this.empty.textContent = t('room.no_tiles');
    this.empty.hidden = all.length > 0;
    this.pager.hidden = pages < 2;
    this.pager.setAttribute('aria-label', t('room.tiles_pages'));
    this.pageText.textContent = t('room.tiles_page', { page, pages });
    this.prev.disabled = page <= 1;
    this.next.disabled = page >= pages;
    for (const [button, key] of [[this.prev, 'room.tiles_prev'], [this.next, 'room.tiles_next']]) {
      button.setAttribute('aria-label', t(key));
      button.title = t(key);
    }
    this.renderSpeaking();
  }

  renderSpeaking() {
    const speaker = this.client.activeSpeaker;
    for (const [id, parts] of this.tileEls) parts.el.classList.toggle('speaking', id === speaker);
  }

  stop() {
    this.resize?.disconnect();
  }
}
