// The live room of a lesson ("Học trực tuyến"): the teacher's stage (camera and shared screen),
// students' tiles, the roster with the teacher's permission toggles, device pickers and the
// mic / camera / screen / leave controls. The protocol itself lives in protocol.js.

import { fillSelect, h, replace } from './dom.js';
import { onLangChange, t } from './i18n.js';
import { LessonClient } from './protocol.js';
import { ClassRoster, RecordingControl } from './live-supervision.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const ICON_PATHS = {
  mic: 'M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.92V21h2v-3.08A7 7 0 0 0 19 11h-2z',
  camera: 'M17 10.5V7a1 1 0 0 0-1-1H4a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1v-3.5l4 4v-11l-4 4z',
  screen: 'M20 3H4a2 2 0 0 0-2 2v11a2 2 0 0 0 2 2h6v2H8v2h8v-2h-2v-2h6a2 2 0 0 0 2-2V5a2 2 0 0 0-2-2zm0 13H4V5h16v11z',
  leave:
    'M12 9c-1.6 0-3.15.25-4.6.72v3.1c0 .39-.23.74-.56.9-.98.49-1.87 1.12-2.66 1.85-.18.18-.43.28-.7.28-.28 0-.53-.11-.71-.29L.29 13.08a.96.96 0 0 1 0-1.36C3.34 8.78 7.46 7 12 7s8.66 1.78 11.71 4.72c.18.18.29.43.29.71 0 .28-.11.53-.29.71l-2.48 2.48c-.18.18-.43.29-.71.29-.27 0-.52-.11-.7-.28a11.27 11.27 0 0 0-2.67-1.85 1 1 0 0 1-.56-.9v-3.1C15.15 9.25 13.6 9 12 9z',
};

/** A 24×24 icon, decorative (the control's text names it); `off` draws a slash across. */
function icon(name, { off = false } = {}) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '20');
  svg.setAttribute('height', '20');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', `icon icon-${name}${off ? ' is-off' : ''}`);
  const path = document.createElementNS(SVG_NS, 'path');
  path.setAttribute('d', ICON_PATHS[name]);
  path.setAttribute('fill', 'currentColor');
  svg.append(path);
  if (off) {
    const slash = document.createElementNS(SVG_NS, 'line');
    for (const [k, v] of Object.entries({ x1: 3, y1: 3, x2: 21, y2: 21, stroke: 'currentColor', 'stroke-width': 2.5, 'stroke-linecap': 'round' })) {
      slash.setAttribute(k, String(v));
    }
    svg.append(slash);
  }
  return svg;
}

const ROLE_ORDER = { teacher: 0, student: 1, observer: 2 };
const PERMIT_SOURCES = ['mic', 'camera', 'screen'];

function initials(name) {
  const words = String(name ?? '').trim().split(/\s+/).filter(Boolean);
  if (!words.length) return '?';
  // Vietnamese names put the given name last: "Nguyễn Văn An" -> "A", with the family name's first letter before it.
  const last = words.at(-1)[0];
  return (words.length > 1 ? words[0][0] + last : last).toUpperCase();
}

/** What a refusal or a device failure means, in the user's language. */
function errorText(err) {
  const byName = {
    NotAllowedError: 'room.err.device_denied',
    SecurityError: 'room.err.device_denied',
    NotFoundError: 'room.err.device_missing',
    OverconstrainedError: 'room.err.device_missing',
    NotReadableError: 'room.err.device_busy',
    AbortError: 'room.err.device_busy',
  };
  const byCode = {
    forbidden: 'room.err.forbidden',
    not_found: 'room.err.not_found',
    conflict: 'room.err.conflict',
    timeout: 'room.err.timeout',
    disconnected: 'room.err.disconnected',
    network_error: 'room.err.disconnected',
    not_authenticated: 'room.err.not_authenticated',
    http_403: 'room.err.forbidden',
    http_404: 'room.err.not_found',
  };
  const key = byName[err?.name] ?? byCode[err?.code];
  return key ? t(key) : t('room.err.generic');
}

function setVideoTrack(video, track) {
  const current = video.srcObject?.getVideoTracks?.()[0] ?? null;
  if (current === (track ?? null)) return;
  video.srcObject = track ? new MediaStream([track]) : null;
  if (track) video.play().catch(() => {}); // autoplay is allowed: muted, and after a click
}

function videoElement(props) {
  const video = h('video', { autoplay: true, playsinline: true, ...props });
  video.muted = true; // sound plays through the audio elements; muted video may autoplay
  return video;
}

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
    this.client = new LessonClient(lesson.id);
    this.local = { mic: null, camera: null, screen: null, 'screen-audio': null };
    this.micMuted = true;
    this.remote = new Map(); // consumer_id -> { track, producer_id, participant_id, source, kind }
    this.audioEls = new Map(); // consumer_id -> <audio>
    this.tileEls = new Map(); // participant_id -> parts of the tile
    this.rosterEls = new Map(); // participant_id -> parts of the roster entry
    this.layout = 'both';
    this.busy = new Set();
    this.removedProducers = new Set(); // closed producers whose consumer the next offer ends
    this.devices = { audioinput: [], videoinput: [] };
    this.chosen = { audioinput: '', videoinput: '' };
    this.closed = false;
    this.refusal = null;
    this.retry = null; // { key, until } while the client waits to join again
    this.retryTimer = null;
    this.retryTemplate = null; // the sentence on screen, to redraw only the countdown each tick
    this.countdown = null;
    this._onDeviceChange = () => this.refreshDevices();
    this._onPageHide = () => this.client.close('page closed');
    this.build();
    onLangChange(() => {
      if (!this.closed) this.renderAll();
    });
  }

  // --- skeleton -----------------------------------------------------------------------------
  build() {
    const lesson = this.lesson;
    const layoutButton = (layout) =>
      h('button', { type: 'button', dataset: { layout }, on: { click: () => this.setLayout(layout) } });
    this.layoutButtons = ['both', 'camera', 'screen'].map(layoutButton);
    this.stageCamera = videoElement({ id: 'stage-camera', class: 'stage-video' });
    this.stageScreen = videoElement({ id: 'stage-screen', class: 'stage-video' });
    this.stageCameraCaption = h('figcaption', { class: 'stage-caption' });
    this.stageScreenCaption = h('figcaption', { class: 'stage-caption' });
    this.stageCameraEmpty = h('p', { class: 'stage-empty' });
    this.stageCameraView = h('figure', { class: 'stage-view stage-camera-view' }, this.stageCamera, this.stageCameraEmpty, this.stageCameraCaption);
    this.stageScreenView = h('figure', { class: 'stage-view stage-screen-view' }, this.stageScreen, this.stageScreenCaption);
    this.layoutGroup = h('div', { class: 'segmented stage-layout', role: 'group' }, this.layoutButtons);
    this.stage = h(
      'section',
      { id: 'stage', class: 'stage', 'aria-labelledby': 'stage-heading', dataset: { layout: 'camera' } },
      h('div', { class: 'stage-head' }, h('h2', { id: 'stage-heading', class: 'visually-hidden', 'data-i18n': 'room.stage' }, t('room.stage')), this.layoutGroup),
      h('div', { class: 'stage-views' }, this.stageCameraView, this.stageScreenView),
    );

    this.tiles = h('div', { id: 'tiles', class: 'tiles' });
    this.tilesEmpty = h('p', { class: 'tiles-empty muted' });
    this.tilesHeading = h('h2', { id: 'tiles-heading', class: 'tiles-heading' });

    this.roster = h('ul', { id: 'roster', class: 'roster' });
    this.rosterHeading = h('h2', { id: 'roster-heading' });

    this.connState = h('p', { id: 'conn-state', class: 'conn-state', role: 'status', 'aria-live': 'polite' });
    this.message = h('p', { id: 'room-message', class: 'room-message', role: 'status', 'aria-live': 'polite', hidden: true });

    const control = (id, iconName) => {
      const label = h('span', { class: 'control-label' });
      const button = h('button', { type: 'button', id, class: 'control' }, icon(iconName), label);
      return { button, label, iconName };
    };
    this.btnMic = control('btn-mic', 'mic');
    this.btnCamera = control('btn-camera', 'camera');
    this.btnScreen = control('btn-screen', 'screen');
    this.btnLeave = control('btn-leave', 'leave');
    this.btnLeave.button.classList.add('leave');
    this.btnMic.button.addEventListener('click', () => this.run('mic', () => this.toggleMic()));
    this.btnCamera.button.addEventListener('click', () => this.run('camera', () => this.toggleCamera()));
    this.btnScreen.button.addEventListener('click', () => this.run('screen', () => this.toggleScreen()));
    this.btnLeave.button.addEventListener('click', () => this.leave());
    this.screenNote = h('span', { id: 'screen-note', class: 'visually-hidden' });
    this.btnScreen.button.setAttribute('aria-describedby', 'screen-note');

    this.micSelect = h('select', { id: 'mic-select', on: { change: () => this.run('mic-device', () => this.chooseDevice('audioinput', this.micSelect.value)) } });
    this.cameraSelect = h('select', {
      id: 'camera-select',
      on: { change: () => this.run('camera-device', () => this.chooseDevice('videoinput', this.cameraSelect.value)) },
    });
    this.devicesBox = h(
      'div',
      { class: 'devices' },
      h('div', { class: 'field inline' }, h('label', { for: 'mic-select', 'data-i18n': 'room.mic_device' }, t('room.mic_device')), this.micSelect),
      h('div', { class: 'field inline' }, h('label', { for: 'camera-select', 'data-i18n': 'room.camera_device' }, t('room.camera_device')), this.cameraSelect),
    );
    this.controls = h(
      'div',
      { class: 'room-controls', role: 'group', 'aria-labelledby': 'controls-heading' },
      h('h2', { id: 'controls-heading', class: 'visually-hidden', 'data-i18n': 'room.controls' }, t('room.controls')),
      this.devicesBox,
      h('div', { class: 'control-buttons' }, this.btnMic.button, this.btnCamera.button, this.btnScreen.button, this.btnLeave.button, this.screenNote),
    );

    this.audio = h('div', { id: 'room-audio', hidden: true });
    this.recordingControl = new RecordingControl(this.client);
    this.classRoster = new ClassRoster(this.client, lesson.id);

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
        this.connState,
      ),
      this.recordingControl.el,
      this.message,
      h(
        'div',
        { class: 'room-body' },
        h(
          'div',
          { class: 'room-main' },
          this.stage,
          h('section', { class: 'tiles-box', 'aria-labelledby': 'tiles-heading' }, this.tilesHeading, this.tiles, this.tilesEmpty),
        ),
        h(
          'aside',
          { class: 'room-side' },
          h('section', { class: 'panel roster-box', 'aria-labelledby': 'roster-heading' }, this.rosterHeading, this.roster),
          this.classRoster.el,
        ),
      ),
      this.controls,
      this.audio,
    );
    replace(this.root, this.el);
  }

  // --- lifecycle ----------------------------------------------------------------------------
  async start() {
    const c = this.client;
    c.on('state', () => this.renderAll());
    c.on('retry', (retry) => this.onRetry(retry));
    c.on('joined', () => {
      this.endRetry();
      this.refusal = null;
      this.lastPermissions = { ...c.permissions };
      this.renderAll();
    });
    c.on('producer_removed', ({ producer_id: id }) => this.removedProducers.add(id));
    for (const type of ['participant_joined', 'participant_left', 'participant_updated', 'producer_added', 'producer_removed', 'producer_muted']) {
      c.on(type, () => this.renderAll());
    }
    c.on('active_speaker', () => this.renderSpeaking());
    c.on('permissions', ({ permissions }) => this.onPermissions(permissions));
    c.on('recording', () => this.recordingControl.render());
    c.on('joined', () => this.classRoster.start());
    c.on('track', (consumer) => this.onTrack(consumer));
    c.on('track_ended', (consumer) => this.onTrackEnded(consumer));
    c.on('unpublished', ({ source, reason }) => this.onUnpublished(source, reason));
    c.on('bye', ({ reason }) => this.say(t(reason === 'replaced' ? 'room.bye_replaced' : 'room.bye')));
    c.on('error', ({ error, during }) => {
      console.warn('lophoc: live room', during ?? '', error);
      if (during === 'join' && this.client.state === 'closed') this.refusal = error;
    });
    navigator.mediaDevices?.addEventListener?.('devicechange', this._onDeviceChange);
    window.addEventListener('pagehide', this._onPageHide);
    this.renderAll();
    try {
      await c.connect();
    } catch (err) {
      this.endRetry();
      this.refusal = err;
      this.say(t('room.join_refused', { error: errorText(err) }), 'error');
      this.renderAll();
      return;
    }
    await this.publishOnJoin();
    this.renderAll();
  }

  /** The teacher publishes mic and camera; a student the mic, muted, and the camera if allowed. */
  async publishOnJoin() {
    const role = this.client.role;
    if (role === 'observer') {
      this.say(t('room.observer_note'));
      return;
    }
    const wantCamera = role === 'teacher' || Boolean(this.client.permissions.camera);
    const wantMic = Boolean(this.client.permissions.mic);
    this.micMuted = role !== 'teacher';
    let stream = null;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: wantMic ? this.constraints('audioinput') : false,
        video: wantCamera ? this.constraints('videoinput') : false,
      });
    } catch (err) {
      // One device missing or refused: try each alone, so the other still works.
      stream = new MediaStream();
      for (const [want, kind] of [[wantMic, 'audioinput'], [wantCamera, 'videoinput']]) {
        if (!want) continue;
        try {
          const one = await navigator.mediaDevices.getUserMedia({ [kind === 'audioinput' ? 'audio' : 'video']: this.constraints(kind) });
          one.getTracks().forEach((track) => stream.addTrack(track));
        } catch (error) {
          this.say(t(kind === 'audioinput' ? 'room.mic_failed' : 'room.camera_failed', { error: errorText(error) }), 'error');
        }
      }
      if (!stream.getTracks().length) console.warn('lophoc: no microphone or camera', err);
    }
    if (this.closed) {
      stream?.getTracks().forEach((track) => track.stop());
      return;
    }
    const [mic] = stream.getAudioTracks();
    const [camera] = stream.getVideoTracks();
    await this.refreshDevices();
    if (mic) await this.publishLocal(mic, 'mic', { muted: this.micMuted });
    if (camera) await this.publishLocal(camera, 'camera');
    if (mic && this.micMuted) this.say(t('room.joined_muted'));
  }

  async publishLocal(track, source, options) {
    this.local[source] = track;
    track.addEventListener('ended', () => {
      if (this.local[source] === track) this.run(source, () => this.stopLocal(source));
    });
    this.renderAll();
    try {
      await this.client.publish(track, source, options);
    } catch (err) {
      if (err.code === 'disconnected') return; // kept: published again once reconnected
      if (this.local[source] === track) this.local[source] = null;
      track.stop();
      this.say(t('room.publish_failed', { what: t(`room.source.${source}`), error: errorText(err) }), 'error');
    } finally {
      this.renderAll();
    }
  }

  async stopLocal(source) {
    const track = this.local[source];
    if (!track) return;
    this.local[source] = null;
    track.stop();
    this.renderAll();
    try {
      await this.client.unpublish(source);
    } catch (err) {
      console.warn(`lophoc: unpublish ${source}`, err);
    }
  }

  leave() {
    if (this.closed) return;
    this.closed = true;
    this.endRetry();
    this.classRoster.stop();
    this.client.close('left');
    for (const track of Object.values(this.local)) track?.stop();
    navigator.mediaDevices?.removeEventListener?.('devicechange', this._onDeviceChange);
    window.removeEventListener('pagehide', this._onPageHide);
    for (const audio of this.audioEls.values()) audio.srcObject = null;
    this.el.remove();
    this.onLeave?.();
  }

  /** Run a control's action once at a time, showing its failure. */
  async run(name, action) {
    if (this.busy.has(name)) return;
    this.busy.add(name);
    this.renderControls();
    try {
      await action();
    } catch (err) {
      console.warn(`lophoc: ${name}`, err);
      this.say(errorText(err), 'error');
    } finally {
      this.busy.delete(name);
      this.renderAll();
    }
  }

  // --- waiting to join again ---------------------------------------------------------------
  /** The client waits before joining again: say why, counting down. A dropped connection says it in the state alone. */
  onRetry({ error, overloaded, until }) {
    if (!error) return;
    this.retry = { key: overloaded ? 'room.overloaded' : 'room.retrying', until };
    this.renderRetry();
    this.retryTimer ??= setInterval(() => this.renderRetry(), 250);
  }

  endRetry() {
    clearInterval(this.retryTimer);
    this.retryTimer = null;
    this.retryTemplate = null;
    if (this.retry && this.message.dataset.kind === 'retry') this.say('');
    this.retry = null;
  }

  /**
   * "… sau {n} giây…" with a live countdown, then "Đang thử vào lại…" while the attempt runs.
   * The sentence is announced when it appears; the ticking number is not (aria-live off).
   */
  renderRetry() {
    if (!this.retry || this.closed) return;
    const seconds = Math.ceil((this.retry.until - Date.now()) / 1000);
    const key = seconds > 0 ? this.retry.key : `${this.retry.key}_now`;
    const mark = '\u0001';
    const template = t(key, { n: mark });
    if (template !== this.retryTemplate || this.message.dataset.kind !== 'retry') {
      this.retryTemplate = template;
      const [before, after = ''] = template.split(mark);
      this.countdown = h('span', { class: 'countdown', 'aria-live': 'off' });
      replace(this.message, before, template.includes(mark) ? this.countdown : null, after);
      this.message.hidden = false;
      this.message.dataset.kind = 'retry';
    }
    if (seconds > 0) this.countdown.textContent = String(seconds);
  }

  say(text, kind = 'info') {
    this.message.textContent = text;
    this.message.hidden = !text;
    this.message.dataset.kind = kind;
  }

  // --- devices ------------------------------------------------------------------------------
  constraints(kind) {
    const deviceId = this.chosen[kind] ? { exact: this.chosen[kind] } : undefined;
    if (kind === 'audioinput') return { deviceId, echoCancellation: true, noiseSuppression: true, autoGainControl: true };
    return { deviceId, width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24, max: 30 } };
  }

  async refreshDevices() {
    if (!navigator.mediaDevices?.enumerateDevices) return;
    let devices = [];
    try {
      devices = await navigator.mediaDevices.enumerateDevices();
    } catch {
      return;
    }
    for (const kind of ['audioinput', 'videoinput']) {
      this.devices[kind] = devices.filter((d) => d.kind === kind);
      const track = this.local[kind === 'audioinput' ? 'mic' : 'camera'];
      const inUse = track?.getSettings?.().deviceId;
      if (inUse) this.chosen[kind] = inUse;
    }
    this.renderDevices();
  }

  async chooseDevice(kind, deviceId) {
    this.chosen[kind] = deviceId;
    const source = kind === 'audioinput' ? 'mic' : 'camera';
    const old = this.local[source];
    if (!old) return;
    const stream = await navigator.mediaDevices.getUserMedia({ [kind === 'audioinput' ? 'audio' : 'video']: this.constraints(kind) });
    const [track] = stream.getTracks();
    this.local[source] = track;
    track.addEventListener('ended', () => {
      if (this.local[source] === track) this.run(source, () => this.stopLocal(source));
    });
    await this.client.publish(track, source); // swaps the track; keeps the mute state
    old.stop();
  }

  renderDevices() {
    const options = (kind) =>
      this.devices[kind].map((d, i) => ({ value: d.deviceId, label: d.label || t('room.device_n', { n: i + 1 }) }));
    const signature = JSON.stringify([options('audioinput'), options('videoinput'), this.chosen, this.client.role, t('room.no_device')]);
    if (signature === this.devicesSignature) return; // leave an open list alone
    this.devicesSignature = signature;
    for (const [select, kind] of [[this.micSelect, 'audioinput'], [this.cameraSelect, 'videoinput']]) {
      const items = options(kind);
      if (!items.length) fillSelect(select, [], { placeholder: t('room.no_device'), value: '' });
      else fillSelect(select, items, { value: this.chosen[kind] || items[0].value });
      select.disabled = !items.length;
    }
    const publishes = this.client.role !== 'observer';
    this.devicesBox.hidden = !publishes;
  }

  // --- controls -----------------------------------------------------------------------------
  async toggleMic() {
    if (!this.local.mic) {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: this.constraints('audioinput') });
      this.micMuted = false;
      await this.publishLocal(stream.getAudioTracks()[0], 'mic', { muted: false });
      await this.refreshDevices();
      return;
    }
    this.micMuted = !this.micMuted;
    this.renderAll();
    if (this.client.localSources().mic) await this.client.mute('mic', this.micMuted);
  }

  async toggleCamera() {
    if (this.local.camera) {
      await this.stopLocal('camera');
      return;
    }
    const stream = await navigator.mediaDevices.getUserMedia({ video: this.constraints('videoinput') });
    await this.publishLocal(stream.getVideoTracks()[0], 'camera');
    await this.refreshDevices();
  }

  async toggleScreen() {
    if (this.local.screen) {
      await this.stopLocal('screen-audio');
      await this.stopLocal('screen');
      return;
    }
    const withAudio = Boolean(this.client.permissions['screen-audio']);
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: withAudio });
    const [video] = stream.getVideoTracks();
    const [audio] = stream.getAudioTracks();
    if ('contentHint' in video) video.contentHint = 'detail';
    video.addEventListener('ended', () => this.run('screen', () => this.stopLocal('screen-audio').then(() => this.stopLocal('screen'))));
    await this.publishLocal(video, 'screen');
    if (audio && this.local.screen === video) await this.publishLocal(audio, 'screen-audio');
    else audio?.stop();
  }

  setLayout(layout) {
    this.layout = layout;
    this.renderStage();
  }

  async togglePermit(participantId, source, input) {
    const allowed = input.checked;
    input.disabled = true;
    try {
      await this.client.permit(participantId, source, allowed);
    } catch (err) {
      input.checked = !allowed;
      this.say(t('room.permit_failed', { error: errorText(err) }), 'error');
    } finally {
      input.disabled = false;
    }
  }

  // --- events -------------------------------------------------------------------------------
  onPermissions(permissions) {
    if (this.client.role !== 'student') {
      this.renderAll();
      return;
    }
    for (const source of PERMIT_SOURCES) {
      const allowed = Boolean(permissions[source]);
      if (allowed && !this.lastPermissions?.[source] && this.lastPermissions) this.say(t(`room.allowed.${source}`));
    }
    this.lastPermissions = { ...permissions };
    this.renderAll();
  }

  onUnpublished(source, reason) {
    const track = this.local[source];
    if (track) {
      track.stop();
      this.local[source] = null;
    }
    if (reason === 'revoked' && PERMIT_SOURCES.includes(source)) this.say(t(`room.revoked.${source}`));
    else if (reason !== 'revoked') this.say(t('room.publish_failed', { what: t(`room.source.${source}`), error: errorText({ code: reason }) }), 'error');
    this.renderAll();
  }

  onTrack(consumer) {
    if (consumer.participant_id === this.client.participantId) return; // never play ourselves back
    this.remote.set(consumer.consumer_id, consumer);
    if (consumer.kind === 'audio') {
      const audio = h('audio', { autoplay: true, dataset: { consumerId: consumer.consumer_id, source: consumer.source } });
      audio.srcObject = new MediaStream([consumer.track]);
      this.audio.append(audio);
      this.audioEls.get(consumer.consumer_id)?.remove();
      this.audioEls.set(consumer.consumer_id, audio);
      audio.play().catch(() => {});
    }
    this.renderAll();
  }

  onTrackEnded(consumer) {
    this.remote.delete(consumer.consumer_id);
    const audio = this.audioEls.get(consumer.consumer_id);
    if (audio) {
      audio.srcObject = null;
      audio.remove();
      this.audioEls.delete(consumer.consumer_id);
    }
    this.renderAll();
  }

  // --- what to show -------------------------------------------------------------------------
  participant(id) {
    return this.client.participants.get(id) ?? null;
  }

  isMe(id) {
    return id === this.client.participantId;
  }

  /** The remote video track of `participantId`'s `source`, if we receive it. */
  remoteVideo(participantId, source) {
    for (const c of this.remote.values()) {
      if (c.participant_id === participantId && c.source === source && c.kind === 'video' && !this.removedProducers.has(c.producer_id)) {
        return c.track;
      }
    }
    return null;
  }

  /** `{mic, camera, screen}` of a participant: true when on (published and not muted). */
  mediaState(participantId) {
    if (this.isMe(participantId)) {
      return {
        mic: Boolean(this.local.mic) && !this.micMuted,
        camera: Boolean(this.local.camera),
        screen: Boolean(this.local.screen),
        any: Boolean(this.local.mic || this.local.camera || this.local.screen),
      };
    }
    const state = { mic: false, camera: false, screen: false, any: false };
    for (const p of this.client.producers.values()) {
      if (p.participant_id !== participantId) continue;
      state.any = true;
      if (p.source in state) state[p.source] = !p.muted;
    }
    return state;
  }

  teacher() {
    for (const p of this.client.participants.values()) if (p.role === 'teacher') return p;
    return null;
  }

  stageTracks() {
    const teacher = this.teacher();
    let camera = null;
    if (this.client.role === 'teacher') camera = this.local.camera;
    else if (teacher) camera = this.remoteVideo(teacher.participant_id, 'camera');
    let screen = null;
    let screenOwner = null;
    if (this.local.screen) {
      screen = this.local.screen;
      screenOwner = this.client.participantId;
    } else {
      const candidates = [...this.remote.values()].filter((c) => c.source === 'screen' && c.kind === 'video' && !this.removedProducers.has(c.producer_id));
      candidates.sort((a, b) => (this.participant(b.participant_id)?.role === 'teacher') - (this.participant(a.participant_id)?.role === 'teacher'));
      if (candidates.length) {
        screen = candidates[0].track;
        screenOwner = candidates[0].participant_id;
      }
    }
    return { teacher, camera, screen, screenOwner };
  }

  // --- rendering ----------------------------------------------------------------------------
  renderAll() {
    if (this.closed) return;
    this.renderState();
    this.renderRetry();
    this.renderStage();
    this.renderTiles();
    this.renderRoster();
    this.recordingControl.render();
    this.classRoster.render();
    this.renderControls();
    this.renderSpeaking();
  }

  renderState() {
    const state = this.refusal ? 'closed' : this.client.state;
    this.connState.dataset.state = state;
    replace(this.connState, h('span', { class: 'conn-dot', 'aria-hidden': 'true' }), t(`room.conn.${state}`));
  }

  renderStage() {
    const { teacher, camera, screen, screenOwner } = this.stageTracks();
    setVideoTrack(this.stageCamera, camera);
    setVideoTrack(this.stageScreen, screen);
    const layout = screen ? this.layout : 'camera';
    this.stage.dataset.layout = layout;
    this.stage.dataset.teacherId = teacher?.participant_id ?? '';
    this.stageCameraView.classList.toggle('is-empty', !camera);
    this.stageScreenView.hidden = !screen || layout === 'camera';
    this.stageCameraView.hidden = Boolean(screen) && layout === 'screen';
    this.layoutGroup.hidden = !screen;
    this.layoutGroup.setAttribute('aria-label', t('room.layout'));
    for (const button of this.layoutButtons) {
      const value = button.dataset.layout;
      button.textContent = t(`room.layout.${value}`);
      button.setAttribute('aria-pressed', String(value === this.layout));
    }
    const teacherName = teacher?.full_name ?? this.lesson.teacher_name;
    this.stageCameraCaption.textContent = t('room.stage_camera', { name: teacherName });
    this.stageCamera.setAttribute('aria-label', t('room.stage_camera', { name: teacherName }));
    this.stageCameraEmpty.textContent = t(teacher ? 'room.no_camera' : 'room.teacher_absent');
    this.stageCameraEmpty.hidden = Boolean(camera);
    const ownerName = screenOwner ? (this.isMe(screenOwner) ? t('room.you_short') : this.participant(screenOwner)?.full_name ?? '') : '';
    this.stageScreenCaption.textContent = t('room.stage_screen', { name: ownerName });
    this.stageScreen.setAttribute('aria-label', t('room.stage_screen', { name: ownerName }));
  }

  renderTiles() {
    const ids = [];
    for (const p of this.sortedParticipants()) {
      if (p.role === 'teacher' || p.role === 'observer') continue;
      if (this.mediaState(p.participant_id).any) ids.push(p.participant_id);
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
      const p = this.participant(id);
      const media = this.mediaState(id);
      const track = this.isMe(id) ? this.local.camera : this.remoteVideo(id, 'camera');
      setVideoTrack(parts.video, media.camera ? track : null);
      parts.el.classList.toggle('has-video', Boolean(media.camera && track));
      parts.el.classList.toggle('is-me', this.isMe(id));
      parts.avatar.textContent = initials(p?.full_name);
      parts.name.textContent = this.isMe(id) ? `${p?.full_name ?? ''} ${t('room.you')}` : p?.full_name ?? '';
      replace(parts.states, this.stateIcons(media));
    });
    this.tilesHeading.textContent = t('room.tiles');
    this.tilesEmpty.textContent = t('room.no_tiles');
    this.tilesEmpty.hidden = ids.length > 0;
  }

  /** Mic and camera state as icons with text for screen readers. */
  stateIcons(media) {
    return [
      h('span', { class: ['media-state', media.mic ? 'on' : 'off'], dataset: { source: 'mic', on: String(media.mic) }, title: t(media.mic ? 'room.mic_on' : 'room.mic_off') },
        icon('mic', { off: !media.mic }), h('span', { class: 'visually-hidden' }, t(media.mic ? 'room.mic_on' : 'room.mic_off'))),
      h('span', { class: ['media-state', media.camera ? 'on' : 'off'], dataset: { source: 'camera', on: String(media.camera) }, title: t(media.camera ? 'room.camera_on' : 'room.camera_off') },
        icon('camera', { off: !media.camera }), h('span', { class: 'visually-hidden' }, t(media.camera ? 'room.camera_on' : 'room.camera_off'))),
      media.screen
        ? h('span', { class: 'media-state on', dataset: { source: 'screen', on: 'true' }, title: t('room.screen_on') }, icon('screen'), h('span', { class: 'visually-hidden' }, t('room.screen_on')))
        : null,
    ];
  }

  sortedParticipants() {
    return [...this.client.participants.values()].sort(
      (a, b) => (ROLE_ORDER[a.role] ?? 3) - (ROLE_ORDER[b.role] ?? 3) || String(a.full_name).localeCompare(String(b.full_name), 'vi'),
    );
  }

  renderRoster() {
    const people = this.sortedParticipants();
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
        const states = h('span', { class: 'roster-states' });
        const online = h('span', { class: 'visually-hidden' });
        const permits = h('div', { class: 'permits', role: 'group' });
        const el = h(
          'li',
          { dataset: { participantId: id } },
          h('span', { class: 'live-dot', 'aria-hidden': 'true' }),
          online,
          h('span', { class: 'roster-who' }, name, role),
          states,
          permits,
        );
        parts = { el, name, role, states, online, permits, inputs: {} };
        this.rosterEls.set(id, parts);
      }
      if (this.roster.children[index] !== parts.el) this.roster.insertBefore(parts.el, this.roster.children[index] ?? null);
      parts.el.dataset.role = p.role;
      parts.el.classList.toggle('is-me', this.isMe(id));
      parts.online.textContent = t('room.online');
      parts.name.textContent = this.isMe(id) ? `${p.full_name} ${t('room.you')}` : p.full_name;
      parts.role.className = `role-badge role-${p.role}`;
      parts.role.textContent = t(`role.${p.role}`);
      replace(parts.states, this.stateIcons(this.mediaState(id)));
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
    this.rosterHeading.textContent = t('room.roster', { n: people.length });
  }

  renderSpeaking() {
    const speaker = this.client.activeSpeaker;
    for (const [id, parts] of this.tileEls) parts.el.classList.toggle('speaking', id === speaker);
    for (const [id, parts] of this.rosterEls) parts.el.classList.toggle('speaking', id === speaker);
    const teacher = this.teacher();
    this.stageCameraView.classList.toggle('speaking', Boolean(teacher) && teacher.participant_id === speaker);
  }

  renderControls() {
    const role = this.client.role;
    const permissions = this.client.permissions;
    const joined = this.client.state === 'connected' || this.client.state === 'reconnecting';
    const publishes = role === 'teacher' || role === 'student';
    const set = (control, { hidden = false, disabled = false, on = false, labelKey, iconOff = false }) => {
      control.button.hidden = hidden;
      control.button.disabled = disabled;
      control.button.classList.toggle('is-on', on);
      control.button.dataset.on = String(on);
      control.label.textContent = t(labelKey);
      control.button.replaceChild(icon(control.iconName, { off: iconOff }), control.button.querySelector('svg'));
    };
    const micOn = Boolean(this.local.mic) && !this.micMuted;
    set(this.btnMic, {
      hidden: !publishes,
      disabled: !joined || !permissions.mic || this.busy.has('mic'),
      on: micOn,
      labelKey: micOn ? 'room.btn.mic_off' : 'room.btn.mic_on',
      iconOff: !micOn,
    });
    const cameraOn = Boolean(this.local.camera);
    set(this.btnCamera, {
      hidden: !publishes,
      disabled: !joined || !permissions.camera || this.busy.has('camera'),
      on: cameraOn,
      labelKey: cameraOn ? 'room.btn.camera_off' : 'room.btn.camera_on',
      iconOff: !cameraOn,
    });
    const screenOn = Boolean(this.local.screen);
    const canShare = Boolean(navigator.mediaDevices?.getDisplayMedia);
    set(this.btnScreen, {
      hidden: !publishes,
      disabled: !joined || !permissions.screen || !canShare || this.busy.has('screen'),
      on: screenOn,
      labelKey: screenOn ? 'room.btn.screen_stop' : 'room.btn.screen',
    });
    this.screenNote.textContent = !permissions.screen && publishes ? t('room.screen_not_allowed') : '';
    this.btnScreen.button.title = this.screenNote.textContent;
    this.btnCamera.button.title = !permissions.camera && publishes ? t('room.camera_not_allowed') : '';
    this.btnMic.button.title = !permissions.mic && publishes ? t('room.mic_not_allowed') : '';
    set(this.btnLeave, { labelKey: 'room.btn.leave' });
    this.renderDevices();
  }
}

/** Open the live room of `lesson` in `root`; resolves once the first join is done (or refused). */
export async function openLiveRoom(root, options) {
  const room = new LiveRoom(root, options);
  await room.start();
  return room;
}
