// Small pieces the classroom panels share: text with its links made clickable (never parsed as
// markup), what a refusal means (with the wait of a rate limit), times in the school's zone,
// whether a panel is on screen, and a two-step confirmation inside the panel.

import { h, replace } from './dom.js';
import { t } from './i18n.js';
import './i18n-classroom.js';
import { DEFAULT_TIMEZONE, formatTime } from './format.js';
import { errorText } from './live-parts.js';

const LINK = /\bhttps?:\/\/[^\s<>"']+/gi;
const TRAILING = /[.,;:!?)\]}'"»]+$/;

/**
 * A typed text as nodes: plain text nodes, and http(s) links as `<a>` (opened in a new tab, no
 * referrer); nothing is ever parsed as HTML.
 */
export function linkify(text) {
  const nodes = [];
  const source = String(text ?? '');
  let at = 0;
  for (const match of source.matchAll(LINK)) {
    let url = match[0];
    const trail = url.match(TRAILING)?.[0] ?? '';
    if (trail) url = url.slice(0, -trail.length);
    let valid = false;
    try {
      valid = ['http:', 'https:'].includes(new URL(url).protocol);
    } catch {
      valid = false;
    }
    if (!valid) continue;
    if (match.index > at) nodes.push(document.createTextNode(source.slice(at, match.index)));
    const a = h('a', { href: url, rel: 'noopener noreferrer', target: '_blank' });
    a.textContent = url;
    nodes.push(a);
    at = match.index + url.length;
  }
  if (at < source.length) nodes.push(document.createTextNode(source.slice(at)));
  return nodes;
}

/** What a refusal means; a rate limit says how long to wait. */
export function refusalText(err) {
  if (err?.code === 'rate_limited') {
    const seconds = Math.max(1, Math.ceil(Number(err.retryAfter ?? err.reply?.retry_after ?? 1)));
    return t('cls.rate_limited', { s: seconds });
  }
  if (err?.code === 'bad_message' && err.message) return t('cls.failed', { error: err.message });
  return errorText(err);
}

export function timeOf(value, timeZone = DEFAULT_TIMEZONE) {
  if (!value) return '';
  try {
    return formatTime(value, timeZone);
  } catch {
    return '';
  }
}

/** Whether `el` is on screen now (its drawer is open). */
export function isShown(el) {
  if (!el.isConnected || el.hidden) return false;
  return typeof el.checkVisibility === 'function' ? el.checkVisibility() : el.offsetParent !== null;
}

/** A status line (polite) for a panel. */
export function statusLine(id) {
  return h('p', { id, class: 'cls-status muted', role: 'status', 'aria-live': 'polite' });
}

/** An error line (alert) for a panel; `show(text)` sets or clears it. */
export function errorLine(id) {
  const el = h('p', { id, class: 'form-error cls-error', role: 'alert', hidden: true });
  el.show = (text) => {
    el.textContent = text ?? '';
    el.hidden = !text;
  };
  return el;
}

/**
 * A question asked in place (no window.confirm: it works the same on a phone and is read by
 * screen readers): `box` shows `text` with a confirm and a cancel button.
 */
export function confirmIn(box, text, yesLabel, onYes) {
  const yes = h('button', { type: 'button', class: 'button danger small cls-confirm-yes' }, yesLabel);
  const no = h('button', { type: 'button', class: 'button secondary small cls-confirm-no' }, t('cls.cancel'));
  const done = () => {
    box.hidden = true;
    replace(box);
  };
  yes.addEventListener('click', async () => {
    yes.disabled = no.disabled = true;
    try {
      await onYes();
    } finally {
      done();
    }
  });
  no.addEventListener('click', done);
  replace(box, h('p', { class: 'cls-confirm-text' }, text), h('div', { class: 'cls-row' }, yes, no));
  box.hidden = false;
  yes.focus();
}

/** Run a command from a button: the button is busy meanwhile; a refusal is shown in `error`. */
export async function act(button, error, fn) {
  if (button) button.disabled = true;
  error?.show(null);
  try {
    return await fn();
  } catch (err) {
    console.warn('lophoc: classroom command', err);
    error?.show(refusalText(err));
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

/** The participants of the room who are students, by name. */
export function studentsHere(client) {
  const seen = new Map();
  for (const p of client.participants.values()) {
    if (p.role === 'student' && p.user_id !== undefined && !seen.has(p.user_id)) seen.set(p.user_id, p);
  }
  return [...seen.values()].sort((a, b) => String(a.full_name).localeCompare(String(b.full_name), 'vi'));
}
