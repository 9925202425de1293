// The server's limits, shown before they bite. A <form data-schema="ClassCreate"> learns each field's
// limits from the API's own schema (/api/openapi.json): text fields get a counter ("12/32") and a
// message from the server's catalogue of refusals (/api/catalogue) when they are too long; number
// fields get min/max. Nothing is cut silently (no native maxlength, which truncates a paste).

import { getLang, onLangChange } from './i18n.js';

let schemas = null;
const catalogues = {};

function loadSchemas() {
  schemas ??= fetch('/api/openapi.json', { credentials: 'same-origin' })
    .then((r) => (r.ok ? r.json() : {}))
    .then((doc) => doc?.components?.schemas ?? {})
    .catch(() => ({}));
  return schemas;
}

/** The catalogue's sentences in `lang` (the same the API answers with). */
export function catalogue(lang = getLang()) {
  catalogues[lang] ??= fetch(`/api/catalogue?lang=${encodeURIComponent(lang)}`, { credentials: 'same-origin' })
    .then((r) => (r.ok ? r.json() : { messages: {} }))
    .then((body) => body.messages ?? {})
    .catch(() => ({}));
  return catalogues[lang];
}

/** A catalogue sentence with its {params} filled in; `field:code` wording first. */
export function sentence(messages, code, params = {}, field = '') {
  const template = messages[`${field}:${code}`] ?? messages[code];
  if (!template) return '';
  return template.replace(/\{(\w+)\}/g, (whole, key) => (key in params ? String(params[key]) : whole));
}

function limitsOf(prop) {
  const variants = prop?.anyOf ?? [prop ?? {}];
  const out = {};
  for (const v of variants) {
    for (const key of ['maxLength', 'minLength', 'minimum', 'maximum']) if (v[key] !== undefined) out[key] ??= v[key];
  }
  return out;
}

function counterFor(control) {
  const id = `${control.form?.id || 'form'}-${control.name}-count`;
  let counter = document.getElementById(id);
  if (!counter) {
    counter = document.createElement('span');
    counter.id = id;
    counter.className = 'char-count';
    counter.setAttribute('aria-live', 'polite');
    control.insertAdjacentElement('afterend', counter);
    const described = new Set((control.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean));
    described.add(id);
    control.setAttribute('aria-describedby', [...described].join(' '));
  }
  return counter;
}

async function showCount(control) {
  const max = Number(control.dataset.maxlength);
  const length = [...control.value].length;
  const counter = counterFor(control);
  const over = length > max;
  counter.classList.toggle('over', over);
  counter.hidden = length < max * 0.6 && !over;
  if (over) {
    counter.textContent = `${length}/${max} · ${sentence(await catalogue(), 'too_long', { max_length: max }, control.name)}`;
    control.setAttribute('aria-invalid', 'true');
  } else {
    counter.textContent = `${length}/${max}`;
    if (control.dataset.limitInvalid) control.removeAttribute('aria-invalid');
  }
  if (over) control.dataset.limitInvalid = '1';
  else delete control.dataset.limitInvalid;
}

/** Apply the schema's limits to one form (once); resolves when done. */
export async function applyLimits(form) {
  const name = form.dataset.schema;
  if (!name || form.dataset.limitsApplied) return;
  form.dataset.limitsApplied = 'pending';
  const schema = (await loadSchemas())[name];
  if (!schema) {
    delete form.dataset.limitsApplied;
    return;
  }
  for (const [field, prop] of Object.entries(schema.properties ?? {})) {
    const control = form.elements.namedItem(field);
    const limits = limitsOf(prop);
    if (control instanceof HTMLInputElement && control.type === 'number') {
      if (limits.minimum !== undefined && control.min === '') control.min = String(limits.minimum);
      if (limits.maximum !== undefined && control.max === '') control.max = String(limits.maximum);
    } else if ((control instanceof HTMLInputElement || control instanceof HTMLTextAreaElement) && limits.maxLength) {
      control.removeAttribute('maxlength');
      control.dataset.maxlength = String(limits.maxLength);
      if (limits.minLength && control.required) control.minLength = limits.minLength;
      control.addEventListener('input', () => showCount(control));
      showCount(control);
    }
  }
  form.dataset.limitsApplied = 'yes';
  form.dispatchEvent(new CustomEvent('lophoc:limits', { bubbles: true }));
}

/** Controls of `form` whose text is over the server's limit (focus the first and show why). */
export function overLimit(form) {
  const over = [...form.querySelectorAll('[data-maxlength]')].filter((c) => [...c.value].length > Number(c.dataset.maxlength));
  for (const control of over) showCount(control);
  over[0]?.focus();
  return over;
}

function scan(root) {
  if (root.matches?.('form[data-schema]')) applyLimits(root);
  for (const form of root.querySelectorAll?.('form[data-schema]') ?? []) applyLimits(form);
}

if (typeof document !== 'undefined') {
  const start = () => {
    scan(document);
    new MutationObserver((changes) => {
      for (const change of changes) for (const node of change.addedNodes) if (node.nodeType === 1) scan(node);
    }).observe(document.documentElement, { childList: true, subtree: true });
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
  onLangChange(() => {
    for (const control of document.querySelectorAll('[data-limit-invalid]')) showCount(control);
  });
}
