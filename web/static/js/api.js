// The REST API client: the only module that talks HTTP. No DOM here except the redirect to sign-in.

import { parseRetryAfter } from './backoff.js';
import { getLang } from './i18n.js';

const CSRF_COOKIE = 'lophoc_csrf';
const CSRF_HEADER = 'X-CSRF-Token';
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * An error answer of the API: `{"error": {"code", "message", "fields"?}}`, or a network failure
 * (status 0). `retryAfter`: the seconds of the answer's `Retry-After` header (429, 503), or null.
 */
export class ApiError extends Error {
  constructor(status, code, message, fields = [], retryAfter = null) {
    super(message || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = Array.isArray(fields) ? fields : [];
    this.retryAfter = retryAfter;
  }
}

export function readCookie(name) {
  for (const part of document.cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

/** Send the browser to the sign-in page, coming back here afterwards. */
export function redirectToLogin() {
  const next = location.pathname + location.search;
  location.assign(`/login?next=${encodeURIComponent(next)}`);
}

/**
 * Call the API. `query` values that are null, undefined or '' are left out.
 * Resolves to the parsed JSON body (null for 204); rejects with an ApiError.
 * A 401 sends the browser to /login unless `redirectOn401` is false.
 */
export async function request(method, path, { body, query, redirectOn401 = true, signal } = {}) {
  const url = new URL(path, location.origin);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== null && value !== undefined && value !== '') url.searchParams.set(key, String(value));
  }
  // The server words its refusals in the UI's language (its catalogue, by Accept-Language).
  const headers = { Accept: 'application/json', 'Accept-Language': getLang() };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (UNSAFE_METHODS.has(method)) {
    const token = readCookie(CSRF_COOKIE);
    if (token) headers[CSRF_HEADER] = token;
  }
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      signal,
    });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network_error', err.message);
  }
  if (response.status === 401 && redirectOn401) redirectToLogin();
  const text = response.status === 204 ? '' : await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = data?.error ?? {};
    const retryAfter = parseRetryAfter(response.headers.get('Retry-After'));
    throw new ApiError(response.status, error.code ?? `http_${response.status}`, error.message ?? response.statusText, error.fields, retryAfter);
  }
  return data;
}

const get = (path, query, options) => request('GET', path, { ...options, query });
const post = (path, body, options) => request('POST', path, { ...options, body });
const patch = (path, body, options) => request('PATCH', path, { ...options, body });
const del = (path, options) => request('DELETE', path, options);

const items = async (promise) => (await promise).items;

// --- endpoints ------------------------------------------------------------------------------
export const auth = {
  login: (username, password) => post('/api/auth/login', { username, password }, { redirectOn401: false }),
  logout: () => post('/api/auth/logout', undefined, { redirectOn401: false }),
};

export const me = {
  get: () => get('/api/me'),
  lessons: (query) => items(get('/api/me/lessons', query)),
};

export const users = {
  list: (query) => items(get('/api/users', query)),
  create: (user) => post('/api/users', user),
};

export const schoolYears = {
  list: () => items(get('/api/school-years')),
  create: (year) => post('/api/school-years', year),
};

export const grades = {
  list: () => items(get('/api/grades')),
};

export const classes = {
  list: () => items(get('/api/classes')),
  get: (id) => get(`/api/classes/${encodeURIComponent(id)}`),
  create: (klass) => post('/api/classes', klass),
  addStudents: (id, userIds) => post(`/api/classes/${encodeURIComponent(id)}/students`, { user_ids: userIds }),
  removeStudent: (id, userId) => del(`/api/classes/${encodeURIComponent(id)}/students/${encodeURIComponent(userId)}`),
};

export const subjects = {
  list: () => items(get('/api/subjects')),
  create: (subject) => post('/api/subjects', subject),
};

export const subjectTeams = {
  list: () => items(get('/api/subject-teams')),
  create: (team) => post('/api/subject-teams', team),
};

export const assignments = {
  list: () => items(get('/api/assignments')),
  create: (assignment) => post('/api/assignments', assignment),
};

export const lessons = {
  list: (query) => items(get('/api/lessons', query)),
  get: (id) => get(`/api/lessons/${encodeURIComponent(id)}`),
  create: (lesson) => post('/api/lessons', lesson),
  update: (id, changes) => patch(`/api/lessons/${encodeURIComponent(id)}`, changes),
  remove: (id) => del(`/api/lessons/${encodeURIComponent(id)}`),
};
