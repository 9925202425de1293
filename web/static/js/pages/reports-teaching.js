// /reports/teaching: "Thống kê dạy học trực tuyến": lessons taught online, minutes, attendance,
// assignments and tests given and average results by subject, teacher, grade and class over a
// period, a bar chart of lessons held by subject, downloads, and each lesson's records (hồ sơ
// tiết học) as a ZIP to keep. Administrators see the school, teachers their classes.

import '../i18n-records.js';
import '../i18n-teaching.js';
import { lessons as lessonsApi, request } from '../api.js';
import { fillSelect, h, loaded, loading, replace, table } from '../dom.js';
import { errorMessage } from '../forms.js';
import { dayKey, formatDay, formatTimeRange, parseInstant } from '../format.js';
import { onLangChange, t } from '../i18n.js';
import { initLayout } from '../layout.js';
import { apiUrl } from '../records-api.js';
import { s } from '../records-charts.js';
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
const GROUPS = ['subject', 'teacher', 'grade', 'class'];
const SHORT_DATE = { day: '2-digit', month: '2-digit', year: 'numeric' };
const form = document.getElementById('teaching-filters');
const el = (id) => document.getElementById(id);

const score = (value) => (value === null || value === undefined ? t('teach.none') : formatNumber(value, 2));

function groupTable(rows, by) {
  return table({
    caption: t(`teach.by_${by}`),
    headers: [t(`teach.by.${by}`), t('teach.col.scheduled'), t('teach.col.held'), t('teach.col.minutes'), t('teach.col.rate'),
      t('teach.col.assignments'), t('teach.col.tests'), t('teach.col.results'), t('teach.col.average')],
    rows: rows.map((r) => ({
      attrs: { dataset: { id: r.id, name: r.name } },
      cells: [by === 'grade' ? t('grade.n', { n: r.id }) : r.name, String(r.lessons_scheduled), String(r.lessons_held),
        formatNumber(r.minutes), formatPercent(r.attendance_rate), String(r.assignments), String(r.tests),
        String(r.results), score(r.average_score10)],
    })),
    emptyText: t('teach.no_data'),
  });
}

function totals(total) {
  const item = (key, value) => h('div', { class: 'summary-item', dataset: { key } }, h('dt', {}, t(key)), h('dd', {}, value));
  return h('dl', { class: 'summary teaching-totals', id: 'teaching-summary' },
    item('teach.total.scheduled', String(total.lessons_scheduled)),
    item('teach.total.held', String(total.lessons_held)),
    item('teach.total.minutes', formatNumber(total.minutes)),
    item('teach.total.rate', formatPercent(total.attendance_rate)),
    item('teach.total.assignments', String(total.assignments)),
    item('teach.total.tests', String(total.tests)),
    item('teach.total.average', score(total.average_score10)));
}

/** Bars per subject: the lessons in the timetable (light) and those taught online (dark). */
function chart(rows) {
  const W = 1000;
  const L = 56;
  const T = 16;
  const B = 48;
  const H = 280;
  const plotH = H - T - B;
  const most = Math.max(1, ...rows.map((r) => r.lessons_scheduled));
  const slot = (W - L - 20) / Math.max(rows.length, 1);
  const bar = Math.min(64, slot * 0.6);
  const y = (n) => T + (1 - n / most) * plotH;
  const shorten = (text) => (text.length > 14 ? `${text.slice(0, 13)}…` : text);
  const bars = rows.map((r, i) => {
    const x = L + i * slot + (slot - bar) / 2;
    const label = t('teach.chart_bar', { name: r.name, held: r.lessons_held, scheduled: r.lessons_scheduled });
    return s('g', { class: 'teaching-bar', dataset: { id: r.id, held: r.lessons_held } },
      s('title', {}, label),
      s('rect', { class: 'teaching-bar-scheduled', x, y: y(r.lessons_scheduled), width: bar, height: plotH + T - y(r.lessons_scheduled) }),
      s('rect', { class: 'teaching-bar-held', x, y: y(r.lessons_held), width: bar, height: plotH + T - y(r.lessons_held) }),
      s('text', { x: x + bar / 2, y: H - B + 22, 'text-anchor': 'middle' }, shorten(r.name)));
  });
  return s('svg', { id: 'teaching-bars', class: 'teaching-chart', viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-labelledby': 'teaching-bars-title', 'aria-describedby': 'teaching-bars-desc' },
  s('title', { id: 'teaching-bars-title' }, t('teach.chart')),
  s('desc', { id: 'teaching-bars-desc' }, t('teach.chart_desc')),
  s('text', { x: L - 8, y: T + 4, 'text-anchor': 'end' }, String(most)),
  s('line', { class: 'chart-axis', x1: L, x2: W - 20, y1: H - B, y2: H - B }),
  bars);
}

function lessonsTable(lessons, timeZone) {
  return table({
    caption: t('teach.records'),
    headers: [t('teach.col.lesson'), t('teach.col.date'), t('report.col.time'), t('report.col.class'), t('report.col.subject'),
      t('report.col.teacher'), t('common.actions')],
    rows: lessons.map((lesson) => ({
      attrs: { dataset: { lessonId: lesson.id } },
      cells: [lesson.title, formatDay(dayKey(lesson.starts_at, timeZone), SHORT_DATE),
        formatTimeRange(lesson.starts_at, lesson.ends_at, timeZone), lesson.class_name, lesson.subject_name, lesson.teacher_name,
        h('a', { class: 'button secondary small', href: `/api/lessons/${lesson.id}/record.zip`, download: '',
          'aria-label': t('teach.download_record_of', { title: lesson.title }) }, t('teach.download_record'))],
    })),
    emptyText: t('teach.no_lessons'),
  });
}

function render(state, ctx) {
  const { report, lessons, failure, values } = state;
  loaded(el('teaching'));
  if (failure) {
    replace(el('teaching-totals'), h('p', { class: 'form-error', role: 'alert' }, errorMessage(failure)));
    for (const id of ['teaching-chart', 'by-subject', 'by-teacher', 'by-grade', 'by-class', 'teaching-lessons']) replace(el(id));
    return;
  }
  if (!report) return;
  el('teaching-period').textContent = `(${t('filter.period', { from: formatDay(report.from_date, SHORT_DATE), to: formatDay(report.to_date, SHORT_DATE) })})`;
  const by = el('export-by').value || 'subject';
  el('teaching-export-csv').href = apiUrl('/api/reports/teaching', { ...values, by, format: 'csv' });
  el('teaching-export-xlsx').href = apiUrl('/api/reports/teaching', { ...values, by, format: 'xlsx' });
  replace(el('teaching-totals'), totals(report.total));
  replace(el('teaching-chart'), report.by_subject.length ? chart(report.by_subject) : h('p', { class: 'empty' }, t('teach.no_data')));
  for (const group of GROUPS) replace(el(`by-${group}`), groupTable(report[`by_${group}`], group));
  replace(el('teaching-lessons'), lessonsTable(lessons, ctx.timeZone));
}

function fillBy() {
  fillSelect(el('export-by'), GROUPS.map((g) => ({ value: g, label: t(`teach.by.${g}`) })));
}

async function mainPage() {
  const ctx = await initLayout();
  if (!ctx) return;
  const { user, timeZone } = ctx;
  const state = { report: null, lessons: [], failure: null, values: filtersFromUrl(FILTERS, timeZone), options: { classes: [], subjects: [], teachers: [], grades: [] } };
  setFormValues(form, { from: state.values.from, to: state.values.to });
  fillBy();
  el('export-by').addEventListener('change', () => render(state, ctx));
  let generation = 0;
  const run = async () => {
    const mine = ++generation;
    el('teaching').setAttribute('aria-busy', 'true');
    if (!state.report) loading(el('teaching-totals'), t('common.loading'));
    try {
      const query = Object.fromEntries(Object.entries(state.values).filter(([, v]) => v !== ''));
      const [report, lessons] = await Promise.all([
        request('GET', '/api/reports/teaching', { query }),
        lessonsApi.list({ from: query.from, to: query.to, class_id: query.class_id, teacher_id: query.teacher_id }),
      ]);
      if (mine !== generation) return;
      const now = Date.now();
      state.lessons = lessons
        .filter((l) => parseInstant(l.starts_at).getTime() <= now)
        .filter((l) => !query.grade || String(l.grade) === String(query.grade))
        .filter((l) => !query.subject_id || String(l.subject_id) === String(query.subject_id))
        .sort((a, b) => parseInstant(b.starts_at) - parseInstant(a.starts_at));
      Object.assign(state, { report, failure: null });
    } catch (err) {
      if (err.status === 401 || mine !== generation) return;
      state.failure = err;
    }
    render(state, ctx);
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const values = formValues(form, FILTERS);
    if (!checkDateRange(form, values)) return;
    state.values = values;
    syncUrl(values);
    run();
  });
  const done = run();
  state.options = await loadFilterOptions(user).catch(() => state.options);
  fillFilterSelects(form, state.options, state.values);
  await done;
  onLangChange(() => {
    fillFilterSelects(form, state.options, formValues(form, FILTERS));
    const by = el('export-by').value;
    fillBy();
    el('export-by').value = by;
    render(state, ctx);
  });
}

mainPage();
