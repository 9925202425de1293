// /admin/subjects: subjects (môn học), subject teams (tổ chuyên môn), teaching assignments
// (phân công giảng dạy).

import { actions, confirmInDialog, editInDialog, rowButton, structureApi } from '../admin-structure.js';
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
const say = (section, text) => {
  el(`${section}-status`).textContent = text;
};
const subjectItems = () => [...state.subjects].sort((a, b) => collate(a.name, b.name)).map((s) => ({ value: s.id, label: s.name }));
const teacherItems = () => [...state.teachers].sort((a, b) => collate(a.full_name, b.full_name)).map((u) => ({ value: u.id, label: u.full_name }));
const classItems = () =>
  [...state.classes].sort((a, b) => a.grade - b.grade || collate(a.name, b.name)).map((c) => ({ value: c.id, label: c.name }));

async function reloadAll() {
  [state.subjects, state.teams, state.assignments] = await Promise.all([subjectsApi.list(), teamsApi.list(), assignmentsApi.list()]);
  renderAll();
}

function editSubject(subject) {
  editInDialog(el('subject-edit-dialog'), {
    fill: (form) => {
      form.elements.name.value = subject.name;
      form.elements.code.value = subject.code ?? '';
    },
    save: async (form) => {
      const saved = await structureApi.updateSubject(subject.id, { name: form.elements.name.value.trim(), code: form.elements.code.value.trim() || null });
      state.highlight.subject = saved.id;
      await reloadAll();
      say('subjects', t('st.subject_saved', { name: saved.name }));
    },
  });
}

async function deleteSubject(subject) {
  const done = await confirmInDialog({
    title: t('st.subject_delete_title', { name: subject.name }),
    text: t('st.subject_delete_text'),
    confirmLabel: t('st.delete'),
    act: () => structureApi.deleteSubject(subject.id),
  });
  if (!done) return;
  await reloadAll();
  say('subjects', t('st.subject_deleted', { name: subject.name }));
}

function editTeam(team) {
  editInDialog(el('team-edit-dialog'), {
    fill: (form) => {
      form.elements.name.value = team.name;
      for (const [id, items, name, emptyKey, chosen] of [
        ['team-edit-subjects', subjectItems(), 'subject_ids', 'subjects.none', team.subjects],
        ['team-edit-teachers', teacherItems(), 'teacher_ids', 'users.no_teachers', team.teachers],
      ]) {
        el(id).querySelector('.checklist')?.replaceChildren();
        renderChecklist(el(id), items, { name, emptyKey });
        const ids = new Set(chosen.map((x) => String(x.id)));
        for (const box of el(id).querySelectorAll('input[type="checkbox"]')) box.checked = ids.has(box.value);
      }
    },
    save: async (form) => {
      const saved = await structureApi.updateTeam(team.id, {
        name: form.elements.name.value.trim(),
        subject_ids: checkedValues(el('team-edit-subjects')).map(Number),
        teacher_ids: checkedValues(el('team-edit-teachers')).map(Number),
      });
      state.highlight.team = saved.id;
      await reloadAll();
      say('teams', t('st.team_saved', { name: saved.name }));
    },
  });
}

async function deleteTeam(team) {
  const done = await confirmInDialog({
    title: t('st.team_delete_title', { name: team.name }),
    text: t('st.team_delete_text'),
    confirmLabel: t('st.delete'),
    act: () => structureApi.deleteTeam(team.id),
  });
  if (!done) return;
  await reloadAll();
  say('teams', t('st.team_deleted', { name: team.name }));
}

function editAssignment(a) {
  editInDialog(el('assignment-edit-dialog'), {
    fill: (form) => {
      const f = form.elements;
      fillSelect(f.teacher_id, teacherItems(), { placeholder: t('common.choose'), value: a.teacher_id });
      fillSelect(f.class_id, classItems(), { placeholder: t('common.choose'), value: a.class_id });
      fillSelect(f.subject_id, subjectItems(), { placeholder: t('common.choose'), value: a.subject_id });
    },
    save: async (form) => {
      const f = form.elements;
      const saved = await structureApi.updateAssignment(a.id, {
        teacher_id: Number(f.teacher_id.value),
        class_id: Number(f.class_id.value),
        subject_id: Number(f.subject_id.value),
      });
      state.highlight.assignment = saved.id;
      await reloadAll();
      say('assignments', t('st.assignment_saved', { teacher: saved.teacher_name, subject: saved.subject_name, klass: saved.class_name }));
    },
  });
}

async function deleteAssignment(a) {
  const named = { teacher: a.teacher_name, subject: a.subject_name, klass: a.class_name };
  const done = await confirmInDialog({
    title: t('st.assignment_delete_title', named),
    text: t('st.assignment_delete_text', named),
    confirmLabel: t('st.delete'),
    act: () => structureApi.deleteAssignment(a.id),
  });
  if (!done) return;
  await reloadAll();
  say('assignments', t('st.assignment_deleted', named));
}

const editAndDelete = (name, onEdit, onDelete) =>
  actions(rowButton('st.edit', t('st.edit_named', { name }), onEdit), ' ', rowButton('st.delete', t('st.delete_named', { name }), onDelete, 'danger'));
const rowAttrs = (kind, id) => ({ dataset: { id }, class: state.highlight[kind] === id ? 'is-new' : null });

function renderSubjects() {
  loaded(el('subjects-table'));
  replace(
    el('subjects-table'),
    table({
      caption: t('subjects.title'),
      headers: [t('subject.name'), t('subject.code'), t('common.actions')],
      rows: [...state.subjects]
        .sort((a, b) => collate(a.name, b.name))
        .map((s) => ({
          attrs: rowAttrs('subject', s.id),
          cells: [s.name, s.code ?? '—', editAndDelete(s.name, () => editSubject(s), () => deleteSubject(s))],
        })),
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
      headers: [t('team.name'), t('team.subjects'), t('team.teachers'), t('common.actions')],
      rows: [...state.teams]
        .sort((a, b) => collate(a.name, b.name))
        .map((team) => ({
          attrs: rowAttrs('team', team.id),
          cells: [
            team.name,
            names(team.subjects, 'name'),
            names(team.teachers, 'full_name'),
            editAndDelete(team.name, () => editTeam(team), () => deleteTeam(team)),
          ],
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
      headers: [t('lesson.teacher'), t('lesson.class'), t('lesson.subject'), t('common.actions')],
      rows: [...state.assignments]
        .sort((a, b) => collate(a.class_name, b.class_name) || collate(a.subject_name, b.subject_name))
        .map((a) => ({
          attrs: rowAttrs('assignment', a.id),
          cells: [
            a.teacher_name,
            a.class_name,
            a.subject_name,
            editAndDelete(t('st.assignment_named', { subject: a.subject_name, klass: a.class_name }), () => editAssignment(a), () => deleteAssignment(a)),
          ],
        })),
      emptyText: t('assignments.none'),
    }),
  );
}

function renderFormOptions() {
  renderChecklist(el('team-subjects'), subjectItems(), { name: 'subject_ids', emptyKey: 'subjects.none' });
  renderChecklist(el('team-teachers'), teacherItems(), { name: 'teacher_ids', emptyKey: 'users.no_teachers' });
  const f = assignmentForm.elements;
  fillSelect(f.teacher_id, teacherItems(), { placeholder: t('common.choose') });
  fillSelect(f.class_id, classItems(), { placeholder: t('common.choose') });
  fillSelect(f.subject_id, subjectItems(), { placeholder: t('common.choose') });
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
