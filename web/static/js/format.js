// Dates and times in the school's time zone (GET /api/me -> school.timezone), never the browser's.
//
// Two kinds of values: instants (ISO strings from the API, UTC) and civil dates of the school
// ("day keys", 'YYYY-MM-DD'). Day-key arithmetic is done in UTC so it ignores the browser's zone.

import { locale } from './i18n.js';

export const DEFAULT_TIMEZONE = 'Asia/Ho_Chi_Minh';
const DAY_MS = 86_400_000;

const pad = (n) => String(n).padStart(2, '0');

/** Parse an API instant; a string without an offset is UTC (the API's times are UTC). */
export function parseInstant(value) {
  if (value instanceof Date) return value;
  const text = String(value);
  const hasZone = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(text);
  return new Date(hasZone || !text.includes('T') ? text : `${text}Z`);
}

/** The wall-clock fields of an instant in a time zone. */
export function zonedParts(value, timeZone) {
  const parts = {};
  const formatter = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  for (const { type, value: v } of formatter.formatToParts(parseInstant(value))) parts[type] = v;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour) % 24,
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

/** The school's civil date ('YYYY-MM-DD') of an instant. */
export function dayKey(value, timeZone) {
  const p = zonedParts(value, timeZone);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}`;
}

/** Minutes since the school's midnight of an instant. */
export function minutesOfDay(value, timeZone) {
  const p = zonedParts(value, timeZone);
  return p.hour * 60 + p.minute;
}

export const todayKey = (timeZone) => dayKey(new Date(), timeZone);

function keyToUtcMs(key) {
  const [y, m, d] = key.split('-').map(Number);
  return Date.UTC(y, m - 1, d);
}

export function addDays(key, days) {
  return new Date(keyToUtcMs(key) + days * DAY_MS).toISOString().slice(0, 10);
}

/** The Monday of the week containing `key` (weeks run Monday to Sunday, as in Vietnam). */
export function mondayOf(key) {
  const weekday = new Date(keyToUtcMs(key)).getUTCDay(); // 0 = Sunday
  return addDays(key, -((weekday + 6) % 7));
}

export const isDayKey = (text) => typeof text === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(keyToUtcMs(text));

/** The instant at which the school's clock shows `key` `time` ('HH:MM'). */
export function zonedToInstant(key, time, timeZone) {
  const [y, m, d] = key.split('-').map(Number);
  const [hh, mm] = time.split(':').map(Number);
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  const offsetAt = (ms) => {
    const p = zonedParts(new Date(ms), timeZone);
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - ms;
  };
  let guess = wall - offsetAt(wall);
  guess = wall - offsetAt(guess); // second pass settles DST transitions
  return new Date(guess);
}

/** 'YYYY-MM-DDTHH:MM:00' without an offset: the API reads it in the school's time zone. */
export const localDateTime = (key, time) => `${key}T${time.length === 5 ? `${time}:00` : time}`;

// --- display --------------------------------------------------------------------------------
export function formatTime(value, timeZone) {
  return new Intl.DateTimeFormat(locale(), { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(parseInstant(value));
}

export function formatTimeRange(start, end, timeZone) {
  return `${formatTime(start, timeZone)}–${formatTime(end, timeZone)}`;
}

/** e.g. "Thứ Tư, 25/11/2026" / "Wednesday, 25/11/2026". */
export function formatDate(value, timeZone) {
  return new Intl.DateTimeFormat(locale(), { timeZone, weekday: 'long', day: '2-digit', month: '2-digit', year: 'numeric' }).format(parseInstant(value));
}

/** Format a day key (a civil date, no zone involved). */
export function formatDay(key, options = { weekday: 'long', day: '2-digit', month: '2-digit', year: 'numeric' }) {
  return new Intl.DateTimeFormat(locale(), { ...options, timeZone: 'UTC' }).format(new Date(keyToUtcMs(key)));
}

/** "08:00" for a minute count. */
export const formatMinutes = (minutes) => `${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
