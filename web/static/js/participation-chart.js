// The picture of a lesson's participation: one row per student, a bar for the minutes speaking and
// one for the minutes with the camera on, over a track as long as the time present. Inline SVG built
// with DOM calls; colours come from records.css classes (the CSP forbids style attributes).

import { h } from './dom.js';
import { t } from './i18n.js';
import { s } from './records-charts.js';
import { formatNumber } from './records-parts.js';

const round = (n) => Math.round(n * 10) / 10;
const minutes = (seconds) => formatNumber(seconds / 60);
const shorten = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** Bars of speaking and camera time per student, on one scale (the longest time of anyone). */
export function participationChart({ students, id = 'participation-chart' }) {
  const W = 1000;
  const NAME_W = 210;
  const VALUE_W = 150;
  const ROW_H = 40;
  const BAR_H = 12;
  const x0 = NAME_W;
  const x1 = W - VALUE_W;
  const height = students.length * ROW_H + 8;
  const longest = Math.max(60, ...students.map((r) => Math.max(r.present_s, r.speaking_s, r.camera_s)));
  const width = (seconds) => ((Math.min(seconds, longest) / longest) * (x1 - x0));
  const titleId = `${id}-title`;
  const descId = `${id}-desc`;

  const rows = students.map((student, i) => {
    const top = 4 + i * ROW_H;
    const bar = (kind, seconds, y) =>
      s(
        'rect',
        {
          class: ['part-bar', `part-${kind}`],
          x: x0,
          y,
          width: round(seconds > 0 ? Math.max(width(seconds), 2) : 0),
          height: BAR_H,
          rx: 2,
          dataset: { seconds },
        },
        s('title', {}, t(`part.bar.${kind}`, { name: student.full_name, minutes: minutes(seconds) })),
      );
    const upper = top + ROW_H / 2 - BAR_H - 1;
    const lower = top + ROW_H / 2 + 1;
    return s(
      'g',
      { class: ['part-row', i % 2 ? 'is-odd' : null], dataset: { userId: student.user_id } },
      s('rect', { class: 'part-band', x: 0, y: top, width: W, height: ROW_H }),
      s('text', { class: 'part-name', x: 8, y: top + ROW_H / 2, 'dominant-baseline': 'central' }, shorten(student.full_name, 28)),
      s('rect', { class: 'part-present', x: x0, y: upper, width: round(width(student.present_s)), height: 2 * BAR_H + 2, rx: 3, dataset: { seconds: student.present_s } }),
      bar('speaking', student.speaking_s, upper),
      bar('camera', student.camera_s, lower),
      s('text', { class: 'part-value part-value-speaking', x: W - 8, y: upper + BAR_H / 2, 'text-anchor': 'end', 'dominant-baseline': 'central' },
        `${t('part.legend.speaking')}: ${t('part.minutes', { minutes: minutes(student.speaking_s) })}`),
      s('text', { class: 'part-value part-value-camera', x: W - 8, y: lower + BAR_H / 2, 'text-anchor': 'end', 'dominant-baseline': 'central' },
        `${t('part.legend.camera')}: ${t('part.minutes', { minutes: minutes(student.camera_s) })}`),
    );
  });

  const svg = s(
    'svg',
    { id, class: 'part-chart', viewBox: `0 0 ${W} ${height}`, role: 'img', 'aria-labelledby': titleId, 'aria-describedby': descId, preserveAspectRatio: 'xMinYMin meet' },
    s('title', { id: titleId }, t('part.chart')),
    s('desc', { id: descId }, t('part.chart_desc')),
    rows,
  );
  const swatch = (cls) => h('span', { class: ['legend-swatch', cls], 'aria-hidden': 'true' });
  const legend = h(
    'ul',
    { class: 'part-legend', 'aria-label': t('att.legend') },
    h('li', {}, swatch('part-speaking'), t('part.legend.speaking')),
    h('li', {}, swatch('part-camera'), t('part.legend.camera')),
    h('li', {}, swatch('part-present'), t('part.legend.present')),
  );
  return h('figure', { class: 'timeline-figure part-figure' }, h('div', { class: 'timeline-scroll' }, svg), h('figcaption', {}, legend));
}
