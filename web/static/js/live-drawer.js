// The live room's panels host: one toolbar button per panel (with its badge) and the place the
// open panel slides into, never over the stage: under the stage on a portrait phone (the tiles
// give way), a column beside it in landscape and on a desktop. One panel is open at a time;
// Escape or its close button closes it.
//
// A panel is {id, icon (a short text or emoji), label: () => string, el: HTMLElement,
// badge: () => number|string|null, render(), stop?(), available?: () => boolean}. Panels ask for
// attention with `drawer.notify(id)` (their badge is drawn again) and show themselves with
// `drawer.open(id)`.

import { h } from './dom.js';
import { t } from './i18n.js';
import { icon } from './live-parts.js';

export class Drawer {
  constructor() {
    this.entries = new Map(); // id -> { panel, button, badge, label, sheet, title, close }
    this.openId = null;
    this.listeners = new Set();
    /** The panels' buttons; the controls place it in their bar. */
    this.toolbar = h('div', { class: 'drawer-buttons' });
    this.el = h('aside', { id: 'room-drawer', class: 'room-drawer', hidden: true });
    this._onKey = (event) => {
      if (event.key !== 'Escape' || !this.openId || event.defaultPrevented) return;
      if (event.target instanceof Element && event.target.closest('dialog')) return;
      const inside = this.el.contains(document.activeElement);
      this.close({ focusButton: inside });
    };
    document.addEventListener('keydown', this._onKey);
  }

  /** Called with the open panel's id (or null) whenever it changes. */
  onChange(fn) {
    this.listeners.add(fn);
  }

  add(panel) {
    if (!panel?.id || this.entries.has(panel.id)) return;
    const id = panel.id;
    const label = h('span', { class: 'control-label' });
    const badge = h('span', { class: 'drawer-badge', hidden: true });
    const button = h(
      'button',
      {
        type: 'button',
        id: `drawer-btn-${id}`,
        class: 'control drawer-button',
        dataset: { panel: id },
        'aria-expanded': 'false',
        'aria-controls': `drawer-${id}`,
        on: { click: () => this.toggle(id) },
      },
      h('span', { class: 'drawer-icon', 'aria-hidden': 'true' }, panel.icon ?? '•'),
      label,
      badge,
    );
    // A panel with a heading of its own keeps it; one without gets its label as a title.
    const ownHeading = Boolean(panel.el.querySelector('h2, h3'));
    const title = h('h2', { class: 'drawer-title', id: `drawer-title-${id}`, hidden: ownHeading });
    const close = h('button', { type: 'button', class: 'drawer-close', on: { click: () => this.close({ focusButton: true }) } }, icon('close'));
    const sheet = h(
      'div',
      { id: `drawer-${id}`, class: 'drawer-sheet', dataset: { panel: id }, tabindex: '-1', hidden: true },
      close,
      title,
      h('div', { class: 'drawer-body' }, panel.el),
    );
    this.entries.set(id, { panel, button, badge, label, sheet, title, close });
    this.toolbar.append(button);
    this.el.append(sheet);
    this.renderEntry(this.entries.get(id));
  }

  available(id) {
    const entry = this.entries.get(id);
    if (!entry) return false;
    try {
      return entry.panel.available ? Boolean(entry.panel.available()) : true;
    } catch (err) {
      console.warn(`lophoc: panel ${id}`, err);
      return false;
    }
  }

  open(id, { focus = true } = {}) {
    const entry = this.entries.get(id);
    if (!entry || !this.available(id)) return;
    const previous = this.openId;
    this.openId = id;
    for (const [other, e] of this.entries) {
      e.sheet.hidden = other !== id;
      e.button.setAttribute('aria-expanded', String(other === id));
      e.button.classList.toggle('is-on', other === id);
    }
    this.el.hidden = false;
    this.safeRender(entry);
    if (focus) entry.sheet.focus({ preventScroll: false });
    if (previous !== id) this.changed();
  }

  close({ focusButton = false } = {}) {
    const id = this.openId;
    if (!id) return;
    this.openId = null;
    for (const e of this.entries.values()) {
      e.sheet.hidden = true;
      e.button.setAttribute('aria-expanded', 'false');
      e.button.classList.remove('is-on');
    }
    this.el.hidden = true;
    if (focusButton) this.entries.get(id)?.button.focus();
    this.changed();
  }

  toggle(id) {
    if (this.openId === id) this.close({ focusButton: true });
    else this.open(id);
  }

  /** A panel's badge (or availability) changed: draw its button again. */
  notify(id) {
    const entry = this.entries.get(id);
    if (entry) this.renderEntry(entry);
  }

  changed() {
    for (const fn of this.listeners) fn(this.openId);
  }

  safeRender(entry) {
    try {
      entry.panel.render?.();
    } catch (err) {
      console.error(`lophoc: panel ${entry.panel.id}`, err);
    }
  }

  renderEntry(entry) {
    const { panel, button, badge, label, title, close } = entry;
    const available = this.available(panel.id);
    button.hidden = !available;
    const text = typeof panel.label === 'function' ? panel.label() : String(panel.label ?? panel.id);
    let count = null;
    try {
      count = panel.badge?.() ?? null;
    } catch (err) {
      console.warn(`lophoc: panel ${panel.id} badge`, err);
    }
    const shown = count !== null && count !== '' && count !== 0;
    badge.hidden = !shown;
    badge.textContent = shown ? String(count) : '';
    label.textContent = text;
    const name = shown ? t('room.panel_badge', { label: text, n: count }) : text;
    button.setAttribute('aria-label', name);
    button.title = name;
    title.textContent = text;
    close.setAttribute('aria-label', t('room.panel_close', { label: text }));
    close.title = t('room.panel_close', { label: text });
    if (!available && this.openId === panel.id) this.close();
  }

  /** Draw every panel and its button. */
  render() {
    for (const entry of this.entries.values()) {
      this.safeRender(entry);
      this.renderEntry(entry);
    }
  }

  stop() {
    document.removeEventListener('keydown', this._onKey);
    for (const entry of this.entries.values()) {
      try {
        entry.panel.stop?.();
      } catch (err) {
        console.warn(`lophoc: panel ${entry.panel.id}`, err);
      }
    }
  }
}
