// /supervision: "Đang diễn ra", the administrator's view of the school's lessons happening now:
// who teaches, how many of the class are present, whether it is recorded, who waits to be
// admitted, and the way in to observe (the lesson page, where an administrator is an observer).

import { request } from '../api.js';
import { h, loaded, loading, replace } from '../dom.js';
import { errorMessage } from '../forms.js';
import { formatTime, formatTimeRange } from '../format.js';
import { onLangChange, t } from '../i18n.js';
import '../i18n-supervision.js';
import { initLayout } from '../layout.js';

const REFRESH_MS = 10_000;

const list = document.getElementById('live-list');
const status = document.getElementById('sup-status');
const problem = document.getElementById('sup-error');

function fact(key, value, cls) {
  return h('div', { class: cls }, h('dt', {}, t(key)), h('dd', {}, value));
}

function teacherFact(lesson) {
  const here = lesson.teacher_present;
  return fact(
    'sup.teacher',
    [
      h('span', { class: 'sup-teacher-name' }, lesson.teacher_name),
      ' ',
      h('span', { class: ['sup-presence', here ? 'is-in' : 'is-out'], dataset: { present: String(here) } }, t(here ? 'sup.teacher_in' : 'sup.teacher_out')),
    ],
    'fact-teacher',
  );
}

function lessonCard(lesson, timeZone) {
  const titleId = `live-${lesson.id}-title`;
  const present = { present: lesson.students_present, total: lesson.students_total };
  return h(
    'article',
    {
      class: ['lesson-card', 'sup-card', lesson.live ? 'is-live' : 'is-quiet'],
      dataset: { lessonId: lesson.id, live: String(lesson.live) },
      'aria-labelledby': titleId,
    },
    h(
      'div',
      { class: 'card-head' },
      h('h2', { class: 'lesson-title', id: titleId }, lesson.title),
      lesson.live
        ? h('span', { class: 'badge status-live' }, t('status.live'))
        : h('span', { class: 'badge status-upcoming sup-not-open' }, t('sup.not_open')),
    ),
    h(
      'dl',
      { class: 'facts' },
      fact('sup.class', lesson.class_name, 'fact-class'),
      fact('sup.subject', lesson.subject_name, 'fact-subject'),
      teacherFact(lesson),
      fact('sup.time', h('time', { datetime: lesson.starts_at }, formatTimeRange(lesson.starts_at, lesson.ends_at, timeZone)), 'fact-time'),
      fact(
        'sup.present',
        h('span', { class: 'sup-present', 'aria-label': t('sup.present_label', present) }, t('sup.present_value', present)),
        'fact-present',
      ),
    ),
    h(
      'p',
      { class: 'sup-flags' },
      lesson.recording ? h('span', { class: 'sup-rec' }, t('sup.recording')) : null,
      lesson.waiting ? h('span', { class: 'sup-waiting' }, t('sup.waiting', { n: lesson.waiting })) : null,
      lesson.observers ? h('span', { class: 'sup-observers' }, t('sup.observers', { n: lesson.observers })) : null,
    ),
    h(
      'div',
      { class: 'card-actions' },
      h(
        'a',
        { class: 'button primary observe', href: `/lessons/${lesson.id}`, 'aria-describedby': titleId },
        t('sup.observe'),
      ),
    ),
  );
}

async function main() {
  const ctx = await initLayout({ role: 'admin' });
  if (!ctx) return;
  const { timeZone } = ctx;

  let data = null;
  let failure = null;

  const render = () => {
    problem.hidden = !failure;
    problem.textContent = failure ? t('sup.stale', { error: errorMessage(failure) }) : '';
    if (!data) {
      if (failure) loaded(list).replaceChildren();
      return;
    }
    loaded(list);
    status.textContent = `${t('sup.summary', { n: data.items.length })} · ${t('sup.updated', { time: formatTime(data.now, timeZone) })}`;
    if (!data.items.length) {
      replace(
        list,
        h(
          'div',
          { class: 'sup-empty' },
          h('p', { class: 'empty' }, t('sup.empty')),
          h('p', {}, t('sup.empty_hint'), ' ', h('a', { href: '/admin/timetable' }, t('nav.timetable')), '.'),
        ),
      );
      return;
    }
    replace(list, h('div', { class: 'cards' }, data.items.map((lesson) => lessonCard(lesson, timeZone))));
  };

  let busy = false;
  const load = async () => {
    if (busy) return;
    busy = true;
    try {
      data = await request('GET', '/api/supervision/live');
      failure = null;
    } catch (err) {
      if (err.status === 401) return;
      failure = err;
    } finally {
      busy = false;
    }
    render();
  };

  loading(list, t('common.loading'));
  await load();
  onLangChange(render);
  setInterval(() => {
    if (!document.hidden) load();
  }, REFRESH_MS);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) load();
  });
}

main();
