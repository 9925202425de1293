// /reports/attendance: "Điểm danh & thống kê": attendance over a date range by grade, class,
// subject, teacher and student, the rate per day as a chart, downloads, and each held lesson's
// attendance page. Admins see the school, teachers their classes, students themselves. Only lessons
// held (their teacher joined) are counted; the period is the school's own days.

import '../i18n-records.js';
import { lessons as lessonsApi } from '../api.js';
import { h, loaded, loading, replace, table } from '../dom.js';
import { errorMessage } from '../forms.js';
import { formatDay, formatTimeRange, dayKey, parseInstant } from '../format.js';
import { onLangChange, t } from '../i18n.js';
import { initLayout } from '../layout.js';
import { attendance as attendanceApi } from '../records-api.js';
import { attendanceByDayChart } from '../records-charts.js';
import {
  checkDateRange,
  fillFilterSelects,
  filtersFromUrl,
  formValues,
  formatNumber,
  formatPercent,
  loadFilterOptions,
  setFormValues,
  syncUrl,
} from '../records-parts.js';

const FILTERS = ['from', 'to', 'class_id', 'grade', 'subject_id', 'teacher_id'];
const SHORT_DATE = { day: '2-digit', month: '2-digit', year: 'numeric' };

const form = document.getElementById('report-filters');
const el = (id) => document.getElementById(id);

function groupTable(items, nameKey, nameOf) {
  return table({
    caption: t(nameKey),
    headers: [
      t(nameKey),
      t('report.col.lessons_held'),
      t('report.col.student_lessons'),
      t('report.col.rate'),
      t('report.col.minutes'),
      t('report.col.absences'),
      t('report.col.late'),
      t('report.col.left_early'),
    ],
    rows: items.map((g) => ({
      attrs: { dataset: { id: g.id, name: g.name } },
      cells: [
        nameOf(g),
        String(g.lessons_held),
        String(g.student_lessons),
        formatPercent(g.attendance_rate),
        formatNumber(g.minutes_present),
        String(g.absences),
        String(g.late),
        String(g.left_early ?? 0),
      ],
    })),
    emptyText: t('report.no_data'),
  });
}

function studentTable(students) {
  return table({
    caption: t('report.by_student'),
    headers: [
      t('report.col.student'),
      t('report.col.class'),
      t('report.col.lessons_held'),
      t('att.status.present'),
      t('att.status.late'),
      t('att.status.left_early'),
      t('report.col.late_left_early'),
      t('att.status.absent'),
      t('report.col.minutes'),
      t('report.col.rate'),
    ],
    rows: students.map((s) => ({
      attrs: { dataset: { userId: s.user_id } },
      cells: [
        s.full_name,
        s.class_name,
        String(s.lessons),
        String(s.present),
        String(s.late),
        String(s.left_early),
        String(s.late_left_early ?? 0),
        String(s.absent),
        formatNumber(s.minutes_present),
        formatPercent(s.attendance_rate),
      ],
    })),
    emptyText: t('report.no_data'),
  });
}

function lessonsTable(lessons, timeZone) {
  return table({
    caption: t('report.lessons_heading'),
    headers: [t('report.col.lesson'), t('report.col.date'), t('report.col.time'), t('report.col.class'), t('report.col.subject'), t('report.col.teacher'), t('common.actions')],
    rows: lessons.map((lesson) => ({
      attrs: { dataset: { lessonId: lesson.id } },
      cells: [
        lesson.title,
        formatDay(dayKey(lesson.starts_at, timeZone), SHORT_DATE),
        formatTimeRange(lesson.starts_at, lesson.ends_at, timeZone),
        lesson.class_name,
        lesson.subject_name,
        lesson.teacher_name,
        h(
          'a',
          { class: 'button secondary small', href: `/lessons/${lesson.id}/attendance`, 'aria-label': t('report.open_attendance_of', { title: lesson.title }) },
          t('report.open_attendance'),
        ),
      ],
    })),
    emptyText: t('report.no_lessons'),
  });
}

function summary(report) {
  const absences = report.students.reduce((n, s) => n + s.absent, 0);
  const item = (key, value) => h('div', { class: 'summary-item', dataset: { key } }, h('dt', {}, t(key)), h('dd', {}, value));
  return [
    h(
      'dl',
      { class: 'summary', id: 'report-totals' },
      item('report.lessons_held', String(report.lessons_held)),
      item('report.rate', formatPercent(report.attendance_rate)),
      item('report.students_count', String(report.students.length)),
      item('report.absences', String(absences)),
    ),
    h('p', { class: 'hint', id: 'report-held-hint' }, t('report.held_hint')),
  ];
}

function render(state, ctx) {
  const { report, lessons, failure, values, options } = state;
  const root = el('report');
  if (failure) {
    loaded(root);
    replace(el('report-summary'), h('p', { class: 'form-error', role: 'alert' }, errorMessage(failure)));
    for (const id of ['chart-wrap', 'by-grade', 'by-class', 'by-subject', 'by-teacher', 'by-student', 'report-lessons']) replace(el(id));
    return;
  }
  if (!report) return;
  loaded(root);
  // The period as the server counted it, in the school's own days.
  const period = t('filter.period', { from: formatDay(report.from_date ?? values.from, SHORT_DATE), to: formatDay(report.to_date ?? values.to, SHORT_DATE) });
  el('report-period').textContent = `(${period})`;
  el('report-period').title = t('report.held_hint');
  el('report-export-csv').href = attendanceApi.reportExportUrl(values, 'csv');
  el('report-export-xlsx').href = attendanceApi.reportExportUrl(values, 'xlsx');
  replace(el('report-summary'), summary(report));

  const klass = values.class_id ? options.classes.find((c) => String(c.id) === String(values.class_id)) : null;
  const chartTitle = klass ? t('report.chart_class', { name: klass.name }) : t('report.chart');
  el('chart-heading').textContent = chartTitle;
  replace(
    el('chart-wrap'),
    report.by_day.length
      ? attendanceByDayChart({
          days: report.by_day,
          from: values.from,
          to: values.to,
          title: chartTitle,
          desc: t('report.chart_desc', { from: formatDay(values.from, SHORT_DATE), to: formatDay(values.to, SHORT_DATE) }),
        })
      : h('p', { class: 'empty' }, t('report.no_data')),
  );
  replace(el('by-grade'), groupTable(report.by_grade, 'report.col.grade', (g) => t('grade.n', { n: g.id })));
  replace(el('by-class'), groupTable(report.by_class, 'report.col.class', (g) => g.name));
  replace(el('by-subject'), groupTable(report.by_subject, 'report.col.subject', (g) => g.name));
  replace(el('by-teacher'), groupTable(report.by_teacher, 'report.col.teacher', (g) => g.name));
  replace(el('by-student'), studentTable(report.students));
  replace(el('report-lessons'), lessonsTable(lessons, ctx.timeZone));
}

/** The lessons of the report, newest first: held (started) ones matching the filters. */
async function heldLessons(values) {
  const now = Date.now();
  const items = await lessonsApi.list({ from: values.from, to: values.to, class_id: values.class_id, teacher_id: values.teacher_id });
  return items
    .filter((l) => parseInstant(l.starts_at).getTime() <= now)
    .filter((l) => !values.grade || String(l.grade) === String(values.grade))
    .filter((l) => !values.subject_id || String(l.subject_id) === String(values.subject_id))
    .sort((a, b) => parseInstant(b.starts_at) - parseInstant(a.starts_at));
}

async function mainPage() {
  const ctx = await initLayout();
  if (!ctx) return;
  const { user, timeZone } = ctx;
  const student = user.role === 'student';
  el('filter-teacher-field').hidden = student;
  for (const id of ['by-grade-section', 'by-class-section', 'by-teacher-section']) el(id).hidden = student;
  if (student) el('report-intro').dataset.i18n = 'report.intro_student';
  el('report-intro').textContent = t(el('report-intro').dataset.i18n);

  const state = { report: null, lessons: [], failure: null, values: filtersFromUrl(FILTERS, timeZone), options: { classes: [], subjects: [], teachers: [], grades: [] } };
  if (student) delete state.values.teacher_id;
  setFormValues(form, { from: state.values.from, to: state.values.to });
  let generation = 0;

  const run = async () => {
    const mine = ++generation;
    el('report').setAttribute('aria-busy', 'true');
    if (!state.report) loading(el('report-summary'), t('common.loading'));
    try {
      const query = Object.fromEntries(Object.entries(state.values).filter(([, v]) => v !== ''));
      const [report, lessons] = await Promise.all([attendanceApi.report(query), heldLessons(query)]);
      if (mine !== generation) return;
      Object.assign(state, { report, lessons, failure: null });
    } catch (err) {
      if (err.status === 401 || mine !== generation) return;
      state.failure = err;
    }
    render(state, ctx);
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const values = formValues(form, student ? FILTERS.filter((n) => n !== 'teacher_id') : FILTERS);
    if (!checkDateRange(form, values)) return;
    state.values = values;
    syncUrl(values);
    run();
  });

  const reportDone = run();
  state.options = await loadFilterOptions(user).catch(() => state.options);
  fillFilterSelects(form, state.options, state.values);
  await reportDone;
  render(state, ctx); // the class name in the chart title needs the options
  onLangChange(() => {
    fillFilterSelects(form, state.options, formValues(form, FILTERS));
    el('report-intro').textContent = t(el('report-intro').dataset.i18n);
    render(state, ctx);
  });
}

mainPage();
