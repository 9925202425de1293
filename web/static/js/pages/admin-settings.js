// /admin/settings: "Cài đặt nhà trường": one form in sections (the school, attendance, lessons,
// recording, how long records are kept) over GET/PATCH /api/school/settings. Only what changed is sent; refusals come worded
// by the server in the UI's language and sit next to their field. The periods of the day are set on
// the timetable page (linked).

import { request } from '../api.js';
import { clearErrors, errorMessage, showErrors, showFormError, whileBusy } from '../forms.js';
import '../i18n-settings.js';
import { h } from '../dom.js';
import { onLangChange, t } from '../i18n.js';
import { initLayout } from '../layout.js';

const NUMBERS = [
  'late_after_minutes', 'left_early_minutes', 'min_presence_percent', 'lesson_grace_minutes',
  'recording_retention_days', 'chat_retention_days', 'board_retention_days', 'materials_retention_days', 'attempts_retention_days',
];
const TEXTS = ['name', 'timezone', 'recording_mode'];

const settingsApi = {
  get: () => request('GET', '/api/school/settings'),
  save: (body) => request('PATCH', '/api/school/settings', { body }),
};

const form = document.getElementById('settings-form');
const status = document.getElementById('settings-status');
let saved = null;

function fill(settings) {
  for (const name of TEXTS) form.elements[name].value = settings[name] ?? '';
  for (const name of NUMBERS) form.elements[name].value = settings[name] === null ? '' : String(settings[name]);
  form.elements.record_students.checked = Boolean(settings.record_students);
}

/** A number as typed: empty is null (the server says whether that is allowed), otherwise Number. */
function numberOf(text) {
  const value = text.trim();
  return value === '' ? null : Number(value);
}

function values() {
  const out = {};
  for (const name of TEXTS) out[name] = form.elements[name].value.trim();
  for (const name of NUMBERS) out[name] = numberOf(form.elements[name].value);
  out.record_students = form.elements.record_students.checked;
  return out;
}

/** Only the fields that differ from what the server last said. */
function changes(current) {
  return Object.fromEntries(Object.entries(current).filter(([name, value]) => saved?.[name] !== value));
}

function fillZones() {
  let zones = ['Asia/Ho_Chi_Minh', 'Asia/Bangkok', 'Asia/Jakarta', 'Asia/Singapore', 'UTC'];
  try {
    zones = Intl.supportedValuesOf('timeZone');
  } catch {
    // an older browser: the short list
  }
  document.getElementById('set-timezones').replaceChildren(...zones.map((zone) => h('option', { value: zone })));
}

async function submit(event) {
  event.preventDefault();
  clearErrors(form);
  status.textContent = '';
  const body = changes(values());
  if (!Object.keys(body).length) {
    status.textContent = t('set.unchanged');
    return;
  }
  try {
    saved = await whileBusy(form, 'set.saving', () => settingsApi.save(body));
  } catch (err) {
    if (err.status !== 401) showErrors(form, err);
    return;
  }
  fill(saved);
  const time = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(new Date());
  status.textContent = t('set.saved', { time });
}

async function main() {
  const ctx = await initLayout({ role: 'admin' });
  if (!ctx) return;
  fillZones();
  try {
    saved = await settingsApi.get();
  } catch (err) {
    if (err.status !== 401) showFormError(form, t('set.load_failed', { error: errorMessage(err) }));
    return;
  } finally {
    form.removeAttribute('aria-busy');
  }
  fill(saved);
  form.addEventListener('submit', submit);
  onLangChange(() => {
    if (status.textContent) status.textContent = '';
  });
}

main();
