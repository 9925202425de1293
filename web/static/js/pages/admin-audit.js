// /admin/audit: "Nhật ký thay đổi", the school's changes newest first (who, when, what, and each
// changed field as "field: old → new"), filtered by record, action, person and days; older pages
// on demand. Every value from the server is set as text.

import { request, users as usersApi } from '../api.js';
import { fillSelect, h, loaded, loading, replace } from '../dom.js';
import { errorMessage, showErrors } from '../forms.js';
import { dayKey, formatDay, formatTime } from '../format.js';
import '../i18n-admin-people.js';
import { onLangChange, t } from '../i18n.js';
import { initLayout } from '../layout.js';

const ENTITIES = ['user', 'class', 'class_student', 'subject', 'subject_team', 'assignment', 'school_year', 'lesson', 'lesson_series', 'period', 'school'];
const ACTIONS = ['create', 'update', 'delete', 'archive', 'restore', 'deactivate', 'activate', 'reset_password', 'import', 'generate', 'move', 'cancel', 'makeup', 'substitute', 'settings'];
const PAGE_SIZE = 50;

const form = document.getElementById('audit-filters');
const list = document.getElementById('audit-list');
const more = document.getElementById('audit-more');

const state = { ctx: null, admins: [], items: [], next: null, filters: {}, failure: null };

/** A label from the catalogue of the page, or the code itself when the page has none. */
function label(prefix, code) {
  const key = `${prefix}.${code}`;
  const text = t(key);
  return text === key ? code : text;
}

function stamp(value) {
  const zone = state.ctx.timeZone;
  return `${formatDay(dayKey(value, zone), { day: '2-digit', month: '2-digit', year: 'numeric' })} ${formatTime(value, zone)}`;
}

function shown(value) {
  if (value === null || value === undefined || value === '') return t('aud.empty');
  if (value === true) return t('aud.yes');
  if (value === false) return t('aud.no');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Each changed field as "Họ và tên: Lê Văn An → Lê Văn Ân"; a creation or deletion lists its values. */
function changes(entry) {
  const before = entry.before ?? {};
  const after = entry.after ?? {};
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  if (!keys.length) return h('span', { class: 'muted' }, '—');
  return h(
    'ul',
    { class: 'audit-changes' },
    keys.map((key) => {
      const parts = [h('span', { class: 'change-field' }, `${label('aud.f', key)}: `)];
      if (entry.before && entry.after) {
        parts.push(h('span', { class: 'change-old' }, shown(before[key])), ' → ', h('span', { class: 'change-new' }, shown(after[key])));
      } else if (entry.after) {
        parts.push(h('span', { class: 'change-new' }, shown(after[key])));
      } else {
        parts.push(h('span', { class: 'change-old' }, shown(before[key])));
      }
      return h('li', { dataset: { field: key } }, parts);
    }),
  );
}

function render() {
  loaded(list);
  if (state.failure) {
    replace(list, h('p', { class: 'form-error', role: 'alert' }, errorMessage(state.failure)));
    more.hidden = true;
    return;
  }
  if (!state.items.length) {
    replace(list, h('p', { class: 'empty' }, t('aud.none')));
    more.hidden = true;
    return;
  }
  const rows = state.items.map((e) =>
    h(
      'tr',
      { dataset: { entryId: e.id, entity: e.entity, action: e.action } },
      h('th', { scope: 'row' }, h('time', { datetime: e.at }, stamp(e.at))),
      h('td', {}, e.actor_name || t('aud.system')),
      h(
        'td',
        { class: 'audit-what' },
        h('strong', { class: 'audit-action' }, label('aud.a', e.action)),
        h('span', { class: 'audit-entity' }, `${label('aud.e', e.entity)}${e.summary ? ` · ${e.summary}` : ''}`),
      ),
      h('td', {}, changes(e)),
    ),
  );
  replace(
    list,
    h('p', { class: 'muted count' }, t('aud.count', { n: state.items.length })),
    h(
      'table',
      { class: 'data-table audit-table' },
      h('caption', { class: 'visually-hidden' }, t('aud.title')),
      h('thead', {}, h('tr', {}, [t('aud.at'), t('aud.actor'), t('aud.what'), t('aud.changes')].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, rows),
    ),
  );
  more.hidden = state.next === null;
}

function renderFilters() {
  const f = form.elements;
  fillSelect(f.entity, ENTITIES.map((code) => ({ value: code, label: label('aud.e', code) })), { placeholder: t('aud.all'), value: state.filters.entity ?? '' });
  fillSelect(f.action, ACTIONS.map((code) => ({ value: code, label: label('aud.a', code) })), { placeholder: t('aud.all'), value: state.filters.action ?? '' });
  fillSelect(f.actor_id, state.admins.map((u) => ({ value: u.id, label: u.full_name })), { placeholder: t('aud.all'), value: state.filters.actor_id ?? '' });
  f.from.value = state.filters.from ?? '';
  f.to.value = state.filters.to ?? '';
}

function readFilters() {
  const f = form.elements;
  const filters = {};
  for (const name of ['entity', 'action', 'actor_id', 'from', 'to']) if (f[name].value) filters[name] = f[name].value;
  return filters;
}

function syncUrl() {
  const query = new URLSearchParams(state.filters);
  history.replaceState(null, '', query.size ? `${location.pathname}?${query}` : location.pathname);
}

async function load({ append = false } = {}) {
  if (!append) loading(list, t('common.loading'));
  const query = { ...state.filters, limit: PAGE_SIZE };
  if (append && state.next) query.before_id = state.next;
  try {
    const page = await request('GET', '/api/audit', { query });
    state.items = append ? [...state.items, ...page.items] : page.items;
    state.next = page.next_before_id ?? null;
    state.failure = null;
  } catch (err) {
    if (err.status === 401) return;
    if (err.status === 422) {
      loaded(list);
      showErrors(form, err);
      return;
    }
    state.failure = err;
  }
  render();
}

async function main() {
  state.ctx = await initLayout({ role: 'admin' });
  if (!state.ctx) return;
  const params = new URLSearchParams(location.search);
  for (const name of ['entity', 'action', 'actor_id', 'from', 'to']) if (params.get(name)) state.filters[name] = params.get(name);
  try {
    state.admins = (await usersApi.list({ role: 'admin' })).sort((a, b) => a.full_name.localeCompare(b.full_name, 'vi'));
  } catch {
    state.admins = [];
  }
  renderFilters();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    state.filters = readFilters();
    syncUrl();
    load();
  });
  document.getElementById('audit-clear').addEventListener('click', () => {
    state.filters = {};
    renderFilters();
    syncUrl();
    load();
  });
  more.addEventListener('click', async () => {
    more.disabled = true;
    await load({ append: true });
    more.disabled = false;
  });
  onLangChange(() => {
    renderFilters();
    render();
  });
  await load();
}

main();
