// /admin/import: a rolls spreadsheet (students, teachers, classes, teaching assignments) checked
// by the server row by row, imported all or nothing, then the new accounts' slips per class.

import '../i18n-import.js';
import { ApiError, readCookie } from '../api.js';
import { h, replace } from '../dom.js';
import { clearErrors, errorMessage, showErrors, showFieldError } from '../forms.js';
import { getLang, onLangChange, t } from '../i18n.js';
import { initLayout } from '../layout.js';
import { postForm } from '../upload.js';

const COLUMNS = {
  students: [['full_name', true], ['class_name', true], ['username', false], ['birth_date', false]],
  teachers: [['full_name', true], ['username', false], ['team', false]],
  classes: [['name', true], ['grade', true], ['homeroom_teacher', false]],
  assignments: [['class_name', true], ['subject', true], ['teacher', true]],
};

const form = document.getElementById('import-form');
const fileInput = document.getElementById('imp-file');
const progressBox = document.getElementById('imp-progress-box');
const progress = document.getElementById('imp-progress');
const progressLabel = document.getElementById('imp-progress-label');
const previewPanel = document.getElementById('imp-preview-panel');
const previewEl = document.getElementById('imp-preview');
const summaryEl = document.getElementById('imp-summary');
const importButton = document.getElementById('imp-import');
const importError = document.getElementById('imp-import-error');
const credentialsPanel = document.getElementById('imp-credentials-panel');
const sheetsEl = document.getElementById('imp-sheets');

const state = { kind: 'students', preview: null, previewedFile: null, result: null, busy: false };

const kind = () => form.elements.kind.value;

/** POST the chosen file as multipart/form-data, with upload progress; resolves to the parsed answer. */
async function upload(url, file, label) {
  progressBox.hidden = false;
  progress.value = 0;
  progressLabel.textContent = t('imp.uploading');
  const body = new FormData();
  body.append('file', file);
  try {
    return await postForm(url, body, (share) => {
      if (share !== null) {
        progress.value = Math.round(100 * share);
        return;
      }
      progress.removeAttribute('value'); // the server is checking: indeterminate
      progressLabel.textContent = t(label);
    });
  } finally {
    progressBox.hidden = true;
  }
}

function asError(status, data) {
  const error = data?.error ?? {};
  return new ApiError(status, error.code ?? `http_${status}`, error.message ?? '', error.fields);
}

function renderTemplate() {
  const k = kind();
  const columns = COLUMNS[k].map(([key, required]) => (required ? t(`imp.col.${key}`) : `${t(`imp.col.${key}`)} ${t('imp.optional')}`));
  document.getElementById('imp-columns').textContent = t('imp.columns', { columns: columns.join(' | ') });
  document.getElementById('imp-export-xlsx').href = `/api/rolls/${k}.xlsx`;
  document.getElementById('imp-export-csv').href = `/api/rolls/${k}.csv`;
}

function renderPreview() {
  const preview = state.preview;
  previewPanel.hidden = !preview;
  importError.hidden = true;
  if (!preview) return;
  const { counts } = preview;
  summaryEl.textContent = preview.ok
    ? t('imp.summary_ok', { rows: counts.rows, create: counts.create, skip: counts.skip, year: preview.school_year ?? '—' })
    : t('imp.summary_bad', { problems: counts.problems, rows: counts.rows });
  summaryEl.className = preview.ok ? 'imp-summary' : 'imp-summary form-error';
  const keys = COLUMNS[preview.kind].map(([key]) => key);
  const headers = [t('imp.row'), ...keys.map((key) => t(`imp.col.${key}`)), t('imp.result'), t('imp.problems')];
  const rows = preview.rows.map((row) => {
    const bad = new Set(row.problems.map((p) => p.column));
    const action = row.problems.length ? 'problem' : row.enrol_existing ? 'enrol' : row.action;
    const cells = keys.map((key) => {
      const value = row.values[key] ?? '';
      const generated = key === 'username' && !value && row.username && action === 'create';
      const content = generated ? h('span', { class: 'imp-generated' }, t('imp.generated', { username: row.username })) : value;
      return h('td', { class: bad.has(key) ? 'cell-problem' : null, 'aria-invalid': bad.has(key) ? 'true' : null, dataset: { column: key } }, content);
    });
    return h(
      'tr',
      { class: row.problems.length ? 'has-problems' : null, dataset: { row: row.row } },
      h('th', { scope: 'row' }, String(row.row)),
      cells,
      h('td', { class: `imp-action-${action}` }, t(`imp.action.${action}`)),
      h('td', {}, row.problems.length ? h('ul', { class: 'imp-problems' }, row.problems.map((p) => h('li', { dataset: { column: p.column, code: p.code } }, p.message))) : ''),
    );
  });
  replace(
    previewEl,
    h('table', { class: 'data-table imp-table' },
      h('caption', { class: 'visually-hidden' }, t('imp.preview_heading')),
      h('thead', {}, h('tr', {}, headers.map((label) => h('th', { scope: 'col' }, label)))),
      h('tbody', {}, rows)),
  );
  const creating = preview.ok ? counts.create : 0;
  importButton.disabled = !preview.ok || creating === 0 || state.busy;
  importButton.textContent = !preview.ok ? t('imp.import') : creating === 0 ? t('imp.nothing_new') : t('imp.import_n', { n: creating });
}

async function check(event) {
  event?.preventDefault();
  clearErrors(form);
  const file = fileInput.files[0];
  state.preview = null;
  state.previewedFile = null;
  renderPreview();
  if (!file) {
    showFieldError(form, 'file', t('imp.choose_file'));
    return;
  }
  state.busy = true;
  form.setAttribute('aria-busy', 'true');
  try {
    const { status, data } = await upload(`/api/rolls/${kind()}/preview`, file, 'imp.checking');
    if (status !== 200) throw asError(status, data);
    state.preview = data;
    state.previewedFile = file;
    credentialsPanel.hidden = true;
  } catch (err) {
    showErrors(form, err);
  } finally {
    state.busy = false;
    form.removeAttribute('aria-busy');
  }
  renderPreview();
}

async function runImport() {
  const file = state.previewedFile;
  if (!file || !state.preview?.ok) return;
  state.busy = true;
  importButton.disabled = true;
  importError.hidden = true;
  try {
    const { status, data } = await upload(`/api/rolls/${state.preview.kind}/import`, file, 'imp.importing');
    if (status === 422 && data?.rows) {
      // Something changed since the check: the rows say what, nothing was written.
      state.preview = { kind: data.kind, school_year: data.school_year, rows: data.rows, ok: false, counts: data.counts };
      state.busy = false;
      renderPreview();
      importError.textContent = data.error?.message ?? '';
      importError.hidden = false;
      return;
    }
    if (status !== 201) throw asError(status, data);
    state.result = data;
    state.preview = null;
    state.previewedFile = null;
    fileInput.value = '';
    state.busy = false;
    renderPreview();
    renderCredentials();
  } catch (err) {
    state.busy = false;
    importError.textContent = errorMessage(err);
    importError.hidden = false;
    renderPreview();
  }
}

function byClass(credentials) {
  const groups = new Map();
  for (const c of credentials) {
    const key = c.class_name ?? '';
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(c);
  }
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b, 'vi', { numeric: true }));
}

function renderCredentials() {
  const result = state.result;
  credentialsPanel.hidden = !result;
  if (!result) return;
  document.getElementById('imp-done').textContent = t('imp.done', { created: result.created, skipped: result.skipped });
  const hasCredentials = result.credentials.length > 0;
  for (const id of ['imp-print', 'imp-download']) document.getElementById(id).hidden = !hasCredentials;
  replace(
    sheetsEl,
    byClass(result.credentials).map(([name, people]) =>
      h('section', { class: 'imp-sheet', dataset: { className: name } },
        h('h3', {}, name ? t('imp.sheet_class', { name }) : t('imp.sheet_teachers')),
        h('p', { class: 'hint' }, t('imp.sheet_signin', { url: location.origin })),
        h('table', { class: 'data-table' },
          h('thead', {}, h('tr', {}, [t('imp.full_name'), t('imp.username'), t('imp.password')].map((label) => h('th', { scope: 'col' }, label)))),
          h('tbody', {}, [...people]
            .sort((a, b) => a.full_name.localeCompare(b.full_name, 'vi'))
            .map((c) => h('tr', {}, h('th', { scope: 'row' }, c.full_name), h('td', {}, c.username), h('td', {}, c.password))))))),
  );
  credentialsPanel.scrollIntoView?.({ block: 'start' });
}

function printSheets() {
  document.body.classList.add('imp-printing');
  window.addEventListener('afterprint', () => document.body.classList.remove('imp-printing'), { once: true });
  window.print();
}

async function downloadSheet() {
  const error = document.getElementById('imp-download-error');
  error.hidden = true;
  const headers = { 'Content-Type': 'application/json', 'Accept-Language': getLang() };
  const token = readCookie('lophoc_csrf');
  if (token) headers['X-CSRF-Token'] = token;
  try {
    const response = await fetch('/api/rolls/credentials.xlsx', {
      method: 'POST', headers, credentials: 'same-origin', body: JSON.stringify({ credentials: state.result.credentials }),
    });
    if (!response.ok) throw asError(response.status, await response.json().catch(() => null));
    const url = URL.createObjectURL(await response.blob());
    const link = h('a', { href: url, download: 'tai-khoan-moi.xlsx', hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (err) {
    error.textContent = errorMessage(err);
    error.hidden = false;
  }
}

async function main() {
  const ctx = await initLayout({ role: 'admin' });
  if (!ctx) return;
  renderTemplate();
  form.addEventListener('submit', check);
  fileInput.addEventListener('change', () => {
    if (fileInput.files.length) check();
  });
  for (const radio of form.querySelectorAll('input[name="kind"]')) {
    radio.addEventListener('change', () => {
      renderTemplate();
      if (fileInput.files.length) check();
      else {
        state.preview = null;
        renderPreview();
      }
    });
  }
  importButton.addEventListener('click', runImport);
  document.getElementById('imp-print').addEventListener('click', printSheets);
  document.getElementById('imp-download').addEventListener('click', downloadSheet);
  onLangChange(() => {
    renderTemplate();
    renderCredentials();
    // The server words the problems: ask again in the new language.
    if (state.preview && fileInput.files.length && !state.busy) check();
    else renderPreview();
  });
}

main();
