// /tests/{id}/grade: "Chấm bài tự luận". The test's attempts, each with its status, score (thang
// điểm 10) and integrity events (left the window, page hidden, pasted, a second device); opening one
// shows the student's answers, and each essay gets points (up to the question's) and a comment. The
// results download as a sheet (XLSX).

import '../i18n-tests.js';
import { h, replace, table } from '../dom.js';
import { announce, clearErrors, errorMessage, showErrors, whileBusy } from '../forms.js';
import { onLangChange, t } from '../i18n.js';
import { initLayout } from '../layout.js';
import { attempts as attemptsApi, tests as testsApi } from '../tests-api.js';

const el = (id) => document.getElementById(id);
const testId = Number(location.pathname.split('/')[2]);
const state = { test: null, rows: [], open: null };

function events(row) {
  const counts = new Map();
  for (const e of row.events) if (!['started', 'submitted'].includes(e.kind)) counts.set(e.kind, (counts.get(e.kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => h('span', { class: ['event-badge', kind === 'second_device' ? 'warn' : ''] }, `${t(`ot.event.${kind}`)} ×${n}`));
}

function renderRows() {
  replace(
    el('attempts-list'),
    table({
      headers: [t('ot.col.student'), t('ot.col.status'), t('ot.col.score'), t('ot.col.events'), t('ot.col.actions')],
      rows: state.rows.map((row) => ({
        attrs: { dataset: { attemptId: String(row.id) } },
        cells: [
          row.attempts > 1 ? `${row.student_name} (${row.number})` : row.student_name,
          t(`ot.status.${row.status}`),
          row.score10 === null ? '' : String(row.score10),
          h('span', { class: 'events' }, events(row)),
          h('button', { type: 'button', class: 'button small secondary', on: { click: () => openAttempt(row.id) } }, t('ot.open_attempt')),
        ],
      })),
      emptyText: t('ot.empty'),
    }),
  );
}

function answerText(item) {
  if (item.answer === null || item.answer === undefined || item.answer === '') return t('ot.no_answer');
  if (Array.isArray(item.answer)) return item.answer.map((i) => item.options[i]).join('; ');
  return String(item.answer);
}

function essayForm(attempt, item) {
  const form = h(
    'form',
    { class: 'form essay-grade', novalidate: true, dataset: { schema: 'EssayGradeIn' } },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    h('div', { class: 'field' },
      h('label', { for: `points-${item.question_id}` }, t('ot.essay_points', { max: item.points })),
      h('input', { id: `points-${item.question_id}`, name: 'points', type: 'number', min: '0', max: String(item.points), step: '0.25', value: item.awarded ?? '' })),
    h('div', { class: 'field' },
      h('label', { for: `comment-${item.question_id}` }, t('ot.comment')),
      h('textarea', { id: `comment-${item.question_id}`, name: 'comment', rows: '2', value: item.comment ?? '' })),
    h('button', { type: 'submit', class: 'button primary small' }, t('ot.save_grade')),
    h('p', { class: 'form-status', role: 'status' }),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    await whileBusy(form, 'ot.save_grade', async () => {
      try {
        await attemptsApi.grade(attempt.id, item.question_id, Number(form.elements.points.value), form.elements.comment.value);
        announce(form, t('ot.grade_saved'));
        await loadRows();
      } catch (err) {
        showErrors(form, err);
      }
    });
  });
  return form;
}

function renderAttempt() {
  const attempt = state.open;
  if (!attempt) return;
  const row = state.rows.find((r) => r.id === attempt.id);
  el('attempt-panel').hidden = false;
  el('attempt-heading').textContent = row?.student_name ?? '';
  replace(
    el('attempt-items'),
    attempt.items.map((item, n) =>
      h(
        'article',
        { class: 'question graded', dataset: { kind: item.kind, questionId: String(item.question_id) } },
        h('h3', {}, `${t('ot.question_n', { n: n + 1 })} · ${t(`ot.kind.${item.kind}`)} `, h('span', { class: 'muted' }, t('ot.points_n', { n: item.points }))),
        h('p', { class: 'question-text' }, item.text),
        h('p', { class: 'answer' }, answerText(item)),
        item.kind === 'essay' && attempt.status !== 'in_progress'
          ? essayForm(attempt, item)
          : h('p', { class: 'awarded' }, item.awarded === null ? '' : t('ot.awarded', { n: item.awarded })),
      ),
    ),
  );
}

async function openAttempt(id) {
  try {
    state.open = await attemptsApi.get(id);
    renderAttempt();
    el('attempt-heading').scrollIntoView({ block: 'start' });
  } catch (err) {
    el('grade-status').textContent = errorMessage(err);
  }
}

async function loadRows() {
  const rows = await testsApi.attempts(testId);
  const per = new Map();
  for (const r of rows) per.set(r.student_id, (per.get(r.student_id) ?? 0) + 1);
  state.rows = rows.map((r) => ({ ...r, attempts: per.get(r.student_id) }));
  renderRows();
}

async function main() {
  const layout = await initLayout();
  if (!layout) return;
  try {
    state.test = await testsApi.get(testId);
    el('grade-test').textContent = state.test.title;
    el('results-xlsx').href = `/api/online-tests/${testId}/attempts?format=xlsx`;
    el('results-xlsx').hidden = false;
    await loadRows();
  } catch (err) {
    el('grade-status').textContent = errorMessage(err);
    return;
  }
  onLangChange(() => {
    renderRows();
    renderAttempt();
  });
}

main();
