// /assignments/{id}: one assignment ("Bài tập"): its instructions, files, hạn nộp and late policy.
// A student hands in (nộp bài) text and files, again until the due time, and sees their grade and
// the teacher's comment (nhận xét). The teacher attaches files, gives or withdraws it, follows the
// class's submissions (late, missing), grades each (chấm điểm) and downloads the sheet.
// Text from the server is only ever set as text.

import '../i18n-assignments.js';
import { assignmentsApi } from '../assignments-api.js';
import { h, loaded, loading, replace } from '../dom.js';
import { announce, errorMessage, showErrors, whileBusy } from '../forms.js';
import { formatDate, formatTime } from '../format.js';
import { onLangChange, t } from '../i18n.js';
import { initLayout, showLoadError } from '../layout.js';

const root = document.getElementById('assignment');
const main = document.getElementById('main');
const assignmentId = Number(location.pathname.split('/')[2]);
const state = { user: null, timeZone: null, a: null, roster: [], filter: '' };

const when = (value) => `${formatTime(value, state.timeZone)} ${formatDate(value, state.timeZone)}`;
const score = (n) => (n === null || n === undefined ? t('asg.nothing') : String(n));
const badge = (status) => h('span', { class: 'status-badge', dataset: { status } }, t(`asg.status.${status}`));

function fileList(files, id) {
  if (!files.length) return h('p', { class: 'muted', id }, t('asg.no_files'));
  return h('ul', { class: 'file-list', id }, files.map((f) => h('li', {}, h('a', { href: f.url, download: f.name }, f.name))));
}

function header(a) {
  return [
    h('div', { class: 'page-head' },
      h('h1', { id: 'assignment-title' }, a.title),
      h('p', { class: 'muted' }, t('asg.meta', { class: a.class_name, subject: a.subject_name, teacher: a.teacher_name })),
      h('p', { id: 'due-line' }, h('strong', {}, t('asg.due_line', { due: when(a.due_at) })), ' · ', t('asg.opens_line', { opens: when(a.opens_at) })),
      h('p', { class: 'muted' }, t(`asg.policy_line.${a.late_policy}`, { percent: a.late_penalty_percent }))),
    h('section', { class: 'panel', 'aria-labelledby': 'instr-heading' },
      h('h2', { id: 'instr-heading' }, t('asg.instructions')),
      h('p', { class: 'instructions', id: 'instructions' }, a.instructions || t('asg.nothing')),
      h('h3', {}, t('asg.files')),
      fileList(a.files, 'assignment-files')),
  ];
}

// --- the student's side ----------------------------------------------------------------------
function studentSection(a) {
  const sub = a.my_submission;
  const now = Date.now();
  const pastDue = now > Date.parse(a.due_at);
  const graded = sub && sub.graded_at;
  const open = !graded && !(pastDue && (sub || a.late_policy === 'refuse'));
  const work = sub
    ? h('div', { id: 'my-submission' },
      h('p', {}, t('asg.submitted_at', { at: when(sub.submitted_at) }), sub.late ? [' · ', badge('late')] : null),
      sub.text ? h('p', { class: 'work-text', id: 'my-text' }, sub.text) : null,
      fileList(sub.files, 'my-files'),
      graded
        ? h('div', { class: 'notice', id: 'my-grade', role: 'status' },
          h('p', {}, h('strong', { id: 'my-score' }, t('asg.score', { score: score(sub.score10) })),
            sub.raw_score10 !== sub.score10 ? [' ', t('asg.score_raw', { score: score(sub.raw_score10) })] : null),
          sub.comment ? [h('h3', {}, t('asg.comment')), h('p', { class: 'work-text', id: 'my-comment' }, sub.comment)] : null)
        : null)
    : null;
  let formEl = null;
  if (open) {
    formEl = h('form', { id: 'submit-form', class: 'form', novalidate: true },
      h('div', { class: 'form-error', role: 'alert', hidden: true }),
      h('div', { class: 'field' },
        h('label', { for: 'submit-text' }, t('asg.text')),
        h('textarea', { id: 'submit-text', name: 'text', rows: '6', value: sub?.text ?? '' })),
      sub?.files.length
        ? h('fieldset', { class: 'field', dataset: { field: 'keep' } },
          h('legend', {}, t('asg.keep_files')),
          sub.files.map((f) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'keep', value: String(f.id), checked: true }), ' ', f.name)))
        : null,
      h('div', { class: 'field' },
        h('label', { for: 'submit-files' }, t('asg.files_to_add')),
        h('input', { id: 'submit-files', name: 'file', type: 'file', multiple: true })),
      h('div', { class: 'form-actions' },
        h('button', { type: 'submit', class: 'button primary' }, t(sub ? 'asg.resubmit' : 'asg.submit')),
        h('p', { class: 'form-status', role: 'status' })));
    formEl.addEventListener('submit', (event) => handIn(event, formEl));
  }
  return h('section', { class: 'panel', 'aria-labelledby': 'my-heading' },
    h('h2', { id: 'my-heading' }, t('asg.my_work')),
    h('p', {}, t('asg.my_status', { status: '' }), badge(a.my_status)),
    work,
    formEl ?? h('p', { class: 'muted' }, t(graded ? 'asg.closed_graded' : 'asg.closed_due')));
}

async function handIn(event, formEl) {
  event.preventDefault();
  const data = new FormData();
  data.append('text', formEl.elements.text.value);
  for (const box of formEl.querySelectorAll('input[name="keep"]:checked')) data.append('keep', box.value);
  for (const file of formEl.elements.file.files) data.append('file', file, file.name);
  await whileBusy(formEl, 'asg.submitting', async () => {
    try {
      await assignmentsApi.handIn(assignmentId, data);
      state.a = await assignmentsApi.get(assignmentId);
      render();
      document.getElementById('my-heading')?.after(h('p', { class: 'form-status', role: 'status', id: 'handed-in' }, t('asg.submitted')));
    } catch (err) {
      showErrors(formEl, err);
    }
  });
}

// --- the teacher's side ----------------------------------------------------------------------
function manageSection(a) {
  const attach = h('form', { id: 'attach-form', class: 'form', novalidate: true },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    h('div', { class: 'field' }, h('label', { for: 'attach-files' }, t('asg.attach')),
      h('input', { id: 'attach-files', name: 'file', type: 'file', multiple: true })),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'button secondary' }, t('asg.attach_button')),
      h('p', { class: 'form-status', role: 'status' })));
  attach.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData();
    for (const file of attach.elements.file.files) data.append('file', file, file.name);
    await whileBusy(attach, 'asg.creating', async () => {
      try {
        state.a = await assignmentsApi.attach(assignmentId, data);
        render();
      } catch (err) {
        showErrors(attach, err);
      }
    });
  });
  const publish = h('button', { type: 'button', class: 'button secondary', id: 'publish-toggle',
    on: { click: async () => {
      try {
        state.a = await assignmentsApi.update(assignmentId, { published: !a.published });
        render();
      } catch (err) {
        alert(errorMessage(err));
      }
    } } }, t(a.published ? 'asg.unpublish' : 'asg.publish'));
  const remove = h('button', { type: 'button', class: 'button danger', id: 'delete-assignment',
    on: { click: async () => {
      if (!confirm(t('asg.delete_confirm'))) return;
      try {
        await assignmentsApi.remove(assignmentId);
        location.assign('/assignments');
      } catch (err) {
        alert(errorMessage(err));
      }
    } } }, t('asg.delete'));
  return h('section', { class: 'panel' }, h('div', { class: 'actions' }, publish, remove), attach);
}

function gradeForm(row) {
  const sub = row.submission;
  const formEl = h('form', { class: 'grade-form', dataset: { studentId: row.student_id }, novalidate: true },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    h('input', { type: 'number', name: 'score10', min: '0', max: '10', step: '0.25', required: true,
      value: sub.raw_score10 ?? '', 'aria-label': t('asg.grade_score', { name: row.student_name }) }),
    h('textarea', { name: 'comment', rows: '2', value: sub.comment ?? '', 'aria-label': t('asg.grade_comment', { name: row.student_name }) }),
    h('button', { type: 'submit', class: 'button primary small' }, t('asg.grade')),
    h('p', { class: 'form-status', role: 'status' }));
  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = formEl.elements.score10.value;
    const body = { score10: Number(value), comment: formEl.elements.comment.value };
    if (value === '' || Number.isNaN(body.score10)) {
      showErrors(formEl, { status: 422, fields: [{ field: 'score10', message: t('form.required') }] });
      return;
    }
    await whileBusy(formEl, 'asg.creating', async () => {
      try {
        const graded = await assignmentsApi.grade(sub.id, body);
        await loadRoster();
        const again = root.querySelector(`form.grade-form[data-student-id="${row.student_id}"]`);
        if (again) announce(again, t('asg.graded', { name: row.student_name, score: score(graded.score10) }));
      } catch (err) {
        showErrors(formEl, err);
      }
    });
  });
  return formEl;
}

function rosterTable() {
  const rows = state.roster;
  if (!rows.length) return h('p', { class: 'empty' }, t('asg.none'));
  return h('table', { class: 'data-table', id: 'roster' },
    h('thead', {}, h('tr', {}, [t('asg.col.student'), t('asg.col.status'), t('asg.col.work'), t('asg.col.grade')].map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows.map((row) => {
      const sub = row.submission;
      return h('tr', { dataset: { studentId: row.student_id, status: row.status } },
        h('th', { scope: 'row' }, row.student_name),
        h('td', {}, badge(row.status), sub ? h('div', { class: 'muted' }, when(sub.submitted_at)) : null),
        h('td', {}, sub ? [sub.text ? h('p', { class: 'work-text' }, sub.text) : null, fileList(sub.files, null)] : t('asg.nothing')),
        h('td', {}, sub ? [sub.score10 !== null ? h('p', {}, t('asg.score', { score: score(sub.score10) })) : null, gradeForm(row)] : t('asg.nothing')));
    })));
}

function staffSection() {
  const filter = h('select', { id: 'roster-filter', 'aria-label': t('asg.filter'),
    on: { change: async (e) => { state.filter = e.target.value; await loadRoster(); } } },
  ['', 'submitted', 'late', 'graded', 'missing', 'not_submitted'].map((s) =>
    h('option', { value: s, selected: s === state.filter }, s ? t(`asg.status.${s}`) : t('asg.filter.all'))));
  return h('section', { class: 'panel', 'aria-labelledby': 'roster-heading' },
    h('h2', { id: 'roster-heading' }, t('asg.submissions')),
    h('div', { class: 'actions' }, h('label', { for: 'roster-filter' }, t('asg.filter')), filter,
      h('a', { class: 'button ghost small', id: 'export-link', href: assignmentsApi.exportUrl(assignmentId) }, t('asg.export'))),
    h('div', { class: 'table-wrap', id: 'roster-wrap' }, rosterTable()));
}

async function loadRoster() {
  state.roster = await assignmentsApi.roster(assignmentId, state.filter || null);
  const wrap = document.getElementById('roster-wrap');
  if (wrap) replace(wrap, rosterTable());
}

function render() {
  const a = state.a;
  document.title = `${a.title} · lophoc`;
  const student = state.user.role === 'student';
  replace(root, header(a), student ? studentSection(a) : [a.may_manage ? manageSection(a) : null, staffSection()]);
}

async function start() {
  const ctx = await initLayout();
  if (!ctx) return;
  state.user = ctx.user;
  state.timeZone = ctx.timeZone;
  loading(root, t('common.loading'));
  try {
    state.a = await assignmentsApi.get(assignmentId);
    if (state.user.role !== 'student') state.roster = await assignmentsApi.roster(assignmentId, null);
  } catch (err) {
    loaded(root);
    showLoadError(main, err);
    return;
  }
  loaded(root);
  render();
  onLangChange(render);
}

start();
