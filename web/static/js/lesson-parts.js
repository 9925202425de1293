// Pieces of a lesson shown on several pages: the status badge and the description list.

import { h } from './dom.js';
import { formatDate, formatTimeRange } from './format.js';
import { t } from './i18n.js';

export const STATUSES = ['upcoming', 'live', 'ended'];

export function statusBadge(status) {
  const known = STATUSES.includes(status) ? status : 'upcoming';
  return h('span', { class: `badge status-${known}`, dataset: { status: known } }, t(`status.${known}`));
}

/** Subject, class, teacher and time of a lesson as a <dl>. */
export function lessonFacts(lesson, timeZone, { withDate = false } = {}) {
  const row = (key, value, cls) => h('div', { class: cls }, h('dt', {}, t(key)), h('dd', {}, value));
  return h(
    'dl',
    { class: 'facts' },
    row('lesson.subject', lesson.subject_name, 'fact-subject'),
    row('lesson.class', lesson.class_name, 'fact-class'),
    row('lesson.teacher', lesson.teacher_name, 'fact-teacher'),
    withDate ? row('lesson.date', formatDate(lesson.starts_at, timeZone), 'fact-date') : null,
    row('lesson.time', h('time', { datetime: lesson.starts_at }, formatTimeRange(lesson.starts_at, lesson.ends_at, timeZone)), 'fact-time'),
  );
}
