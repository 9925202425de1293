// /lessons/{id}: one lesson; "Vào lớp" opens its live room ("Học trực tuyến") in this page. The
// button follows the server's rule (the lesson's `live_open`, `closes_at`, `ended_at`): the room
// opens to students 15 minutes before the start and closes at `closes_at` (the end plus the
// school's grace, or later if the teacher extended it) or when the lesson is ended. The page links
// to the lesson's attendance (staff) and to the class's recordings of that day, and offers the
// lesson's board to download ("Bảng của tiết học", lesson-board-archive.js).

import { lessons as lessonsApi } from '../api.js';
import { h, loaded, loading, replace } from '../dom.js';
import { dayKey, formatTime } from '../format.js';
import { onLangChange, t } from '../i18n.js';
import '../i18n-lesson-end.js';
import { initLayout, showLoadError, showPageMessage } from '../layout.js';
import { lessonFacts, statusBadge } from '../lesson-parts.js';
import { openLiveRoom } from '../live-room.js';
import { BoardArchive } from '../lesson-board-archive.js';

const REFRESH_MS = 30_000;
const OPENS_BEFORE_MS = 15 * 60_000; // students may enter 15 minutes before the start
const GRACE_MS = 15 * 60_000; // the default grace, for a lesson that does not say when its room closes

/** When the room closes (ms): the server's `closes_at`, else the end plus the default grace. */
function closesAt(lesson) {
  return lesson.closes_at ? Date.parse(lesson.closes_at) : Date.parse(lesson.ends_at) + GRACE_MS;
}

/** The server's admission rule, read from the lesson's times. */
function ruleState(lesson, user, now) {
  if (lesson.ended_at || now >= closesAt(lesson)) return { enabled: false, noteKey: 'lesson.room_ended' };
  const teaches = user.role === 'teacher' && user.id === lesson.teacher_id;
  if (user.role === 'teacher' && !teaches) return { enabled: false, noteKey: 'lesson.room_not_yours' };
  if (now >= Date.parse(lesson.ends_at)) return { enabled: true, noteKey: 'lesson.room_grace' };
  if (now >= Date.parse(lesson.starts_at)) return { enabled: true, noteKey: 'lesson.room_live' };
  if (Date.parse(lesson.starts_at) - now <= OPENS_BEFORE_MS) return { enabled: true, noteKey: 'lesson.room_open_early' };
  if (teaches) return { enabled: true, noteKey: 'lesson.room_teacher_early' };
  if (user.role === 'admin') return { enabled: true, noteKey: 'lesson.room_open_early' };
  return { enabled: false, noteKey: 'lesson.room_opens' };
}

/** Whether `user` may enter the lesson's room now, and the note that explains it. The server's
 * `live_open` (as the lesson was read) decides; its times explain it and say when it changes. */
export function joinState(lesson, user, now = Date.now()) {
  const state = ruleState(lesson, user, now);
  if (typeof lesson.live_open !== 'boolean' || lesson.live_open === state.enabled) return state;
  if (lesson.live_open) return { enabled: true, noteKey: 'lesson.room_live' };
  return { enabled: false, noteKey: lesson.ended_at || Date.now() >= Date.parse(lesson.ends_at) ? 'lesson.room_ended' : 'lesson.room_opens' };
}

/** Milliseconds until the room next opens or closes for `user` (null: not within a refresh). */
function nextChange(lesson, user, now = Date.now()) {
  const moments = [closesAt(lesson), Date.parse(lesson.starts_at) - OPENS_BEFORE_MS].map((at) => at - now);
  const soon = moments.filter((ms) => ms > 0 && ms < REFRESH_MS);
  return soon.length ? Math.min(...soon) + 500 : null;
}

/** The links beside the lesson: its attendance (for its teacher and administrators) and the
 * recordings of its class on its day. */
function lessonLinks(lesson, user, timeZone) {
  const day = dayKey(lesson.starts_at, timeZone);
  const recordings = `/recordings?${new URLSearchParams({ class_id: lesson.class_id, from: day, to: day })}`;
  const staff = user.role === 'admin' || user.id === lesson.teacher_id;
  return h(
    'nav',
    { class: 'lesson-links', 'aria-label': t('lesson.links') },
    staff ? h('a', { id: 'lesson-attendance-link', class: 'button secondary', href: `/lessons/${lesson.id}/attendance` }, t('lesson.attendance_link')) : null,
    ' ',
    h('a', { id: 'lesson-recordings-link', class: 'button secondary', href: recordings }, t('lesson.recordings_link')),
  );
}

function render(el, lesson, ctx, onJoin, archive = null) {
  document.title = `${lesson.title} · lophoc`;
  const live = lesson.status === 'live';
  const { enabled, noteKey } = joinState(lesson, ctx.user);
  const closes = lesson.closes_at ? formatTime(lesson.closes_at, ctx.timeZone) : null;
  const note = noteKey === 'lesson.room_ended' && lesson.ended_at
    ? t('lesson.room_ended_at', { time: formatTime(lesson.ended_at, ctx.timeZone) })
    : t(noteKey, { time: closes ?? '' });
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
      h('p', { id: 'join-note', class: 'join-note' }, note),
      enabled && closes && noteKey !== 'lesson.room_grace'
        ? h('p', { id: 'join-closes', class: 'muted' }, t('lesson.room_closes', { time: closes })) : null,
      h('p', { class: 'muted' }, t('lesson.room_devices')),
    ),
    lessonLinks(lesson, ctx.user, ctx.timeZone),
    archive?.el ?? null,
  );
  archive?.render();
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
  let changeTimer = null;
  let archive = null;

  // The lesson's materials (lesson-materials.js) become a panel of the room while it is open.
  const materials = document.getElementById('lesson-materials');
  const materialsHome = materials ? { parent: materials.parentElement, next: materials.nextSibling } : null;
  const materialsPanel = materials && {
    id: 'materials',
    icon: '📚',
    label: () => t('mat.lesson_heading'),
    el: materials,
    badge: () => materials.querySelectorAll('.lesson-material').length || null,
    render: () => {},
    available: () => !materials.hidden,
  };

  const leaveRoom = () => {
    room = null;
    if (materialsHome) materialsHome.parent.insertBefore(materials, materialsHome.next);
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
    room = openLiveRoom(roomBox, {
      lesson, user: ctx.user, timeZone: ctx.timeZone, onLeave: leaveRoom, panels: materialsPanel ? [materialsPanel] : [],
    });
    await room;
  };

  const load = async () => {
    try {
      lesson = { ...(await lessonsApi.get(id)), loadedAt: Date.now() };
    } catch (err) {
      if (err.status === 404) showPageMessage(main, { titleKey: 'lesson.not_found' });
      else showLoadError(main, err);
      return false;
    }
    loaded(el);
    if (!archive) archive = new BoardArchive({ lesson, user: ctx.user });
    archive.setLesson(lesson);
    render(el, lesson, ctx, join, archive);
    archive.refresh();
    clearTimeout(changeTimer);
    const change = nextChange(lesson, ctx.user);
    if (change !== null) changeTimer = setTimeout(() => { if (!room) load(); }, change);
    return true;
  };

  loading(el, t('common.loading'));
  if (!(await load())) return;
  onLangChange(() => {
    if (!room) render(el, lesson, ctx, join, archive);
    else document.title = `${t('room.title')} · ${lesson.title} · lophoc`;
  });
  const timer = setInterval(async () => {
    if (!document.hidden && !room && !(await load())) clearInterval(timer);
  }, REFRESH_MS);
}

main();
