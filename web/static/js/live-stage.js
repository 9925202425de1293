// The stage ("Khu vực giảng bài"): the teacher's camera and a shared screen, side by side or one
// at a time, with a full-screen button (a phone turns to landscape in full screen). In a group
// without the teacher and without a shared screen there is no stage. While the teacher shows the
// board (live-board.js) it takes the stage and the teacher's camera goes small beside it.

import { h } from './dom.js';
import { t } from './i18n.js';
import { icon, setVideoTrack, videoElement } from './live-parts.js';

const COARSE = '(pointer: coarse)';

const REDRAW_ON = ['joined', 'state', 'participant_joined', 'participant_left', 'participant_updated', 'producer_added', 'producer_removed', 'producer_muted', 'room'];

export class StagePanel {
  /** @param {{client, scene, local, lesson}} room (the stage is put on it as `room.stage`) */
  constructor(room) {
    const { client, scene, local, lesson } = room;
    room.stage = this;
    this.client = client;
    this.scene = scene;
    this.lesson = lesson;
    this.layout = 'both';
    const layoutButton = (layout) => h('button', { type: 'button', dataset: { layout }, on: { click: () => this.setLayout(layout) } });
    this.layoutButtons = ['both', 'camera', 'screen'].map(layoutButton);
    this.camera = videoElement({ id: 'stage-camera', class: 'stage-video' });
    this.screen = videoElement({ id: 'stage-screen', class: 'stage-video' });
    this.cameraCaption = h('figcaption', { class: 'stage-caption' });
    this.screenCaption = h('figcaption', { class: 'stage-caption' });
    this.cameraEmpty = h('p', { class: 'stage-empty' });
    this.cameraView = h('figure', { class: 'stage-view stage-camera-view' }, this.camera, this.cameraEmpty, this.cameraCaption);
    this.screenView = h('figure', { class: 'stage-view stage-screen-view' }, this.screen, this.screenCaption);
    this.boardView = h('div', { id: 'stage-board', class: 'stage-board-view', hidden: true });
    this.layoutGroup = h('div', { class: 'segmented stage-layout', role: 'group' }, this.layoutButtons);
    this.fullscreenButton = h('button', { type: 'button', id: 'btn-fullscreen', class: 'stage-button', 'aria-pressed': 'false', on: { click: () => this.toggleFullscreen() } });
    this.el = h(
      'section',
      { id: 'stage', class: 'stage', 'aria-labelledby': 'stage-heading', dataset: { layout: 'camera' } },
      h('div', { class: 'stage-head' }, h('h2', { id: 'stage-heading', class: 'visually-hidden', 'data-i18n': 'room.stage' }, t('room.stage')), this.layoutGroup, this.fullscreenButton),
      h('div', { class: 'stage-views' }, this.boardView, this.cameraView, this.screenView),
    );
    this._onFullscreen = () => this.renderFullscreen();
    document.addEventListener('fullscreenchange', this._onFullscreen);
    client.onAny(REDRAW_ON, () => this.render());
    client.on('active_speaker', () => this.renderSpeaking());
    scene.on('remote', () => this.render());
    local.on('change', () => this.render());
  }

  get fullscreen() {
    return Boolean(document.fullscreenElement) && document.fullscreenElement === this.el;
  }

  /** The stage alone on the whole screen; on a phone, turned to landscape while it lasts. */
  async toggleFullscreen() {
    if (this.fullscreen) {
      await document.exitFullscreen().catch(() => {});
      return;
    }
    if (!this.el.requestFullscreen) {
      // Safari on iPhone: only a <video> itself goes full screen.
      const video = this.screenView.hidden ? this.camera : this.screen;
      video.webkitEnterFullscreen?.();
      return;
    }
    try {
      await this.el.requestFullscreen({ navigationUI: 'hide' });
    } catch (err) {
      console.warn('lophoc: full screen', err);
      return;
    }
    if (window.matchMedia?.(COARSE).matches) await screen.orientation?.lock?.('landscape').catch(() => {});
  }

  renderFullscreen() {
    const on = this.fullscreen;
    if (!on && document.fullscreenElement === null) {
      try {
        screen.orientation?.unlock?.();
      } catch {
        // not locked
      }
    }
    this.el.classList.toggle('is-fullscreen', on);
    this.fullscreenButton.setAttribute('aria-pressed', String(on));
    const label = t(on ? 'room.fullscreen_exit' : 'room.fullscreen');
    this.fullscreenButton.setAttribute('aria-label', label);
    this.fullscreenButton.title = label;
    this.fullscreenButton.replaceChildren(icon(on ? 'fullscreen-exit' : 'fullscreen'));
    const supported = Boolean(document.fullscreenEnabled || this.camera.webkitEnterFullscreen);
    this.fullscreenButton.hidden = !supported;
  }

  stop() {
    document.removeEventListener('fullscreenchange', this._onFullscreen);
  }

  /** The board takes the stage (`el`: its view) or leaves it (null). */
  showBoard(el) {
    if (el) {
      if (el.parentElement !== this.boardView) this.boardView.replaceChildren(el);
    } else {
      this.boardView.replaceChildren();
    }
    const on = Boolean(el);
    if (on !== (this.el.dataset.board === 'on')) {
      this.el.dataset.board = on ? 'on' : 'off';
      this.render();
    }
  }

  setLayout(layout) {
    this.layout = layout;
    this.render();
  }

  render() {
    const { teacher, camera, screen, screenOwner } = this.scene.stageTracks();
    setVideoTrack(this.camera, camera);
    setVideoTrack(this.screen, screen);
    // In a group, the stage is there only when the teacher visits or someone shares a screen.
    this.el.hidden = this.client.room.id !== 'main' && !teacher && !screen && this.client.role !== 'teacher';
    const layout = screen ? this.layout : 'camera';
    this.el.dataset.layout = layout;
    this.el.dataset.teacherId = teacher?.participant_id ?? '';
    this.cameraView.classList.toggle('is-empty', !camera);
    const board = this.el.dataset.board === 'on';
    this.boardView.hidden = !board;
    this.screenView.hidden = !screen || layout === 'camera' || board;
    this.cameraView.hidden = Boolean(screen) && layout === 'screen' && !board;
    this.layoutGroup.hidden = !screen || board;
    this.layoutGroup.setAttribute('aria-label', t('room.layout'));
    for (const button of this.layoutButtons) {
      const value = button.dataset.layout;
      button.textContent = t(`room.layout.${value}`);
      button.setAttribute('aria-pressed', String(value === this.layout));
    }
    const teacherName = teacher?.full_name ?? this.lesson.teacher_name;
    this.cameraCaption.textContent = t('room.stage_camera', { name: teacherName });
    this.camera.setAttribute('aria-label', t('room.stage_camera', { name: teacherName }));
    this.cameraEmpty.textContent = t(teacher ? 'room.no_camera' : 'room.teacher_absent');
    this.cameraEmpty.hidden = Boolean(camera);
    const ownerName = screenOwner ? (this.scene.isMe(screenOwner) ? t('room.you_short') : this.scene.participant(screenOwner)?.full_name ?? '') : '';
    this.screenCaption.textContent = t('room.stage_screen', { name: ownerName });
    this.screen.setAttribute('aria-label', t('room.stage_screen', { name: ownerName }));
    this.renderFullscreen();
    this.renderSpeaking();
  }

  renderSpeaking() {
    const teacher = this.scene.teacher();
    this.cameraView.classList.toggle('speaking', Boolean(teacher) && teacher.participant_id === this.client.activeSpeaker);
  }
}
