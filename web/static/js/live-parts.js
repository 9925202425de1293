// Small pieces the live room's panels share: icons, initials, what an error means, video
// elements, the media-state icons of a participant and the order people are listed in.

import { h } from './dom.js';
import { t } from './i18n.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const ICON_PATHS = {
  mic: 'M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.92V21h2v-3.08A7 7 0 0 0 19 11h-2z',
  camera: 'M17 10.5V7a1 1 0 0 0-1-1H4a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1v-3.5l4 4v-11l-4 4z',
  screen: 'M20 3H4a2 2 0 0 0-2 2v11a2 2 0 0 0 2 2h6v2H8v2h8v-2h-2v-2h6a2 2 0 0 0 2-2V5a2 2 0 0 0-2-2zm0 13H4V5h16v11z',
  leave:
    'M12 9c-1.6 0-3.15.25-4.6.72v3.1c0 .39-.23.74-.56.9-.98.49-1.87 1.12-2.66 1.85-.18.18-.43.28-.7.28-.28 0-.53-.11-.71-.29L.29 13.08a.96.96 0 0 1 0-1.36C3.34 8.78 7.46 7 12 7s8.66 1.78 11.71 4.72c.18.18.29.43.29.71 0 .28-.11.53-.29.71l-2.48 2.48c-.18.18-.43.29-.71.29-.27 0-.52-.11-.7-.28a11.27 11.27 0 0 0-2.67-1.85 1 1 0 0 1-.56-.9v-3.1C15.15 9.25 13.6 9 12 9z',
  settings:
    'M19.14 12.94a7.07 7.07 0 0 0 0-1.88l2.03-1.58a.5.5 0 0 0 .12-.64l-1.92-3.32a.5.5 0 0 0-.6-.22l-2.39.96a7.03 7.03 0 0 0-1.63-.94l-.36-2.54A.5.5 0 0 0 13.9 2.5h-3.84a.5.5 0 0 0-.49.42l-.36 2.54c-.59.24-1.13.56-1.63.94l-2.39-.96a.5.5 0 0 0-.6.22L2.67 8.98a.5.5 0 0 0 .12.64l2.03 1.58a7.07 7.07 0 0 0 0 1.88l-2.03 1.58a.5.5 0 0 0-.12.64l1.92 3.32c.13.22.39.3.6.22l2.39-.96c.5.38 1.04.7 1.63.94l.36 2.54c.05.24.25.42.49.42h3.84c.24 0 .45-.18.49-.42l.36-2.54c.59-.24 1.13-.56 1.63-.94l2.39.96c.22.08.47 0 .6-.22l1.92-3.32a.5.5 0 0 0-.12-.64l-2.03-1.58zM12 15.5A3.5 3.5 0 1 1 12 8.5a3.5 3.5 0 0 1 0 7z',
  fullscreen: 'M5 5h5v2H7v3H5V5zm9 0h5v5h-2V7h-3V5zM5 14h2v3h3v2H5v-5zm12 3v-3h2v5h-5v-2h3z',
  'fullscreen-exit': 'M8 5h2v5H5V8h3V5zm6 0h2v3h3v2h-5V5zM5 14h5v5H8v-3H5v-2zm9 0h5v2h-3v3h-2v-5z',
  end: 'M6 6h12v12H6z',
  prev: 'M15.4 7.4 14 6l-6 6 6 6 1.4-1.4L10.8 12z',
  next: 'M8.6 7.4 10 6l6 6-6 6-1.4-1.4 4.6-4.6z',
  close: 'M19 6.4 17.6 5 12 10.6 6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12z',
};

/** A 24×24 icon, decorative (the control's text names it); `off` draws a slash across. */
export function icon(name, { off = false } = {}) {
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

export const ROLE_ORDER = { teacher: 0, student: 1, observer: 2 };
export const PERMIT_SOURCES = ['mic', 'camera', 'screen'];

export function initials(name) {
  const words = String(name ?? '').trim().split(/\s+/).filter(Boolean);
  if (!words.length) return '?';
  // Vietnamese names put the given name last: "Nguyễn Văn An" -> "A", with the family name's first letter before it.
  const last = words.at(-1)[0];
  return (words.length > 1 ? words[0][0] + last : last).toUpperCase();
}

/** What a refusal or a device failure means, in the user's language. */
export function errorText(err) {
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
    lesson_ended: 'room.err.lesson_ended',
    rate_limited: 'room.err.rate_limited',
    http_403: 'room.err.forbidden',
    http_404: 'room.err.not_found',
  };
  const key = byName[err?.name] ?? byCode[err?.code];
  return key ? t(key) : t('room.err.generic');
}

export function setVideoTrack(video, track) {
  const current = video.srcObject?.getVideoTracks?.()[0] ?? null;
  if (current === (track ?? null)) return;
  video.srcObject = track ? new MediaStream([track]) : null;
  if (track) video.play().catch(() => {}); // autoplay is allowed: muted, and after a click
}

export function videoElement(props) {
  const video = h('video', { autoplay: true, playsinline: true, ...props });
  video.muted = true; // sound plays through the audio elements; muted video may autoplay
  return video;
}

/** Mic and camera state as icons with text for screen readers. */
export function stateIcons(media) {
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

/** Teacher first, then students, then observers; by name (Vietnamese order) within each. */
export function byRoleAndName(a, b) {
  return (ROLE_ORDER[a.role] ?? 3) - (ROLE_ORDER[b.role] ?? 3) || String(a.full_name).localeCompare(String(b.full_name), 'vi');
}

/** Seconds as m:ss (or h:mm:ss). */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const hh = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
}
