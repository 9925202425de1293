// The controls: a bar of compact icon buttons (microphone, camera, screen, the panels' buttons,
// settings, leave; staff: end the lesson for everyone). The device pickers live in the settings
// dialog. The bar sits in the page's flow, below the stage or beside it, never over it.

import { fillSelect, h } from './dom.js';
import { t } from './i18n.js';
import { errorText, icon } from './live-parts.js';

export class ControlsPanel {
  /** @param {{client, local, onLeave: () => void, say, drawer}} room */
  constructor({ client, local, onLeave, say, drawer }) {
    this.client = client;
    this.local = local;
    this.say = say;
    const control = (id, iconName, onClick) => {
      const label = h('span', { class: 'control-label' });
      const button = h('button', { type: 'button', id, class: 'control', on: { click: onClick } }, icon(iconName), label);
      return { button, label, iconName };
    };
    this.btnMic = control('btn-mic', 'mic', () => local.run('mic', () => local.toggleMic()));
    this.btnCamera = control('btn-camera', 'camera', () => local.run('camera', () => local.toggleCamera()));
    this.btnScreen = control('btn-screen', 'screen', () => local.run('screen', () => local.toggleScreen()));
    this.btnSettings = control('btn-settings', 'settings', () => this.openSettings());
    this.btnLeave = control('btn-leave', 'leave', () => onLeave());
    this.btnLeave.button.classList.add('leave');
    this.btnEnd = control('btn-end', 'end', () => this.confirmEnd());
    this.btnEnd.button.classList.add('leave', 'end-lesson');
    this.screenNote = h('span', { id: 'screen-note', class: 'visually-hidden' });
    this.btnScreen.button.setAttribute('aria-describedby', 'screen-note');
    this.btnSettings.button.setAttribute('aria-haspopup', 'dialog');
    this.btnEnd.button.setAttribute('aria-haspopup', 'dialog');

    /** Where the classroom panels put a compact button of their own (raising a hand). */
    this.slot = h('div', { class: 'control-slot' });

    // Settings: the microphone and camera pickers.
    this.micSelect = h('select', { id: 'mic-select', on: { change: () => local.run('mic-device', () => local.chooseDevice('audioinput', this.micSelect.value)) } });
    this.cameraSelect = h('select', {
      id: 'camera-select',
      on: { change: () => local.run('camera-device', () => local.chooseDevice('videoinput', this.cameraSelect.value)) },
    });
    this.micLabel = h('label', { for: 'mic-select' });
    this.cameraLabel = h('label', { for: 'camera-select' });
    this.settingsTitle = h('h2', { id: 'settings-title' });
    this.settingsClose = h('button', { type: 'button', class: 'button secondary', on: { click: () => this.settings.close() } });
    this.devicesBox = h(
      'div',
      { class: 'devices' },
      h('div', { class: 'field' }, this.micLabel, this.micSelect),
      h('div', { class: 'field' }, this.cameraLabel, this.cameraSelect),
    );
    this.settingsEmpty = h('p', { class: 'muted' });
    this.settings = h(
      'dialog',
      { id: 'settings-dialog', class: 'room-dialog', 'aria-labelledby': 'settings-title' },
      this.settingsTitle,
      this.devicesBox,
      this.settingsEmpty,
      h('div', { class: 'dialog-actions' }, this.settingsClose),
    );
    this.settings.addEventListener('close', () => this.btnSettings.button.focus());

    // Ending the lesson for everyone, after a confirmation.
    this.endTitle = h('h2', { id: 'end-title' });
    this.endText = h('p', { id: 'end-text' });
    this.endError = h('p', { class: 'form-error', role: 'alert', hidden: true });
    this.endConfirm = h('button', { type: 'button', id: 'end-confirm', class: 'button danger', on: { click: () => this.endLesson() } });
    this.endCancel = h('button', { type: 'button', id: 'end-cancel', class: 'button secondary', on: { click: () => this.endDialog.close() } });
    this.endDialog = h(
      'dialog',
      { id: 'end-dialog', class: 'room-dialog', 'aria-labelledby': 'end-title', 'aria-describedby': 'end-text' },
      this.endTitle,
      this.endText,
      this.endError,
      h('div', { class: 'dialog-actions' }, this.endCancel, this.endConfirm),
    );

    this.heading = h('h2', { id: 'controls-heading', class: 'visually-hidden' });
    this.el = h(
      'div',
      { id: 'room-controls', class: 'room-controls', role: 'toolbar', 'aria-labelledby': 'controls-heading' },
      this.heading,
      this.btnMic.button,
      this.btnCamera.button,
      this.btnScreen.button,
      drawer?.toolbar ?? null,
      this.slot,
      this.btnSettings.button,
      this.btnLeave.button,
      this.btnEnd.button,
      this.screenNote,
      this.settings,
      this.endDialog,
    );
    client.onAny(['state', 'joined', 'permissions'], () => this.render());
    local.on('change', () => this.render());
  }

  get staff() {
    return this.client.role === 'teacher' || this.client.role === 'observer';
  }

  openSettings() {
    this.renderDevices(true);
    if (!this.settings.open) this.settings.showModal();
  }

  confirmEnd() {
    this.endError.hidden = true;
    this.endConfirm.disabled = false;
    if (!this.endDialog.open) this.endDialog.showModal();
    this.endCancel.focus();
  }

  async endLesson() {
    this.endConfirm.disabled = true;
    try {
      await this.client.request({ type: 'end_lesson' });
      this.endDialog.close();
    } catch (err) {
      if (this.client.state === 'closed') {
        this.endDialog.close(); // ended: the server said goodbye before its reply arrived
        return;
      }
      this.endError.textContent = t('room.end_failed', { error: errorText(err) });
      this.endError.hidden = false;
      this.endConfirm.disabled = false;
    }
  }

  render() {
    const role = this.client.role;
    const permissions = this.client.permissions;
    const tracks = this.local.tracks;
    const busy = this.local.busy;
    const joined = this.client.state === 'connected' || this.client.state === 'reconnecting';
    const publishes = role === 'teacher' || role === 'student';
    const set = (control, { hidden = false, disabled = false, on = false, labelKey, iconOff = false, reason = '' }) => {
      control.button.hidden = hidden;
      control.button.disabled = disabled;
      control.button.classList.toggle('is-on', on);
      control.button.dataset.on = String(on);
      const label = t(labelKey);
      control.label.textContent = label;
      control.button.title = reason ? `${label} (${reason})` : label;
      control.button.replaceChild(icon(control.iconName, { off: iconOff }), control.button.querySelector('svg'));
    };
    const micOn = Boolean(tracks.mic) && !this.local.micMuted;
    set(this.btnMic, {
      hidden: !publishes,
      disabled: !joined || !permissions.mic || busy.has('mic'),
      on: micOn,
      labelKey: micOn ? 'room.btn.mic_off' : 'room.btn.mic_on',
      iconOff: !micOn,
      reason: !permissions.mic && publishes ? t('room.mic_not_allowed') : '',
    });
    const cameraOn = Boolean(tracks.camera);
    set(this.btnCamera, {
      hidden: !publishes,
      disabled: !joined || !permissions.camera || busy.has('camera'),
      on: cameraOn,
      labelKey: cameraOn ? 'room.btn.camera_off' : 'room.btn.camera_on',
      iconOff: !cameraOn,
      reason: !permissions.camera && publishes ? t('room.camera_not_allowed') : '',
    });
    const screenOn = Boolean(tracks.screen);
    const canShare = Boolean(navigator.mediaDevices?.getDisplayMedia);
    this.screenNote.textContent = !permissions.screen && publishes ? t('room.screen_not_allowed') : '';
    set(this.btnScreen, {
      hidden: !publishes || !canShare,
      disabled: !joined || !permissions.screen || busy.has('screen'),
      on: screenOn,
      labelKey: screenOn ? 'room.btn.screen_stop' : 'room.btn.screen',
      reason: this.screenNote.textContent,
    });
    set(this.btnSettings, { hidden: !publishes, labelKey: 'room.btn.settings' });
    set(this.btnLeave, { labelKey: 'room.btn.leave' });
    set(this.btnEnd, { hidden: !this.staff, disabled: !joined, labelKey: 'room.btn.end' });
    this.heading.textContent = t('room.controls');
    this.settingsTitle.textContent = t('room.settings');
    this.settingsClose.textContent = t('room.close');
    this.micLabel.textContent = t('room.mic_device');
    this.cameraLabel.textContent = t('room.camera_device');
    this.endTitle.textContent = t('room.end_title');
    this.endText.textContent = t('room.end_text');
    this.endConfirm.textContent = t('room.end_confirm');
    this.endCancel.textContent = t('room.cancel');
    this.renderDevices();
  }

  renderDevices(force = false) {
    const { devices, chosen } = this.local;
    const options = (kind) => devices[kind].map((d, i) => ({ value: d.deviceId, label: d.label || t('room.device_n', { n: i + 1 }) }));
    const signature = JSON.stringify([options('audioinput'), options('videoinput'), chosen, this.client.role, t('room.no_device')]);
    if (signature === this.devicesSignature && !force) return; // leave an open list alone
    this.devicesSignature = signature;
    for (const [select, kind] of [[this.micSelect, 'audioinput'], [this.cameraSelect, 'videoinput']]) {
      const items = options(kind);
      if (!items.length) fillSelect(select, [], { placeholder: t('room.no_device'), value: '' });
      else fillSelect(select, items, { value: chosen[kind] || items[0].value });
      select.disabled = !items.length;
    }
    const none = !devices.audioinput.length && !devices.videoinput.length;
    this.settingsEmpty.hidden = !none;
    this.settingsEmpty.textContent = t('room.no_devices');
  }
}
