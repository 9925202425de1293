// The live room of a lesson ("Học trực tuyến"): the page's frame around its panels. The
// protocol lives in protocol.js; what we publish in live-local-media.js; each panel (stage,
// tiles, roster, controls, recording, class roster, group work, the classroom's panels) is its
// own module that redraws on the events it cares about. This module builds the frame, starts the
// client and leaves.
//
// Phone first: a compact head, then the stage at full width with nothing over it, the controls
// in the flow below it (beside it in landscape), the open side panel (live-drawer.js) under
// them, then the tiles. On a desktop the open panel is a column beside the stage.

import { h, replace } from './dom.js';
import { onLangChange, t } from './i18n.js';
import { LessonClient } from './protocol.js';
import { errorText } from './live-parts.js';
import { LocalMedia } from './live-local-media.js';
import { Scene } from './live-scene.js';
import { RoomAudio } from './live-audio.js';
import { ConnectionState, RoomMessage } from './live-status.js';
import { StagePanel } from './live-stage.js';
import { TilesPanel } from './live-tiles.js';
import { RosterPanel } from './live-roster.js';
import { ControlsPanel } from './live-controls.js';
import { ClassRoster, RecordingControl } from './live-supervision.js';
import { BreakoutsPanel } from './live-breakouts.js';
import { GroupPanel } from './live-group.js';
import { Drawer } from './live-drawer.js';
import { classroomPanels } from './live-classroom.js';

const PERMIT_SOURCES = ['mic', 'camera', 'screen'];
const CLASS_EVENTS = ['joined', 'participant_joined', 'participant_left', 'participant_updated', 'producer_added', 'producer_removed', 'producer_muted'];
const DESKTOP = '(min-width: 60rem) and (min-height: 32.01rem)';
// A phone: the room starts at the top of the screen (the site's header scrolled away).
const SMALL = '(max-width: 40rem), (max-height: 32rem)';
const BYE_KEYS = { replaced: 'room.bye_replaced', lesson_ended: 'room.bye_lesson_ended', removed: 'room.bye_removed', denied: 'room.bye_denied' };

export class LiveRoom {
  /**
   * @param {HTMLElement} root where the room is drawn (emptied)
   * @param {{lesson: object, user: object, timeZone?: string, onLeave: () => void}} options
   *   `timeZone`: the school's (GET /api/me -> school.timezone), in which the panels tell times
   */
  constructor(root, { lesson, user, timeZone, onLeave, panels = [] }) {
    this.root = root;
    this.pagePanels = panels;
    this.lesson = lesson;
    this.user = user;
    this.timeZone = timeZone;
    this.onLeave = onLeave;
    this.closed = false;
    this.lastPermissions = null;
    const client = new LessonClient(lesson.id, { statsKey: statsKeyAsked() });
    this.client = client;
    this.message = new RoomMessage();
    const say = (text, kind) => this.message.say(text, kind);
    this.local = new LocalMedia(client, say);
    this.scene = new Scene(client, this.local);
    this.drawer = new Drawer();
    const room = { client, scene: this.scene, local: this.local, lesson, user, timeZone, say, drawer: this.drawer, onLeave: () => this.leave() };
    this.connState = new ConnectionState(client);
    this.audio = new RoomAudio(client);
    this.stage = new StagePanel(room);
    this.tiles = new TilesPanel(room);
    this.roster = new RosterPanel(room);
    this.controls = new ControlsPanel(room);
    /** Where a classroom panel may put a compact control of its own (raising a hand). */
    room.controlSlot = this.controls.slot;
    this.recordingControl = new RecordingControl(client);
    this.classRoster = new ClassRoster(client, lesson.id);
    this.breakouts = new BreakoutsPanel({ ...room, classRoster: this.classRoster });
    this.group = new GroupPanel(room);
    this.panels = [this.connState, this.stage, this.tiles, this.controls, this.recordingControl, this.group];
    this.addPanels(room);
    this._onDeviceChange = () => this.local.refreshDevices();
    this._onPageHide = () => client.close('page closed');
    this.small = window.matchMedia?.(SMALL) ?? null;
    this._onSmall = () => {
      if (this.small.matches) this.showStage();
    };
    this.build();
    this._offLang = onLangChange(() => this.renderAll());
  }

  /** The side panels: who is here, the class's roster, group work, then the classroom's. */
  addPanels(room) {
    const client = this.client;
    const present = () => {
      const here = new Set([...client.participants.values()].map((p) => p.user_id));
      return (this.classRoster.rows ?? []).filter((r) => here.has(r.user_id)).length;
    };
    this.drawer.add({
      id: 'people',
      icon: '👥',
      label: () => t('room.panel.people'),
      el: this.roster.el,
      badge: () => this.scene.everyone().length || null,
      render: () => this.roster.render(),
    });
    this.drawer.add({
      id: 'class',
      icon: '📋',
      label: () => t('room.panel.class'),
      el: this.classRoster.el,
      badge: () => (this.classRoster.rows?.length ? `${present()}/${this.classRoster.rows.length}` : null),
      render: () => this.classRoster.render(),
      available: () => this.classRoster.enabled,
      stop: () => this.classRoster.stop(),
    });
    this.drawer.add({
      id: 'groups',
      icon: '🧩',
      label: () => t('room.panel.groups'),
      el: this.breakouts.el,
      badge: () => client.breakouts?.groups?.length || null,
      render: () => this.breakouts.render(),
      available: () => this.breakouts.enabled,
      stop: () => this.breakouts.stop(),
    });
    let extra = [];
    try {
      extra = classroomPanels(room) ?? [];
    } catch (err) {
      console.error('lophoc: classroom panels', err);
    }
    for (const panel of [...extra, ...this.pagePanels]) this.drawer.add(panel);
    this.classRoster.onLoad(() => this.drawer.notify('class'));
    client.onAny([...CLASS_EVENTS, 'room', 'breakouts'], () => {
      this.drawer.notify('people');
      this.drawer.notify('class');
      this.drawer.notify('groups');
    });
    this.drawer.onChange((id) => {
      this.body.dataset.drawer = id ? 'open' : 'closed';
      this.body.dataset.panel = id ?? '';
    });
  }

  build() {
    const lesson = this.lesson;
    this.body = h(
      'div',
      { class: 'room-body', dataset: { drawer: 'closed' } },
      h('div', { class: 'room-stage-area' }, this.group.el, this.stage.el),
      this.controls.el,
      this.message.el,
      this.drawer.el,
      this.tiles.el,
    );
    this.el = h(
      'section',
      { id: 'room', class: 'room', 'aria-labelledby': 'room-title' },
      h(
        'div',
        { class: 'room-head' },
        h(
          'div',
          { class: 'room-heading' },
          h('p', { class: 'room-kicker', 'data-i18n': 'room.title' }, t('room.title')),
          h('h1', { id: 'room-title', title: lesson.title }, lesson.title),
          h('p', { class: 'room-sub muted' }, `${lesson.subject_name} · ${lesson.class_name} · ${lesson.teacher_name}`),
        ),
        h('div', { class: 'room-badges' }, this.connState.el, this.recordingControl.el),
      ),
      this.body,
      this.audio.el,
    );
    replace(this.root, this.el);
    if (window.matchMedia?.(DESKTOP).matches) this.drawer.open('people', { focus: false });
    this.showStage();
    this.small?.addEventListener?.('change', this._onSmall);
  }

  /** On a phone the room starts at the top of the screen, so the stage is what it shows first. */
  showStage() {
    if (this.small?.matches) this.el.scrollIntoView({ block: 'start' });
  }

  // --- lifecycle ----------------------------------------------------------------------------
  async start() {
    const c = this.client;
    c.on('retry', (retry) => this.message.onRetry(retry));
    c.on('joined', () => {
      this.message.endRetry();
      this.connState.refusal = null;
      this.lastPermissions = { ...c.permissions };
    });
    c.on('permissions', ({ permissions }) => this.onPermissions(permissions));
    c.on('recording', () => this.recordingControl.render());
    c.on('joined', () => this.recordingControl.render());
    c.on('joined', () => this.classRoster.start());
    c.on('joined', () => this.drawer.render());
    c.onAny(CLASS_EVENTS, () => this.classRoster.render());
    c.on('unpublished', ({ source, reason }) => this.local.onUnpublished(source, reason));
    c.on('bye', ({ reason }) => this.message.say(() => t(BYE_KEYS[reason] ?? 'room.bye'), reason === 'lesson_ended' ? 'info' : 'error'));
    c.on('error', ({ error, during }) => {
      console.warn('lophoc: live room', during ?? '', error);
      if (during === 'join' && c.state === 'closed') this.connState.refusal = error;
    });
    navigator.mediaDevices?.addEventListener?.('devicechange', this._onDeviceChange);
    window.addEventListener('pagehide', this._onPageHide);
    this.renderAll();
    try {
      await c.connect();
    } catch (err) {
      this.message.endRetry();
      this.connState.refusal = err;
      this.message.say(() => t('room.join_refused', { error: errorText(err) }), 'error');
      this.renderAll();
      return;
    }
    await this.local.publishOnJoin();
    this.renderAll();
  }

  leave() {
    if (this.closed) return;
    this.closed = true;
    this.message.endRetry();
    this._offLang?.();
    this.drawer.stop();
    this.group.stop();
    this.stage.stop();
    this.tiles.stop();
    this.small?.removeEventListener?.('change', this._onSmall);
    if (document.fullscreenElement && this.el.contains(document.fullscreenElement)) document.exitFullscreen().catch(() => {});
    this.client.close('left');
    this.local.close();
    navigator.mediaDevices?.removeEventListener?.('devicechange', this._onDeviceChange);
    window.removeEventListener('pagehide', this._onPageHide);
    this.audio.close();
    this.el.remove();
    this.onLeave?.();
  }

  /** A student is told what the teacher allowed them. */
  onPermissions(permissions) {
    if (this.client.role === 'student') {
      for (const source of PERMIT_SOURCES) {
        const allowed = Boolean(permissions[source]);
        if (allowed && !this.lastPermissions?.[source] && this.lastPermissions) this.message.say(() => t(`room.allowed.${source}`));
      }
    }
    this.lastPermissions = { ...permissions };
  }

  renderAll() {
    if (this.closed) return;
    for (const panel of this.panels) panel.render();
    this.drawer.render();
    this.message.render();
    this.message.renderRetry();
  }
}

/** Open the live room of `lesson` in `root`; resolves once the first join is done (or refused). */
/** `lophocStats` when the page was opened with `?stats` (tests, diagnostics): the client then polls
 * getStats() and publishes the figures there. Otherwise nothing polls them. */
export function statsKeyAsked(search = location.search) {
  return new URLSearchParams(search).has('stats') ? 'lophocStats' : null;
}

export async function openLiveRoom(root, options) {
  const room = new LiveRoom(root, options);
  await room.start();
  return room;
}
