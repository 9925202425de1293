// /lessons/{id}: one lesson; "Vào lớp" opens its live room ("Học trực tuyến") in this page.

import { lessons as lessonsApi } from '../api.js';
import { h, loaded, loading, replace } from '../dom.js';
import { onLangChange, t } from '../i18n.js';
import { initLayout, showLoadError, showPageMessage } from '../layout.js';
import { lessonFacts, statusBadge } from '../lesson-parts.js';
import { openLiveRoom } from '../live-room.js';

const REFRESH_MS = 30_000;
const OPENS_BEFORE_MS = 15 * 60_000; // students may enter 15 minutes before the start

/** Whether `user` may enter the lesson's room now, and the note that explains it. */
export function joinState(lesson, user, now = Date.now()) {
  if (lesson.status === 'ended') return { enabled: false, noteKey: 'lesson.room_ended' };
  if (lesson.status === 'live') return { enabled: true, noteKey: 'lesson.room_live' };
  const startsIn = Date.parse(lesson.starts_at) - now;
  if (startsIn <= OPENS_BEFORE_MS) return { enabled: true, noteKey: 'lesson.room_open_early' };
  if (user.role === 'teacher' && user.id === lesson.teacher_id) return { enabled: true, noteKey: 'lesson.room_teacher_early' };
  return { enabled: false, noteKey: 'lesson.room_opens' };
}

function render(el, lesson, ctx, onJoin) {
  document.title = `${lesson.title} · lophoc`;
  const live = lesson.status === 'live';
  const { enabled, noteKey } = joinState(lesson, ctx.user);
  replace(
    el,
    h('div', { class: 'page-head' }, h('h1', { id: 'lesson-title' }, lesson.title), statusBadge(lesson.status)),
    h('div', { class: 'panel' }, lessonFacts(lesson, ctx.timeZone, { withDate: true })),
    h(
      'section',
      { class: ['join-box', live ? 'is-live' : null], 'aria-labelledby': 'join' },
      h(
        'button',
        {
          type: 'button',
          id: 'join',
          class: ['button', live ? 'primary' : 'secondary', 'large'],
          disabled: !enabled,
          'aria-describedby': 'join-note',
          on: { click: onJoin },
        },
        t('lesson.join'),
      ),
      h('p', { id: 'join-note', class: 'join-note' }, t(noteKey)),
      h('p', { class: 'muted' }, t('lesson.room_devices')),
    ),
  );
}

async function main() {
  const ctx = await initLayout();
  if (!ctx) return;
  const el = document.getElementById('lesson');
  const main = document.getElementById('main');
  const breadcrumb = main.querySelector('.breadcrumb');
  const id = location.pathname.split('/').filter(Boolean).at(-1);
  let lesson = null;
  let room = null;
  let roomBox = null;

  const leaveRoom = () => {
    room = null;
    roomBox?.remove();
    roomBox = null;
    main.classList.remove('page-room');
    el.hidden = false;
    breadcrumb.hidden = false;
    document.title = `${lesson.title} · lophoc`;
    load().then(() => document.getElementById('join')?.focus());
  };

  const join = async (event) => {
    if (room || !lesson) return;
    event.currentTarget.disabled = true;
    el.hidden = true;
    breadcrumb.hidden = true;
    main.classList.add('page-room');
    roomBox = h('div', { id: 'room-box' });
    main.append(roomBox);
    document.title = `${t('room.title')} · ${lesson.title} · lophoc`;
    room = openLiveRoom(roomBox, { lesson, user: ctx.user, onLeave: leaveRoom });
    await room;
  };

  const load = async () => {
    try {
      lesson = await lessonsApi.get(id);
    } catch (err) {
      if (err.status === 404) showPageMessage(main, { titleKey: 'lesson.not_found' });
      else showLoadError(main, err);
      return false;
    }
    loaded(el);
    render(el, lesson, ctx, join);
    return true;
  };

  loading(el, t('common.loading'));
  if (!(await load())) return;
  onLangChange(() => {
    if (!room) render(el, lesson, ctx, join);
    else document.title = `${t('room.title')} · ${lesson.title} · lophoc`;
  });
  const timer = setInterval(async () => {
    if (!document.hidden && !room && !(await load())) clearInterval(timer);
  }, REFRESH_MS);
}

main();
