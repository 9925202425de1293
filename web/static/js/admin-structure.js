// Editing the school's structure from the admin pages: the API calls that change or remove school
// years, classes, subjects, teams and assignments, an edit dialog around a static <form data-schema>,
// and a confirmation dialog that says what happens to the records (and shows the server's refusal).

import { request } from './api.js';
import { h } from './dom.js';
import { checkRequired, clearErrors, errorMessage, showErrors, whileBusy } from './forms.js';
import { t } from './i18n.js';
import './i18n-admin-structure.js';

const enc = encodeURIComponent;

export const structureApi = {
  updateYear: (id, body) => request('PATCH', `/api/school-years/${enc(id)}`, { body }),
  deleteYear: (id) => request('DELETE', `/api/school-years/${enc(id)}`),
  updateClass: (id, body) => request('PATCH', `/api/classes/${enc(id)}`, { body }),
  deleteClass: (id, { archive = false } = {}) =>
    request('DELETE', `/api/classes/${enc(id)}`, { query: archive ? { archive: 'true' } : undefined }),
  restoreClass: (id) => request('POST', `/api/classes/${enc(id)}/restore`),
  archivedClasses: async () => (await request('GET', '/api/classes', { query: { archived: 'true' } })).items,
  moveStudents: (id, userIds) => request('POST', `/api/classes/${enc(id)}/students`, { body: { user_ids: userIds, move: true } }),
  updateSubject: (id, body) => request('PATCH', `/api/subjects/${enc(id)}`, { body }),
  deleteSubject: (id) => request('DELETE', `/api/subjects/${enc(id)}`),
  updateTeam: (id, body) => request('PATCH', `/api/subject-teams/${enc(id)}`, { body }),
  deleteTeam: (id) => request('DELETE', `/api/subject-teams/${enc(id)}`),
  updateAssignment: (id, body) => request('PATCH', `/api/assignments/${enc(id)}`, { body }),
  deleteAssignment: (id) => request('DELETE', `/api/assignments/${enc(id)}`),
};

/** Every sentence of a refusal: the field messages when there are any, else the message. */
export function refusalText(err) {
  const said = (err?.fields ?? []).map((f) => f.message).filter(Boolean);
  return said.length ? said.join(' ') : errorMessage(err);
}

/**
 * Open `dialog` (a <dialog> holding one <form data-schema>) to edit something: `fill(form)` puts
 * the current values in; on submit `save(form)` runs (required fields and the server's limits
 * checked first); the dialog closes when it succeeds, and refusals stay next to their fields.
 */
export function editInDialog(dialog, { fill, save }) {
  const form = dialog.querySelector('form');
  clearErrors(form);
  fill(form);
  form.onsubmit = async (event) => {
    event.preventDefault();
    if (!checkRequired(form)) return;
    try {
      await whileBusy(form, 'common.saving', () => save(form));
      dialog.close();
    } catch (err) {
      showErrors(form, err);
    }
  };
  for (const button of dialog.querySelectorAll('[data-close]')) button.onclick = () => dialog.close();
  dialog.showModal();
  form.querySelector('input:not([type=hidden]), select')?.focus();
}

/**
 * Ask before a change that removes or archives something. `text` says what happens to the records;
 * without `act` the dialog only informs (one "Đóng" button). Resolves to the result of `act`, or
 * undefined when cancelled; a refusal of the server is shown in the dialog, which stays open.
 */
export function confirmInDialog({ title, text, confirmLabel, act, danger = true }) {
  const alert = h('div', { class: 'form-error', role: 'alert', hidden: true });
  const cancel = h('button', { type: 'button', class: 'button secondary', dataset: { action: 'cancel' } }, act ? t('st.cancel') : t('st.close'));
  const confirm = act
    ? h('button', { type: 'button', class: `button ${danger ? 'danger' : 'primary'}`, dataset: { action: 'confirm' } }, confirmLabel)
    : null;
  const dialog = h(
    'dialog',
    { class: 'room-dialog structure-confirm', 'aria-labelledby': 'structure-confirm-title', 'aria-describedby': 'structure-confirm-text' },
    h('h2', { id: 'structure-confirm-title' }, title),
    h('p', { id: 'structure-confirm-text' }, text),
    alert,
    h('div', { class: 'dialog-actions' }, cancel, confirm),
  );
  document.body.append(dialog);
  return new Promise((resolve) => {
    let result;
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    cancel.addEventListener('click', () => dialog.close());
    confirm?.addEventListener('click', async () => {
      confirm.disabled = true;
      alert.hidden = true;
      try {
        result = (await act()) ?? true;
        dialog.close();
      } catch (err) {
        alert.textContent = refusalText(err);
        alert.hidden = false;
        confirm.disabled = false;
      }
    });
    dialog.showModal();
    cancel.focus();
  });
}

/** A small button of a table row (Sửa / Xóa / Khôi phục) with a label naming the thing. */
export function rowButton(labelKey, named, onClick, kind = 'secondary') {
  return h(
    'button',
    { type: 'button', class: `button ${kind} small`, 'aria-label': named, dataset: { action: labelKey.split('.').at(-1) }, on: { click: onClick } },
    t(labelKey),
  );
}

export const actions = (...buttons) => h('div', { class: 'row-actions' }, buttons);
