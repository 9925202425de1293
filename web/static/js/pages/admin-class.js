// /admin/classes/{id}: one class, its students, adding and removing students.

import { classes as classesApi, users as usersApi } from '../api.js';
import { h, loaded, loading, replace, table } from '../dom.js';
import { announce, checkRequired, checkedValues, errorMessage, renderChecklist, showErrors, showFormError, whileBusy } from '../forms.js';
import { onLangChange, t } from '../i18n.js';
import { initLayout, showLoadError, showPageMessage } from '../layout.js';

const classId = Number(location.pathname.split('/').filter(Boolean).at(-1));
const state = { klass: null, unassigned: [] };

const main = document.getElementById('main');
const studentsEl = document.getElementById('students-table');
const studentsStatus = document.getElementById('students-status');
const addForm = document.getElementById('add-form');
const unassignedEl = document.getElementById('unassigned');
const studentForm = document.getElementById('student-form');

const byName = (a, b) => a.full_name.localeCompare(b.full_name, 'vi');

function renderFacts() {
  const c = state.klass;
  document.title = `${t('class.heading')} ${c.name} · lophoc`;
  const title = document.getElementById('class-title');
  title.removeAttribute('data-i18n');
  title.textContent = `${t('class.heading')} ${c.name}`;
  const row = (key, value) => h('div', {}, h('dt', {}, t(key)), h('dd', {}, value));
  replace(
    document.getElementById('class-facts'),
    h(
      'dl',
      { class: 'facts' },
      row('class.grade', String(c.grade)),
      row('class.year', c.school_year),
      row('class.homeroom', c.homeroom_teacher_name ?? t('class.no_homeroom_short')),
      row('class.size', String(c.students.length)),
    ),
  );
}

function renderStudents() {
  loaded(studentsEl);
  const rows = [...state.klass.students].sort(byName).map((s) => ({
    attrs: { dataset: { userId: s.id } },
    cells: [
      s.full_name,
      s.username,
      h(
        'button',
        {
          type: 'button',
          class: 'button danger small',
          'aria-label': t('class.remove_named', { name: s.full_name }),
          on: { click: (event) => removeStudent(s, event.currentTarget) },
        },
        t('class.remove'),
      ),
    ],
  }));
  replace(
    studentsEl,
    table({
      caption: t('class.students'),
      headers: [t('user.full_name'), t('user.username'), t('common.actions')],
      rows,
      emptyText: t('class.no_students'),
    }),
  );
}

function renderUnassigned() {
  renderChecklist(
    unassignedEl,
    [...state.unassigned].sort(byName).map((u) => ({ value: u.id, label: u.full_name, hint: u.username })),
    { name: 'user_ids', emptyKey: 'class.no_unassigned' },
  );
  addForm.querySelector('button[type="submit"]').disabled = !state.unassigned.length;
}

function renderAll() {
  renderFacts();
  renderStudents();
  renderUnassigned();
}

async function reload() {
  [state.klass, state.unassigned] = await Promise.all([
    classesApi.get(classId),
    usersApi.list({ role: 'student', unassigned: 'true' }),
  ]);
  renderAll();
}

async function addStudents(event) {
  event.preventDefault();
  const ids = checkedValues(unassignedEl).map(Number);
  if (!ids.length) {
    showFormError(addForm, t('class.pick_students'));
    return;
  }
  try {
    const detail = await whileBusy(addForm, 'common.saving', () => classesApi.addStudents(classId, ids));
    state.klass = detail;
    state.unassigned = await usersApi.list({ role: 'student', unassigned: 'true' });
    for (const box of unassignedEl.querySelectorAll('input:checked')) box.checked = false;
    renderAll();
    announce(addForm, t('class.added', { n: ids.length }));
  } catch (err) {
    showErrors(addForm, err);
  }
}

async function removeStudent(student, button) {
  if (!window.confirm(t('class.remove_confirm', { name: student.full_name, klass: state.klass.name }))) return;
  button.disabled = true;
  try {
    await classesApi.removeStudent(classId, student.id);
    await reload();
    studentsStatus.textContent = t('class.removed', { name: student.full_name });
  } catch (err) {
    button.disabled = false;
    studentsStatus.textContent = errorMessage(err);
  }
}

async function createStudent(event) {
  event.preventDefault();
  if (!checkRequired(studentForm)) return;
  const f = studentForm.elements;
  const body = {
    username: f.username.value.trim(),
    full_name: f.full_name.value.trim(),
    password: f.password.value,
    role: 'student',
    class_id: classId,
  };
  try {
    const created = await whileBusy(studentForm, 'common.saving', () => usersApi.create(body));
    studentForm.reset();
    await reload();
    announce(studentForm, t('user.created', { name: created.full_name }));
    f.full_name.focus();
  } catch (err) {
    showErrors(studentForm, err);
  }
}

async function start() {
  const ctx = await initLayout({ role: 'admin' });
  if (!ctx) return;
  loading(studentsEl, t('common.loading'));
  try {
    await reload();
  } catch (err) {
    if (err.status === 404) showPageMessage(main, { titleKey: 'class.not_found' });
    else showLoadError(main, err);
    return;
  }
  onLangChange(renderAll);
  addForm.addEventListener('submit', addStudents);
  studentForm.addEventListener('submit', createStudent);
}

start();
