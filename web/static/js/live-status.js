// The connection state ("Đã kết nối"...) and the room's message line: what just happened, a
// refusal, or the countdown while the page waits to join again.

import { h, replace } from './dom.js';
import { t } from './i18n.js';

export class ConnectionState {
  constructor(client) {
    this.client = client;
    this.refusal = null; // the error that closed the client for good, if any
    this.el = h('p', { id: 'conn-state', class: 'conn-state', role: 'status', 'aria-live': 'polite' });
    client.on('state', () => this.render());
    client.on('joined', () => {
      this.refusal = null;
      this.render();
    });
  }

  render() {
    const state = this.refusal ? 'closed' : this.client.state;
    this.el.dataset.state = state;
    replace(this.el, h('span', { class: 'conn-dot', 'aria-hidden': 'true' }), t(`room.conn.${state}`));
  }
}

export class RoomMessage {
  constructor() {
    this.el = h('p', { id: 'room-message', class: 'room-message', role: 'status', 'aria-live': 'polite', hidden: true });
    this.text = null; // the message as a function of the language, if it was given so
    this.retry = null; // { key, until } while the client waits to join again
    this.retryTimer = null;
    this.retryTemplate = null; // the sentence on screen, to redraw only the countdown each tick
    this.countdown = null;
  }

  /**
   * Show a message. `text` is a string or a function giving it in the page's language (drawn
   * again when the language changes).
   */
  say(text, kind = 'info') {
    this.text = typeof text === 'function' ? text : null;
    this.el.dataset.kind = kind;
    this.show(typeof text === 'function' ? text() : text);
  }

  show(text) {
    this.el.textContent = text ?? '';
    this.el.hidden = !text;
  }

  /** The message again, in the page's language. */
  render() {
    if (this.text && this.el.dataset.kind !== 'retry') this.show(this.text());
  }

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
    if (this.retry && this.el.dataset.kind === 'retry') this.say('');
    this.retry = null;
  }

  /**
   * "… sau {n} giây…" with a live countdown, then "Đang thử vào lại…" while the attempt runs.
   * The sentence is announced when it appears; the ticking number is not (aria-live off).
   */
  renderRetry() {
    if (!this.retry) return;
    const seconds = Math.ceil((this.retry.until - Date.now()) / 1000);
    const key = seconds > 0 ? this.retry.key : `${this.retry.key}_now`;
    const mark = '\u0001';
    const template = t(key, { n: mark });
    if (template !== this.retryTemplate || this.el.dataset.kind !== 'retry') {
      this.retryTemplate = template;
      this.text = null;
      const [before, after = ''] = template.split(mark);
      this.countdown = h('span', { class: 'countdown', 'aria-live': 'off' });
      replace(this.el, before, template.includes(mark) ? this.countdown : null, after);
      this.el.hidden = false;
      this.el.dataset.kind = 'retry';
    }
    if (seconds > 0) this.countdown.textContent = String(seconds);
  }
}
