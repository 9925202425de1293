// /admin/users: teachers, students and administrators; creating an account.

import { classes as classesApi, users as usersApi } from '../api.js';
import { fillSelect, h, loaded, loading, replace, table } from '../dom.js';
import { announce, checkRequired, errorMessage, idOrNull, showErrors, whileBusy } from '../forms.js';
import { onLangChange, t } from '../i18n.js';
import { initLayout, showLoadError } from '../layout.js';

const ROLES = ['teacher', 'student', 'admin'];
const UNASSIGNED = 'none';

const params = new URLSearchParams(location.search);
const state = {
  role: ROLES.includes(params.get('role')) ? params.get('role') : 'teacher',
  classFilter: params.get('class_id') ?? '',
  users: null,
  classes: [],
  highlight: null,
  failure: null,
};

const tableEl = document.getElementById('users-table');
const roleFilter = document.getElementById('role-filter');
const classFilterField = document.getElementById('class-filter-field');
const classFilter = document.getElementById('class-filter');
const form = document.getElementById('user-form');

function syncUrl() {
  const query = new URLSearchParams({ role: state.role });
  if (state.role === 'student' && state.classFilter) query.set('class_id', state.classFilter);
  history.replaceState(null, '', `${location.pathname}?${query}`);
}

function renderFilters() {
  for (const button of roleFilter.querySelectorAll('button')) button.setAttribute('aria-pressed', String(button.dataset.role === state.role));
  classFilterField.hidden = state.role !== 'student';
  fillSelect(
    classFilter,
    [{ value: UNASSIGNED, label: t('users.no_class') }, ...state.classes.map((c) => ({ value: c.id, label: c.name }))],
    { placeholder: t('users.all_classes'), value: state.classFilter },
  );
}

function renderUsers() {
  if (state.failure) {
    loaded(tableEl);
    replace(tableEl, h('p', { class: 'form-error', role: 'alert' }, errorMessage(state.failure)));
    return;
  }
  if (!state.users) return;
  loaded(tableEl);
  const students = state.role === 'student';
  const rows = [...state.users]
    .sort((a, b) => a.full_name.localeCompare(b.full_name, 'vi'))
    .map((u) => ({
      attrs: { dataset: { userId: u.id }, class: u.id === state.highlight ? 'is-new' : null },
      cells: [
        u.full_name,
        u.username,
        students ? (u.class_id ? h('a', { href: `/admin/classes/${u.class_id}` }, u.class_name ?? String(u.class_id)) : h('span', { class: 'muted' }, t('users.no_class'))) : null,
      ].filter((cell) => cell !== null),
    }));
  const headers = [t('user.full_name'), t('user.username')];
  if (students) headers.push(t('user.class'));
  replace(
    tableEl,
    h('p', { class: 'muted count' }, t('users.count', { n: rows.length })),
    table({ caption: t(`users.${state.role}s`), headers, rows, emptyText: t('users.none') }),
  );
}

function renderForm() {
  const student = form.elements.role.value === 'student';
  document.getElementById('user-class-field').hidden = !student;
  fillSelect(
    form.elements.class_id,
    state.classes.map((c) => ({ value: c.id, label: c.name })),
    { placeholder: t('users.no_class') },
  );
}

async function loadUsers() {
  const query = { role: state.role };
  if (state.role === 'student' && state.classFilter === UNASSIGNED) query.unassigned = 'true';
  else if (state.role === 'student' && state.classFilter) query.class_id = state.classFilter;
  loading(tableEl, t('common.loading'));
  try {
    state.users = await usersApi.list(query);
    state.failure = null;
  } catch (err) {
    if (err.status === 401) return;
    state.failure = err;
  }
  renderUsers();
}

async function createUser(event) {
  event.preventDefault();
  if (!checkRequired(form)) return;
  const f = form.elements;
  const body = {
    username: f.username.value.trim(),
    full_name: f.full_name.value.trim(),
    password: f.password.value,
    role: f.role.value,
  };
  const classId = idOrNull(f.class_id.value);
  if (body.role === 'student' && classId) body.class_id = classId;
  try {
    const created = await whileBusy(form, 'common.saving', () => usersApi.create(body));
    for (const name of ['username', 'full_name', 'password']) f[name].value = '';
    state.role = created.role;
    state.classFilter = '';
    state.highlight = created.id;
    syncUrl();
    renderFilters();
    await loadUsers();
    announce(form, t('user.created', { name: created.full_name }));
    f.full_name.focus();
  } catch (err) {
    showErrors(form, err);
  }
}

async function main() {
  const ctx = await initLayout({ role: 'admin' });
  if (!ctx) return;
  loading(tableEl, t('common.loading'));
  try {
    state.classes = await classesApi.list();
  } catch (err) {
    showLoadError(document.getElementById('main'), err);
    return;
  }
  state.classes.sort((a, b) => a.grade - b.grade || a.name.localeCompare(b.name, 'vi', { numeric: true }));
  form.elements.role.value = state.role === 'admin' ? 'admin' : state.role;
  renderFilters();
  renderForm();
  await loadUsers();

  roleFilter.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-role]');
    if (!button || button.dataset.role === state.role) return;
    state.role = button.dataset.role;
    state.classFilter = '';
    syncUrl();
    renderFilters();
    loadUsers();
  });
  classFilter.addEventListener('change', () => {
    state.classFilter = classFilter.value;
    syncUrl();
    loadUsers();
  });
  form.elements.role.addEventListener('change', renderForm);
  form.addEventListener('submit', createUser);
  onLangChange(() => {
    renderFilters();
    renderForm();
    renderUsers();
  });
}

main();
