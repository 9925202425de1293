// /admin/classes/{id}: one class: editing it, deleting or archiving it (restoring it), its
// students, adding, moving in from another class and removing students.

import { confirmInDialog, refusalText, structureApi } from '../admin-structure.js';
import { classes as classesApi, grades as gradesApi, users as usersApi } from '../api.js';
import { fillSelect, h, loaded, loading, replace, table } from '../dom.js';
import { announce, checkRequired, checkedValues, errorMessage, idOrNull, renderChecklist, showErrors, showFormError, whileBusy } from '../forms.js';
import { dayKey, formatDay } from '../format.js';
import { onLangChange, t } from '../i18n.js';
import { initLayout, showLoadError, showPageMessage } from '../layout.js';

const classId = Number(location.pathname.split('/').filter(Boolean).at(-1));
const state = { klass: null, unassigned: [], elsewhere: [], grades: [], teachers: [], timeZone: undefined };
const editForm = document.getElementById('edit-form');
const moveForm = document.getElementById('move-form');
const elsewhereEl = document.getElementById('elsewhere');
const classStatus = document.getElementById('class-status');
const removeButton = document.getElementById('class-remove');

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
      row('st.lessons', String(c.lesson_count)),
    ),
  );
  const archived = Boolean(c.archived_at);
  document.getElementById('archived-banner').hidden = !archived;
  if (archived) {
    document.getElementById('archived-text').textContent = t('st.class_is_archived', {
      when: formatDay(dayKey(c.archived_at, state.timeZone), { day: '2-digit', month: '2-digit', year: 'numeric' }),
    });
  }
  removeButton.hidden = archived;
  removeButton.textContent = t(c.lesson_count > 0 ? 'st.class_archive' : 'st.class_delete');
  for (const form of [editForm, addForm, moveForm]) form.closest('section').hidden = archived;
}

function renderEditForm() {
  const c = state.klass;
  const f = editForm.elements;
  if (document.activeElement?.form !== editForm) f.name.value = c.name;
  const levels = state.grades.length ? state.grades.map((g) => g.level) : Array.from({ length: 12 }, (_, i) => i + 1);
  fillSelect(f.grade, levels.map((level) => ({ value: level, label: t('grade.n', { n: level }) })), { value: c.grade });
  fillSelect(f.homeroom_teacher_id, state.teachers.map((u) => ({ value: u.id, label: u.full_name })), {
    placeholder: t('class.no_homeroom'),
    value: c.homeroom_teacher_id ?? '',
  });
}

function renderElsewhere() {
  renderChecklist(
    elsewhereEl,
    [...state.elsewhere].sort(byName).map((u) => ({ value: u.id, label: u.full_name, hint: u.class_name })),
    { name: 'user_ids', emptyKey: 'st.move_none' },
  );
  moveForm.querySelector('button[type="submit"]').disabled = !state.elsewhere.length;
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
  renderEditForm();
  renderStudents();
  renderUnassigned();
  renderElsewhere();
}

async function reload() {
  let students;
  [state.klass, students] = await Promise.all([classesApi.get(classId), usersApi.list({ role: 'student' })]);
  state.unassigned = students.filter((u) => u.class_id === null || u.class_id === undefined);
  state.elsewhere = students.filter((u) => u.class_id !== null && u.class_id !== undefined && u.class_id !== classId);
  renderAll();
}

async function saveClass(event) {
  event.preventDefault();
  if (!checkRequired(editForm)) return;
  const f = editForm.elements;
  const body = { name: f.name.value.trim(), grade: Number(f.grade.value), homeroom_teacher_id: idOrNull(f.homeroom_teacher_id.value) };
  try {
    const saved = await whileBusy(editForm, 'common.saving', () => structureApi.updateClass(classId, body));
    await reload();
    announce(editForm, t('st.class_saved', { name: saved.name }));
  } catch (err) {
    showErrors(editForm, err);
  }
}

async function removeClass() {
  const c = state.klass;
  const archive = c.lesson_count > 0;
  const done = await confirmInDialog({
    title: t(archive ? 'st.class_archive_title' : 'st.class_delete_title', { name: c.name }),
    text: t(archive ? 'st.class_archive_text' : 'st.class_delete_text', { name: c.name, lessons: c.lesson_count, students: c.student_count }),
    confirmLabel: t(archive ? 'st.class_archive' : 'st.class_delete'),
    act: () => structureApi.deleteClass(classId, { archive }),
  });
  if (!done) return;
  if (!archive) {
    location.assign('/admin/classes');
    return;
  }
  await reload();
  classStatus.textContent = t('st.class_archived', { name: c.name });
}

async function restoreClass(event) {
  const button = event.currentTarget;
  button.disabled = true;
  try {
    await structureApi.restoreClass(classId);
    await reload();
    classStatus.textContent = t('st.class_restored', { name: state.klass.name });
  } catch (err) {
    classStatus.textContent = refusalText(err);
  } finally {
    button.disabled = false;
  }
}

async function moveStudents(event) {
  event.preventDefault();
  const ids = checkedValues(elsewhereEl).map(Number);
  if (!ids.length) {
    showFormError(moveForm, t('class.pick_students'));
    return;
  }
  const chosen = state.elsewhere.filter((u) => ids.includes(u.id));
  const done = await confirmInDialog({
    title: t('st.move_title', { n: ids.length, klass: state.klass.name }),
    text: t('st.move_text', { list: chosen.map((u) => `${u.full_name} (${u.class_name})`).join(', ') }),
    confirmLabel: t('st.move_submit'),
    danger: false,
    act: () => structureApi.moveStudents(classId, ids),
  });
  if (!done) return;
  for (const box of elsewhereEl.querySelectorAll('input:checked')) box.checked = false;
  await reload();
  announce(moveForm, t('st.moved', { n: ids.length }));
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
    for (const box of unassignedEl.querySelectorAll('input:checked')) box.checked = false;
    await reload();
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
  state.timeZone = ctx.timeZone;
  loading(studentsEl, t('common.loading'));
  try {
    [state.grades, state.teachers] = await Promise.all([gradesApi.list(), usersApi.list({ role: 'teacher' })]);
    state.teachers.sort((a, b) => a.full_name.localeCompare(b.full_name, 'vi'));
    await reload();
  } catch (err) {
    if (err.status === 404) showPageMessage(main, { titleKey: 'class.not_found' });
    else showLoadError(main, err);
    return;
  }
  onLangChange(renderAll);
  addForm.addEventListener('submit', addStudents);
  editForm.addEventListener('submit', saveClass);
  moveForm.addEventListener('submit', moveStudents);
  removeButton.addEventListener('click', removeClass);
  document.getElementById('class-restore').addEventListener('click', restoreClass);
  studentForm.addEventListener('submit', createStudent);
}

start();
