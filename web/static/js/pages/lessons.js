// /lessons: "Tiết học của tôi": today's lessons and the next 7 days' of the signed-in user, with
// notices of changes (đổi lịch, hủy, dạy thay, dạy bù); teachers may request a change to a lesson.

import { me as meApi, request } from '../api.js';
import { fillSelect, h, loaded, loading, replace } from '../dom.js';
import { errorMessage, showErrors, whileBusy } from '../forms.js';
import { dayKey, formatDay, parseInstant, todayKey } from '../format.js';
import { onLangChange, t } from '../i18n.js';
import { initLayout } from '../layout.js';
import { lessonFacts, statusBadge } from '../lesson-parts.js';
import { changeBadges, changeNotices, periodsLabel } from '../timetable-notices.js';

const REFRESH_MS = 60_000; // statuses change as lessons start and end

const todayList = document.getElementById('today-list');
const upcomingList = document.getElementById('upcoming-list');

const page = { user: null, periods: [], teachers: null, openRequest: null };

/** A teacher's form asking the school to move, cancel or hand over one of their lessons. */
function requestForm(lesson, timeZone) {
  const id = `req-${lesson.id}`;
  const field = (label, control) => h('div', { class: 'field' }, h('label', { for: control.id }, label), control);
  const kind = h('select', { id: `${id}-kind`, name: 'kind' });
  fillSelect(kind, ['move', 'cancel', ...(page.teachers?.length ? ['substitute'] : [])].map((k) => ({ value: k, label: t(`tt.request_kind.${k}`) })));
  const date = h('input', { id: `${id}-date`, name: 'date', type: 'date', value: dayKey(lesson.starts_at, timeZone) });
  const periodItems = page.periods.map((p) => ({ value: p.number, label: `${t('tt.period_n', { n: p.number })} (${p.starts}–${p.ends})` }));
  const from = fillSelect(h('select', { id: `${id}-from`, name: 'period_from' }), periodItems, { value: lesson.period_from ?? 1 });
  const to = fillSelect(h('select', { id: `${id}-to`, name: 'period_to' }), periodItems, { value: lesson.period_to ?? lesson.period_from ?? 1 });
  const teacher = h('select', { id: `${id}-teacher`, name: 'teacher_id' });
  fillSelect(teacher, (page.teachers ?? []).filter((u) => u.id !== page.user.id).map((u) => ({ value: u.id, label: u.full_name })), { placeholder: '—' });
  const note = h('input', { id: `${id}-note`, name: 'note', type: 'text', maxlength: '500', autocomplete: 'off' });
  const moveFields = h('div', { class: 'form-grid' }, field(t('lesson.date'), date), field(t('tt.gen_period_from'), from), field(t('tt.gen_period_to'), to));
  const teacherField = field(t('tt.substitute_teacher'), teacher);
  const sync = () => {
    moveFields.hidden = kind.value !== 'move';
    teacherField.hidden = kind.value !== 'substitute';
  };
  kind.addEventListener('change', sync);
  const form = h(
    'form',
    { class: 'form tt-request-form', id, 'data-schema': 'ChangeRequestIn', novalidate: true },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    field(t('tt.request_kind'), kind),
    moveFields,
    teacherField,
    field(t('tt.note'), note),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'button primary small' }, t('tt.request_submit')), h('p', { class: 'form-status', role: 'status' })),
  );
  sync();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { kind: kind.value, note: note.value.trim() };
    if (kind.value === 'move') body.proposed = { date: date.value, period_from: Number(from.value), period_to: Number(to.value) };
    if (kind.value === 'substitute') body.proposed = teacher.value ? { teacher_id: Number(teacher.value) } : {};
    try {
      await whileBusy(form, 'common.saving', () => request('POST', `/api/lessons/${lesson.id}/change-requests`, { body }));
      form.replaceChildren(h('p', { class: 'notice', role: 'status' }, t('tt.request_sent')));
    } catch (err) {
      showErrors(form, err);
    }
  });
  return form;
}

function lessonCard(lesson, timeZone) {
  const live = lesson.status === 'live';
  const cancelled = lesson.status === 'cancelled';
  const titleId = `lesson-${lesson.id}-title`;
  const mine = page.user?.role === 'teacher' && lesson.teacher_id === page.user.id && lesson.status === 'upcoming';
  const requestBox = mine ? h('details', { class: 'tt-request', open: page.openRequest === lesson.id },
    h('summary', {}, t('tt.request_change')), requestForm(lesson, timeZone)) : null;
  requestBox?.addEventListener('toggle', () => { page.openRequest = requestBox.open ? lesson.id : null; });
  const periods = periodsLabel(lesson);
  return h(
    'article',
    { class: ['lesson-card', `is-${lesson.status}`], dataset: { lessonId: lesson.id, status: lesson.status }, 'aria-labelledby': titleId },
    h(
      'div',
      { class: 'card-head' },
      h('h3', { class: 'lesson-title', id: titleId }, lesson.title),
      cancelled ? null : statusBadge(lesson.status),
      changeBadges(lesson),
    ),
    lessonFacts(lesson, timeZone),
    periods ? h('p', { class: 'muted tt-periods' }, periods) : null,
    changeNotices(lesson, timeZone),
    cancelled
      ? null
      : h(
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
    requestBox,
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
  page.user = user;
  document.getElementById('admin-hint').hidden = user.role !== 'admin';
  if (user.role === 'teacher') {
    // For requests: the school's periods, and the teachers who might stand in (when listed to teachers).
    page.periods = (await request('GET', '/api/school/periods').catch(() => ({ periods: [] }))).periods;
    page.teachers = await request('GET', '/api/users', { query: { role: 'teacher' } }).then((r) => r.items).catch(() => null);
  }

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
    if (!document.hidden && page.openRequest === null) load(); // an open request form is not wiped
  }, REFRESH_MS);
}

main();
