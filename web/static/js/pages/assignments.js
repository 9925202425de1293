// /assignments: "Bài tập": the assignments a person may see (students: their class's, with their own
// state; teachers: their classes'), and for teachers and administrators the form that sets a new one.
// Text from the server is only ever set as text.

import '../i18n-assignments.js';
import { assignmentsApi } from '../assignments-api.js';
import { classes as classesApi, subjects as subjectsApi } from '../api.js';
import { fillSelect, h, loaded, loading, replace, table } from '../dom.js';
import { announce, checkRequired, errorMessage, showErrors, whileBusy } from '../forms.js';
import { formatDate, formatTime } from '../format.js';
import { onLangChange, t } from '../i18n.js';
import { initLayout } from '../layout.js';

const listEl = document.getElementById('assignment-list');
const form = document.getElementById('new-form');
const state = { user: null, timeZone: null, items: [] };

const when = (value) => `${formatTime(value, state.timeZone)} ${formatDate(value, state.timeZone)}`;

export function statusBadge(status) {
  return h('span', { class: 'status-badge', dataset: { status } }, t(`asg.status.${status}`));
}

function progress(a) {
  if (state.user.role === 'student') return statusBadge(a.my_status);
  if (!a.published) return h('span', { class: 'muted' }, t('asg.draft'));
  const c = a.counts ?? {};
  const total = Object.values(c).reduce((s, n) => s + n, 0);
  return t('asg.counts', { done: (c.submitted ?? 0) + (c.late ?? 0) + (c.graded ?? 0), total, graded: c.graded ?? 0, missing: c.missing ?? 0 });
}

function render() {
  loaded(listEl);
  replace(
    listEl,
    table({
      headers: [t('asg.col.title'), t('asg.col.class'), t('asg.col.subject'), t('asg.col.due'), t('asg.col.state')],
      rows: state.items.map((a) => ({
        attrs: { dataset: { assignmentId: a.id } },
        cells: [h('a', { href: `/assignments/${a.id}` }, a.title), a.class_name, a.subject_name, when(a.due_at), progress(a)],
      })),
      emptyText: t('asg.none'),
    }),
    classSheets(),
  );
}

/** Staff: one sheet per class of every assignment's submissions. */
function classSheets() {
  if (state.user.role === 'student') return null;
  const classes = new Map(state.items.map((a) => [a.class_id, a.class_name]));
  if (!classes.size) return null;
  return h(
    'ul',
    { class: 'file-list', id: 'class-sheets' },
    [...classes].map(([id, name]) =>
      h('li', {}, h('a', { href: `/api/coursework/classes/${id}/submissions/export?format=xlsx` }, t('asg.class_sheet', { name }))),
    ),
  );
}

async function load() {
  loading(listEl, t('common.loading'));
  try {
    state.items = await assignmentsApi.list();
    render();
  } catch (err) {
    loaded(listEl);
    replace(listEl, h('p', { class: 'form-error', role: 'alert' }, errorMessage(err)));
  }
}

async function setUpForm() {
  document.getElementById('new-section').hidden = false;
  const [classes, subjects] = await Promise.all([classesApi.list(), subjectsApi.list()]);
  fillSelect(form.elements.class_id, classes.map((c) => ({ value: c.id, label: c.name })));
  fillSelect(form.elements.subject_id, subjects.map((s) => ({ value: s.id, label: s.name })));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!checkRequired(form)) return;
    const v = form.elements;
    const body = {
      class_id: Number(v.class_id.value),
      subject_id: Number(v.subject_id.value),
      title: v.title.value,
      instructions: v.instructions.value,
      due_at: `${v.due_at.value}:00`,
      late_policy: v.late_policy.value,
      late_penalty_percent: Number(v.late_penalty_percent.value || 0),
      published: v.published.checked,
    };
    if (v.opens_at.value) body.opens_at = `${v.opens_at.value}:00`;
    await whileBusy(form, 'asg.creating', async () => {
      try {
        const made = await assignmentsApi.create(body);
        announce(form, t('asg.created'));
        location.assign(`/assignments/${made.id}`);
      } catch (err) {
        showErrors(form, err);
      }
    });
  });
}

async function main() {
  const ctx = await initLayout();
  if (!ctx) return;
  state.user = ctx.user;
  state.timeZone = ctx.timeZone;
  if (state.user.role === 'parent') {
    location.replace('/parent');
    return;
  }
  if (state.user.role !== 'student') await setUpForm();
  await load();
  onLangChange(render);
}

main();
