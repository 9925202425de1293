// Form helpers: busy state, server validation errors shown next to the offending field.

import { h, replace } from './dom.js';
import { t } from './i18n.js';
import { overLimit } from './limits.js';

/** A user-facing sentence for an API error that belongs to no single field. */
export function errorMessage(err) {
  if (!err || err.status === undefined) return t('error.generic');
  if (err.status === 0) return t('error.network');
  const known = {
    403: 'error.forbidden',
    404: 'error.not_found',
    409: 'error.conflict',
    422: 'error.validation',
    429: 'error.rate_limited',
  }[err.status];
  const base = t(known ?? 'error.generic');
  // 409 and 422 come worded by the server (its catalogue, in the UI's language).
  return err.message && [409, 422].includes(err.status) && !err.fields?.length ? err.message : base;
}

function fieldName(name) {
  // Accept "starts_at", "body.starts_at", "user_ids[0]", "user_ids.0" and the like.
  const parts = String(name ?? '')
    .replace(/\[\d+\]/g, '')
    .split('.')
    .filter((p) => p && p !== 'body' && !/^\d+$/.test(p));
  return parts.at(-1) ?? '';
}

function controlFor(form, name) {
  if (!name) return null;
  return form.querySelector(`[data-field="${CSS.escape(name)}"]`) ?? form.elements.namedItem(name);
}

export function clearErrors(form) {
  for (const el of form.querySelectorAll('.field-error')) el.remove();
  for (const el of form.querySelectorAll('[aria-invalid="true"]')) {
    el.removeAttribute('aria-invalid');
    const ids = (el.getAttribute('aria-describedby') ?? '').split(' ').filter((id) => id && !id.endsWith('-error'));
    if (ids.length) el.setAttribute('aria-describedby', ids.join(' '));
    else el.removeAttribute('aria-describedby');
  }
  const summary = form.querySelector('.form-error');
  if (summary) {
    summary.hidden = true;
    summary.replaceChildren();
  }
}

/** Put one message next to one field (by its name); false when the form has no such field. */
export function showFieldError(form, name, message) {
  let control = controlFor(form, name);
  if (control instanceof RadioNodeList) control = control[0];
  if (!control) return false;
  const wrapper = control.closest('.field') ?? control.parentElement;
  const id = `${form.id || 'form'}-${name}-error`;
  let note = wrapper.querySelector(`#${CSS.escape(id)}`);
  if (!note) {
    note = h('p', { class: 'field-error', id });
    wrapper.append(note);
  }
  note.textContent = message;
  control.setAttribute('aria-invalid', 'true');
  const described = new Set((control.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean));
  described.add(id);
  control.setAttribute('aria-describedby', [...described].join(' '));
  return true;
}

/** Show an error summary at the top of the form. */
export function showFormError(form, message) {
  let summary = form.querySelector('.form-error');
  if (!summary) {
    summary = h('div', { class: 'form-error', role: 'alert' });
    form.prepend(summary);
  }
  replace(summary, message);
  summary.hidden = false;
}

/** Show an API error on a form: each named field gets its message, the rest go on top. */
export function showErrors(form, err) {
  clearErrors(form);
  const unplaced = [];
  let first = null;
  for (const { field, message } of err?.fields ?? []) {
    const name = fieldName(field);
    if (showFieldError(form, name, message)) {
      first ??= controlFor(form, name);
    } else {
      unplaced.push(message);
    }
  }
  if (!err?.fields?.length || unplaced.length) {
    showFormError(form, [errorMessage(err), ...unplaced].join(' '));
  }
  const focusable = first instanceof RadioNodeList ? first[0] : first;
  (focusable?.matches?.('fieldset') ? focusable.querySelector('input, select') : focusable)?.focus();
}

/** Disable a form's submit button and show a busy label while `work` runs. */
export async function whileBusy(form, busyKey, work) {
  const button = form.querySelector('button[type="submit"]');
  const label = button?.textContent;
  form.setAttribute('aria-busy', 'true');
  if (button) {
    button.disabled = true;
    button.textContent = t(busyKey);
  }
  try {
    return await work();
  } finally {
    form.removeAttribute('aria-busy');
    if (button) {
      button.disabled = false;
      button.textContent = label;
    }
  }
}

/** Announce a short success message in a form's status line (a live region, empty until now). */
export function announce(form, message) {
  const status = form.querySelector('.form-status');
  if (status) status.textContent = message;
}

/** Optional id from a <select> (empty -> null). */
export const idOrNull = (value) => (value === '' || value === null || value === undefined ? null : Number(value));

/**
 * A list of checkboxes inside `fieldset` (a multi-select that works on phones and with screen
 * readers), with a filter box when the list is long. Keeps the checked values across re-renders.
 */
export function renderChecklist(fieldset, items, { name, emptyKey }) {
  const checked = new Set(checkedValues(fieldset));
  const box = fieldset.querySelector('.checklist') ?? fieldset.appendChild(h('div', { class: 'checklist' }));
  if (!items.length) {
    replace(box, h('p', { class: 'muted' }, t(emptyKey)));
    fieldset.querySelector('.checklist-filter')?.remove();
    return;
  }
  const list = h(
    'ul',
    { class: 'checklist-items' },
    items.map(({ value, label, hint }) =>
      h(
        'li',
        { dataset: { search: `${label} ${hint ?? ''}`.toLowerCase() } },
        h(
          'label',
          { class: 'check' },
          h('input', { type: 'checkbox', name, value: String(value), checked: checked.has(String(value)) }),
          h('span', {}, label, hint ? h('span', { class: 'muted' }, ` · ${hint}`) : null),
        ),
      ),
    ),
  );
  replace(box, list);
  let filter = fieldset.querySelector('.checklist-filter');
  if (items.length > 8 && !filter) {
    filter = h('input', {
      type: 'search',
      class: 'checklist-filter',
      'aria-label': t('common.filter_list'),
      placeholder: t('common.filter_list'),
      dataset: { i18nAriaLabel: 'common.filter_list', i18nPlaceholder: 'common.filter_list' },
      on: {
        input: () => {
          const q = filter.value.trim().toLowerCase();
          for (const li of fieldset.querySelectorAll('.checklist-items li')) li.hidden = q !== '' && !li.dataset.search.includes(q);
        },
      },
    });
    box.before(filter);
  }
}

export function checkedValues(fieldset) {
  return [...fieldset.querySelectorAll('input[type="checkbox"]:checked')].map((el) => el.value);
}

/** Mark empty required fields before bothering the server; true when none is empty. */
export function checkRequired(form) {
  clearErrors(form);
  let ok = true;
  for (const el of form.querySelectorAll('[required]')) {
    if (!String(el.value ?? '').trim()) {
      showFieldError(form, el.name, t('form.required'));
      ok = false;
    }
  }
  if (!ok) form.querySelector('[aria-invalid="true"]')?.focus();
  else if (overLimit(form).length) ok = false; // the counter says by how much
  return ok;
}
