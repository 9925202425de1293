// /lessons/{id}: one lesson, and the place where "Vào lớp" will open the live room.

import { lessons as lessonsApi } from '../api.js';
import { h, loaded, loading, replace } from '../dom.js';
import { onLangChange, t } from '../i18n.js';
import { initLayout, showLoadError, showPageMessage } from '../layout.js';
import { lessonFacts, statusBadge } from '../lesson-parts.js';

const REFRESH_MS = 30_000;

function render(el, lesson, timeZone) {
  document.title = `${lesson.title} · lophoc`;
  const live = lesson.status === 'live';
  replace(
    el,
    h('div', { class: 'page-head' }, h('h1', { id: 'lesson-title' }, lesson.title), statusBadge(lesson.status)),
    h('div', { class: 'panel' }, lessonFacts(lesson, timeZone, { withDate: true })),
    h(
      'section',
      { class: ['join-box', live ? 'is-live' : null], 'aria-labelledby': 'join' },
      // The live room arrives with the next release: the control is here, but it cannot open one yet.
      h(
        'button',
        { type: 'button', id: 'join', class: ['button', live ? 'primary' : 'secondary', 'large'], disabled: true, 'aria-describedby': 'join-note join-release' },
        t('lesson.join'),
      ),
      h('p', { id: 'join-note', class: 'join-note' }, t(live ? 'lesson.room_live' : lesson.status === 'ended' ? 'lesson.room_ended' : 'lesson.room_opens')),
      h('p', { id: 'join-release', class: 'muted' }, t('lesson.room_next_release')),
    ),
  );
}

async function main() {
  const ctx = await initLayout();
  if (!ctx) return;
  const el = document.getElementById('lesson');
  const main = document.getElementById('main');
  const id = location.pathname.split('/').filter(Boolean).at(-1);
  let lesson = null;

  const load = async () => {
    try {
      lesson = await lessonsApi.get(id);
    } catch (err) {
      if (err.status === 404) showPageMessage(main, { titleKey: 'lesson.not_found' });
      else showLoadError(main, err);
      return false;
    }
    loaded(el);
    render(el, lesson, ctx.timeZone);
    return true;
  };

  loading(el, t('common.loading'));
  if (!(await load())) return;
  onLangChange(() => render(el, lesson, ctx.timeZone));
  const timer = setInterval(async () => {
    if (!document.hidden && !(await load())) clearInterval(timer);
  }, REFRESH_MS);
}

main();
