// Inline SVG pictures of attendance: a lesson's timeline (one bar row per student) and the
// attendance rate over days. Built with DOM calls, never markup strings; colours come from
// records.css classes (the CSP forbids style attributes).

import { h } from './dom.js';
import { formatDay, formatTime, parseInstant, zonedParts } from './format.js';
import { t } from './i18n.js';
import { formatPercent } from './records-parts.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const MINUTE = 60_000;

/** Create an SVG element: attributes (null/undefined/false skipped), `class`, `dataset`, children. */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'class') el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

const round = (n) => Math.round(n * 10) / 10;

/** Tick instants every `stepMinutes`, on round minutes of the school's clock, within [lo, hi]. */
export function clockTicks(lo, hi, stepMinutes, timeZone) {
  const p = zonedParts(new Date(lo), timeZone);
  const minuteStart = lo - p.second * 1000 - (((lo % 1000) + 1000) % 1000);
  const minuteOfDay = p.hour * 60 + p.minute;
  let tick = minuteStart + ((stepMinutes - (minuteOfDay % stepMinutes)) % stepMinutes) * MINUTE;
  if (tick < lo) tick += stepMinutes * MINUTE;
  const ticks = [];
  for (; tick <= hi; tick += stepMinutes * MINUTE) ticks.push(tick);
  return ticks;
}

function tickStep(spanMinutes) {
  if (spanMinutes <= 75) return 5;
  if (spanMinutes <= 180) return 10;
  if (spanMinutes <= 360) return 30;
  return 60;
}

const shorten = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/**
 * The lesson's timeline: x runs over the lesson (widened a little for early arrivals and late
 * leavers), one row per student, an interval per bar, open intervals reaching now.
 */
export function attendanceTimeline({ lesson, students, timeZone, now = Date.now(), id = 'attendance-timeline' }) {
  const start = parseInstant(lesson.starts_at).getTime();
  const end = parseInstant(lesson.ends_at).getTime();
  let lo = start;
  let hi = end;
  for (const student of students) {
    for (const interval of student.intervals) {
      lo = Math.min(lo, parseInstant(interval.joined_at).getTime());
      hi = Math.max(hi, interval.left_at ? parseInstant(interval.left_at).getTime() : now);
    }
  }
  lo = Math.max(lo, start - 30 * MINUTE);
  hi = Math.min(hi, end + 30 * MINUTE);

  const W = 1000;
  const NAME_W = 210;
  const STATUS_W = 110;
  const AXIS_H = 30;
  const ROW_H = 30;
  const BAR_H = 16;
  const x0 = NAME_W;
  const x1 = W - STATUS_W;
  const height = AXIS_H + students.length * ROW_H + 6;
  const x = (ms) => x0 + ((Math.min(Math.max(ms, lo), hi) - lo) / (hi - lo)) * (x1 - x0);

  const titleId = `${id}-title`;
  const descId = `${id}-desc`;
  const ticks = clockTicks(lo, hi, tickStep((hi - lo) / MINUTE), timeZone);
  const axis = s(
    'g',
    { class: 'timeline-axis' },
    ticks.map((tick) =>
      s(
        'g',
        { class: 'timeline-tick', dataset: { at: new Date(tick).toISOString() } },
        s('line', { x1: round(x(tick)), x2: round(x(tick)), y1: AXIS_H - 6, y2: height - 4 }),
        s('text', { x: round(x(tick)), y: AXIS_H - 11, 'text-anchor': 'middle' }, formatTime(new Date(tick), timeZone)),
      ),
    ),
  );
  const edges = [start, end].map((ms) =>
    s('line', { class: 'timeline-lesson-edge', x1: round(x(ms)), x2: round(x(ms)), y1: AXIS_H - 6, y2: height - 4 }),
  );
  const showNow = lesson.status === 'live' && now >= lo && now <= hi;
  const nowLine = showNow
    ? s('line', { class: 'timeline-now', x1: round(x(now)), x2: round(x(now)), y1: AXIS_H - 6, y2: height - 4 })
    : null;

  // Late and left early together is drawn as late; a short visit of an absent student, or time in a
  // lesson not held yet, in the absent red and a neutral grey (the stylesheet has no colour for
  // those bars: an SVG fill attribute, as the page allows no inline style).
  const tone = (status) => (status === 'late_left_early' ? 'att-late' : `att-${status}`);
  const BAR_FILL = { absent: '#b42318', not_yet: '#8a94a6' };
  const rows = students.map((student, i) => {
    const top = AXIS_H + i * ROW_H;
    const statusText = t(`att.status.${student.status}`);
    const bars = student.intervals.map((interval) => {
      const from = parseInstant(interval.joined_at).getTime();
      const open = !interval.left_at;
      const to = open ? Math.max(now, from) : parseInstant(interval.left_at).getTime();
      const left = x(from);
      const width = Math.max(x(to) - left, 3); // a short visit stays visible
      const label = open
        ? t('att.interval_open', { from: formatTime(new Date(from), timeZone) })
        : t('att.interval', { from: formatTime(new Date(from), timeZone), to: formatTime(new Date(to), timeZone) });
      return s(
        'rect',
        {
          class: ['timeline-bar', tone(student.status), `att-${student.status}`, open && 'is-open'],
          fill: BAR_FILL[student.status] ?? null,
          x: round(Math.min(left, x1 - 3)),
          y: top + (ROW_H - BAR_H) / 2,
          width: round(width),
          height: BAR_H,
          rx: 3,
          dataset: { joinedAt: interval.joined_at, leftAt: interval.left_at ?? '' },
        },
        s('title', {}, label),
      );
    });
    return s(
      'g',
      { class: ['timeline-row', i % 2 ? 'is-odd' : null], dataset: { userId: student.user_id, status: student.status } },
      s('title', {}, t('att.row_title', { name: student.full_name, status: statusText, minutes: Math.round(student.seconds_present / 60) })),
      s('rect', { class: 'timeline-band', x: 0, y: top, width: W, height: ROW_H }),
      s('text', { class: 'timeline-name', x: 8, y: top + ROW_H / 2, 'dominant-baseline': 'central' }, shorten(student.full_name, 28)),
      s('rect', { class: 'timeline-track', x: x0, y: top + (ROW_H - BAR_H) / 2, width: x1 - x0, height: BAR_H, rx: 3 }),
      bars,
      s(
        'text',
        { class: ['timeline-status', tone(student.status), `att-${student.status}`], x: W - 8, y: top + ROW_H / 2, 'text-anchor': 'end', 'dominant-baseline': 'central' },
        statusText,
      ),
    );
  });

  const svg = s(
    'svg',
    {
      id,
      class: 'timeline',
      viewBox: `0 0 ${W} ${height}`,
      role: 'img',
      'aria-labelledby': titleId,
      'aria-describedby': descId,
      preserveAspectRatio: 'xMinYMin meet',
    },
    s('title', { id: titleId }, t('att.timeline')),
    s('desc', { id: descId }, t('att.timeline_desc', { tz: timeZone })),
    axis,
    s('g', { class: 'timeline-rows' }, rows),
    edges,
    nowLine,
  );

  const swatch = (cls) => h('span', { class: ['legend-swatch', cls], 'aria-hidden': 'true' });
  const legend = h(
    'ul',
    { class: 'legend', 'aria-label': t('att.legend') },
    ['present', 'late', 'left_early', 'absent', 'not_yet']
      .filter((status) => status !== 'not_yet' || students.some((student) => student.status === status))
      .map((status) => h('li', { dataset: { status } }, swatch(`att-${status}`), t(`att.status.${status}`))),
    h('li', {}, swatch('legend-open'), t('att.legend.open')),
    h('li', {}, swatch('legend-edge'), t('att.legend.lesson')),
    showNow ? h('li', {}, swatch('legend-now'), t('att.legend.now')) : null,
  );
  return h('figure', { class: 'timeline-figure' }, h('div', { class: 'timeline-scroll' }, svg), h('figcaption', {}, legend));
}

/**
 * The attendance rate per day over [from, to] (day keys): a line through the days that had
 * lessons, a point per day, 0–100 % on the y axis.
 */
export function attendanceByDayChart({ days, from, to, title, desc, id = 'attendance-chart' }) {
  const DAY = 86_400_000;
  const keyMs = (key) => Date.UTC(...key.split('-').map((n, i) => Number(n) - (i === 1 ? 1 : 0)));
  const first = keyMs(from);
  const count = Math.max(Math.round((keyMs(to) - first) / DAY) + 1, 1);
  const W = 1000;
  const H = 280;
  const L = 56;
  const R = 20;
  const T = 16;
  const B = 40;
  const plotW = W - L - R;
  const plotH = H - T - B;
  const x = (index) => L + (count === 1 ? plotW / 2 : (index / (count - 1)) * plotW);
  const y = (rate) => T + (1 - rate) * plotH;
  const indexOf = (key) => Math.round((keyMs(key) - first) / DAY);

  const grid = [0, 0.25, 0.5, 0.75, 1].map((rate) =>
    s(
      'g',
      { class: 'chart-grid' },
      s('line', { x1: L, x2: W - R, y1: round(y(rate)), y2: round(y(rate)) }),
      s('text', { x: L - 8, y: round(y(rate)), 'text-anchor': 'end', 'dominant-baseline': 'central' }, formatPercent(rate, 0)),
    ),
  );
  const step = Math.max(1, Math.ceil(count / 8));
  const labels = [];
  for (let i = 0; i < count; i += step) {
    const key = new Date(first + i * DAY).toISOString().slice(0, 10);
    labels.push(
      s('text', { x: round(x(i)), y: H - B + 20, 'text-anchor': 'middle' }, formatDay(key, { day: '2-digit', month: '2-digit' })),
    );
  }
  const points = [...days].sort((a, b) => (a.date < b.date ? -1 : 1)).filter((d) => indexOf(d.date) >= 0 && indexOf(d.date) < count);
  const coords = points.map((d) => [round(x(indexOf(d.date))), round(y(d.attendance_rate))]);
  const line = coords.length > 1 ? s('polyline', { class: 'chart-line', points: coords.map((c) => c.join(',')).join(' ') }) : null;
  const marks = points.map((d, i) =>
    s(
      'circle',
      { class: 'chart-point', cx: coords[i][0], cy: coords[i][1], r: 5, dataset: { date: d.date, rate: d.attendance_rate } },
      s('title', {}, t('report.chart_point', { date: formatDay(d.date, { day: '2-digit', month: '2-digit', year: 'numeric' }), rate: formatPercent(d.attendance_rate), n: d.lessons_held })),
    ),
  );
  const titleId = `${id}-title`;
  const descId = `${id}-desc`;
  return s(
    'svg',
    { id, class: 'day-chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': titleId, 'aria-describedby': descId },
    s('title', { id: titleId }, title),
    s('desc', { id: descId }, desc),
    grid,
    s('line', { class: 'chart-axis', x1: L, x2: W - R, y1: H - B, y2: H - B }),
    s('g', { class: 'chart-labels' }, labels),
    line,
    s('g', { class: 'chart-points' }, marks),
  );
}
