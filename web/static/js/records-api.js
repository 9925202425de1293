// The REST calls of attendance, statistics and the recording archive, on api.js's `request`.

import { request } from './api.js';

const id = (value) => encodeURIComponent(value);

/** A same-origin URL for `path` with `query` (empty values left out), as a plain link's href. */
export function apiUrl(path, query = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export const attendance = {
  /** GET /api/lessons/{id}/attendance: every student of the class with status and intervals. */
  lesson: (lessonId) => request('GET', `/api/lessons/${id(lessonId)}/attendance`),
  lessonExportUrl: (lessonId, format) => apiUrl(`/api/lessons/${id(lessonId)}/attendance`, { format }),
  /** GET /api/reports/attendance: statistics over [from, to] by student, class, grade, subject, teacher, day. */
  report: (query) => request('GET', '/api/reports/attendance', { query }),
  reportExportUrl: (query, format) => apiUrl('/api/reports/attendance', { ...query, format }),
};

export const recordings = {
  /** GET /api/recordings: the archive (default: the last 30 days). */
  list: async (query) => (await request('GET', '/api/recordings', { query })).items,
  /** PATCH /api/recordings/{id}: publish to the class's students, or withdraw. */
  setPublished: (recordingId, published) => request('PATCH', `/api/recordings/${id(recordingId)}`, { body: { published } }),
  downloadUrl: (recording) => `${recording.media_url}?download=true`,
};
