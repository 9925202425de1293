// The live room of a lesson ("Học trực tuyến"): the page's frame around its panels. The
// protocol lives in protocol.js; what we publish in live-local-media.js; each panel (stage,
// tiles, roster, controls, recording, class roster, group work) is its own module that redraws
// on the events it cares about. This module builds the frame, starts the client and leaves.

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

const PERMIT_SOURCES = ['mic', 'camera', 'screen'];
const CLASS_EVENTS = ['joined', 'participant_joined', 'participant_left', 'participant_updated', 'producer_added', 'producer_removed', 'producer_muted'];

export class LiveRoom {
  /**
   * @param {HTMLElement} root where the room is drawn (emptied)
   * @param {{lesson: object, user: object, onLeave: () => void}} options
   */
  constructor(root, { lesson, user, onLeave }) {
    this.root = root;
    this.lesson = lesson;
    this.user = user;
    this.onLeave = onLeave;
    this.closed = false;
    this.lastPermissions = null;
    const client = new LessonClient(lesson.id);
    this.client = client;
    this.message = new RoomMessage();
    const say = (text, kind) => this.message.say(text, kind);
    this.local = new LocalMedia(client, say);
    this.scene = new Scene(client, this.local);
    const room = { client, scene: this.scene, local: this.local, lesson, say, onLeave: () => this.leave() };
    this.connState = new ConnectionState(client);
    this.audio = new RoomAudio(client);
    this.stage = new StagePanel(room);
    this.tiles = new TilesPanel(room);
    this.roster = new RosterPanel(room);
    this.controls = new ControlsPanel(room);
    this.recordingControl = new RecordingControl(client);
    this.classRoster = new ClassRoster(client, lesson.id);
    this.breakouts = new BreakoutsPanel({ ...room, classRoster: this.classRoster });
    this.group = new GroupPanel(room);
    this.panels = [this.connState, this.stage, this.tiles, this.roster, this.controls, this.recordingControl, this.classRoster, this.breakouts, this.group];
    this._onDeviceChange = () => this.local.refreshDevices();
    this._onPageHide = () => client.close('page closed');
    this.build();
    onLangChange(() => this.renderAll());
  }

  build() {
    const lesson = this.lesson;
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
          h('h1', { id: 'room-title' }, lesson.title),
          h('p', { class: 'room-sub muted' }, `${lesson.subject_name} · ${lesson.class_name} · ${lesson.teacher_name}`),
        ),
        this.connState.el,
      ),
      this.recordingControl.el,
      this.message.el,
      h(
        'div',
        { class: 'room-body' },
        h('div', { class: 'room-main' }, this.group.el, this.stage.el, this.tiles.el),
        h('aside', { class: 'room-side' }, this.breakouts.el, this.roster.el, this.classRoster.el),
      ),
      this.controls.el,
      this.audio.el,
    );
    replace(this.root, this.el);
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
    c.onAny(CLASS_EVENTS, () => this.classRoster.render());
    c.on('unpublished', ({ source, reason }) => this.local.onUnpublished(source, reason));
    c.on('bye', ({ reason }) => this.message.say(t(reason === 'replaced' ? 'room.bye_replaced' : 'room.bye')));
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
      this.message.say(t('room.join_refused', { error: errorText(err) }), 'error');
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
    this.classRoster.stop();
    this.breakouts.stop();
    this.group.stop();
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
        if (allowed && !this.lastPermissions?.[source] && this.lastPermissions) this.message.say(t(`room.allowed.${source}`));
      }
    }
    this.lastPermissions = { ...permissions };
  }

  renderAll() {
    if (this.closed) return;
    for (const panel of this.panels) panel.render();
    this.message.renderRetry();
  }
}

/** Open the live room of `lesson` in `root`; resolves once the first join is done (or refused). */
export async function openLiveRoom(root, options) {
  const room = new LiveRoom(root, options);
  await room.start();
  return room;
}
