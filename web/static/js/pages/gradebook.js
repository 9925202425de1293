// /gradebook: "Sổ điểm": a class's scores in a subject, students × items (quick quizzes of the lessons,
// assignments, online tests) on the 10-point scale, with each student's, each column's and the class's
// average; the XLSX download. Teachers see their classes and subjects, administrators every class.
// Text from the server is only ever set as text.

import { request } from '../api.js';
import { fillSelect, h, loaded, loading, replace } from '../dom.js';
import { errorMessage } from '../forms.js';
import { formatDay, dayKey } from '../format.js';
import { onLangChange, t } from '../i18n.js';
import '../i18n-gradebook.js';
import { initLayout } from '../layout.js';
import { score } from '../results-grades.js';

const root = document.getElementById('gradebook');
const pick = document.getElementById('gradebook-pick');
const xlsx = document.getElementById('gradebook-xlsx');

const query = (pair, format = 'json') => `/api/gradebook?class_id=${pair.class_id}&subject_id=${pair.subject_id}&format=${format}`;

function grid(book, timeZone) {
  if (!book.rows.length) return h('p', { class: 'empty', id: 'gradebook-no-students' }, t('gb.no_students'));
  const columns = book.columns;
  const day = (value) => formatDay(dayKey(value, timeZone), { day: '2-digit', month: '2-digit' });
  return [
    columns.length ? null : h('p', { class: 'empty', id: 'gradebook-no-items' }, t('gb.no_items')),
    h(
      'div',
      { class: 'table-wrap gradebook-wrap' },
      h(
        'table',
        { class: 'data-table gradebook-table', id: 'gradebook-table' },
        h('caption', { class: 'visually-hidden' }, t('gb.table', { class: book.class_name, subject: book.subject_name })),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col', class: 'col-no' }, t('gb.col.no')),
            h('th', { scope: 'col', class: 'col-name' }, t('gb.col.name')),
            columns.map((c) =>
              h(
                'th',
                { scope: 'col', class: 'col-item', dataset: { kind: c.kind, id: String(c.id) }, title: `${t(`kind.${c.kind}`)}: ${c.title}` },
                h('span', { class: 'gb-kind' }, t(`kind.${c.kind}`)),
                h('span', { class: 'gb-title' }, c.title),
                h('span', { class: 'gb-day muted' }, day(c.at)),
              ),
            ),
            h('th', { scope: 'col', class: 'col-average' }, t('gb.col.average')),
          ),
        ),
        h(
          'tbody',
          {},
          book.rows.map((row, n) =>
            h(
              'tr',
              { dataset: { studentId: String(row.student_id) } },
              h('td', { class: 'col-no' }, String(n + 1)),
              h('th', { scope: 'row', class: 'col-name' }, row.full_name),
              row.scores.map((value, i) =>
                h(
                  'td',
                  { class: ['gb-score', value === null ? 'is-none' : null], dataset: { status: row.statuses[i] }, title: row.statuses[i] ? t(`grade.status.${row.statuses[i]}`) : null },
                  score(value),
                ),
              ),
              h('td', { class: 'col-average gb-average' }, score(row.average10)),
            ),
          ),
        ),
        h(
          'tfoot',
          {},
          h(
            'tr',
            { id: 'gradebook-averages' },
            h('td', {}),
            h('th', { scope: 'row' }, t('gb.class_average')),
            columns.map((c) => h('td', { class: 'gb-score' }, score(c.average10))),
            h('td', { class: 'col-average gb-average', id: 'gradebook-class-average' }, score(book.average10)),
          ),
        ),
      ),
    ),
  ];
}

async function main() {
  const ctx = await initLayout();
  if (!ctx) return;
  const { timeZone } = ctx;
  document.title = t('title.gradebook');
  let pairs = [];
  let book = null;
  let failure = null;
  const render = () => {
    loaded(root);
    if (failure) replace(root, h('p', { class: 'form-error', role: 'alert' }, t('gb.load_failed', { error: errorMessage(failure) })));
    else if (!pairs.length) replace(root, h('p', { class: 'empty', id: 'gradebook-none' }, t('gb.pick_none')));
    else if (book) replace(root, grid(book, timeZone));
  };
  let asked = 0; // only the latest choice's answer is shown (an earlier one may arrive later)
  const open = async () => {
    const pair = pairs[Number(pick.value)];
    if (!pair) return;
    const mine = ++asked;
    loading(root, t('common.loading'));
    try {
      const answer = await request('GET', query(pair));
      if (mine !== asked) return;
      book = answer;
      failure = null;
      xlsx.href = query(pair, 'xlsx');
      xlsx.hidden = false;
      const params = new URLSearchParams({ class_id: pair.class_id, subject_id: pair.subject_id });
      history.replaceState(null, '', `?${params}`);
    } catch (err) {
      if (err.status === 401 || mine !== asked) return;
      failure = err;
    }
    render();
  };
  loading(root, t('common.loading'));
  try {
    pairs = (await request('GET', '/api/gradebook/classes')).items;
  } catch (err) {
    if (err.status === 401) return;
    failure = err;
    render();
    return;
  }
  fillSelect(pick, pairs.map((p, i) => ({ value: i, label: `${p.class_name} · ${p.subject_name}` })));
  const wanted = new URLSearchParams(location.search);
  const start = pairs.findIndex((p) => String(p.class_id) === wanted.get('class_id') && String(p.subject_id) === wanted.get('subject_id'));
  pick.value = String(start >= 0 ? start : 0);
  pick.addEventListener('change', open);
  onLangChange(() => {
    document.title = t('title.gradebook');
    render();
  });
  if (pairs.length) await open();
  else render();
}

main();
