// /admin/classes: the school's classes (edited, deleted or archived, restored), creating a class,
// and the school years they belong to (edited, deleted when empty).

import { actions, confirmInDialog, editInDialog, refusalText, rowButton, structureApi } from '../admin-structure.js';
import { classes as classesApi, grades as gradesApi, schoolYears as yearsApi, users as usersApi } from '../api.js';
import { fillSelect, h, loaded, loading, replace, table } from '../dom.js';
import { announce, checkRequired, idOrNull, showErrors, whileBusy } from '../forms.js';
import { dayKey, formatDay } from '../format.js';
import { onLangChange, t } from '../i18n.js';
import { initLayout, showLoadError } from '../layout.js';

const state = { classes: [], archived: [], grades: [], years: [], teachers: [], highlight: null, timeZone: undefined };

const tableEl = document.getElementById('classes-table');
const yearsEl = document.getElementById('years-list');
const classForm = document.getElementById('class-form');
const yearForm = document.getElementById('year-form');

const classesStatus = document.getElementById('classes-status');
const yearsStatus = document.getElementById('years-status');
const archivedEl = document.getElementById('archived-table');

const byName = (a, b) => a.name.localeCompare(b.name, 'vi', { numeric: true });
const DAY = { day: '2-digit', month: '2-digit', year: 'numeric' };

async function reloadClasses() {
  [state.classes, state.archived] = await Promise.all([classesApi.list(), structureApi.archivedClasses()]);
  renderClasses();
  renderArchived();
}

function gradeOptions() {
  const levels = state.grades.length ? state.grades.map((g) => g.level) : Array.from({ length: 12 }, (_, i) => i + 1);
  return [...new Set(levels)].sort((a, b) => a - b).map((level) => ({ value: level, label: t('grade.n', { n: level }) }));
}

function editClass(c) {
  editInDialog(document.getElementById('class-edit-dialog'), {
    fill: (form) => {
      form.elements.name.value = c.name;
      fillSelect(form.elements.grade, gradeOptions(), { value: c.grade });
      fillSelect(form.elements.homeroom_teacher_id, state.teachers.map((u) => ({ value: u.id, label: u.full_name })), {
        placeholder: t('class.no_homeroom'),
        value: c.homeroom_teacher_id ?? '',
      });
    },
    save: async (form) => {
      const f = form.elements;
      const saved = await structureApi.updateClass(c.id, {
        name: f.name.value.trim(),
        grade: Number(f.grade.value),
        homeroom_teacher_id: idOrNull(f.homeroom_teacher_id.value),
      });
      state.highlight = saved.id;
      await reloadClasses();
      classesStatus.textContent = t('st.class_saved', { name: saved.name });
    },
  });
}

async function removeClass(c) {
  const archive = c.lesson_count > 0;
  const done = await confirmInDialog({
    title: t(archive ? 'st.class_archive_title' : 'st.class_delete_title', { name: c.name }),
    text: t(archive ? 'st.class_archive_text' : 'st.class_delete_text', { name: c.name, lessons: c.lesson_count, students: c.student_count }),
    confirmLabel: t(archive ? 'st.class_archive' : 'st.class_delete'),
    act: () => structureApi.deleteClass(c.id, { archive }),
  });
  if (!done) return;
  await reloadClasses();
  classesStatus.textContent = t(archive ? 'st.class_archived' : 'st.class_deleted', { name: c.name });
}

async function restoreClass(c, button) {
  button.disabled = true;
  try {
    await structureApi.restoreClass(c.id);
    state.highlight = c.id;
    await reloadClasses();
    classesStatus.textContent = t('st.class_restored', { name: c.name });
  } catch (err) {
    button.disabled = false;
    classesStatus.textContent = refusalText(err);
  }
}

function renderArchived() {
  loaded(archivedEl);
  const rows = [...state.archived].sort(byName).map((c) => ({
    attrs: { dataset: { classId: c.id } },
    cells: [
      h('a', { href: `/admin/classes/${c.id}` }, c.name),
      String(c.grade),
      c.school_year,
      String(c.student_count),
      String(c.lesson_count),
      formatDay(dayKey(c.archived_at, state.timeZone), DAY),
      actions(rowButton('st.class_restore', t('st.class_restore_named', { name: c.name }), (e) => restoreClass(c, e.currentTarget), 'primary')),
    ],
  }));
  replace(
    archivedEl,
    table({
      caption: t('st.archived_heading'),
      headers: [t('class.name'), t('class.grade'), t('class.year'), t('class.size'), t('st.lessons'), t('st.archived_at'), t('common.actions')],
      rows,
      emptyText: t('st.archived_none'),
    }),
  );
}

function renderClasses() {
  loaded(tableEl);
  const rows = [...state.classes]
    .sort((a, b) => a.grade - b.grade || byName(a, b))
    .map((c) => ({
      attrs: { dataset: { classId: c.id }, class: c.id === state.highlight ? 'is-new' : null },
      cells: [
        h('a', { href: `/admin/classes/${c.id}` }, c.name),
        String(c.grade),
        c.school_year,
        c.homeroom_teacher_name ?? h('span', { class: 'muted' }, t('class.no_homeroom_short')),
        String(c.student_count),
        actions(
          rowButton('st.edit', t('st.edit_named', { name: c.name }), () => editClass(c)),
          ' ',
          rowButton(c.lesson_count > 0 ? 'st.class_archive' : 'st.delete', t('st.delete_named', { name: c.name }), () => removeClass(c), 'danger'),
        ),
      ],
    }));
  replace(
    tableEl,
    table({
      caption: t('classes.list'),
      headers: [t('class.name'), t('class.grade'), t('class.year'), t('class.homeroom'), t('class.size'), t('common.actions')],
      rows,
      emptyText: t('classes.none'),
    }),
  );
}

function renderYears() {
  loaded(yearsEl);
  if (!state.years.length) {
    replace(yearsEl, h('p', { class: 'notice' }, t('years.none')));
    document.getElementById('year-details').open = true;
    return;
  }
  replace(
    yearsEl,
    h(
      'ul',
      { class: 'plain-list' },
      state.years.map((y) =>
        h(
          'li',
          { dataset: { yearId: y.id } },
          h('strong', {}, y.name),
          ` ${formatDay(y.starts_on, DAY)} – ${formatDay(y.ends_on, DAY)} · ${t('st.year_classes', { n: y.class_count })} `,
          y.is_current ? h('span', { class: 'badge status-live' }, t('years.current')) : null,
          ' ',
          actions(
            rowButton('st.edit', t('st.edit_named', { name: y.name }), () => editYear(y)),
            ' ',
            rowButton('st.delete', t('st.delete_named', { name: y.name }), () => removeYear(y), 'danger'),
          ),
        ),
      ),
    ),
  );
}

function editYear(y) {
  editInDialog(document.getElementById('year-edit-dialog'), {
    fill: (form) => {
      form.elements.name.value = y.name;
      form.elements.starts_on.value = y.starts_on;
      form.elements.ends_on.value = y.ends_on;
    },
    save: async (form) => {
      const f = form.elements;
      const saved = await structureApi.updateYear(y.id, { name: f.name.value.trim(), starts_on: f.starts_on.value, ends_on: f.ends_on.value });
      state.years = await yearsApi.list();
      renderYears();
      renderFormOptions();
      yearsStatus.textContent = t('st.year_saved', { name: saved.name });
    },
  });
}

async function removeYear(y) {
  const blocked = y.class_count > 0;
  const done = await confirmInDialog({
    title: t('st.year_delete_title', { name: y.name }),
    text: t(blocked ? 'st.year_delete_blocked' : 'st.year_delete_text', { name: y.name, n: y.class_count }),
    confirmLabel: t('st.delete'),
    act: blocked ? null : () => structureApi.deleteYear(y.id),
  });
  if (!done) return;
  state.years = await yearsApi.list();
  renderYears();
  renderFormOptions();
  yearsStatus.textContent = t('st.year_deleted', { name: y.name });
}

function renderFormOptions() {
  fillSelect(classForm.elements.grade, gradeOptions(), { placeholder: t('common.choose') });
  const current = state.years.find((y) => y.is_current);
  fillSelect(
    classForm.elements.school_year_id,
    state.years.map((y) => ({ value: y.id, label: y.is_current ? `${y.name} (${t('years.current')})` : y.name })),
    { placeholder: state.years.length ? null : t('years.none_short'), value: classForm.elements.school_year_id.value || current?.id || '' },
  );
  fillSelect(
    classForm.elements.homeroom_teacher_id,
    state.teachers.map((u) => ({ value: u.id, label: u.full_name })),
    { placeholder: t('class.no_homeroom') },
  );
}

function renderAll() {
  renderClasses();
  renderArchived();
  renderYears();
  renderFormOptions();
}

async function createClass(event) {
  event.preventDefault();
  if (!checkRequired(classForm)) return;
  const f = classForm.elements;
  const body = { name: f.name.value.trim(), grade: Number(f.grade.value) };
  const yearId = idOrNull(f.school_year_id.value);
  const teacherId = idOrNull(f.homeroom_teacher_id.value);
  if (yearId) body.school_year_id = yearId;
  if (teacherId) body.homeroom_teacher_id = teacherId;
  try {
    const created = await whileBusy(classForm, 'common.saving', () => classesApi.create(body));
    state.highlight = created.id;
    await reloadClasses();
    f.name.value = '';
    f.homeroom_teacher_id.value = '';
    announce(classForm, t('classes.created', { name: created.name }));
    f.name.focus();
  } catch (err) {
    showErrors(classForm, err);
  }
}

async function createYear(event) {
  event.preventDefault();
  if (!checkRequired(yearForm)) return;
  const f = yearForm.elements;
  const body = { name: f.name.value.trim(), starts_on: f.starts_on.value, ends_on: f.ends_on.value };
  try {
    const created = await whileBusy(yearForm, 'common.saving', () => yearsApi.create(body));
    state.years = await yearsApi.list();
    renderYears();
    renderFormOptions();
    yearForm.reset();
    announce(yearForm, t('years.created', { name: created.name }));
  } catch (err) {
    showErrors(yearForm, err);
  }
}

async function main() {
  const ctx = await initLayout({ role: 'admin' });
  if (!ctx) return;
  state.timeZone = ctx.timeZone;
  loading(tableEl, t('common.loading'));
  loading(yearsEl, t('common.loading'));
  try {
    [state.classes, state.archived, state.grades, state.years, state.teachers] = await Promise.all([
      classesApi.list(),
      structureApi.archivedClasses(),
      gradesApi.list(),
      yearsApi.list(),
      usersApi.list({ role: 'teacher' }),
    ]);
  } catch (err) {
    showLoadError(document.getElementById('main'), err);
    return;
  }
  state.teachers.sort((a, b) => a.full_name.localeCompare(b.full_name, 'vi'));
  renderAll();
  onLangChange(renderAll);
  classForm.addEventListener('submit', createClass);
  yearForm.addEventListener('submit', createYear);
}

main();
