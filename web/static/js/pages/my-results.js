// /my-results: "Kết quả của tôi": a student's learning results (grades by subject with averages,
// what is due, attendance), then their own lessons, newest first, with their time present, quick
// quiz scores (once published), questions, messages and raised hands; a summary and bars of the quiz
// score per lesson. Students only; text from the server is only ever set as text.

import { request } from '../api.js';
import { h, loaded, loading, replace } from '../dom.js';
import { errorMessage } from '../forms.js';
import { dayKey, formatDay, formatTime, formatTimeRange } from '../format.js';
import { onLangChange, t } from '../i18n.js';
import '../i18n-records.js';
import '../i18n-results.js';
import { initLayout } from '../layout.js';
import { s } from '../records-charts.js';
import { attendanceSection, dueSection, gradesSection } from '../results-grades.js';
import { formatNumber, formatPercent } from '../records-parts.js';

const REFRESH_MS = 60_000; // a teacher may publish a quiz's results while the page is open
const CHART_MAX = 12;

const root = document.getElementById('results');

const minutes = (seconds) =>
  seconds > 0 && seconds < 30 ? t('res.under_minute') : t('res.minutes', { minutes: formatNumber(Math.round((seconds ?? 0) / 60), 0) });
const shortDay = (value, timeZone) => formatDay(dayKey(value, timeZone), { day: '2-digit', month: '2-digit', year: 'numeric' });
const shorten = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function summary(lessons) {
  const present = lessons.reduce((sum, l) => sum + l.present_s, 0);
  const score = lessons.reduce((sum, l) => sum + l.quiz_score, 0);
  const max = lessons.reduce((sum, l) => sum + l.quiz_max, 0);
  const questions = lessons.reduce((sum, l) => sum + l.questions, 0);
  const item = (key, label, value) =>
    h('div', { class: 'summary-item', dataset: { key } }, h('dt', {}, label), h('dd', {}, value));
  return h(
    'dl',
    { class: 'summary', id: 'results-summary', 'aria-label': t('res.summary') },
    item('lessons', t('res.sum.lessons'), formatNumber(lessons.length, 0)),
    item('present', t('res.sum.present'), minutes(present)),
    item('quiz', t('res.sum.quiz'), max > 0 ? t('res.quiz_value', { score: formatNumber(score, 2), max: formatNumber(max, 2) }) : '—'),
    item('quiz_rate', t('res.sum.quiz_rate'), max > 0 ? formatPercent(score / max, 0) : '—'),
    item('questions', t('res.sum.questions'), formatNumber(questions, 0)),
  );
}

/** Horizontal bars: the share of the published quiz points earned, one per lesson, newest on top. */
function quizChart(lessons, timeZone) {
  const scored = lessons.filter((l) => l.quiz_max > 0);
  if (!scored.length) return h('p', { class: 'empty', id: 'chart-none' }, t('res.chart_none'));
  const shown = scored.slice(0, CHART_MAX);
  const W = 320;
  const LABEL_W = 118;
  const VALUE_W = 48;
  const ROW_H = 30;
  const BAR_H = 16;
  const x0 = LABEL_W;
  const x1 = W - VALUE_W;
  const height = shown.length * ROW_H + 8;
  const round = (n) => Math.round(n * 10) / 10;
  const rows = shown.map((lesson, i) => {
    const rate = Math.min(Math.max(lesson.quiz_score / lesson.quiz_max, 0), 1);
    const top = 4 + i * ROW_H;
    const day = formatDay(dayKey(lesson.starts_at, timeZone), { day: '2-digit', month: '2-digit' });
    const label = `${day} ${lesson.subject}`;
    const full = t('res.bar', {
      lesson: `${shortDay(lesson.starts_at, timeZone)} · ${lesson.subject} · ${lesson.title}`,
      score: formatNumber(lesson.quiz_score, 2),
      max: formatNumber(lesson.quiz_max, 2),
      rate: formatPercent(rate, 0),
    });
    return s(
      'g',
      { class: ['res-bar-row', i % 2 ? 'is-odd' : null], dataset: { lessonId: lesson.lesson_id, rate: String(Math.round(rate * 1000) / 1000) } },
      s('title', {}, full),
      s('rect', { class: 'res-band', x: 0, y: top, width: W, height: ROW_H }),
      s('text', { class: 'res-bar-label', x: 4, y: top + ROW_H / 2, 'dominant-baseline': 'central' }, shorten(label, 16)),
      s('rect', { class: 'res-track', x: x0, y: top + (ROW_H - BAR_H) / 2, width: x1 - x0, height: BAR_H, rx: 3 }),
      rate > 0
        ? s('rect', { class: 'res-bar', x: x0, y: top + (ROW_H - BAR_H) / 2, width: round(Math.max(rate * (x1 - x0), 2)), height: BAR_H, rx: 3 })
        : null,
      s('text', { class: 'res-bar-value', x: W - 4, y: top + ROW_H / 2, 'text-anchor': 'end', 'dominant-baseline': 'central' }, formatPercent(rate, 0)),
    );
  });
  return h(
    'figure',
    { class: 'res-figure' },
    s(
      'svg',
      { id: 'results-chart', class: 'res-chart', viewBox: `0 0 ${W} ${height}`, role: 'img', 'aria-labelledby': 'results-chart-title', 'aria-describedby': 'results-chart-desc' },
      s('title', { id: 'results-chart-title' }, t('res.chart')),
      s('desc', { id: 'results-chart-desc' }, t('res.chart_desc')),
      rows,
    ),
    scored.length > CHART_MAX ? h('figcaption', { class: 'muted small-print' }, t('res.chart_more', { n: CHART_MAX })) : null,
  );
}

function quizCell(lesson) {
  const parts = [];
  if (lesson.quiz_max > 0) {
    parts.push(h('span', { class: 'res-score' }, t('res.quiz_value', { score: formatNumber(lesson.quiz_score, 2), max: formatNumber(lesson.quiz_max, 2) })));
  } else if (!lesson.quiz_pending) {
    parts.push(h('span', { class: 'muted res-score is-none' }, t('res.quiz_none')));
  }
  if (lesson.quiz_pending) {
    parts.push(h('span', { class: 'badge res-pending' }, lesson.quiz_max > 0 ? t('res.quiz_pending_n', { n: lesson.quiz_pending }) : t('res.quiz_pending')));
  }
  if (lesson.quizzes.length) {
    parts.push(
      h(
        'details',
        { class: 'res-quizzes' },
        h('summary', {}, t('res.quiz_details', { n: lesson.quizzes.length })),
        h(
          'ul',
          {},
          lesson.quizzes.map((quiz) =>
            h(
              'li',
              { dataset: { pollId: quiz.poll_id, published: String(quiz.published) } },
              h('span', { class: 'res-question' }, quiz.question),
              h('span', { class: 'res-answer' }, t('res.quiz_answer', { answer: quiz.answer || t('res.quiz_no_answer') })),
              quiz.published
                ? h(
                    'span',
                    { class: ['res-verdict', quiz.correct ? 'is-right' : 'is-wrong'] },
                    `${quiz.correct ? t('res.quiz_right') : t('res.quiz_wrong')} · ${t('res.quiz_score', { score: formatNumber(quiz.score, 2), points: formatNumber(quiz.points, 2) })}`,
                  )
                : h('span', { class: 'res-verdict muted' }, t('res.quiz_waiting')),
            ),
          ),
        ),
      ),
    );
  }
  return parts;
}

function lessonsTable(lessons, timeZone) {
  const cols = ['date', 'subject', 'class', 'title', 'present', 'quiz', 'questions', 'messages', 'hands'];
  const label = (col) => t(`res.col.${col}`);
  const cell = (col, ...content) => h('td', { class: `col-${col}`, dataset: { label: label(col) } }, content);
  return h(
    'table',
    { class: 'data-table res-table', id: 'results-table' },
    h('caption', { class: 'visually-hidden' }, t('res.table')),
    h('thead', {}, h('tr', {}, cols.map((col) => h('th', { scope: 'col', class: `col-${col}` }, label(col))))),
    h(
      'tbody',
      {},
      lessons.map((lesson) =>
        h(
          'tr',
          { dataset: { lessonId: lesson.lesson_id } },
          h(
            'th',
            { scope: 'row', class: 'col-date', dataset: { label: label('date') } },
            h('span', { class: 'res-day' }, shortDay(lesson.starts_at, timeZone)),
            ' ',
            h('span', { class: 'muted res-time' }, formatTimeRange(lesson.starts_at, lesson.ends_at, timeZone)),
          ),
          cell('subject', lesson.subject),
          cell('class', lesson.class_name),
          cell(
            'title',
            h('a', { href: `/lessons/${lesson.lesson_id}` }, lesson.title),
            lesson.teacher_name ? h('span', { class: 'muted res-teacher' }, t('res.teacher', { name: lesson.teacher_name })) : null,
          ),
          cell('present', minutes(lesson.present_s)),
          cell('quiz', quizCell(lesson)),
          cell('questions', formatNumber(lesson.questions, 0)),
          cell('messages', formatNumber(lesson.messages, 0)),
          cell('hands', formatNumber(lesson.hands, 0)),
        ),
      ),
    ),
  );
}

function render(state, timeZone) {
  loaded(root);
  if (state.failure) {
    replace(root, h('p', { class: 'form-error', role: 'alert' }, t('res.load_failed', { error: errorMessage(state.failure) })));
    return;
  }
  if (!state.data) return;
  const { lessons } = state.data;
  // A refresh or a language switch keeps open the answers the student was reading.
  const open = new Set([...root.querySelectorAll('tr[data-lesson-id] details[open]')].map((d) => d.closest('tr').dataset.lessonId));
  const results = [dueSection(state.data, timeZone), gradesSection(state.data, timeZone), attendanceSection(state.data)];
  if (!lessons.length) {
    replace(root, results, h('section', { class: 'panel' }, h('p', { class: 'empty', id: 'results-empty' }, t('res.empty'))));
    return;
  }
  replace(
    root,
    results,
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'summary-heading' },
      h('h2', { id: 'summary-heading' }, t('res.summary')),
      summary(lessons),
      h('p', { class: 'muted small-print', id: 'results-updated' }, t('res.updated', { time: formatTime(state.data.generated_at, timeZone) })),
    ),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'chart-heading' },
      h('h2', { id: 'chart-heading' }, t('res.chart')),
      quizChart(lessons, timeZone),
    ),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'lessons-heading' },
      h('h2', { id: 'lessons-heading' }, t('res.lessons')),
      h('div', { class: 'table-wrap res-table-wrap' }, lessonsTable(lessons, timeZone)),
    ),
  );
  for (const row of root.querySelectorAll('tr[data-lesson-id]')) {
    const details = row.querySelector('details');
    if (details && open.has(row.dataset.lessonId)) details.open = true;
  }
}

async function main() {
  const ctx = await initLayout({ role: 'student' });
  if (!ctx) return;
  const { timeZone } = ctx;
  document.title = t('title.my_results');
  const state = { data: null, failure: null };

  const load = async () => {
    try {
      state.data = await request('GET', '/api/users/me/results');
      state.failure = null;
    } catch (err) {
      if (err.status === 401) return;
      state.failure = err;
    }
    render(state, timeZone);
  };

  loading(root, t('common.loading'));
  await load();
  onLangChange(() => {
    document.title = t('title.my_results');
    render(state, timeZone);
  });
  setInterval(() => {
    if (!document.hidden) load();
  }, REFRESH_MS);
}

main();
