// The notices bell (thông báo) in the header: the number unread, a list that opens under it, and
// "mark all read". Texts from the server are set with textContent only; links stay inside the site.

import { request } from './api.js';
import { h, replace } from './dom.js';
import { formatDate, formatTime } from './format.js';
import { onLangChange, t } from './i18n.js';
import './i18n-parents.js';

const POLL_MS = 60000;
const BELL_CSS = '/static/css/notices.css';
if (!document.querySelector(`link[href="${BELL_CSS}"]`)) {
  document.head.append(h('link', { rel: 'stylesheet', href: BELL_CSS }));
}

function sameSiteLink(link) {
  return typeof link === 'string' && link.startsWith('/') && !link.startsWith('//') ? link : null;
}

const SVG = 'http://www.w3.org/2000/svg';

function bellIcon() {
  const svg = document.createElementNS(SVG, 'svg');
  for (const [k, v] of Object.entries({ class: 'bell-icon', viewBox: '0 0 24 24', width: '20', height: '20', 'aria-hidden': 'true' })) svg.setAttribute(k, v);
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', 'M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z');
  path.setAttribute('fill', 'currentColor');
  svg.append(path);
  return svg;
}

/** The bell for a signed-in user; refreshes itself every minute while the page is open. */
export function noticesBell(timeZone) {
  let state = { unread: 0, items: [] };
  const count = h('span', { class: 'bell-count', id: 'notices-count', hidden: true });
  const panel = h('div', { class: 'bell-panel', id: 'notices-panel', hidden: true, role: 'region', 'aria-label': t('bell.label') });
  const button = h(
    'button',
    {
      type: 'button',
      class: 'button ghost bell-button',
      id: 'notices-bell',
      'aria-expanded': 'false',
      'aria-controls': 'notices-panel',
      title: t('bell.label'),
      'aria-label': t('bell.label'),
      on: { click: () => toggle() },
    },
    bellIcon(),
    count,
  );
  const root = h('div', { class: 'bell' }, button, panel);

  function render() {
    count.hidden = state.unread === 0;
    count.textContent = String(state.unread);
    button.setAttribute('aria-label', state.unread ? t('bell.unread', { n: state.unread }) : t('bell.label'));
    const list = state.items.length
      ? h(
          'ul',
          { class: 'bell-list' },
          state.items.map((n) => {
            const link = sameSiteLink(n.link);
            const title = h('strong', { class: 'bell-title' }, n.title);
            return h(
              'li',
              { class: n.read_at ? 'bell-item' : 'bell-item unread', dataset: { kind: n.kind, id: String(n.id) } },
              h('span', { class: 'bell-kind' }, t(`bell.kind.${n.kind}`)),
              link ? h('a', { href: link }, title) : title,
              n.body ? h('span', { class: 'bell-body' }, n.body) : null,
              h('time', { datetime: n.created_at }, `${formatDate(n.created_at, timeZone)} ${formatTime(n.created_at, timeZone)}`),
            );
          }),
        )
      : h('p', { class: 'muted' }, t('bell.none'));
    replace(
      panel,
      list,
      state.unread ? h('button', { type: 'button', class: 'button ghost', id: 'notices-read-all', on: { click: readAll } }, t('bell.read_all')) : null,
    );
  }

  async function refresh() {
    try {
      state = await request('GET', '/api/notices', { redirectOn401: false });
      render();
    } catch {
      // The bell stays as it was; the page itself reports a lost session.
    }
  }

  async function readAll() {
    await request('POST', '/api/notices/read', { body: { ids: null } });
    await refresh();
    toggle(false);
  }

  function toggle(open = panel.hidden) {
    panel.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    if (open) refresh();
  }

  render();
  onLangChange(render);
  // The list closes with Escape (focus back on the bell) and with a click elsewhere.
  root.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !panel.hidden) {
      toggle(false);
      button.focus();
    }
  });
  document.addEventListener('click', (event) => {
    if (!panel.hidden && !root.contains(event.target)) toggle(false);
  });
  refresh();
  setInterval(refresh, POLL_MS);
  return root;
}
