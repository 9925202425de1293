// /admin/users: teachers, students and administrators; creating an account, searching, editing
// (name, username, a student's class), locking ("Khóa tài khoản"), deleting one without records,
// and resetting a password ("Đặt lại mật khẩu": the new one shown once, on a printable slip).

import { classes as classesApi, request, users as usersApi } from '../api.js';
import { fillSelect, h, loaded, loading, replace, table } from '../dom.js';
import { announce, checkRequired, clearErrors, errorMessage, idOrNull, showErrors, whileBusy } from '../forms.js';
import '../i18n-admin-people.js';
import { onLangChange, t } from '../i18n.js';
import { initLayout, showLoadError } from '../layout.js';

const people = {
  update: (id, body) => request('PATCH', `/api/users/${id}`, { body }),
  remove: (id) => request('DELETE', `/api/users/${id}`),
  resetPassword: (id) => request('POST', `/api/users/${id}/password-reset`),
};

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
  search: '',
  me: null,
  editing: null,
};

const tableEl = document.getElementById('users-table');
const roleFilter = document.getElementById('role-filter');
const classFilterField = document.getElementById('class-filter-field');
const classFilter = document.getElementById('class-filter');
const form = document.getElementById('user-form');
const searchInput = document.getElementById('user-search');
const usersStatus = document.getElementById('users-status');
const editDialog = document.getElementById('edit-dialog');
const editForm = document.getElementById('edit-form');
const confirmDialog = document.getElementById('confirm-dialog');
const confirmForm = document.getElementById('confirm-form');
const passwordDialog = document.getElementById('password-dialog');

/** Lower case without Vietnamese accents: "Lê Văn Ân" is found by "le van an". */
const fold = (text) => String(text ?? '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'd').toLowerCase();

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
  const q = fold(state.search.trim());
  const shown = [...state.users]
    .filter((u) => !q || fold(u.full_name).includes(q) || fold(u.username).includes(q))
    .sort((a, b) => a.full_name.localeCompare(b.full_name, 'vi'));
  const rows = shown.map((u) => ({
    attrs: { dataset: { userId: u.id }, class: [u.id === state.highlight && 'is-new', !u.is_active && 'is-inactive'] },
    cells: [
      h('span', { class: 'people-name' }, h('span', { class: 'people-full-name' }, u.full_name), statusCell(u)),
      u.username,
      students ? (u.class_id ? h('a', { href: `/admin/classes/${u.class_id}` }, u.class_name ?? String(u.class_id)) : h('span', { class: 'muted' }, t('users.no_class'))) : null,
      actionsCell(u),
    ].filter((cell) => cell !== null),
  }));
  const headers = [t('user.full_name'), t('user.username')];
  if (students) headers.push(t('user.class'));
  headers.push(t('common.actions'));
  headers[0] = `${t('user.full_name')} · ${t('ppl.status')}`;
  const count = q ? t('ppl.count_shown', { shown: rows.length, n: state.users.length }) : t('users.count', { n: rows.length });
  replace(
    tableEl,
    h('p', { class: 'muted count', id: 'users-count' }, count),
    table({
      caption: t(`users.${state.role}s`),
      headers,
      rows,
      emptyText: q && state.users.length ? t('ppl.no_match', { q: state.search.trim() }) : t('users.none'),
    }),
  );
}

function statusCell(user) {
  return h(
    'span',
    { class: 'people-status' },
    h('span', { class: ['badge', user.is_active ? 'status-active' : 'status-inactive'] }, t(user.is_active ? 'ppl.active' : 'ppl.inactive')),
    user.must_change_password ? h('span', { class: 'badge status-must-change' }, t('ppl.must_change')) : null,
  );
}

function actionsCell(user) {
  const self = user.id === state.me?.id;
  const name = user.full_name;
  const button = (key, labelKey, action, cls = 'secondary') =>
    h('button', { type: 'button', class: `button small ${cls}`, dataset: { action }, 'aria-label': t(labelKey, { name }), on: { click: () => act(action, user) } }, t(key));
  return h(
    'div',
    { class: 'row-actions' },
    button('ppl.edit', 'ppl.edit_label', 'edit'),
    self ? h('span', { class: 'muted' }, `(${t('ppl.you')})`) : button('ppl.reset', 'ppl.reset_label', 'reset'),
    self ? null : user.is_active ? button('ppl.lock', 'ppl.lock_label', 'lock', 'danger') : button('ppl.unlock', 'ppl.unlock_label', 'unlock'),
    self ? null : button('ppl.delete', 'ppl.delete_label', 'delete', 'danger'),
  );
}

// --- dialogs -----------------------------------------------------------------------------------
function openDialog(dialog) {
  dialog.showModal();
}

for (const dialog of [editDialog, confirmDialog, passwordDialog]) {
  dialog.addEventListener('click', (event) => {
    if (event.target.closest('[data-close]')) dialog.close();
  });
}

function act(action, user) {
  usersStatus.textContent = '';
  if (action === 'edit') openEdit(user);
  else if (action === 'lock') confirmLock(user, false);
  else if (action === 'unlock') confirmLock(user, true);
  else if (action === 'delete') confirmDelete(user);
  else if (action === 'reset') confirmReset(user);
}

function openEdit(user) {
  state.editing = user;
  clearErrors(editForm);
  const f = editForm.elements;
  f.full_name.value = user.full_name;
  f.username.value = user.username;
  const student = user.role === 'student';
  document.getElementById('edit-class-field').hidden = !student;
  fillSelect(f.class_id, state.classes.map((c) => ({ value: c.id, label: c.name })), { placeholder: t('users.no_class'), value: user.class_id ?? '' });
  openDialog(editDialog);
  f.full_name.focus();
}

async function saveEdit(event) {
  event.preventDefault();
  const user = state.editing;
  if (!user || !checkRequired(editForm)) return;
  const f = editForm.elements;
  const body = {};
  const fullName = f.full_name.value.trim();
  const username = f.username.value.trim();
  if (fullName !== user.full_name) body.full_name = fullName;
  if (username !== user.username) body.username = username;
  if (user.role === 'student') {
    const classId = idOrNull(f.class_id.value);
    if (classId !== (user.class_id ?? null)) body.class_id = classId;
  }
  if (!Object.keys(body).length) {
    editDialog.close();
    return;
  }
  try {
    const saved = await whileBusy(editForm, 'common.saving', () => people.update(user.id, body));
    editDialog.close();
    state.highlight = saved.id;
    await loadUsers();
    usersStatus.textContent = t('ppl.saved', { name: saved.full_name });
  } catch (err) {
    if (err.status !== 401) showErrors(editForm, err);
  }
}

/** The confirmation dialog: a title, what happens to the records, a button that does it. */
function confirm({ title, text, okKey, okClass = 'danger', work }) {
  clearErrors(confirmForm);
  document.getElementById('confirm-heading').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  const ok = document.getElementById('confirm-ok');
  ok.textContent = t(okKey);
  ok.className = `button ${okClass}`;
  ok.hidden = false;
  document.getElementById('confirm-alternative').hidden = true;
  confirmForm.onsubmit = async (event) => {
    event.preventDefault();
    try {
      await whileBusy(confirmForm, 'ppl.busy', work);
    } catch (err) {
      if (err.status !== 401) onConfirmError(err);
    }
  };
  openDialog(confirmDialog);
  ok.focus();
}

let onConfirmError = (err) => showErrors(confirmForm, err);

async function done(message) {
  confirmDialog.close();
  await loadUsers();
  usersStatus.textContent = message;
}

function confirmLock(user, unlock) {
  const name = user.full_name;
  onConfirmError = (err) => showErrors(confirmForm, err);
  confirm({
    title: t(unlock ? 'ppl.unlock_title' : 'ppl.lock_title', { name }),
    text: t(unlock ? 'ppl.unlock_text' : 'ppl.lock_text'),
    okKey: unlock ? 'ppl.unlock' : 'ppl.lock',
    okClass: unlock ? 'primary' : 'danger',
    work: async () => {
      await people.update(user.id, { is_active: unlock });
      await done(t(unlock ? 'ppl.unlocked' : 'ppl.locked', { name }));
    },
  });
}

function confirmDelete(user) {
  const name = user.full_name;
  onConfirmError = (err) => {
    showErrors(confirmForm, err);
    if (err.status === 409 && user.is_active) {
      // The account has records: it can be locked instead, keeping them.
      const alternative = document.getElementById('confirm-alternative');
      alternative.textContent = t('ppl.lock');
      alternative.hidden = false;
      alternative.onclick = async () => {
        try {
          await people.update(user.id, { is_active: false });
          await done(t('ppl.locked', { name }));
        } catch (err2) {
          if (err2.status !== 401) showErrors(confirmForm, err2);
        }
      };
      document.getElementById('confirm-ok').hidden = true;
      alternative.focus();
    }
  };
  confirm({
    title: t('ppl.delete_title', { name }),
    text: t('ppl.delete_text'),
    okKey: 'ppl.delete',
    work: async () => {
      await people.remove(user.id);
      await done(t('ppl.deleted', { name }));
    },
  });
}

function confirmReset(user) {
  const name = user.full_name;
  onConfirmError = (err) => showErrors(confirmForm, err);
  confirm({
    title: t('ppl.reset_title', { name }),
    text: t('ppl.reset_text'),
    okKey: 'ppl.reset',
    work: async () => {
      const { password } = await people.resetPassword(user.id);
      confirmDialog.close();
      showSlip(user, password);
      await loadUsers();
    },
  });
}

/** The new password, once, on a slip that prints alone. */
function showSlip(user, password) {
  document.getElementById('slip-once').textContent = t('ppl.slip_once', { name: user.full_name });
  document.getElementById('slip-name').textContent = user.full_name;
  document.getElementById('slip-username').textContent = user.username;
  document.getElementById('slip-password').textContent = password;
  document.getElementById('slip-note').textContent = t('ppl.slip_note', { url: `${location.origin}/login` });
  openDialog(passwordDialog);
  document.getElementById('slip-print').focus();
}

passwordDialog.addEventListener('close', () => {
  // Shown once: gone from the page when the dialog closes.
  document.getElementById('slip-password').textContent = '';
  document.body.classList.remove('printing-slip');
});

document.getElementById('slip-print').addEventListener('click', () => {
  document.body.classList.add('printing-slip');
  window.print();
});
window.addEventListener('afterprint', () => document.body.classList.remove('printing-slip'));

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
  state.me = ctx.user;
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
  editForm.addEventListener('submit', saveEdit);
  searchInput.addEventListener('input', () => {
    state.search = searchInput.value;
    renderUsers();
  });
  onLangChange(() => {
    renderFilters();
    renderForm();
    renderUsers();
  });
}

main();
