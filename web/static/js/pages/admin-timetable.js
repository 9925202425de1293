// /admin/timetable: "Thời khóa biểu": a Monday-to-Sunday week of lessons, and adding a lesson.

import {
  assignments as assignmentsApi,
  classes as classesApi,
  lessons as lessonsApi,
  subjects as subjectsApi,
  users as usersApi,
} from '../api.js';
import { fillSelect, h, loaded, loading, replace } from '../dom.js';
import { announce, checkRequired, errorMessage, showErrors, showFieldError, whileBusy } from '../forms.js';
import {
  addDays,
  dayKey,
  formatDay,
  formatMinutes,
  formatTimeRange,
  isDayKey,
  localDateTime,
  minutesOfDay,
  mondayOf,
  parseInstant,
  todayKey,
  zonedToInstant,
} from '../format.js';
import { onLangChange, t } from '../i18n.js';
import { initLayout, showLoadError } from '../layout.js';

const FIRST_HOUR = 6;
const LAST_HOUR = 22;
const DAY_MINUTES = (LAST_HOUR - FIRST_HOUR) * 60;
const MIN_BLOCK_MINUTES = 20; // a very short lesson still gets a readable block

const el = (id) => document.getElementById(id);
const grid = el('week-grid');
const weekLabel = el('week-label');
const classFilter = el('class-filter');
const form = el('lesson-form');

const state = {
  timeZone: null,
  week: null, // Monday, 'YYYY-MM-DD'
  classFilter: '',
  lessons: null,
  failure: null,
  classes: [],
  subjects: [],
  teachers: [],
  assignments: [],
  highlight: null,
  request: 0,
};

const collate = (a, b) => a.localeCompare(b, 'vi', { numeric: true });

function syncUrl() {
  const query = new URLSearchParams({ week: state.week });
  if (state.classFilter) query.set('class_id', state.classFilter);
  history.replaceState(null, '', `${location.pathname}?${query}`);
}

// --- the week grid ----------------------------------------------------------------------------

/** Place each lesson of one day: vertical position by time, side by side when they overlap. */
function layoutDay(lessons) {
  const placed = lessons
    .map((lesson) => {
      const start = minutesOfDay(lesson.starts_at, state.timeZone);
      const sameDay = dayKey(lesson.ends_at, state.timeZone) === dayKey(lesson.starts_at, state.timeZone);
      const end = sameDay ? minutesOfDay(lesson.ends_at, state.timeZone) : 24 * 60;
      const top = Math.min(Math.max(start - FIRST_HOUR * 60, 0), DAY_MINUTES - MIN_BLOCK_MINUTES);
      const bottom = Math.min(Math.max(end - FIRST_HOUR * 60, top + MIN_BLOCK_MINUTES), DAY_MINUTES);
      return { lesson, top, length: bottom - top, col: 0, cols: 1 };
    })
    .sort((a, b) => a.top - b.top || b.length - a.length);
  // Clusters of transitively overlapping blocks share a column count.
  let cluster = [];
  let clusterEnd = -1;
  const close = () => {
    const cols = Math.max(1, ...cluster.map((p) => p.col + 1));
    for (const p of cluster) p.cols = cols;
    cluster = [];
  };
  for (const p of placed) {
    if (p.top >= clusterEnd) {
      close();
      clusterEnd = -1;
    }
    const taken = new Set(cluster.filter((q) => q.top + q.length > p.top).map((q) => q.col));
    while (taken.has(p.col)) p.col += 1;
    cluster.push(p);
    clusterEnd = Math.max(clusterEnd, p.top + p.length);
  }
  close();
  return placed;
}

function lessonBlock({ lesson, top, length, col, cols }) {
  const block = h(
    'a',
    {
      class: ['tt-lesson', `is-${lesson.status}`, lesson.id === state.highlight ? 'is-new' : null],
      href: `/lessons/${lesson.id}`,
      dataset: { lessonId: lesson.id, classId: lesson.class_id },
    },
    h('span', { class: 'tt-time' }, formatTimeRange(lesson.starts_at, lesson.ends_at, state.timeZone)),
    h('strong', { class: 'tt-title' }, lesson.title),
    h('span', { class: 'tt-meta' }, `${lesson.class_name} · ${lesson.subject_name}`),
    h('span', { class: 'tt-meta tt-teacher' }, lesson.teacher_name),
  );
  // CSSOM custom properties (allowed by the CSP, unlike style="" attributes).
  block.style.setProperty('--top', String(top));
  block.style.setProperty('--len', String(length));
  block.style.setProperty('--col', String(col));
  block.style.setProperty('--cols', String(cols));
  return block;
}

function renderGrid() {
  const days = Array.from({ length: 7 }, (_, i) => addDays(state.week, i));
  const today = todayKey(state.timeZone);
  weekLabel.textContent = t('timetable.week_of', {
    from: formatDay(days[0], { day: '2-digit', month: '2-digit' }),
    to: formatDay(days[6], { day: '2-digit', month: '2-digit', year: 'numeric' }),
  });
  if (state.failure) {
    loaded(grid);
    replace(grid, h('p', { class: 'form-error', role: 'alert' }, errorMessage(state.failure)));
    return;
  }
  if (!state.lessons) return;
  loaded(grid);
  const byDay = new Map(days.map((d) => [d, []]));
  for (const lesson of state.lessons) byDay.get(dayKey(lesson.starts_at, state.timeZone))?.push(lesson);

  const hours = Array.from({ length: LAST_HOUR - FIRST_HOUR }, (_, i) => FIRST_HOUR + i);
  replace(
    grid,
    h(
      'div',
      { class: 'tt' },
      h(
        'div',
        { class: 'tt-head' },
        h('div', { class: 'tt-corner' }),
        days.map((d) =>
          h(
            'div',
            { class: ['tt-dayhead', d === today ? 'is-today' : null], dataset: { date: d } },
            h('span', { class: 'tt-weekday' }, formatDay(d, { weekday: 'long' })),
            h('span', { class: 'tt-date' }, formatDay(d, { day: '2-digit', month: '2-digit' })),
          ),
        ),
      ),
      h(
        'div',
        { class: 'tt-body' },
        h('div', { class: 'tt-hours', 'aria-hidden': 'true' }, hours.map((hour) => h('div', { class: 'tt-hour' }, formatMinutes(hour * 60)))),
        days.map((d) => {
          const lessons = byDay.get(d);
          return h(
            'div',
            {
              class: ['tt-day', d === today ? 'is-today' : null],
              dataset: { date: d },
              role: 'group',
              'aria-label': `${formatDay(d)}: ${t('timetable.n_lessons', { n: lessons.length })}`,
            },
            layoutDay(lessons).map(lessonBlock),
          );
        }),
      ),
    ),
    state.lessons.length ? null : h('p', { class: 'empty tt-empty' }, t('timetable.empty_week')),
  );
  grid.querySelector('.tt-lesson.is-new')?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
}

async function loadWeek() {
  const request = ++state.request;
  const from = zonedToInstant(state.week, '00:00', state.timeZone);
  const to = zonedToInstant(addDays(state.week, 7), '00:00', state.timeZone);
  state.lessons = null;
  state.failure = null;
  loading(grid, t('common.loading'));
  renderGrid();
  try {
    const lessons = await lessonsApi.list({ from: from.toISOString(), to: to.toISOString(), class_id: state.classFilter });
    if (request !== state.request) return;
    // Keep only what overlaps this week, whatever the server's reading of from/to.
    state.lessons = lessons.filter((l) => parseInstant(l.ends_at) > from && parseInstant(l.starts_at) < to);
    state.failure = null;
  } catch (err) {
    if (request !== state.request || err.status === 401) return;
    state.failure = err;
  }
  renderGrid();
}

function goToWeek(monday) {
  state.week = monday;
  syncUrl();
  loadWeek();
}

// --- filters and the form ---------------------------------------------------------------------
function classItems() {
  return [...state.classes].sort((a, b) => a.grade - b.grade || collate(a.name, b.name)).map((c) => ({ value: c.id, label: c.name }));
}

function renderControls() {
  el('tz-note').textContent = t('timetable.tz_note', { tz: state.timeZone });
  fillSelect(classFilter, classItems(), { placeholder: t('timetable.all_classes'), value: state.classFilter });
  const f = form.elements;
  fillSelect(f.class_id, classItems(), { placeholder: t('common.choose') });
  fillSelect(
    f.subject_id,
    [...state.subjects].sort((a, b) => collate(a.name, b.name)).map((s) => ({ value: s.id, label: s.name })),
    { placeholder: t('common.choose') },
  );
  fillSelect(
    f.teacher_id,
    [...state.teachers].sort((a, b) => collate(a.full_name, b.full_name)).map((u) => ({ value: u.id, label: u.full_name })),
    { placeholder: t('common.choose') },
  );
}

function defaultDate() {
  const today = todayKey(state.timeZone);
  return mondayOf(today) === state.week ? today : state.week;
}

/** Fill in the teacher from the teaching assignment of the chosen class and subject. */
function suggestTeacher() {
  const f = form.elements;
  const match = state.assignments.find((a) => String(a.class_id) === f.class_id.value && String(a.subject_id) === f.subject_id.value);
  if (match) f.teacher_id.value = String(match.teacher_id);
}

async function createLesson(event) {
  event.preventDefault();
  if (!checkRequired(form)) return;
  const f = form.elements;
  if (f.ends_at.value <= f.starts_at.value) {
    showFieldError(form, 'ends_at', t('timetable.end_after_start'));
    f.ends_at.focus();
    return;
  }
  const body = {
    class_id: Number(f.class_id.value),
    subject_id: Number(f.subject_id.value),
    teacher_id: Number(f.teacher_id.value),
    title: f.title.value.trim(),
    starts_at: localDateTime(f.date.value, f.starts_at.value),
    ends_at: localDateTime(f.date.value, f.ends_at.value),
  };
  try {
    const created = await whileBusy(form, 'common.saving', () => lessonsApi.create(body));
    state.highlight = created.id;
    if (state.classFilter && state.classFilter !== String(created.class_id)) state.classFilter = '';
    classFilter.value = state.classFilter;
    f.title.value = '';
    announce(form, t('timetable.created', { title: created.title }));
    goToWeek(mondayOf(dayKey(created.starts_at, state.timeZone)));
  } catch (err) {
    showErrors(form, err);
  }
}

async function main() {
  const ctx = await initLayout({ role: 'admin' });
  if (!ctx) return;
  state.timeZone = ctx.timeZone;
  const params = new URLSearchParams(location.search);
  const week = params.get('week');
  state.week = isDayKey(week) ? mondayOf(week) : mondayOf(todayKey(state.timeZone));
  state.classFilter = params.get('class_id') ?? '';

  loading(grid, t('common.loading'));
  try {
    [state.classes, state.subjects, state.teachers, state.assignments] = await Promise.all([
      classesApi.list(),
      subjectsApi.list(),
      usersApi.list({ role: 'teacher' }),
      assignmentsApi.list(),
    ]);
  } catch (err) {
    showLoadError(el('main'), err);
    return;
  }
  renderControls();
  if (state.classFilter) form.elements.class_id.value = state.classFilter;
  form.elements.date.value = defaultDate();
  form.elements.starts_at.value = '07:00';
  form.elements.ends_at.value = '07:45';
  await loadWeek();

  el('prev-week').addEventListener('click', () => goToWeek(addDays(state.week, -7)));
  el('next-week').addEventListener('click', () => goToWeek(addDays(state.week, 7)));
  el('this-week').addEventListener('click', () => goToWeek(mondayOf(todayKey(state.timeZone))));
  classFilter.addEventListener('change', () => {
    state.classFilter = classFilter.value;
    if (state.classFilter) form.elements.class_id.value = state.classFilter;
    syncUrl();
    loadWeek();
  });
  form.elements.class_id.addEventListener('change', suggestTeacher);
  form.elements.subject_id.addEventListener('change', suggestTeacher);
  form.addEventListener('submit', createLesson);
  onLangChange(() => {
    renderControls();
    renderGrid();
  });
}

main();
