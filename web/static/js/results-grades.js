// A student's learning results as sections of a page: grades by subject (quick quizzes, assignments,
// online tests on the 10-point scale, with the subject's average), attendance, and what is due.
// Fed by GET /api/users/me/results or GET /api/students/{id}/results (same fields). Text from the
// server is only ever set as text.

import { h } from './dom.js';
import { formatDate, formatTime } from './format.js';
import { t } from './i18n.js';
import './i18n-gradebook.js';
import { formatNumber, formatPercent } from './records-parts.js';

export const score = (value) => (value === null || value === undefined ? '—' : formatNumber(value, 2));

/** Grades grouped by subject, each subject with its average. */
export function gradesSection(results, timeZone) {
  const bySubject = new Map();
  for (const grade of results.grades) {
    if (!bySubject.has(grade.subject_id)) bySubject.set(grade.subject_id, []);
    bySubject.get(grade.subject_id).push(grade);
  }
  const averages = new Map(results.subjects.map((s) => [s.subject_id, s]));
  const body = !results.grades.length
    ? h('p', { class: 'empty', id: 'grades-empty' }, t('res.grades_none'))
    : [...bySubject.entries()]
        .sort((a, b) => a[1][0].subject_name.localeCompare(b[1][0].subject_name, 'vi'))
        .map(([subjectId, grades]) => {
          const average = averages.get(subjectId)?.average10 ?? null;
          return h(
            'div',
            { class: 'grades-subject', dataset: { subjectId: String(subjectId) } },
            h(
              'h3',
              {},
              grades[0].subject_name,
              ' ',
              h('span', { class: 'badge grades-average', dataset: { average: average ?? '' } },
                average === null ? t('res.subject_average_none') : t('res.subject_average', { value: score(average) })),
            ),
            h(
              'div',
              { class: 'table-wrap' },
              h(
                'table',
                { class: 'data-table grades-table' },
                h('caption', { class: 'visually-hidden' }, `${t('res.grades_table')}: ${grades[0].subject_name}`),
                h('thead', {}, h('tr', {}, ['when', 'kind', 'item', 'score', 'status'].map((c) => h('th', { scope: 'col', class: `col-${c}` }, t(`res.col.${c}`))))),
                h(
                  'tbody',
                  {},
                  grades.map((g) =>
                    h(
                      'tr',
                      { dataset: { kind: g.kind, id: String(g.id), score: g.score10 ?? '' } },
                      h('td', { class: 'col-when', dataset: { label: t('res.col.when') } }, formatDate(g.at, timeZone)),
                      h('td', { class: 'col-kind', dataset: { label: t('res.col.kind') } }, t(`kind.${g.kind}`)),
                      h('th', { scope: 'row', class: 'col-item', dataset: { label: t('res.col.item') } }, g.title),
                      h('td', { class: 'col-score grade-score', dataset: { label: t('res.col.score') } }, score(g.score10)),
                      h('td', { class: 'col-status', dataset: { label: t('res.col.status') } }, t(`grade.status.${g.status}`)),
                    ),
                  ),
                ),
              ),
            ),
          );
        });
  return h('section', { class: 'panel', id: 'grades', 'aria-labelledby': 'grades-heading' }, h('h2', { id: 'grades-heading' }, t('res.grades')), body);
}

/** What is due: not done first, soonest first. */
export function dueSection(results, timeZone) {
  const list = results.due.length
    ? h(
        'ul',
        { class: 'due-list', id: 'due-list' },
        results.due.map((d) =>
          h(
            'li',
            { class: ['due-item', d.done ? 'is-done' : 'is-todo'], dataset: { kind: d.kind, id: String(d.id), done: String(d.done) } },
            h('span', { class: 'badge' }, t(`kind.${d.kind}`)),
            ' ',
            h('strong', { class: 'due-title' }, d.title),
            ' ',
            h('span', { class: 'muted' }, d.subject_name),
            ' · ',
            h('span', { class: 'due-at' }, t('res.due_at', { time: `${formatTime(d.due_at, timeZone)} ${formatDate(d.due_at, timeZone)}` })),
            ' ',
            h('span', { class: ['badge', d.done ? 'is-ok' : 'is-warn'] }, d.done ? t('res.due_done') : t('res.due_todo')),
          ),
        ),
      )
    : h('p', { class: 'empty', id: 'due-empty' }, t('res.due_none'));
  return h('section', { class: 'panel', id: 'due', 'aria-labelledby': 'due-heading' }, h('h2', { id: 'due-heading' }, t('res.due')), list);
}

/** Attendance over the lessons held so far. */
export function attendanceSection(results) {
  const a = results.attendance;
  const item = (key, value) => h('div', { class: 'summary-item', dataset: { key } }, h('dt', {}, t(`res.att.${key}`)), h('dd', {}, value));
  return h(
    'section',
    { class: 'panel', id: 'attendance', 'aria-labelledby': 'attendance-heading' },
    h('h2', { id: 'attendance-heading' }, t('res.attendance')),
    a
      ? h(
          'dl',
          { class: 'summary', id: 'attendance-summary' },
          item('lessons', formatNumber(a.lessons, 0)),
          item('present', formatNumber(a.present, 0)),
          item('late', formatNumber(a.late, 0)),
          item('left_early', formatNumber(a.left_early, 0)),
          item('absent', formatNumber(a.absent, 0)),
          item('rate', a.rate === null ? '—' : formatPercent(a.rate, 0)),
        )
      : null,
  );
}
