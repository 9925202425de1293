// The lesson's chat beside its video on the archive page: the messages sent up to the moment the
// video shows, following playback and seeking. The video's time maps to the wall clock through its
// recorded parts (each part's chapter: where it starts in the video and when it began); messages
// sent while nothing was recorded appear when the next part starts.

import { h, replace } from './dom.js';
import { formatTime, parseInstant } from './format.js';
import { t } from './i18n.js';
import { errorMessage } from './forms.js';
import { linkify } from './live-classroom-parts.js';
import { request } from './api.js';

/** GET /api/lessons/{id}/replay: the lesson's chat (as this viewer may see it) with times. */
const fetchReplay = (lessonId) => request('GET', `/api/lessons/${encodeURIComponent(lessonId)}/replay`);

/** [{start (s into the video), at (ms)}] of a recording: its parts, or its own start. */
export function segmentsOf(rec, replay) {
  const parts = (rec.chapters ?? []).filter((c) => c.kind === 'segment');
  const list = parts.length
    ? parts
    : rec.kind === 'composite' && replay?.segments?.length
      ? replay.segments
      : [{ start: 0, at: rec.started_at }];
  return list.map((c) => ({ start: Number(c.start), at: parseInstant(c.at).getTime() })).sort((a, b) => a.start - b.start);
}

/** The wall-clock moment (ms) the video shows at `seconds`. */
export function wallClockAt(segments, seconds) {
  let current = segments[0];
  for (const segment of segments) if (segment.start <= seconds + 0.001) current = segment;
  return current.at + Math.max(0, seconds - current.start) * 1000;
}

export function createReplayChat({ player, root, timeZone, isStaff }) {
  const list = root.querySelector('.replay-messages');
  const status = root.querySelector('.replay-status');
  const state = { rec: null, messages: [], segments: [], shown: -1, generation: 0, failure: null };

  function messageItem(m) {
    const flags = [];
    if (m.to !== null && m.to !== undefined) flags.push(h('span', { class: 'replay-flag replay-private' }, t('replay.private')));
    if (m.room && m.room !== 'main') flags.push(h('span', { class: 'replay-flag replay-group' }, t('replay.in_group')));
    if (m.deleted) flags.push(h('span', { class: 'replay-flag replay-deleted' }, t('replay.deleted')));
    return h(
      'li',
      { class: ['replay-message', m.deleted ? 'is-deleted' : null, m.from_role === 'teacher' ? 'from-teacher' : null], dataset: { messageId: m.id, at: m.at } },
      h(
        'div',
        { class: 'replay-meta' },
        h('time', { class: 'replay-time', datetime: m.at }, formatTime(parseInstant(m.at), timeZone)),
        ' ',
        h('span', { class: 'replay-from' }, m.from_name),
        flags.length ? ' ' : null,
        flags,
      ),
      h('p', { class: 'replay-text' }, linkify(m.text)),
    );
  }

  function visibleCount() {
    if (!state.messages.length || !state.segments.length) return 0;
    const now = wallClockAt(state.segments, player.currentTime || 0);
    let n = 0;
    while (n < state.messages.length && state.messages[n].time <= now) n += 1;
    return n;
  }

  /** Show the messages up to the video's current moment (redrawn only when that changes). */
  function update(force = false) {
    if (!state.rec) return;
    if (state.failure) {
      status.textContent = t('replay.load_failed', { error: errorMessage(state.failure) });
      status.classList.add('form-error');
      return;
    }
    status.classList.remove('form-error');
    const n = visibleCount();
    if (n === state.shown && !force) return;
    state.shown = n;
    root.dataset.shown = String(n);
    replace(list, state.messages.slice(0, n).map(messageItem));
    status.textContent = !state.messages.length ? t('replay.none') : n === 0 ? t('replay.empty') : t('replay.count', { n, total: state.messages.length });
    list.scrollTop = list.scrollHeight; // the latest at the bottom, in view
  }

  async function load(rec) {
    const mine = ++state.generation;
    state.rec = rec;
    state.shown = -1;
    state.failure = null;
    state.messages = [];
    state.segments = segmentsOf(rec, null);
    root.hidden = false;
    root.dataset.lessonId = String(rec.lesson_id);
    replace(list);
    status.textContent = t('common.loading');
    try {
      const replay = await fetchReplay(rec.lesson_id);
      if (mine !== state.generation) return;
      state.segments = segmentsOf(rec, replay);
      state.messages = replay.messages
        .filter((m) => isStaff || !m.deleted)
        .map((m) => ({ ...m, time: parseInstant(m.at).getTime() }))
        .sort((a, b) => a.time - b.time);
      root.dataset.loaded = 'true';
    } catch (err) {
      if (mine !== state.generation || err.status === 401) return;
      state.failure = err;
    }
    update(true);
  }

  /** The recording played changed version (its parts may have moved). */
  function follow(rec) {
    if (!state.rec || rec.id !== state.rec.id) return;
    state.rec = rec;
    state.segments = segmentsOf(rec, null);
    update(true);
  }

  function clear() {
    state.generation += 1;
    state.rec = null;
    state.messages = [];
    root.hidden = true;
    delete root.dataset.loaded;
    replace(list);
  }

  player.addEventListener('timeupdate', () => update());
  player.addEventListener('seeked', () => update());
  player.addEventListener('seeking', () => update());
  player.addEventListener('loadedmetadata', () => update());
  return { load, follow, clear, update: () => update(true) };
}
