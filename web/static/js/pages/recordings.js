// /recordings: "Lưu trữ bài giảng": the archive of recorded lessons. Each lesson shows its lesson
// video first (duration, size, status, a progress bar while it is rendered, refreshed every 3 s),
// with the separately recorded files under it. Staff publish videos to students and download them;
// everyone plays them in the player (#player; the server answers range requests, so seeking works).
// A lesson video recorded in several parts has chapters (each part, each screen share): the player
// loads them as a <track kind="chapters"> and lists them under the video; a click seeks there.
// While a new version is rendered (the teacher recorded more), the current one stays playable.
// Beside the player, the lesson's chat replays: the messages sent up to the moment the video shows
// (replay-chat.js), following playback and seeking.

import '../i18n-records.js';
import { fillSelect, h, loaded, loading, replace } from '../dom.js';
import { errorMessage } from '../forms.js';
import { formatDate, formatTime, parseInstant } from '../format.js';
import { onLangChange, t } from '../i18n.js';
import { initLayout } from '../layout.js';
import { recordings as recordingsApi } from '../records-api.js';
import { createReplayChat } from '../replay-chat.js';
import {
  checkDateRange,
  fillFilterSelects,
  filtersFromUrl,
  formValues,
  formatBytes,
  formatDuration,
  loadFilterOptions,
  recordingBadge,
  setFormValues,
  syncUrl,
} from '../records-parts.js';

const REFRESH_MS = 3_000;
const FILTERS = ['from', 'to', 'class_id', 'subject_id', 'teacher_id'];
const BUSY = new Set(['queued', 'rendering']);
const parts = (rec) => (rec.chapters ?? []).filter((c) => c.kind === 'segment').length;
const busy = (rec) => BUSY.has(rec.status) || Boolean(rec.render_state);
const SOURCE_ORDER = ['camera', 'screen', 'mic', 'screen-audio'];

const form = document.getElementById('recording-filters');
const listEl = document.getElementById('recordings-list');
const player = document.getElementById('player');
const el = (id) => document.getElementById(id);

const state = {
  user: null,
  timeZone: null,
  items: null,
  failure: null,
  values: {},
  options: { classes: [], subjects: [], teachers: [], grades: [] },
  openTracks: new Set(),
  pending: new Set(),
  playing: null,
  playingVersion: null,
  timer: null,
  generation: 0,
  chat: null,
};

const staff = () => state.user.role !== 'student';
const mayManage = (rec) => state.user.role === 'admin' || rec.teacher_id === state.user.id;

function knownSource(rec) {
  return ['camera', 'mic', 'screen', 'screen-audio', 'lesson'].includes(rec.source) ? t(`rec.source.${rec.source}`) : rec.source;
}

const recordingName = (rec) => `${rec.kind === 'composite' ? t('rec.video') : knownSource(rec)}: ${rec.lesson_title}`;

// --- player --------------------------------------------------------------------------------------
function chapterLabel(chapter) {
  const time = formatTime(chapter.at, state.timeZone);
  if (chapter.kind === 'screen') return t('rec.chapter.screen', { time });
  if (chapter.kind === 'breakouts_start') return t('rec.chapter.breakouts_start', { time });
  if (chapter.kind === 'breakouts_end') return t('rec.chapter.breakouts_end', { time });
  return t('rec.chapter.part', { n: chapter.index, time });
}

function chaptersNav() {
  let nav = el('player-chapters');
  if (!nav) {
    nav = h(
      'nav',
      { id: 'player-chapters', class: 'player-chapters', 'aria-labelledby': 'player-chapters-title', hidden: true },
      h('h3', { id: 'player-chapters-title', 'data-i18n': 'rec.chapters' }, t('rec.chapters')),
      h('ol', { class: 'chapter-list' }),
    );
    player.after(nav);
  }
  return nav;
}

function currentChapter(chapters) {
  let current = -1;
  chapters.forEach((c, i) => {
    if (player.currentTime + 0.05 >= c.start) current = i;
  });
  return current;
}

function markChapter() {
  const nav = el('player-chapters');
  if (!nav || !state.playing) return;
  const current = currentChapter(state.playing.chapters ?? []);
  nav.querySelectorAll('button.chapter').forEach((button, i) => {
    if (i === current) button.setAttribute('aria-current', 'true');
    else button.removeAttribute('aria-current');
  });
}

function seekTo(chapter) {
  player.currentTime = chapter.start;
  player.play().catch(() => {});
  markChapter();
}

function showChapters(rec) {
  const nav = chaptersNav();
  const chapters = rec.chapters ?? [];
  nav.hidden = chapters.length === 0;
  el('player-chapters-title').textContent = t('rec.chapters');
  const focused = nav.contains(document.activeElement) ? document.activeElement.id : null; // kept across refreshes
  replace(
    nav.querySelector('ol'),
    chapters.map((chapter, i) =>
      h(
        'li',
        {},
        h(
          'button',
          {
            type: 'button',
            id: `chapter-${i}`,
            class: ['button', 'ghost', 'small', 'chapter'],
            dataset: { start: chapter.start, kind: chapter.kind, index: i },
            on: { click: () => seekTo(chapter) },
          },
          h('span', { class: 'chapter-time' }, formatDuration(Math.floor(chapter.start))),
          ' ',
          h('span', { class: 'chapter-title' }, chapterLabel(chapter)),
        ),
      ),
    ),
  );
  if (focused) document.getElementById(focused)?.focus();
  markChapter();
}

function loadChapterTrack(rec) {
  for (const old of player.querySelectorAll('track')) old.remove();
  if (!rec.chapters_url) return;
  const track = h('track', { kind: 'chapters', src: `${rec.chapters_url}?v=${rec.version ?? 0}`, srclang: 'vi', label: t('rec.chapters'), default: true });
  player.append(track);
  track.track.mode = 'hidden'; // loaded for the player and for us, drawn by neither: the list below is ours
}

function play(rec, { autoplay = true } = {}) {
  state.playing = rec;
  el('player-section').hidden = false;
  el('player-error').hidden = true;
  el('player-title').textContent = t('rec.now_playing', { name: recordingName(rec) });
  if (player.getAttribute('src') !== rec.media_url || state.playingVersion !== rec.version) {
    loadChapterTrack(rec);
    player.src = rec.media_url;
    player.load();
    state.playingVersion = rec.version;
  }
  showChapters(rec);
  if (state.chat && state.chat.current !== rec.id) {
    state.chat.current = rec.id;
    state.chat.view.load(rec);
  }
  const params = new URLSearchParams(location.search);
  params.set('play', rec.id);
  history.replaceState(null, '', `${location.pathname}?${params}`);
  el('player-section').scrollIntoView({ block: 'nearest' });
  if (autoplay) player.play().catch(() => {}); // refused autoplay: the controls are there
}

/** A new version of the video being watched was rendered: switch to it where the viewer is. */
function followNewVersion() {
  if (!state.playing || !state.items) return;
  const fresh = state.items.find((r) => r.id === state.playing.id);
  if (!fresh || !fresh.media_url) return;
  if (fresh.version === state.playingVersion) {
    state.playing = fresh;
    return;
  }
  state.chat?.view.follow(fresh);
  const at = player.currentTime;
  const wasPlaying = !player.paused;
  state.playing = fresh;
  loadChapterTrack(fresh);
  player.src = fresh.media_url;
  player.load();
  state.playingVersion = fresh.version;
  player.addEventListener('loadedmetadata', () => {
    player.currentTime = Math.min(at, player.duration || at);
    if (wasPlaying) player.play().catch(() => {});
  }, { once: true });
  showChapters(fresh);
}

function closePlayer() {
  player.pause();
  player.removeAttribute('src');
  for (const old of player.querySelectorAll('track')) old.remove();
  player.load();
  state.playing = null;
  state.playingVersion = null;
  if (state.chat) {
    state.chat.current = null;
    state.chat.view.clear();
  }
  const nav = el('player-chapters');
  if (nav) nav.hidden = true;
  el('player-section').hidden = true;
  const params = new URLSearchParams(location.search);
  params.delete('play');
  history.replaceState(null, '', `${location.pathname}?${params}`);
}

// --- publishing ----------------------------------------------------------------------------------
async function setPublished(rec, input) {
  state.pending.add(rec.id);
  input.disabled = true;
  el('rec-status').classList.remove('form-error');
  try {
    const updated = await recordingsApi.setPublished(rec.id, input.checked);
    state.items = state.items.map((r) => (r.id === updated.id ? { ...r, ...updated } : r));
    el('rec-status').textContent = t(updated.published ? 'rec.published_done' : 'rec.withdrawn', { klass: updated.class_name });
  } catch (err) {
    if (err.status === 401) return;
    input.checked = !input.checked;
    el('rec-status').textContent = t('rec.publish_failed', { error: errorMessage(err) });
    el('rec-status').classList.add('form-error');
  } finally {
    state.pending.delete(rec.id);
    render();
  }
}

function publishToggle(rec) {
  const id = `publish-${rec.id}`;
  return h(
    'label',
    { class: 'switch', for: id },
    h('input', {
      type: 'checkbox',
      role: 'switch',
      id,
      class: 'publish-toggle',
      checked: rec.published,
      disabled: state.pending.has(rec.id),
      dataset: { recordingId: rec.id },
      on: { change: (event) => setPublished(rec, event.currentTarget) },
    }),
    h('span', { class: 'switch-label' }, t('rec.publish')),
  );
}

// --- rendering ---------------------------------------------------------------------------------
function progressBar(rec) {
  const pct = Math.round(Math.min(Math.max(rec.progress ?? 0, 0), 1) * 100);
  const id = `progress-${rec.id}`;
  const again = !BUSY.has(rec.status); // a playable version exists: this is the next one
  return h(
    'div',
    { class: ['render-progress', again ? 'rerender' : null] },
    again ? h('p', { class: 'notice rerender-note' }, t('rec.rerendering')) : null,
    h('label', { for: id }, t('rec.progress')),
    h('progress', { id, max: '100', value: String(pct), dataset: { recordingId: rec.id } }, `${pct}%`),
    h('span', { class: 'progress-value', 'aria-hidden': 'true' }, `${pct}%`),
  );
}

function actions(rec) {
  const name = recordingName(rec);
  return h(
    'div',
    { class: 'rec-actions' },
    rec.media_url
      ? h(
          'button',
          {
            type: 'button',
            class: ['button', rec.kind === 'composite' ? 'primary' : 'secondary', 'small', 'play'],
            'aria-label': t('rec.play_named', { name }),
            dataset: { recordingId: rec.id },
            on: { click: () => play(rec) },
          },
          t('rec.play'),
        )
      : null,
    rec.media_url && staff()
      ? h('a', { class: 'button secondary small download', href: recordingsApi.downloadUrl(rec), download: '', 'aria-label': t('rec.download_named', { name }) }, t('rec.download'))
      : null,
    staff() && mayManage(rec) ? publishToggle(rec) : null,
    staff() && !mayManage(rec) ? h('span', { class: 'muted' }, t(rec.published ? 'rec.published' : 'rec.unpublished')) : null,
  );
}

function facts(rec) {
  const row = (key, value, cls) => h('div', { class: cls }, h('dt', {}, t(key)), h('dd', {}, value));
  return h(
    'dl',
    { class: 'facts rec-facts' },
    row('rec.duration', formatDuration(rec.duration_seconds), 'fact-duration'),
    row('rec.size', formatBytes(rec.size_bytes), 'fact-size'),
    row('rec.status', recordingBadge(rec.status), 'fact-status'),
    rec.kind === 'track' ? row('rec.codec', rec.codec, 'fact-codec') : null,
  );
}

function videoBlock(rec) {
  return h(
    'div',
    {
      class: 'lesson-video',
      dataset: { recordingId: rec.id, status: rec.status, published: String(rec.published), renderState: rec.render_state ?? '', version: rec.version ?? 0 },
    },
    h('h4', { class: 'rec-kind' }, t('rec.video')),
    facts(rec),
    parts(rec) > 1 ? h('p', { class: 'muted part-count' }, t('rec.part_count', { n: parts(rec) })) : null,
    busy(rec) ? progressBar(rec) : null,
    rec.notes ? h('p', { class: 'notice render-notes' }, t('rec.notes', { notes: rec.notes })) : null,
    rec.status === 'failed' && rec.error ? h('p', { class: 'form-error' }, t('rec.error', { error: rec.error })) : null,
    rec.status !== 'failed' && rec.error && !rec.render_state ? h('p', { class: 'form-error rerender-error' }, t('rec.rerender_failed', { error: rec.error })) : null,
    actions(rec),
  );
}

function trackItem(rec) {
  return h(
    'li',
    { class: 'track', dataset: { recordingId: rec.id, source: rec.source, status: rec.status } },
    h('span', { class: 'track-name' }, knownSource(rec)),
    facts(rec),
    actions(rec),
  );
}

function lessonCard(group) {
  const { lessonId, items } = group;
  const first = items[0];
  const composites = items.filter((r) => r.kind === 'composite');
  const tracks = items
    .filter((r) => r.kind === 'track')
    .sort((a, b) => SOURCE_ORDER.indexOf(a.source) - SOURCE_ORDER.indexOf(b.source) || parseInstant(a.started_at) - parseInstant(b.started_at));
  const titleId = `rec-lesson-${lessonId}-title`;
  const details = tracks.length
    ? h(
        'details',
        {
          class: 'tracks',
          open: state.openTracks.has(lessonId) ? '' : null,
          dataset: { lessonId },
          on: { toggle: (event) => (event.currentTarget.open ? state.openTracks.add(lessonId) : state.openTracks.delete(lessonId)) },
        },
        h('summary', {}, t('rec.tracks', { n: tracks.length })),
        h('ul', { class: 'track-list' }, tracks.map(trackItem)),
      )
    : null;
  const started = group.startedAt;
  return h(
    'article',
    { class: 'recording-lesson', dataset: { lessonId }, 'aria-labelledby': titleId },
    h(
      'div',
      { class: 'card-head' },
      h('h3', { class: 'lesson-title', id: titleId }, first.lesson_title),
      staff() ? h('a', { class: 'attendance-link', href: `/lessons/${lessonId}/attendance` }, t('rec.attendance_link')) : null,
    ),
    h(
      'dl',
      { class: 'facts' },
      h('div', { class: 'fact-class' }, h('dt', {}, t('lesson.class')), h('dd', {}, first.class_name)),
      h('div', { class: 'fact-subject' }, h('dt', {}, t('lesson.subject')), h('dd', {}, first.subject_name)),
      h('div', { class: 'fact-teacher' }, h('dt', {}, t('lesson.teacher')), h('dd', {}, first.teacher_name)),
      h(
        'div',
        { class: 'fact-date' },
        h('dt', {}, t('rec.recorded_at')),
        h('dd', {}, h('time', { datetime: new Date(started).toISOString() }, `${formatDate(new Date(started), state.timeZone)}, ${formatTime(new Date(started), state.timeZone)}`)),
      ),
    ),
    composites.length ? composites.map(videoBlock) : staff() ? h('p', { class: 'empty' }, t('rec.no_video')) : null,
    details,
  );
}

function groups(items) {
  const byLesson = new Map();
  for (const rec of items) {
    if (!byLesson.has(rec.lesson_id)) byLesson.set(rec.lesson_id, []);
    byLesson.get(rec.lesson_id).push(rec);
  }
  return [...byLesson].map(([lessonId, recs]) => ({
    lessonId,
    items: recs,
    startedAt: Math.min(...recs.map((r) => parseInstant(r.started_at).getTime())),
  })).sort((a, b) => b.startedAt - a.startedAt);
}

function render() {
  if (state.failure && !state.items) {
    loaded(listEl);
    replace(listEl, h('p', { class: 'form-error', role: 'alert' }, errorMessage(state.failure)));
    return;
  }
  if (!state.items) return;
  loaded(listEl);
  const focused = document.activeElement?.id && listEl.contains(document.activeElement) ? document.activeElement.id : null;
  const lessonGroups = groups(state.items);
  el('rec-count').textContent = lessonGroups.length ? t('rec.count', { n: lessonGroups.length }) : '';
  el('refresh-note').hidden = !state.items.some(busy);
  replace(
    listEl,
    lessonGroups.length ? lessonGroups.map(lessonCard) : h('p', { class: 'empty' }, t(staff() ? 'rec.none' : 'rec.none_student')),
  );
  if (focused) document.getElementById(focused)?.focus();
  if (state.playing) {
    el('player-title').textContent = t('rec.now_playing', { name: recordingName(state.playing) });
    showChapters(state.playing);
    state.chat?.view.update();
  }
}

async function load() {
  clearTimeout(state.timer);
  const mine = ++state.generation;
  try {
    const query = Object.fromEntries(Object.entries(state.values).filter(([, v]) => v !== ''));
    const items = await recordingsApi.list(query);
    if (mine !== state.generation) return;
    state.items = items;
    state.failure = null;
    followNewVersion();
  } catch (err) {
    if (err.status === 401 || mine !== state.generation) return;
    state.failure = err;
  }
  render();
  // While a lesson video is rendered (or a lesson is being recorded) keep the list current.
  if (state.items?.some((r) => busy(r) || r.status === 'recording') || (state.failure && state.items)) {
    state.timer = setTimeout(function tick() {
      if (document.hidden) state.timer = setTimeout(tick, REFRESH_MS);
      else load();
    }, REFRESH_MS);
  }
}

async function mainPage() {
  const ctx = await initLayout();
  if (!ctx) return;
  state.user = ctx.user;
  state.timeZone = ctx.timeZone;
  const student = ctx.user.role === 'student';
  el('rec-filter-teacher-field').hidden = student;
  if (student) {
    el('rec-intro').dataset.i18n = 'rec.intro_student';
    el('rec-intro').textContent = t('rec.intro_student');
  }
  state.values = filtersFromUrl(FILTERS, ctx.timeZone);
  if (student) delete state.values.teacher_id;
  const wanted = new URLSearchParams(location.search).get('play');
  setFormValues(form, { from: state.values.from, to: state.values.to });
  for (const name of ['class_id', 'subject_id', 'teacher_id']) fillSelect(form.elements.namedItem(name), [], { placeholder: t('common.loading') });

  player.addEventListener('error', () => {
    if (player.getAttribute('src')) el('player-error').hidden = false;
  });
  el('player-close').addEventListener('click', closePlayer);
  player.addEventListener('timeupdate', markChapter);
  player.addEventListener('seeked', markChapter);
  state.chat = {
    current: null,
    view: createReplayChat({ player, root: el('replay-chat'), timeZone: ctx.timeZone, isStaff: !student }),
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const values = formValues(form, student ? FILTERS.filter((n) => n !== 'teacher_id') : FILTERS);
    if (!checkDateRange(form, values)) return;
    state.values = values;
    syncUrl(state.playing ? { ...values, play: state.playing.id } : values);
    loading(listEl, t('common.loading'));
    load();
  });

  loading(listEl, t('common.loading'));
  const listed = load();
  state.options = await loadFilterOptions(ctx.user).catch(() => state.options);
  fillFilterSelects(form, state.options, state.values);
  await listed;
  const asked = wanted && state.items?.find((r) => String(r.id) === wanted && r.media_url);
  if (asked) play(asked, { autoplay: false });
  onLangChange(() => {
    fillFilterSelects(form, state.options, formValues(form, FILTERS));
    if (student) el('rec-intro').textContent = t('rec.intro_student');
    render();
  });
}

mainPage();
