// /admin/subjects: subjects (môn học), subject teams (tổ chuyên môn), teaching assignments
// (phân công giảng dạy).

import {
  assignments as assignmentsApi,
  classes as classesApi,
  subjectTeams as teamsApi,
  subjects as subjectsApi,
  users as usersApi,
} from '../api.js';
import { fillSelect, h, loaded, loading, replace, table } from '../dom.js';
import { announce, checkRequired, checkedValues, renderChecklist, showErrors, whileBusy } from '../forms.js';
import { onLangChange, t } from '../i18n.js';
import { initLayout, showLoadError } from '../layout.js';

const state = { subjects: [], teams: [], assignments: [], teachers: [], classes: [], highlight: {} };

const el = (id) => document.getElementById(id);
const subjectForm = el('subject-form');
const teamForm = el('team-form');
const assignmentForm = el('assignment-form');

const collate = (a, b) => a.localeCompare(b, 'vi', { numeric: true });
const rowAttrs = (kind, id) => ({ dataset: { id }, class: state.highlight[kind] === id ? 'is-new' : null });

function renderSubjects() {
  loaded(el('subjects-table'));
  replace(
    el('subjects-table'),
    table({
      caption: t('subjects.title'),
      headers: [t('subject.name'), t('subject.code')],
      rows: [...state.subjects]
        .sort((a, b) => collate(a.name, b.name))
        .map((s) => ({ attrs: rowAttrs('subject', s.id), cells: [s.name, s.code ?? '—'] })),
      emptyText: t('subjects.none'),
    }),
  );
}

function renderTeams() {
  loaded(el('teams-table'));
  const names = (list, key) => (list.length ? list.map((x) => x[key]).join(', ') : '—');
  replace(
    el('teams-table'),
    table({
      caption: t('teams.title'),
      headers: [t('team.name'), t('team.subjects'), t('team.teachers')],
      rows: [...state.teams]
        .sort((a, b) => collate(a.name, b.name))
        .map((team) => ({
          attrs: rowAttrs('team', team.id),
          cells: [team.name, names(team.subjects, 'name'), names(team.teachers, 'full_name')],
        })),
      emptyText: t('teams.none'),
    }),
  );
}

function renderAssignments() {
  loaded(el('assignments-table'));
  replace(
    el('assignments-table'),
    table({
      caption: t('assignments.title'),
      headers: [t('lesson.teacher'), t('lesson.class'), t('lesson.subject')],
      rows: [...state.assignments]
        .sort((a, b) => collate(a.class_name, b.class_name) || collate(a.subject_name, b.subject_name))
        .map((a) => ({ attrs: rowAttrs('assignment', a.id), cells: [a.teacher_name, a.class_name, a.subject_name] })),
      emptyText: t('assignments.none'),
    }),
  );
}

function renderFormOptions() {
  const subjectItems = [...state.subjects].sort((a, b) => collate(a.name, b.name)).map((s) => ({ value: s.id, label: s.name }));
  const teacherItems = [...state.teachers].sort((a, b) => collate(a.full_name, b.full_name)).map((u) => ({ value: u.id, label: u.full_name }));
  renderChecklist(el('team-subjects'), subjectItems, { name: 'subject_ids', emptyKey: 'subjects.none' });
  renderChecklist(el('team-teachers'), teacherItems, { name: 'teacher_ids', emptyKey: 'users.no_teachers' });
  const f = assignmentForm.elements;
  fillSelect(f.teacher_id, teacherItems, { placeholder: t('common.choose') });
  fillSelect(f.class_id, [...state.classes].sort((a, b) => a.grade - b.grade || collate(a.name, b.name)).map((c) => ({ value: c.id, label: c.name })), {
    placeholder: t('common.choose'),
  });
  fillSelect(f.subject_id, subjectItems, { placeholder: t('common.choose') });
}

function renderAll() {
  renderSubjects();
  renderTeams();
  renderAssignments();
  renderFormOptions();
}

function onSubmit(form, work) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!checkRequired(form)) return;
    try {
      await whileBusy(form, 'common.saving', work);
    } catch (err) {
      showErrors(form, err);
    }
  });
}

async function main() {
  const ctx = await initLayout({ role: 'admin' });
  if (!ctx) return;
  for (const id of ['subjects-table', 'teams-table', 'assignments-table']) loading(el(id), t('common.loading'));
  try {
    [state.subjects, state.teams, state.assignments, state.teachers, state.classes] = await Promise.all([
      subjectsApi.list(),
      teamsApi.list(),
      assignmentsApi.list(),
      usersApi.list({ role: 'teacher' }),
      classesApi.list(),
    ]);
  } catch (err) {
    showLoadError(el('main'), err);
    return;
  }
  renderAll();
  onLangChange(renderAll);

  onSubmit(subjectForm, async () => {
    const f = subjectForm.elements;
    const body = { name: f.name.value.trim() };
    if (f.code.value.trim()) body.code = f.code.value.trim();
    const created = await subjectsApi.create(body);
    state.subjects = await subjectsApi.list();
    state.highlight.subject = created.id;
    subjectForm.reset();
    renderSubjects();
    renderFormOptions();
    announce(subjectForm, t('subjects.created', { name: created.name }));
  });

  onSubmit(teamForm, async () => {
    const body = {
      name: teamForm.elements.name.value.trim(),
      subject_ids: checkedValues(el('team-subjects')).map(Number),
      teacher_ids: checkedValues(el('team-teachers')).map(Number),
    };
    const created = await teamsApi.create(body);
    state.teams = await teamsApi.list();
    state.highlight.team = created.id;
    teamForm.reset();
    renderTeams();
    announce(teamForm, t('teams.created', { name: created.name }));
  });

  onSubmit(assignmentForm, async () => {
    const f = assignmentForm.elements;
    const body = { teacher_id: Number(f.teacher_id.value), class_id: Number(f.class_id.value), subject_id: Number(f.subject_id.value) };
    const created = await assignmentsApi.create(body);
    state.assignments = await assignmentsApi.list();
    state.highlight.assignment = created.id;
    renderAssignments();
    announce(assignmentForm, t('assignments.created', { teacher: created.teacher_name, subject: created.subject_name, klass: created.class_name }));
  });
}

main();
