// The lesson page's "Học liệu của tiết học" section: the materials attached to the lesson (its
// class's students see the published ones and open them); the lesson's teacher attaches an approved
// material from the school's library or detaches one. Self-contained: its own <section> in lesson.html.

import './i18n-materials.js';
import { me, request } from './api.js';
import { fillSelect, h, replace } from './dom.js';
import { errorMessage } from './forms.js';
import { onLangChange, t } from './i18n.js';

const section = document.getElementById('lesson-materials');
const lessonId = Number(location.pathname.split('/')[2]);
const state = { items: [], library: [], user: null, lesson: null, error: '' };

const mayManage = () => state.user && state.lesson && (state.user.role === 'admin' || state.lesson.teacher_id === state.user.id);

function item(m) {
  const href = m.kind === 'file' ? m.file_url : /^https?:\/\//i.test(m.url ?? '') ? m.url : null;
  return h(
    'li',
    { class: 'lesson-material', dataset: { materialId: m.id } },
    href ? h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, m.title) : h('span', {}, m.title),
    m.kind === 'file' ? h('span', { class: 'muted' }, ` · ${m.file_name}`) : null,
    mayManage()
      ? h('button', { type: 'button', class: 'button ghost small detach', 'aria-label': t('mat.detach', { title: m.title }), on: { click: () => change('DELETE', `/api/lessons/${lessonId}/materials/${m.id}`) } }, '×')
      : null,
  );
}

async function change(method, path, body) {
  try {
    await request(method, path, { body });
    state.error = '';
  } catch (err) {
    if (err.status === 401) return;
    state.error = t('mat.failed', { error: errorMessage(err) });
  }
  await load();
}

function attachForm() {
  const attached = new Set(state.items.map((m) => m.id));
  const choices = state.library.filter((m) => !attached.has(m.id));
  if (!choices.length) return null;
  const select = fillSelect(h('select', { id: 'attach-material' }), choices.map((m) => ({ value: m.id, label: `${m.title} (${m.subject_name})` })));
  return h(
    'div',
    { class: 'mat-actions' },
    h('label', { for: 'attach-material' }, t('mat.attach_label')),
    select,
    h('button', { type: 'button', class: 'button secondary small', id: 'attach-button', on: { click: () => change('POST', `/api/lessons/${lessonId}/materials`, { material_id: Number(select.value) }) } }, t('mat.attach')),
  );
}

function render() {
  section.hidden = !state.items.length && !mayManage();
  replace(
    section,
    h('h2', { id: 'lesson-materials-heading' }, t('mat.lesson_heading')),
    state.items.length ? h('ul', { class: 'lesson-material-list' }, state.items.map(item)) : h('p', { class: 'muted' }, t('mat.lesson_none')),
    mayManage() ? attachForm() : null,
    state.error ? h('p', { class: 'form-error', role: 'alert' }, state.error) : null,
  );
}

async function load() {
  try {
    state.items = (await request('GET', `/api/lessons/${lessonId}/materials`, { redirectOn401: false })).items;
    if (mayManage()) {
      const { items } = await request('GET', '/api/materials', { redirectOn401: false });
      state.library = items.filter((m) => ['approved', 'published'].includes(m.status));
    }
  } catch {
    state.items = [];
  }
  render();
}

async function start() {
  if (!section || !lessonId) return;
  try {
    state.user = (await me.get()).user;
    if (state.user.role !== 'student') state.lesson = await request('GET', `/api/lessons/${lessonId}`, { redirectOn401: false });
  } catch {
    return; // the page itself says why it cannot show the lesson
  }
  await load();
  onLangChange(render);
}

start();
