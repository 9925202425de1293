// /lessons/{id}/attendance: "Điểm danh tiết học": the summary, a timeline picture (one bar row per
// student over the lesson) and the list, with CSV/XLSX downloads; beside it "Mức độ tham gia": each
// student's time present, speaking and on camera, messages, questions, hands, reactions, poll
// answers and quiz score, with its picture (bars of speaking and camera time). Refreshed every 10 s
// while live. Each student's status follows the school's rules: present only with the minimum share
// of the lesson, late and left early shown as flags, "Chưa diễn ra" while the lesson has not taken place.

import '../i18n-records.js';
import { h, loaded, loading, replace, table } from '../dom.js';
import { errorMessage } from '../forms.js';
import { formatTime } from '../format.js';
import { onLangChange, t } from '../i18n.js';
import { initLayout, showLoadError, showPageMessage } from '../layout.js';
import { lessonFacts, statusBadge } from '../lesson-parts.js';
import { attendance as attendanceApi } from '../records-api.js';
import { attendanceTimeline } from '../records-charts.js';
import { request } from '../api.js';
import { participationChart } from '../participation-chart.js';
import { apiUrl } from '../records-api.js';
import { ATTENDANCE_STATUSES, attendanceBadge, attendanceFlags, formatNumber, shareBar } from '../records-parts.js';

const REFRESH_MS = 10_000;

const lessonId = Number(location.pathname.split('/')[2]);
const main = document.getElementById('main');
const el = (id) => document.getElementById(id);

function renderSummary(data, user) {
  const box = el('attendance-summary');
  if (user.role === 'student') {
    const me = data.students[0];
    replace(
      box,
      notHeld(data),
      h('p', { class: 'my-record' }, t('att.my_record'), ' ', me ? attendanceBadge(me.status) : null),
      me ? h('p', { class: 'my-record-detail' }, attendanceFlags(me), ' · ', formatNumber(me.minutes_present), ' ', t('att.minutes_unit'), ' · ', shareBar(me.share)) : null,
    );
  } else {
    const item = (key, value, status) =>
      h('div', { class: ['summary-item', status && `att-${status}`], dataset: { key } }, h('dt', {}, t(key === 'students' ? 'att.summary.students' : `att.status.${key}`)), h('dd', {}, String(value)));
    replace(
      box,
      notHeld(data),
      h(
        'dl',
        { class: 'summary', id: 'summary-list' },
        item('students', data.summary.students),
        ATTENDANCE_STATUSES.filter((status) => status !== 'not_yet' || data.summary.not_yet).map((status) => item(status, data.summary[status], status)),
      ),
    );
  }
  el('attendance-rules').textContent = `${t('att.rules_presence', { percent: data.min_presence_percent })} ${t('att.rules', { late: data.late_after_minutes, early: data.left_early_minutes })}`;
}

/** Why nobody is counted absent: the lesson has not taken place (not started, or its room never opened). */
function notHeld(data) {
  return data.held ? null : h('p', { class: 'notice', id: 'not-held-note', role: 'note' }, t('att.not_held'));
}

function renderTable(data, timeZone) {
  const time = (value) => (value ? h('time', { datetime: value }, formatTime(value, timeZone)) : '—');
  const rows = data.students.map((s) => ({
    attrs: { dataset: { userId: s.user_id, status: s.status } },
    cells: [
      s.full_name,
      attendanceBadge(s.status),
      attendanceFlags(s),
      time(s.first_join),
      s.present_now ? h('span', { class: 'in-class' }, t('att.in_class')) : time(s.last_leave),
      h('span', { class: 'att-minutes' }, formatNumber(s.minutes_present)),
      shareBar(s.share),
      String(s.intervals.length),
    ],
  }));
  replace(
    el('attendance-table'),
    table({
      caption: t('att.table'),
      headers: [
        t('att.col.name'),
        t('att.col.status'),
        t('att.col.flags'),
        t('att.col.first_join'),
        t('att.col.last_leave'),
        t('att.col.minutes'),
        t('att.col.share'),
        t('att.col.joins'),
      ],
      rows,
      emptyText: t('att.none'),
    }),
  );
}

const participationApi = {
  /** GET /api/lessons/{id}/participation: every student's part (a student: their own row). */
  lesson: (id) => request('GET', `/api/lessons/${encodeURIComponent(id)}/participation`),
  exportUrl: (id, format) => apiUrl(`/api/lessons/${encodeURIComponent(id)}/participation`, { format }),
};

function renderParticipation(state, ctx) {
  const data = state.participation;
  const staff = ctx.user.role !== 'student';
  el('participation-intro').textContent = t(staff ? 'part.intro' : 'part.my_intro');
  el('participation-exports').hidden = !staff;
  el('participation-csv').href = participationApi.exportUrl(lessonId, 'csv');
  el('participation-xlsx').href = participationApi.exportUrl(lessonId, 'xlsx');
  if (!data) {
    if (state.participationFailure) {
      loaded(el('participation-table'));
      replace(el('participation-table'), h('p', { class: 'form-error', role: 'alert' }, t('part.load_failed', { error: errorMessage(state.participationFailure) })));
    }
    return;
  }
  const count = (n) => String(n);
  const rows = data.students.map((r) => ({
    attrs: { dataset: { userId: r.user_id } },
    cells: [
      r.full_name,
      h('span', { class: 'part-present-min' }, formatNumber(r.present_s / 60)),
      h('span', { class: 'part-speaking-min' }, formatNumber(r.speaking_s / 60)),
      h('span', { class: 'part-camera-min' }, formatNumber(r.camera_s / 60)),
      h('span', { class: 'part-messages' }, count(r.messages)),
      h('span', { class: 'part-questions' }, count(r.questions)),
      h('span', { class: 'part-hands' }, count(r.hands)),
      h('span', { class: 'part-reactions' }, count(r.reactions)),
      h('span', { class: 'part-poll-answers' }, count(r.poll_answers)),
      h('span', { class: 'part-quiz' }, r.quiz_max ? t('part.quiz_value', { score: formatNumber(r.quiz_score, 2), max: formatNumber(r.quiz_max, 2) }) : '—'),
    ],
  }));
  loaded(el('participation-table'));
  replace(
    el('participation-table'),
    table({
      caption: t('part.table'),
      headers: ['name', 'present', 'speaking', 'camera', 'messages', 'questions', 'hands', 'reactions', 'poll_answers', 'quiz'].map((k) => t(`part.col.${k}`)),
      rows,
      emptyText: t('part.none'),
    }),
  );
  const wrap = loaded(el('participation-chart-wrap'));
  replace(wrap, data.students.length ? participationChart({ students: data.students }) : null);
}

function render(state, ctx) {
  const { data } = state;
  if (!data) return;
  const { user, timeZone } = ctx;
  const { lesson } = data;
  el('lesson-name').textContent = lesson.title;
  el('back-lesson').href = `/lessons/${lesson.id}`;
  replace(el('lesson-info'), h('div', { class: 'lesson-status' }, statusBadge(lesson.status)), lessonFacts(lesson, timeZone, { withDate: true }));
  el('live-note').hidden = lesson.status !== 'live';
  renderSummary(data, user);
  const wrap = loaded(el('timeline-wrap'));
  replace(
    wrap,
    data.students.length
      ? attendanceTimeline({ lesson, students: data.students, timeZone, now: Date.parse(data.generated_at) || Date.now() })
      : h('p', { class: 'empty' }, t('att.none')),
  );
  loaded(el('attendance-table'));
  renderTable(data, timeZone);
  const staff = user.role !== 'student';
  el('exports').hidden = !staff;
  el('export-csv').href = attendanceApi.lessonExportUrl(lesson.id, 'csv');
  el('export-xlsx').href = attendanceApi.lessonExportUrl(lesson.id, 'xlsx');
  el('updated').textContent = state.failure
    ? errorMessage(state.failure)
    : t('att.updated', { time: new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(new Date(data.generated_at)) });
  el('updated').classList.toggle('form-error', Boolean(state.failure));
}

async function mainPage() {
  const ctx = await initLayout();
  if (!ctx) return;
  const state = { data: null, failure: null, participation: null, participationFailure: null };
  loading(el('timeline-wrap'), t('common.loading'));
  loading(el('attendance-table'), t('common.loading'));
  loading(el('participation-table'), t('common.loading'));

  const loadParticipation = async () => {
    try {
      state.participation = await participationApi.lesson(lessonId);
      state.participationFailure = null;
    } catch (err) {
      if (err.status === 401) return;
      state.participationFailure = err; // the last good answer stays
    }
  };

  const load = async () => {
    const participation = loadParticipation();
    try {
      state.data = await attendanceApi.lesson(lessonId);
      state.failure = null;
    } catch (err) {
      if (err.status === 401) return;
      if (!state.data) {
        if (err.status === 404) showPageMessage(main, { titleKey: 'att.not_found', text: errorMessage(err) });
        else showLoadError(main, err);
        return;
      }
      state.failure = err; // keep showing the last good answer
    }
    await participation;
    render(state, ctx);
    renderParticipation(state, ctx);
    if (state.data.lesson.status === 'live') schedule();
  };
  const schedule = () => setTimeout(() => (document.hidden ? schedule() : load()), REFRESH_MS);
  await load();
  onLangChange(() => {
    render(state, ctx);
    renderParticipation(state, ctx);
  });
}

mainPage();
