// Notices of a lesson's changes (đổi lịch, hủy, dạy thay, dạy bù) with old → new, and its periods;
// shared by the timetable grid and the lesson lists. Text from the server goes in as text only.

import { h } from './dom.js';
import { dayKey, formatDay, formatTime } from './format.js';
import { t } from './i18n.js';
import './i18n-timetable.js';

/** "07:00 thứ Hai 03/09" in the school's time zone. */
export function when(instant, timeZone) {
  return `${formatTime(instant, timeZone)} ${formatDay(dayKey(instant, timeZone), { weekday: 'long', day: '2-digit', month: '2-digit' })}`;
}

export function periodsLabel(lesson) {
  if (!lesson.period_from) return null;
  return lesson.period_to && lesson.period_to !== lesson.period_from
    ? t('tt.periods_n', { from: lesson.period_from, to: lesson.period_to })
    : t('tt.period_n', { n: lesson.period_from });
}

function noticeText(change, timeZone) {
  const before = change.before ?? {};
  const after = change.after ?? {};
  switch (change.kind) {
    case 'move':
      return t('tt.notice.move', { old: when(before.starts_at, timeZone), new: when(after.starts_at, timeZone) });
    case 'cancel':
      return t('tt.notice.cancel', { reason: change.note || '—' });
    case 'substitute':
      return t('tt.notice.substitute', { old: before.teacher_name ?? '', new: after.teacher_name ?? '' });
    case 'makeup':
      return t('tt.notice.makeup', { old: when(before.starts_at, timeZone) });
    default:
      return '';
  }
}

const KIND_LABEL = { move: 'tt.moved', cancel: 'tt.cancelled', substitute: 'tt.substituted', makeup: 'tt.makeup' };

/** Badges naming what happened to the lesson ("Đã đổi lịch", "Đã hủy", ...), newest last. */
export function changeBadges(lesson) {
  const kinds = [...new Set((lesson.changes ?? []).map((c) => c.kind))];
  if (lesson.status === 'cancelled' && !kinds.includes('cancel')) kinds.push('cancel');
  return kinds.map((kind) => h('span', { class: `badge tt-badge tt-badge-${kind}`, dataset: { change: kind } }, t(KIND_LABEL[kind])));
}

/** A list of the lesson's change notices with old → new, or null when it has none. */
export function changeNotices(lesson, timeZone) {
  const changes = lesson.changes ?? [];
  if (!changes.length) return null;
  return h(
    'ul',
    { class: 'tt-notices', 'aria-label': t('tt.notices') },
    changes.map((change) => h('li', { class: 'tt-notice', dataset: { change: change.kind } }, noticeText(change, timeZone))),
  );
}
