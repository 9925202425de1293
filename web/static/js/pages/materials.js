// /materials and /materials/review: "Học liệu". Teachers add a material (a file, sent as
// multipart/form-data, or a link), may share the draft with their subject team (tổ chuyên môn),
// read and write the team's comments, submit it for review (gửi duyệt); administrators approve
// (duyệt) or return it with a comment; an approved material is published (phát hành) to a class.
// Students see what is published to their class and open it. Every text from the server is set
// with textContent; links are <a> only for http(s) addresses (the server accepts no other).

import '../i18n-materials.js';
import { ApiError, request } from '../api.js';
import { fillSelect, h, loaded, loading, replace } from '../dom.js';
import { clearErrors, errorMessage, showErrors, showFieldError, whileBusy } from '../forms.js';
import { formatDate } from '../format.js';
import { onLangChange, t } from '../i18n.js';
import { postForm } from '../upload.js';
import { initLayout, showForbidden } from '../layout.js';

const el = (id) => document.getElementById(id);
const form = el('upload-form');
const listEl = el('materials-list');
const state = { user: null, zone: null, tab: null, items: [], subjects: [], teams: [], classes: [], myTeams: new Set(), open: new Set() };

const isStaff = () => state.user.role === 'admin' || state.user.role === 'teacher';
const isAdmin = () => state.user.role === 'admin';
const mine = (m) => m.owner_id === state.user.id;

function tabs() {
  if (!isStaff()) return [];
  if (isAdmin()) return ['review', 'all', 'library'];
  return ['mine', 'team', 'library'];
}

function query() {
  if (state.tab === 'mine') return { mine: 'true' };
  if (state.tab === 'review') return { status: 'submitted' };
  return {};
}

function shown(items) {
  if (state.tab === 'team') return items.filter((m) => !mine(m) && m.team_id && state.myTeams.has(m.team_id));
  if (state.tab === 'library') return items.filter((m) => ['approved', 'published'].includes(m.status));
  return items;
}

function formatSize(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} B`;
}

const safeHref = (url) => (/^https?:\/\//i.test(url ?? '') ? url : null);

// --- actions ---------------------------------------------------------------------------------------
async function act(m, path, body, doneKey, params = {}) {
  const status = el('mat-status');
  status.classList.remove('form-error');
  try {
    const updated = await request('POST', `/api/materials/${m.id}/${path}`, { body });
    status.textContent = t(doneKey, { title: updated.title, klass: updated.class_name ?? '', ...params });
    await load();
  } catch (err) {
    if (err.status === 401) return;
    status.textContent = t('mat.failed', { error: err.fields?.[0]?.message ?? errorMessage(err) });
    status.classList.add('form-error');
  }
}

function reviewControls(m) {
  const id = `review-comment-${m.id}`;
  return [
    h('label', { for: id, class: 'visually-hidden' }, t('mat.comment_label')),
    h('input', { id, type: 'text', class: 'review-comment', maxlength: '2000', placeholder: t('mat.comment_label') }),
    h('button', { type: 'button', class: 'button primary small approve', on: { click: () => act(m, 'review', { decision: 'approve', comment: el(id).value }, 'mat.done.approved') } }, t('mat.approve')),
    h('button', { type: 'button', class: 'button secondary small return', on: { click: () => act(m, 'review', { decision: 'return', comment: el(id).value }, 'mat.done.returned') } }, t('mat.return')),
  ];
}

function publishControls(m) {
  const id = `publish-class-${m.id}`;
  const select = fillSelect(h('select', { id, class: 'publish-class' }), state.classes.map((c) => ({ value: c.id, label: c.name })), { value: m.class_id ?? '' });
  return [
    h('label', { for: id }, t('mat.publish_to')),
    select,
    h('button', { type: 'button', class: 'button primary small publish', on: { click: () => select.value && act(m, 'publish', { class_id: Number(select.value) }, 'mat.done.published') } }, t('mat.publish')),
  ];
}

async function showComments(m, box) {
  const list = box.querySelector('ol');
  try {
    const { items } = await request('GET', `/api/materials/${m.id}/comments`);
    replace(list, items.length ? items.map((c) => h('li', { class: 'mat-comment' }, h('strong', {}, c.author_name), ': ', h('span', { class: 'mat-comment-body' }, c.body))) : h('li', { class: 'muted' }, t('mat.no_comments')));
  } catch (err) {
    replace(list, h('li', { class: 'form-error' }, errorMessage(err)));
  }
}

function commentsBox(m) {
  const id = `comment-${m.id}`;
  const box = h(
    'details',
    { class: 'mat-comments', open: state.open.has(m.id) ? '' : null, dataset: { materialId: m.id } },
    h('summary', {}, t('mat.comments')),
    h('ol', {}),
  );
  const formEl = h(
    'form',
    { class: 'comment-form', id: `comment-form-${m.id}`, novalidate: true },
    h('div', { class: 'field' }, h('label', { for: id }, t('mat.comment_new')), h('textarea', { id, name: 'body', rows: '2', maxlength: '2000', required: true })),
    h('button', { type: 'submit', class: 'button secondary small' }, t('mat.comment_add')),
  );
  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(formEl);
    try {
      await request('POST', `/api/materials/${m.id}/comments`, { body: { body: formEl.elements.body.value } });
      formEl.reset();
      await showComments(m, box);
    } catch (err) {
      if (err.status !== 401) showErrors(formEl, err);
    }
  });
  box.append(formEl);
  box.addEventListener('toggle', () => {
    if (box.open) {
      state.open.add(m.id);
      showComments(m, box);
    } else state.open.delete(m.id);
  });
  if (box.open) showComments(m, box);
  return box;
}

function card(m) {
  const titleId = `material-${m.id}-title`;
  const href = m.kind === 'file' ? m.file_url : safeHref(m.url);
  const fact = (cls, key, value) => (value ? h('div', { class: cls }, h('dt', {}, t(key)), h('dd', {}, value)) : null);
  const mayComment = isStaff() && (isAdmin() || mine(m) || (m.team_id && state.myTeams.has(m.team_id)));
  return h(
    'article',
    { class: 'material-card', dataset: { materialId: m.id, status: m.status }, 'aria-labelledby': titleId },
    h('h3', { id: titleId }, h('span', { class: 'mat-title' }, m.title), ' ', isStaff() ? h('span', { class: 'mat-status', dataset: { status: m.status } }, t(`mat.status.${m.status}`)) : null),
    h(
      'dl',
      { class: 'facts' },
      fact('fact-subject', 'mat.fact.subject', m.subject_name),
      fact('fact-class', 'mat.fact.class', m.class_name),
      fact('fact-owner', 'mat.fact.owner', m.owner_name),
      fact('fact-team', 'mat.fact.team', isStaff() ? m.team_name : null),
      fact('fact-file', 'mat.fact.file', m.kind === 'file' ? `${m.file_name} (${formatSize(m.size_bytes)})` : null),
      fact('fact-downloads', 'mat.fact.downloads', m.downloads != null ? String(m.downloads) : null),
      m.published_at ? h('div', {}, h('dt', {}, t('mat.status.published')), h('dd', {}, formatDate(m.published_at, state.zone))) : null,
    ),
    m.description ? h('p', { class: 'mat-description' }, m.description) : null,
    m.review_comment && isStaff() ? h('p', { class: 'notice review-note' }, t('mat.review_comment', { comment: m.review_comment })) : null,
    h(
      'div',
      { class: 'mat-actions' },
      href ? h('a', { class: 'button primary small open', href, target: '_blank', rel: 'noopener noreferrer', 'aria-label': t('mat.open_named', { title: m.title }) }, t('mat.open')) : null,
      m.kind === 'file' ? h('a', { class: 'button secondary small download', href: `${m.file_url}?download=1`, download: '' }, t('mat.download')) : null,
      mine(m) && ['draft', 'returned'].includes(m.status)
        ? h('button', { type: 'button', class: 'button secondary small submit', on: { click: () => act(m, 'submit', undefined, 'mat.done.submitted') } }, t('mat.submit'))
        : null,
      isAdmin() && m.status === 'submitted' ? reviewControls(m) : null,
      (mine(m) || isAdmin()) && ['approved', 'published'].includes(m.status) ? publishControls(m) : null,
      (mine(m) || isAdmin()) && !['submitted', 'archived'].includes(m.status)
        ? h('button', { type: 'button', class: 'button ghost small archive', on: { click: () => act(m, 'archive', undefined, 'mat.done.archived') } }, t('mat.archive'))
        : null,
    ),
    mayComment ? commentsBox(m) : null,
  );
}

function renderTabs() {
  const nav = el('mat-tabs');
  nav.hidden = tabs().length === 0;
  replace(
    nav,
    tabs().map((tab) =>
      h('button', { type: 'button', class: 'button ghost small', id: `tab-${tab}`, 'aria-pressed': String(tab === state.tab), on: { click: () => { state.tab = tab; renderTabs(); load(); } } }, t(`mat.tab.${tab}`)),
    ),
  );
}

function render() {
  loaded(listEl);
  const items = shown(state.items);
  replace(listEl, items.length ? items.map(card) : h('p', { class: 'empty' }, t(isStaff() ? 'mat.none' : 'mat.none_student')));
}

async function load() {
  try {
    state.items = (await request('GET', '/api/materials', { query: query() })).items;
    render();
  } catch (err) {
    if (err.status === 401) return;
    loaded(listEl);
    replace(listEl, h('p', { class: 'form-error', role: 'alert' }, errorMessage(err)));
  }
}

// --- upload ----------------------------------------------------------------------------------------
async function upload(data) {
  const box = el('mat-progress-box');
  const bar = el('mat-progress');
  box.hidden = false;
  bar.value = 0;
  try {
    const { status, data: body } = await postForm('/api/materials', data, (share) => {
      if (share === null) bar.removeAttribute('value'); // sent: the server checks and stores it
      else bar.value = Math.round(100 * share);
    });
    if (status < 200 || status >= 300) {
      const error = body?.error ?? {};
      throw new ApiError(status, error.code ?? `http_${status}`, error.message ?? '', error.fields);
    }
    return body;
  } finally {
    box.hidden = true;
  }
}

function syncKind() {
  const link = form.elements.kind.value === 'link';
  el('file-field').hidden = link;
  el('url-field').hidden = !link;
}

function setupForm() {
  el('upload-section').hidden = false;
  fillSelect(form.elements.subject_id, state.subjects.map((s) => ({ value: s.id, label: s.name })));
  const teams = isAdmin() ? state.teams : state.teams.filter((team) => state.myTeams.has(team.id));
  fillSelect(form.elements.team_id, teams.map((team) => ({ value: team.id, label: team.name })), { placeholder: t('mat.no_team') });
  for (const radio of form.querySelectorAll('input[name="kind"]')) radio.addEventListener('change', syncKind);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const link = form.elements.kind.value === 'link';
    const file = form.elements.file.files[0];
    if (!link && !file) {
      showFieldError(form, 'file', t('mat.choose_file'));
      return;
    }
    const data = new FormData();
    for (const name of ['title', 'description', 'subject_id', 'team_id']) data.append(name, form.elements[name].value);
    if (link) data.append('url', form.elements.url.value);
    else data.append('file', file, file.name);
    await whileBusy(form, 'mat.saving', async () => {
      try {
        const made = await upload(data);
        form.reset();
        syncKind();
        form.querySelector('.form-status').textContent = t('mat.saved', { title: made.title });
        if (!isAdmin()) state.tab = 'mine';
        renderTabs();
        await load();
      } catch (err) {
        if (err.status === 401) location.assign('/login');
        else showErrors(form, err);
      }
    });
  });
}

async function mainPage() {
  const ctx = await initLayout();
  if (!ctx) return;
  state.user = ctx.user;
  state.zone = ctx.timeZone;
  if (!['admin', 'teacher', 'student'].includes(ctx.user.role)) {
    showForbidden(el('main'));
    return;
  }
  const review = location.pathname === '/materials/review';
  if (review && !isAdmin()) {
    showForbidden(el('main'));
    return;
  }
  state.tab = tabs()[0] ?? null;
  if (review) {
    el('mat-heading').textContent = t('mat.heading_review');
    el('mat-heading').dataset.i18n = 'mat.heading_review';
  }
  if (!isStaff()) {
    el('mat-intro').dataset.i18n = 'mat.intro_student';
    el('mat-intro').textContent = t('mat.intro_student');
  }
  loading(listEl, t('common.loading'));
  if (isStaff()) {
    const [subjects, teams, classes] = await Promise.all([
      request('GET', '/api/subjects').then((r) => r.items).catch(() => []),
      request('GET', '/api/subject-teams').then((r) => r.items).catch(() => []),
      request('GET', '/api/classes').then((r) => r.items).catch(() => []),
    ]);
    Object.assign(state, { subjects, teams, classes });
    state.myTeams = new Set(teams.filter((team) => team.teachers.some((u) => u.id === ctx.user.id)).map((team) => team.id));
    setupForm();
  }
  renderTabs();
  await load();
  onLangChange(() => {
    renderTabs();
    render();
  });
}

mainPage();
