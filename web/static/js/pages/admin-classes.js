// /admin/classes: the school's classes, creating a class, and the school years they belong to.

import { classes as classesApi, grades as gradesApi, schoolYears as yearsApi, users as usersApi } from '../api.js';
import { fillSelect, h, loaded, loading, replace, table } from '../dom.js';
import { announce, checkRequired, idOrNull, showErrors, whileBusy } from '../forms.js';
import { formatDay } from '../format.js';
import { onLangChange, t } from '../i18n.js';
import { initLayout, showLoadError } from '../layout.js';

const state = { classes: [], grades: [], years: [], teachers: [], highlight: null };

const tableEl = document.getElementById('classes-table');
const yearsEl = document.getElementById('years-list');
const classForm = document.getElementById('class-form');
const yearForm = document.getElementById('year-form');

const byName = (a, b) => a.name.localeCompare(b.name, 'vi', { numeric: true });

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
      ],
    }));
  replace(
    tableEl,
    table({
      caption: t('classes.list'),
      headers: [t('class.name'), t('class.grade'), t('class.year'), t('class.homeroom'), t('class.size')],
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
          {},
          h('strong', {}, y.name),
          ` ${formatDay(y.starts_on, { day: '2-digit', month: '2-digit', year: 'numeric' })} – ${formatDay(y.ends_on, { day: '2-digit', month: '2-digit', year: 'numeric' })}`,
          y.is_current ? h('span', { class: 'badge status-live' }, t('years.current')) : null,
        ),
      ),
    ),
  );
}

function renderFormOptions() {
  const levels = state.grades.length ? state.grades.map((g) => g.level) : Array.from({ length: 12 }, (_, i) => i + 1);
  fillSelect(
    classForm.elements.grade,
    [...new Set(levels)].sort((a, b) => a - b).map((level) => ({ value: level, label: t('grade.n', { n: level }) })),
    { placeholder: t('common.choose') },
  );
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
    state.classes = await classesApi.list();
    state.highlight = created.id;
    renderClasses();
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
  loading(tableEl, t('common.loading'));
  loading(yearsEl, t('common.loading'));
  try {
    [state.classes, state.grades, state.years, state.teachers] = await Promise.all([
      classesApi.list(),
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
