// The controls: device pickers and the microphone, camera, screen and leave buttons.

import { fillSelect, h } from './dom.js';
import { t } from './i18n.js';
import { icon } from './live-parts.js';

export class ControlsPanel {
  /** @param {{client, local, onLeave: () => void}} room */
  constructor({ client, local, onLeave }) {
    this.client = client;
    this.local = local;
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
    this.btnMic.button.addEventListener('click', () => local.run('mic', () => local.toggleMic()));
    this.btnCamera.button.addEventListener('click', () => local.run('camera', () => local.toggleCamera()));
    this.btnScreen.button.addEventListener('click', () => local.run('screen', () => local.toggleScreen()));
    this.btnLeave.button.addEventListener('click', () => onLeave());
    this.screenNote = h('span', { id: 'screen-note', class: 'visually-hidden' });
    this.btnScreen.button.setAttribute('aria-describedby', 'screen-note');

    this.micSelect = h('select', { id: 'mic-select', on: { change: () => local.run('mic-device', () => local.chooseDevice('audioinput', this.micSelect.value)) } });
    this.cameraSelect = h('select', {
      id: 'camera-select',
      on: { change: () => local.run('camera-device', () => local.chooseDevice('videoinput', this.cameraSelect.value)) },
    });
    this.devicesBox = h(
      'div',
      { class: 'devices' },
      h('div', { class: 'field inline' }, h('label', { for: 'mic-select', 'data-i18n': 'room.mic_device' }, t('room.mic_device')), this.micSelect),
      h('div', { class: 'field inline' }, h('label', { for: 'camera-select', 'data-i18n': 'room.camera_device' }, t('room.camera_device')), this.cameraSelect),
    );
    this.el = h(
      'div',
      { class: 'room-controls', role: 'group', 'aria-labelledby': 'controls-heading' },
      h('h2', { id: 'controls-heading', class: 'visually-hidden', 'data-i18n': 'room.controls' }, t('room.controls')),
      this.devicesBox,
      h('div', { class: 'control-buttons' }, this.btnMic.button, this.btnCamera.button, this.btnScreen.button, this.btnLeave.button, this.screenNote),
    );
    client.onAny(['state', 'joined', 'permissions'], () => this.render());
    local.on('change', () => this.render());
  }

  render() {
    const role = this.client.role;
    const permissions = this.client.permissions;
    const tracks = this.local.tracks;
    const busy = this.local.busy;
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
    const micOn = Boolean(tracks.mic) && !this.local.micMuted;
    set(this.btnMic, {
      hidden: !publishes,
      disabled: !joined || !permissions.mic || busy.has('mic'),
      on: micOn,
      labelKey: micOn ? 'room.btn.mic_off' : 'room.btn.mic_on',
      iconOff: !micOn,
    });
    const cameraOn = Boolean(tracks.camera);
    set(this.btnCamera, {
      hidden: !publishes,
      disabled: !joined || !permissions.camera || busy.has('camera'),
      on: cameraOn,
      labelKey: cameraOn ? 'room.btn.camera_off' : 'room.btn.camera_on',
      iconOff: !cameraOn,
    });
    const screenOn = Boolean(tracks.screen);
    const canShare = Boolean(navigator.mediaDevices?.getDisplayMedia);
    set(this.btnScreen, {
      hidden: !publishes,
      disabled: !joined || !permissions.screen || !canShare || busy.has('screen'),
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

  renderDevices() {
    const { devices, chosen } = this.local;
    const options = (kind) => devices[kind].map((d, i) => ({ value: d.deviceId, label: d.label || t('room.device_n', { n: i + 1 }) }));
    const signature = JSON.stringify([options('audioinput'), options('videoinput'), chosen, this.client.role, t('room.no_device')]);
    if (signature === this.devicesSignature) return; // leave an open list alone
    this.devicesSignature = signature;
    for (const [select, kind] of [[this.micSelect, 'audioinput'], [this.cameraSelect, 'videoinput']]) {
      const items = options(kind);
      if (!items.length) fillSelect(select, [], { placeholder: t('room.no_device'), value: '' });
      else fillSelect(select, items, { value: chosen[kind] || items[0].value });
      select.disabled = !items.length;
    }
    this.devicesBox.hidden = this.client.role === 'observer';
  }
}
