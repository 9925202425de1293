// The online tests' API calls (bài kiểm tra, ngân hàng câu hỏi, bài làm).

import { request } from './api.js';

const enc = encodeURIComponent;
const items = async (promise) => (await promise).items;

export const banks = {
  list: () => items(request('GET', '/api/question-banks')),
  create: (bank) => request('POST', '/api/question-banks', { body: bank }),
  addQuestions: (id, questions) => request('POST', `/api/question-banks/${enc(id)}/questions`, { body: { questions } }),
  importSheet: (id, format, content) => request('POST', `/api/question-banks/${enc(id)}/import`, { body: { format, content } }),
  setImage: (questionId, mime, data) => request('PUT', `/api/questions/${enc(questionId)}/image`, { body: { mime, data } }),
};

export const tests = {
  list: () => items(request('GET', '/api/online-tests')),
  get: (id) => request('GET', `/api/online-tests/${enc(id)}`),
  create: (test) => request('POST', '/api/online-tests', { body: test }),
  publish: (id, published) => request('POST', `/api/online-tests/${enc(id)}/publish`, { body: { published } }),
  start: (id) => request('POST', `/api/online-tests/${enc(id)}/attempts`),
  attempts: (id) => items(request('GET', `/api/online-tests/${enc(id)}/attempts`)),
};

export const attempts = {
  get: (id) => request('GET', `/api/test-attempts/${enc(id)}`),
  save: (id, position, answer) => request('PUT', `/api/test-attempts/${enc(id)}/answers/${enc(position)}`, { body: answer }),
  submit: (id) => request('POST', `/api/test-attempts/${enc(id)}/submit`),
  event: (id, kind, detail = '') => request('POST', `/api/test-attempts/${enc(id)}/events`, { body: { kind, detail } }),
  grade: (id, questionId, points, comment) =>
    request('PUT', `/api/test-attempts/${enc(id)}/grades/${enc(questionId)}`, { body: { points, comment } }),
};
