// Pieces shared by the attendance, statistics and archive pages: number formats, status badges,
// and the filter form (from, to, class, grade, subject, teacher) with its options.

import { classes as classesApi, subjects as subjectsApi, users as usersApi } from './api.js';
import { fillSelect, h } from './dom.js';
import { clearErrors, showFieldError } from './forms.js';
import { addDays, isDayKey, todayKey } from './format.js';
import { locale, t } from './i18n.js';

export const ATTENDANCE_STATUSES = ['present', 'late', 'left_early', 'late_left_early', 'absent', 'not_yet'];

/** The badge colour of a status: both flags show as late; not held yet has none. */
const BADGE_CLASS = { late_left_early: 'att-late', not_yet: 'att-not-yet' };

export function formatPercent(rate, digits = 1) {
  return new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: digits }).format(rate ?? 0);
}

export function formatNumber(value, digits = 1) {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(value ?? 0);
}

/** "4:05" or "1:02:09". */
export function formatDuration(seconds) {
  const total = Math.max(0, Math.round(seconds ?? 0));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = String(total % 60).padStart(2, '0');
  return hours ? `${hours}:${String(minutes).padStart(2, '0')}:${secs}` : `${minutes}:${secs}`;
}

/** "850 kB", "12,4 MB". */
export function formatBytes(bytes) {
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte'];
  let value = Math.max(0, bytes ?? 0);
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return new Intl.NumberFormat(locale(), { style: 'unit', unit: units[unit], unitDisplay: 'short', maximumFractionDigits: unit ? 1 : 0 }).format(value);
}

export function attendanceBadge(status) {
  return h('span', { class: ['badge', 'att-badge', `att-${status}`, BADGE_CLASS[status]], dataset: { status } }, t(`att.status.${status}`));
}

/** "Đi muộn · Về sớm" as small tags (nothing when neither). */
export function attendanceFlags(record) {
  const flags = [record.late && 'late', record.left_early && 'left_early'].filter(Boolean);
  if (!flags.length) return h('span', { class: 'att-flags muted' }, '—');
  return h(
    'span',
    { class: 'att-flags' },
    flags.map((flag, i) => [i ? ' · ' : null, h('span', { class: ['att-flag', `att-flag-${flag}`], dataset: { flag } }, t(`att.flag.${flag}`))]),
  );
}

/** The share of the lesson present as a bar (a <meter>, readable by screen readers) and its percentage. */
export function shareBar(share) {
  const percent = formatPercent(share ?? 0, 0);
  return h(
    'span',
    { class: 'att-share', dataset: { share: String(share ?? 0) } },
    h('meter', { min: '0', max: '1', low: '0.5', optimum: '1', value: String(share ?? 0), 'aria-label': t('att.share_value', { percent }) }),
    ' ',
    h('span', { class: 'att-share-value' }, percent),
  );
}

export function recordingBadge(status) {
  const known = ['recording', 'complete', 'interrupted', 'queued', 'rendering', 'failed'].includes(status) ? status : 'failed';
  return h('span', { class: ['badge', 'rec-badge', `rec-${known}`], dataset: { status: known } }, t(`rec.status.${known}`));
}

// --- filters -----------------------------------------------------------------------------------

/**
 * What the filter selects offer: the classes, subjects and (for staff) teachers the user may see.
 * A list that cannot be loaded is left empty: the filter then offers "all" only.
 */
export async function loadFilterOptions(user) {
  const staff = user.role === 'admin' || user.role === 'teacher';
  const quietly = (promise) => promise.catch((err) => (err?.status === 401 ? Promise.reject(err) : []));
  const [classes, subjects, teachers] = await Promise.all([
    quietly(classesApi.list()),
    quietly(subjectsApi.list()),
    staff ? quietly(usersApi.list({ role: 'teacher' })) : Promise.resolve([]),
  ]);
  const grades = [...new Set(classes.map((c) => c.grade))].sort((a, b) => a - b);
  return { classes, subjects, teachers, grades };
}

const byName = (a, b) => a.localeCompare(b, 'vi');

/** Fill the selects of a filter form that has fields named class_id, grade, subject_id, teacher_id. */
export function fillFilterSelects(form, options, values = {}) {
  const fill = (name, items, placeholderKey) => {
    const select = form.elements.namedItem(name);
    if (!select) return;
    fillSelect(select, items, { placeholder: t(placeholderKey), value: values[name] ?? select.value });
  };
  fill('class_id', [...options.classes].sort((a, b) => byName(a.name, b.name)).map((c) => ({ value: c.id, label: c.name })), 'filter.all_classes');
  fill('grade', options.grades.map((g) => ({ value: g, label: t('grade.n', { n: g }) })), 'filter.all_grades');
  fill('subject_id', options.subjects.map((s) => ({ value: s.id, label: s.name })), 'filter.all_subjects');
  fill('teacher_id', [...options.teachers].sort((a, b) => byName(a.full_name, b.full_name)).map((u) => ({ value: u.id, label: u.full_name })), 'filter.all_teachers');
}

/** The filter values from the page's query string, with the dates defaulting to the last 30 days. */
export function filtersFromUrl(names, timeZone) {
  const params = new URLSearchParams(location.search);
  const today = todayKey(timeZone);
  const values = {};
  for (const name of names) values[name] = params.get(name) ?? '';
  if (!isDayKey(values.from)) values.from = addDays(today, -30);
  if (!isDayKey(values.to)) values.to = today;
  return values;
}

/** The non-empty values of the form's named controls. */
export function formValues(form, names) {
  const values = {};
  for (const name of names) {
    const value = form.elements.namedItem(name)?.value ?? '';
    if (value !== '') values[name] = value;
  }
  return values;
}

export function setFormValues(form, values) {
  for (const [name, value] of Object.entries(values)) {
    const control = form.elements.namedItem(name);
    if (control) control.value = value;
  }
}

/** Keep the filters in the address bar, so a view can be bookmarked or shared. */
export function syncUrl(values) {
  const query = new URLSearchParams(values);
  history.replaceState(null, '', `${location.pathname}?${query}`);
}

const MAX_DAYS = 366;

/**
 * Check the dates of a filter form (both given, in order, at most a year apart: the API's limits);
 * marks the offending field and returns false when they are not.
 */
export function checkDateRange(form, values) {
  clearErrors(form);
  let ok = true;
  for (const name of ['from', 'to']) {
    if (!values[name]) {
      showFieldError(form, name, t('form.required'));
      ok = false;
    }
  }
  if (ok && values.to < values.from) {
    showFieldError(form, 'to', t('filter.range_invalid'));
    ok = false;
  } else if (ok && addDays(values.from, MAX_DAYS) <= values.to) {
    showFieldError(form, 'to', t('filter.range_too_long'));
    ok = false;
  }
  if (!ok) form.querySelector('[aria-invalid="true"]')?.focus();
  return ok;
}
