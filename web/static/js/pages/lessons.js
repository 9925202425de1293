// /lessons: "Tiết học của tôi": today's lessons and the next 7 days' of the signed-in user.

import { me as meApi } from '../api.js';
import { h, loaded, loading, replace } from '../dom.js';
import { errorMessage } from '../forms.js';
import { dayKey, formatDay, parseInstant, todayKey } from '../format.js';
import { onLangChange, t } from '../i18n.js';
import { initLayout } from '../layout.js';
import { lessonFacts, statusBadge } from '../lesson-parts.js';

const REFRESH_MS = 60_000; // statuses change as lessons start and end

const todayList = document.getElementById('today-list');
const upcomingList = document.getElementById('upcoming-list');

function lessonCard(lesson, timeZone) {
  const live = lesson.status === 'live';
  const titleId = `lesson-${lesson.id}-title`;
  return h(
    'article',
    { class: ['lesson-card', `is-${lesson.status}`], dataset: { lessonId: lesson.id, status: lesson.status }, 'aria-labelledby': titleId },
    h('div', { class: 'card-head' }, h('h3', { class: 'lesson-title', id: titleId }, lesson.title), statusBadge(lesson.status)),
    lessonFacts(lesson, timeZone),
    h(
      'div',
      { class: 'card-actions' },
      h(
        'a',
        {
          class: ['button', 'join', live ? 'primary' : 'secondary'],
          href: `/lessons/${lesson.id}`,
          'aria-describedby': titleId,
          dataset: { live: String(live) },
        },
        t('lesson.join'),
      ),
    ),
  );
}

function renderList(el, lessonsOfDays, emptyKey, timeZone, { dayHeadings }) {
  loaded(el);
  if (!lessonsOfDays.length) {
    replace(el, h('p', { class: 'empty' }, t(emptyKey)));
    return;
  }
  const groups = new Map();
  for (const lesson of lessonsOfDays) {
    const key = dayKey(lesson.starts_at, timeZone);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(lesson);
  }
  replace(
    el,
    [...groups].map(([key, items]) =>
      h(
        'div',
        { class: 'day-group' },
        dayHeadings ? h('h3', { class: 'day-heading' }, formatDay(key)) : null,
        h('div', { class: 'cards' }, items.map((lesson) => lessonCard(lesson, timeZone))),
      ),
    ),
  );
}

async function main() {
  const ctx = await initLayout();
  if (!ctx) return;
  const { user, timeZone } = ctx;
  document.getElementById('admin-hint').hidden = user.role !== 'admin';

  let lessons = null;
  let failure = null;

  const render = () => {
    const today = todayKey(timeZone);
    document.getElementById('today-date').textContent = formatDay(today);
    if (failure) {
      for (const el of [todayList, upcomingList]) {
        loaded(el);
        replace(el, h('p', { class: 'form-error', role: 'alert' }, errorMessage(failure)));
      }
      return;
    }
    if (!lessons) return;
    const sorted = [...lessons].sort((a, b) => parseInstant(a.starts_at) - parseInstant(b.starts_at));
    const isToday = (l) => dayKey(l.starts_at, timeZone) === today || l.status === 'live';
    renderList(todayList, sorted.filter(isToday), 'lessons.none_today', timeZone, { dayHeadings: false });
    renderList(
      upcomingList,
      sorted.filter((l) => !isToday(l) && dayKey(l.starts_at, timeZone) > today),
      'lessons.none_upcoming',
      timeZone,
      { dayHeadings: true },
    );
  };

  const load = async () => {
    try {
      lessons = await meApi.lessons();
      failure = null;
    } catch (err) {
      if (err.status === 401) return;
      failure = err;
    }
    render();
  };

  loading(todayList, t('common.loading'));
  loading(upcomingList, t('common.loading'));
  await load();
  onLangChange(render);
  setInterval(() => {
    if (!document.hidden) load();
  }, REFRESH_MS);
}

main();
