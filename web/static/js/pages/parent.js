// /parent: a parent's children (con) — the class's timetable with the child's own attendance,
// absences counted, due work and results. Only the parent's own children are ever asked for.

import { request } from '../api.js';
import { h, replace } from '../dom.js';
import { formatDate, formatTimeRange } from '../format.js';
import { clearErrors, showErrors } from '../forms.js';
import { onLangChange, t } from '../i18n.js';
import '../i18n-parents.js';
import { initLayout, showLoadError } from '../layout.js';

const ctx = await initLayout({ role: 'parent' });
const box = document.getElementById('children');
let overviews = [];

function lessonsTable(lessons, timeZone) {
  if (!lessons.length) return h('p', { class: 'muted' }, t('par.no_lessons'));
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data-table child-lessons' },
      h('caption', {}, t('par.lessons')),
      h('thead', {}, h('tr', {}, ['par.col.date', 'par.col.time', 'par.col.subject', 'par.col.title', 'par.col.attendance'].map((k) => h('th', { scope: 'col' }, t(k))))),
      h(
        'tbody',
        {},
        lessons.map((l) =>
          h(
            'tr',
            { dataset: { lessonId: String(l.lesson_id), status: l.cancelled ? 'cancelled' : l.attendance } },
            h('td', {}, formatDate(l.starts_at, timeZone)),
            h('td', {}, formatTimeRange(l.starts_at, l.ends_at, timeZone)),
            h('td', {}, l.subject),
            h('td', {}, l.title),
            h('td', { class: `att att-${l.attendance}` }, l.cancelled ? t('par.cancelled') : t(`par.att.${l.attendance}`)),
          ),
        ),
      ),
    ),
  );
}

function results(o) {
  if (o.grades === null) return h('p', { class: 'muted' }, t('par.results_unavailable'));
  const grades = o.grades.length
    ? h('ul', { class: 'child-grades' }, o.grades.map((g) => h('li', {}, `${g.subject_name} · ${g.title}: `, h('strong', {}, g.score10 === null ? '—' : String(g.score10)))))
    : h('p', { class: 'muted' }, t('par.results_none'));
  const due = o.due?.length
    ? h('ul', { class: 'child-due' }, o.due.map((d) => h('li', {}, `${d.subject_name} · ${d.title} — ${d.due_at ? formatDate(d.due_at, ctx.timeZone) : ''} `, h('em', {}, d.done ? t('par.done') : t('par.not_done')))))
    : h('p', { class: 'muted' }, t('par.due_none'));
  return [h('h3', {}, t('par.results')), grades, h('h3', {}, t('par.due')), due];
}

function render() {
  box.removeAttribute('aria-busy');
  if (!overviews.length) {
    replace(box, h('p', { class: 'muted', id: 'no-children' }, t('par.none')));
    return;
  }
  replace(
    box,
    overviews.map((o) =>
      h(
        'section',
        { class: 'child-card', id: `child-${o.child.id}`, dataset: { childId: String(o.child.id) } },
        h('h2', {}, o.child.full_name),
        h('p', { class: 'muted' }, o.child.class_name ? t('par.class', { name: o.child.class_name }) : t('par.no_class')),
        h('p', { class: o.absences ? 'child-absences att-absent' : 'child-absences' }, t('par.absences', { n: o.absences })),
        lessonsTable(o.lessons, ctx.timeZone),
        results(o),
      ),
    ),
  );
}

async function load() {
  const children = await request('GET', '/api/parent/children');
  overviews = await Promise.all(children.items.map((c) => request('GET', `/api/parent/children/${c.id}`)));
  render();
}

if (ctx) {
  document.title = t('title.parent');
  onLangChange(render);
  try {
    await load();
  } catch (err) {
    showLoadError(document.getElementById('main'), err);
  }
  const form = document.getElementById('link-form');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      await request('POST', '/api/parent/link', { body: { code: form.elements.code.value.trim() } });
      form.reset();
      document.getElementById('link-status').textContent = t('par.linked');
      await load();
    } catch (err) {
      showErrors(form, err);
    }
  });
}
