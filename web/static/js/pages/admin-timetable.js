// /admin/timetable: "Thời khóa biểu": a Monday-to-Sunday week of lessons per class, per teacher or for
// the whole school; changes to one lesson (đổi lịch, dạy thay, hủy, dạy bù) from its block; teachers'
// requests; generating a term of weekly lessons; the school day's periods; adding one lesson.

import {
  assignments as assignmentsApi,
  classes as classesApi,
  lessons as lessonsApi,
  request,
  schoolYears as schoolYearsApi,
  subjects as subjectsApi,
  users as usersApi,
} from '../api.js';
import { fillSelect, h, loaded, loading, replace } from '../dom.js';
import { announce, checkRequired, clearErrors, errorMessage, showErrors, showFieldError, whileBusy } from '../forms.js';
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
import { lessonFacts } from '../lesson-parts.js';
import { changeBadges, changeNotices, periodsLabel, when } from '../timetable-notices.js';

const FIRST_HOUR = 6;
const LAST_HOUR = 22;
const DAY_MINUTES = (LAST_HOUR - FIRST_HOUR) * 60;
const MIN_BLOCK_MINUTES = 20; // a very short lesson still gets a readable block

const el = (id) => document.getElementById(id);
const grid = el('week-grid');
const weekLabel = el('week-label');
const classFilter = el('class-filter');
const teacherFilter = el('teacher-filter');
const form = el('lesson-form');
const genForm = el('gen-form');
const periodsForm = el('periods-form');
const dialog = el('lesson-dialog');
const dialogForms = {
  move: el('move-form'),
  substitute: el('substitute-form'),
  cancel: el('cancel-form'),
  makeup: el('makeup-form'),
};

const state = {
  timeZone: null,
  week: null, // Monday, 'YYYY-MM-DD'
  classFilter: '',
  teacherFilter: '',
  lessons: null,
  periods: [],
  periodsDefault: true,
  years: [],
  requests: null,
  dialogLesson: null,
  genRows: 0,
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
  if (state.teacherFilter) query.set('teacher_id', state.teacherFilter);
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
  const periods = periodsLabel(lesson);
  const block = h(
    'a',
    {
      class: ['tt-lesson', `is-${lesson.status}`, lesson.id === state.highlight ? 'is-new' : null],
      href: `/lessons/${lesson.id}`,
      dataset: { lessonId: lesson.id, classId: lesson.class_id, status: lesson.status },
      'aria-haspopup': 'dialog',
      on: {
        click: (event) => {
          if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return; // a new tab: the lesson page
          event.preventDefault();
          openDialog(lesson);
        },
      },
    },
    // Class and subject first: a 45-minute block shows two lines until it is hovered or focused.
    h('strong', { class: 'tt-meta tt-who' }, `${lesson.class_name} · ${lesson.subject_name}`),
    h('span', { class: 'tt-time' }, formatTimeRange(lesson.starts_at, lesson.ends_at, state.timeZone)),
    h('span', { class: 'tt-title' }, lesson.title),
    h('span', { class: 'tt-meta tt-teacher' }, lesson.teacher_name),
    periods ? h('span', { class: 'tt-meta tt-period' }, periods) : null,
    h('span', { class: 'tt-meta' }, changeBadges(lesson)),
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
  const ticket = ++state.request;
  const from = zonedToInstant(state.week, '00:00', state.timeZone);
  const to = zonedToInstant(addDays(state.week, 7), '00:00', state.timeZone);
  state.lessons = null;
  state.failure = null;
  loading(grid, t('common.loading'));
  renderGrid();
  try {
    const week = await request('GET', '/api/timetable/week', {
      query: { date: state.week, class_id: state.classFilter, teacher_id: state.teacherFilter },
    });
    const lessons = week.blocks;
    if (ticket !== state.request) return;
    // Keep only what overlaps this week, whatever the server's reading of from/to.
    state.lessons = lessons.filter((l) => parseInstant(l.ends_at) > from && parseInstant(l.starts_at) < to);
    state.failure = null;
  } catch (err) {
    if (ticket !== state.request || err.status === 401) return;
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

function teacherItems() {
  return [...state.teachers].sort((a, b) => collate(a.full_name, b.full_name)).map((u) => ({ value: u.id, label: u.full_name }));
}

function subjectItems() {
  return [...state.subjects].sort((a, b) => collate(a.name, b.name)).map((s) => ({ value: s.id, label: s.name }));
}

function periodItems() {
  return state.periods.map((p) => ({ value: p.number, label: `${t('tt.period_n', { n: p.number })} (${p.starts}–${p.ends})` }));
}

function renderControls() {
  el('tz-note').textContent = t('timetable.tz_note', { tz: state.timeZone });
  fillSelect(classFilter, classItems(), { placeholder: t('timetable.all_classes'), value: state.classFilter });
  fillSelect(teacherFilter, teacherItems(), { placeholder: t('tt.all_teachers'), value: state.teacherFilter });
  renderPeriodSelects();
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

// --- the lesson dialog: move, substitute, cancel, make up -------------------------------------
function renderPeriodSelects() {
  const items = periodItems();
  for (const f of [dialogForms.move, dialogForms.makeup]) {
    fillSelect(f.elements.period_from, items);
    fillSelect(f.elements.period_to, items);
  }
}

function openDialog(lesson) {
  state.dialogLesson = lesson;
  for (const f of Object.values(dialogForms)) {
    clearErrors(f);
    announce(f, '');
  }
  el('dialog-title').textContent = `${lesson.title} · ${lesson.class_name}`;
  replace(
    el('dialog-facts'),
    lessonFacts(lesson, state.timeZone, { withDate: true }),
    periodsLabel(lesson) ? h('p', { class: 'muted' }, periodsLabel(lesson)) : null,
    h('p', {}, changeBadges(lesson)),
    lesson.cancel_reason ? h('p', {}, t('tt.notice.cancel', { reason: lesson.cancel_reason })) : null,
    changeNotices(lesson, state.timeZone),
  );
  el('dialog-open').href = `/lessons/${lesson.id}`;
  const cancelled = lesson.status === 'cancelled';
  dialogForms.move.hidden = cancelled;
  dialogForms.substitute.hidden = cancelled;
  dialogForms.cancel.hidden = cancelled;
  dialogForms.makeup.hidden = !cancelled;
  const day = dayKey(lesson.starts_at, state.timeZone);
  for (const f of [dialogForms.move, dialogForms.makeup]) {
    f.elements.date.value = day;
    f.elements.period_from.value = String(lesson.period_from ?? state.periods[0]?.number ?? 1);
    f.elements.period_to.value = String(lesson.period_to ?? lesson.period_from ?? state.periods[0]?.number ?? 1);
  }
  dialogForms.move.elements.note.value = '';
  dialogForms.cancel.elements.reason.value = '';
  fillSelect(
    dialogForms.substitute.elements.teacher_id,
    teacherItems().filter((item) => item.value !== lesson.teacher_id),
    { placeholder: t('common.choose'), value: '' },
  );
  dialog.showModal();
}

function closeDialog() {
  dialog.close();
  state.dialogLesson = null;
}

const byPeriods = (f) => ({
  date: f.elements.date.value,
  period_from: Number(f.elements.period_from.value),
  period_to: Number(f.elements.period_to.value),
});

async function lessonAction(event, kind) {
  event.preventDefault();
  const f = dialogForms[kind];
  const lesson = state.dialogLesson;
  if (!lesson || !checkRequired(f)) return;
  const bodies = {
    move: () => ({ ...byPeriods(f), note: f.elements.note.value.trim() }),
    makeup: () => byPeriods(f),
    substitute: () => ({ teacher_id: Number(f.elements.teacher_id.value), note: f.elements.note.value.trim() }),
    cancel: () => ({ reason: f.elements.reason.value.trim() }),
  };
  if (kind === 'cancel' && !window.confirm(t('tt.cancel_confirm'))) return;
  try {
    const changed = await whileBusy(f, 'common.saving', () => request('POST', `/api/lessons/${lesson.id}/${kind}`, { body: bodies[kind]() }));
    closeDialog();
    state.highlight = changed.id;
    const done = { move: 'tt.moved_ok', makeup: 'tt.makeup_ok', substitute: 'tt.substituted_ok', cancel: 'tt.cancelled_ok' }[kind];
    el('week-status').textContent = t(done);
    goToWeek(mondayOf(dayKey(changed.starts_at, state.timeZone)));
  } catch (err) {
    showErrors(f, err);
  }
}

// --- teachers' requests -------------------------------------------------------------------------
async function loadRequests() {
  try {
    state.requests = (await request('GET', '/api/timetable/change-requests', { query: { status: 'pending' } })).items;
  } catch (err) {
    if (err.status === 401) return;
    replace(el('requests'), h('p', { class: 'form-error', role: 'alert' }, errorMessage(err)));
    return;
  }
  renderRequests();
}

function proposalText(item) {
  const p = item.proposed ?? {};
  if (item.kind === 'move' && p.date) {
    const span = p.period_to && p.period_to !== p.period_from ? t('tt.periods_n', { from: p.period_from, to: p.period_to }) : t('tt.period_n', { n: p.period_from });
    return t('tt.request_proposed_time', { when: `${formatDay(p.date)}, ${span}` });
  }
  if (item.kind === 'move' && p.starts_at) return t('tt.request_proposed_time', { when: when(p.starts_at, state.timeZone) });
  if (item.kind === 'substitute') return t('tt.request_proposed_teacher', { name: item.proposed_teacher_name ?? '' });
  return null;
}

function renderRequests() {
  const box = el('requests');
  if (!state.requests) return;
  if (!state.requests.length) {
    replace(box, h('p', { class: 'empty' }, t('tt.requests_empty')));
    return;
  }
  replace(
    box,
    h(
      'ul',
      { class: 'tt-requests' },
      state.requests.map((item) => {
        const status = h('p', { class: 'form-status', role: 'status' });
        const decide = (approve) => async (event) => {
          const button = event.currentTarget;
          button.disabled = true;
          try {
            await request('POST', `/api/timetable/change-requests/${item.id}/${approve ? 'approve' : 'refuse'}`, { body: {} });
            el('week-status').textContent = t(approve ? 'tt.approved_ok' : 'tt.refused_ok');
            await Promise.all([loadRequests(), loadWeek()]);
          } catch (err) {
            button.disabled = false;
            status.textContent = errorMessage(err) + (err.fields?.length ? ` ${err.fields.map((f) => f.message).join(' ')}` : '');
          }
        };
        const lesson = item.lesson;
        return h(
          'li',
          { dataset: { requestId: item.id } },
          h('strong', {}, t('tt.request_by', { teacher: item.teacher_name, kind: t(`tt.request_kind.${item.kind}`) })),
          h('p', {}, `${lesson.title} · ${lesson.class_name} · ${when(lesson.starts_at, state.timeZone)}`),
          proposalText(item) ? h('p', {}, proposalText(item)) : null,
          item.note ? h('p', { class: 'muted' }, item.note) : null,
          h(
            'div',
            { class: 'form-actions' },
            h('button', { type: 'button', class: 'button primary small', on: { click: decide(true) } }, t('tt.approve')),
            h('button', { type: 'button', class: 'button secondary small', on: { click: decide(false) } }, t('tt.refuse')),
            status,
          ),
        );
      }),
    ),
  );
}

// --- the school day's periods --------------------------------------------------------------------
async function loadPeriods() {
  const got = await request('GET', '/api/school/periods');
  state.periods = got.periods;
  state.periodsDefault = got.is_default;
}

function renderPeriodsForm() {
  el('periods-default').hidden = !state.periodsDefault;
  const byNumber = new Map(state.periods.map((p) => [p.number, p]));
  replace(
    el('period-rows'),
    Array.from({ length: 10 }, (_, i) => i + 1).map((n) => {
      const p = byNumber.get(n);
      const session = h('select', { id: `period-${n}-session`, 'data-field': `p${n}_session`, 'aria-label': `${t('tt.period_n', { n })}: ${t('tt.period_session')}` });
      fillSelect(session, ['morning', 'afternoon'].map((v) => ({ value: v, label: t(`tt.session.${v}`) })), { value: p?.session ?? (n <= 5 ? 'morning' : 'afternoon') });
      const time = (key) => h('input', { type: 'time', id: `period-${n}-${key}`, 'data-field': `p${n}_${key}`, value: p?.[key] ?? '', 'aria-label': `${t('tt.period_n', { n })}: ${t(`tt.period_${key}`)}` });
      return h(
        'tr',
        { dataset: { number: n } },
        h('th', { scope: 'row' }, t('tt.period_n', { n })),
        h('td', {}, h('div', { class: 'field tt-cell' }, session)),
        h('td', {}, h('div', { class: 'field tt-cell' }, time('starts'))),
        h('td', {}, h('div', { class: 'field tt-cell' }, time('ends'))),
      );
    }),
  );
}

/** Fields named like `periods[3].starts` or `entries[0].teacher_id` go next to that row's control;
 *  the rest (and a summary) on top of the form. */
function showRowErrors(f, err, prefix, controlName) {
  const rows = [];
  const others = [];
  for (const item of err.fields ?? []) {
    const match = new RegExp(`^${prefix}(?:\\.(\\d+)|\\[(\\d+)\\])\\.(\\w+)$`).exec(item.field ?? '');
    if (match) rows.push([controlName(Number(match[1] ?? match[2]), match[3]), item.message]);
    else others.push(item);
  }
  showErrors(f, { status: err.status, message: err.message, fields: others });
  for (const [name, message] of rows) showFieldError(f, name, message);
}

async function savePeriods(event) {
  event.preventDefault();
  const rows = [...el('period-rows').querySelectorAll('tr')];
  const periods = rows
    .map((row) => {
      const n = Number(row.dataset.number);
      const v = (key) => el(`period-${n}-${key}`).value;
      return { number: n, session: v('session'), starts: v('starts'), ends: v('ends') };
    })
    .filter((p) => p.starts || p.ends);
  try {
    const saved = await whileBusy(periodsForm, 'common.saving', () => request('PUT', '/api/school/periods', { body: { periods } }));
    state.periods = saved.periods;
    state.periodsDefault = saved.is_default;
    clearErrors(periodsForm);
    renderPeriodsForm();
    renderPeriodSelects();
    renderGenRowsPeriods();
    announce(periodsForm, t('tt.periods_saved'));
  } catch (err) {
    showRowErrors(periodsForm, err, 'periods', (index, key) => `p${periods[index]?.number}_${key}`);
  }
}

// --- generating a term ---------------------------------------------------------------------------
const ENTRY_KEYS = ['class_id', 'subject_id', 'teacher_id', 'weekday', 'period_from', 'period_to'];

function genRow() {
  const i = state.genRows++;
  const select = (key, items, label) => {
    const s = h('select', { id: `gen-${i}-${key}`, 'data-field': `e${i}_${key}`, 'aria-label': label, dataset: { key } });
    fillSelect(s, items, { placeholder: ['class_id', 'subject_id', 'teacher_id'].includes(key) ? t('common.choose') : null });
    return h('td', {}, h('div', { class: 'field tt-cell' }, s));
  };
  const row = h(
    'tr',
    { dataset: { row: i } },
    h('th', { scope: 'row', class: 'tt-row-number' }),
    select('class_id', classItems(), t('lesson.class')),
    select('subject_id', subjectItems(), t('lesson.subject')),
    select('teacher_id', teacherItems(), t('lesson.teacher')),
    select('weekday', [1, 2, 3, 4, 5, 6, 7].map((d) => ({ value: d, label: t(`tt.weekday.${d}`) })), t('tt.gen_weekday')),
    select('period_from', periodItems(), t('tt.gen_period_from')),
    select('period_to', periodItems(), t('tt.gen_period_to')),
    h('td', {}, h('button', { type: 'button', class: 'button ghost small tt-remove', on: { click: () => { row.remove(); numberGenRows(); } } }, '✕')),
  );
  const value = (key) => row.querySelector(`[data-key="${key}"]`);
  const suggest = () => {
    const match = state.assignments.find((a) => String(a.class_id) === value('class_id').value && String(a.subject_id) === value('subject_id').value);
    if (match) value('teacher_id').value = String(match.teacher_id);
  };
  value('class_id').addEventListener('change', suggest);
  value('subject_id').addEventListener('change', suggest);
  value('period_from').addEventListener('change', () => {
    if (Number(value('period_to').value) < Number(value('period_from').value)) value('period_to').value = value('period_from').value;
  });
  el('gen-rows').append(row);
  numberGenRows();
  return row;
}

function numberGenRows() {
  [...el('gen-rows').rows].forEach((row, n) => {
    row.querySelector('.tt-row-number').textContent = String(n + 1);
    row.querySelector('.tt-remove').setAttribute('aria-label', t('tt.gen_remove_row', { n: n + 1 }));
  });
}

function renderGenRowsPeriods() {
  for (const s of el('gen-rows').querySelectorAll('[data-key="period_from"], [data-key="period_to"]')) fillSelect(s, periodItems());
}

function genBody(dryRun) {
  const rows = [...el('gen-rows').rows];
  return {
    rows,
    body: {
      school_year_id: Number(genForm.elements.school_year_id.value),
      from: genForm.elements.from.value,
      to: genForm.elements.to.value,
      dry_run: dryRun,
      entries: rows.map((row) => Object.fromEntries(ENTRY_KEYS.map((key) => [key, Number(row.querySelector(`[data-key="${key}"]`).value)]))),
    },
  };
}

function showGenResult(result, rows) {
  const clashes = result.clashes ?? [];
  const rowNumber = (entry) => rows.indexOf(rows[entry]) + 1;
  replace(
    el('gen-result'),
    h('p', {}, t(result.dry_run ? 'tt.gen_preview_result' : 'tt.gen_done', { lessons: result.lessons, series: result.series })),
    clashes.length
      ? [
          h('p', { class: 'form-error' }, t('tt.gen_clashes', { n: clashes.length })),
          h('ul', { class: 'tt-clashes' }, clashes.map((c) => h('li', {}, t('tt.gen_clash_row', { n: rowNumber(c.entry), date: formatDay(c.date, { day: '2-digit', month: '2-digit', year: 'numeric' }), message: c.message })))),
        ]
      : h('p', {}, t('tt.gen_no_clash')),
  );
}

async function generate(dryRun) {
  if (!checkRequired(genForm)) return;
  const { rows, body } = genBody(dryRun);
  const empty = body.entries.findIndex((e) => !e.class_id || !e.subject_id || !e.teacher_id);
  if (empty >= 0) {
    clearErrors(genForm);
    const key = ['class_id', 'subject_id', 'teacher_id'].find((k) => !body.entries[empty][k]);
    showFieldError(genForm, `e${rows[empty].dataset.row}_${key}`, t('form.required'));
    return;
  }
  replace(el('gen-result'));
  try {
    const result = await whileBusy(genForm, 'common.saving', () => request('POST', '/api/timetable/generate', { body }));
    clearErrors(genForm);
    showGenResult(result, rows);
    if (!dryRun) {
      announce(genForm, t('tt.gen_done', { lessons: result.lessons }));
      goToWeek(mondayOf(body.from));
    }
  } catch (err) {
    showRowErrors(genForm, err, 'entries', (index, key) => `e${rows[index]?.dataset.row}_${key}`);
  }
}

function renderGenYears() {
  const current = state.years.find((y) => y.is_current) ?? state.years.at(-1);
  fillSelect(genForm.elements.school_year_id, state.years.map((y) => ({ value: y.id, label: y.name })), { value: genForm.elements.school_year_id.value || current?.id });
}

function setGenDates() {
  const year = state.years.find((y) => String(y.id) === genForm.elements.school_year_id.value);
  if (!year) return;
  const nextMonday = addDays(mondayOf(todayKey(state.timeZone)), 7);
  genForm.elements.from.value = nextMonday > year.starts_on && nextMonday <= year.ends_on ? nextMonday : year.starts_on;
  genForm.elements.to.value = year.ends_on;
}

async function main() {
  const ctx = await initLayout({ role: 'admin' });
  if (!ctx) return;
  state.timeZone = ctx.timeZone;
  const params = new URLSearchParams(location.search);
  const week = params.get('week');
  state.week = isDayKey(week) ? mondayOf(week) : mondayOf(todayKey(state.timeZone));
  state.classFilter = params.get('class_id') ?? '';

  state.teacherFilter = params.get('teacher_id') ?? '';

  loading(grid, t('common.loading'));
  try {
    [state.classes, state.subjects, state.teachers, state.assignments, state.years] = await Promise.all([
      classesApi.list(),
      subjectsApi.list(),
      usersApi.list({ role: 'teacher' }),
      assignmentsApi.list(),
      schoolYearsApi.list(),
      loadPeriods(),
    ]);
  } catch (err) {
    showLoadError(el('main'), err);
    return;
  }
  renderControls();
  renderPeriodsForm();
  renderGenYears();
  setGenDates();
  genRow();
  loadRequests();
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
  teacherFilter.addEventListener('change', () => {
    state.teacherFilter = teacherFilter.value;
    syncUrl();
    loadWeek();
  });
  for (const [kind, f] of Object.entries(dialogForms)) f.addEventListener('submit', (event) => lessonAction(event, kind));
  el('dialog-close').addEventListener('click', closeDialog);
  periodsForm.addEventListener('submit', savePeriods);
  el('gen-add').addEventListener('click', () => genRow().querySelector('select')?.focus());
  el('gen-preview').addEventListener('click', () => generate(true));
  genForm.addEventListener('submit', (event) => {
    event.preventDefault();
    generate(false);
  });
  genForm.elements.school_year_id.addEventListener('change', setGenDates);
  form.elements.class_id.addEventListener('change', suggestTeacher);
  form.elements.subject_id.addEventListener('change', suggestTeacher);
  form.addEventListener('submit', createLesson);
  onLangChange(() => {
    renderControls();
    renderGrid();
    renderPeriodsForm();
    renderRequests();
    numberGenRows();
  });
}

main();
