// What this page publishes: the microphone, the camera and a shared screen, the devices they
// come from, and the actions of the control buttons. Emits `change` whenever a track, the mute
// state, the devices or a busy action changes; messages for the user go through `say`.

import { Emitter } from './emitter.js';
import { errorText } from './live-parts.js';
import { t } from './i18n.js';

export class LocalMedia extends Emitter {
  /**
   * @param {import('./protocol.js').LessonClient} client
   * @param {(text: string | (() => string), kind?: string) => void} say a message, or a function giving it in the page's language
   */
  constructor(client, say) {
    super();
    this.client = client;
    this.say = say;
    this.tracks = { mic: null, camera: null, screen: null, 'screen-audio': null };
    this.micMuted = true;
    this.busy = new Set();
    this.devices = { audioinput: [], videoinput: [] };
    this.chosen = { audioinput: '', videoinput: '' };
    this.closed = false;
  }

  changed() {
    if (!this.closed) this.emit('change');
  }

  /** The teacher publishes mic and camera; a student the mic, muted, and the camera if allowed. */
  async publishOnJoin() {
    const role = this.client.role;
    if (role === 'observer') {
      this.say(() => t('room.observer_note'));
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
          this.say(() => t(kind === 'audioinput' ? 'room.mic_failed' : 'room.camera_failed', { error: errorText(error) }), 'error');
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
    if (mic && this.micMuted) this.say(() => t('room.joined_muted'));
  }

  async publishLocal(track, source, options) {
    this.tracks[source] = track;
    track.addEventListener('ended', () => {
      if (this.tracks[source] === track) this.run(source, () => this.stopLocal(source));
    });
    this.changed();
    try {
      await this.client.publish(track, source, options);
    } catch (err) {
      if (err.code === 'disconnected') return; // kept: published again once reconnected
      if (this.tracks[source] === track) this.tracks[source] = null;
      track.stop();
      this.say(() => t('room.publish_failed', { what: t(`room.source.${source}`), error: errorText(err) }), 'error');
    } finally {
      this.changed();
    }
  }

  async stopLocal(source) {
    const track = this.tracks[source];
    if (!track) return;
    this.tracks[source] = null;
    track.stop();
    this.changed();
    try {
      await this.client.unpublish(source);
    } catch (err) {
      console.warn(`lophoc: unpublish ${source}`, err);
    }
  }

  /** The server stopped one of ours (a revoked permission, a refused republish). */
  onUnpublished(source, reason) {
    const track = this.tracks[source];
    if (track) {
      track.stop();
      this.tracks[source] = null;
    }
    if (reason === 'revoked' && ['mic', 'camera', 'screen'].includes(source)) this.say(() => t(`room.revoked.${source}`));
    else if (reason !== 'revoked') this.say(() => t('room.publish_failed', { what: t(`room.source.${source}`), error: errorText({ code: reason }) }), 'error');
    this.changed();
  }

  /** Stop everything (leaving the room). */
  close() {
    this.closed = true;
    for (const track of Object.values(this.tracks)) track?.stop();
  }

  /** Run a control's action once at a time, showing its failure. */
  async run(name, action) {
    if (this.busy.has(name)) return;
    this.busy.add(name);
    this.changed();
    try {
      await action();
    } catch (err) {
      console.warn(`lophoc: ${name}`, err);
      this.say(() => errorText(err), 'error');
    } finally {
      this.busy.delete(name);
      this.changed();
    }
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
      const track = this.tracks[kind === 'audioinput' ? 'mic' : 'camera'];
      const inUse = track?.getSettings?.().deviceId;
      if (inUse) this.chosen[kind] = inUse;
    }
    this.changed();
  }

  async chooseDevice(kind, deviceId) {
    this.chosen[kind] = deviceId;
    const source = kind === 'audioinput' ? 'mic' : 'camera';
    const old = this.tracks[source];
    if (!old) return;
    const stream = await navigator.mediaDevices.getUserMedia({ [kind === 'audioinput' ? 'audio' : 'video']: this.constraints(kind) });
    const [track] = stream.getTracks();
    this.tracks[source] = track;
    track.addEventListener('ended', () => {
      if (this.tracks[source] === track) this.run(source, () => this.stopLocal(source));
    });
    await this.client.publish(track, source); // swaps the track; keeps the mute state
    old.stop();
  }

  // --- the control buttons ------------------------------------------------------------------
  async toggleMic() {
    if (!this.tracks.mic) {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: this.constraints('audioinput') });
      this.micMuted = false;
      await this.publishLocal(stream.getAudioTracks()[0], 'mic', { muted: false });
      await this.refreshDevices();
      return;
    }
    this.micMuted = !this.micMuted;
    this.changed();
    if (this.client.localSources().mic) await this.client.mute('mic', this.micMuted);
  }

  async toggleCamera() {
    if (this.tracks.camera) {
      await this.stopLocal('camera');
      return;
    }
    const stream = await navigator.mediaDevices.getUserMedia({ video: this.constraints('videoinput') });
    await this.publishLocal(stream.getVideoTracks()[0], 'camera');
    await this.refreshDevices();
  }

  async toggleScreen() {
    if (this.tracks.screen) {
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
    if (audio && this.tracks.screen === video) await this.publishLocal(audio, 'screen-audio');
    else audio?.stop();
  }
}
