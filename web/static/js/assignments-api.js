// The assignments API (/api/coursework): JSON calls through api.js, uploads as multipart/form-data.

import { ApiError, readCookie, redirectToLogin, request } from './api.js';
import { getLang } from './i18n.js';

const BASE = '/api/coursework';
const id = (value) => encodeURIComponent(value);

/** POST a FormData (files and fields): the browser writes the multipart body. */
async function upload(path, data) {
  const headers = { Accept: 'application/json', 'Accept-Language': getLang() };
  const token = readCookie('lophoc_csrf');
  if (token) headers['X-CSRF-Token'] = token;
  let response;
  try {
    response = await fetch(path, { method: 'POST', headers, body: data, credentials: 'same-origin' });
  } catch (err) {
    throw new ApiError(0, 'network_error', err.message);
  }
  if (response.status === 401) redirectToLogin();
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const error = body?.error ?? {};
    throw new ApiError(response.status, error.code ?? `http_${response.status}`, error.message ?? response.statusText, error.fields);
  }
  return body;
}

export const assignmentsApi = {
  list: async (query) => (await request('GET', `${BASE}/assignments`, { query })).items,
  get: (aid) => request('GET', `${BASE}/assignments/${id(aid)}`),
  create: (body) => request('POST', `${BASE}/assignments`, { body }),
  update: (aid, body) => request('PATCH', `${BASE}/assignments/${id(aid)}`, { body }),
  remove: (aid) => request('DELETE', `${BASE}/assignments/${id(aid)}`),
  attach: (aid, data) => upload(`${BASE}/assignments/${id(aid)}/files`, data),
  handIn: (aid, data) => upload(`${BASE}/assignments/${id(aid)}/submission`, data),
  roster: async (aid, status) => (await request('GET', `${BASE}/assignments/${id(aid)}/submissions`, { query: { status } })).items,
  grade: (sid, body) => request('PUT', `${BASE}/submissions/${id(sid)}/grade`, { body }),
  exportUrl: (aid) => `${BASE}/assignments/${id(aid)}/submissions/export?format=xlsx`,
};
