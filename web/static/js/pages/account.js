// /account: "Tài khoản của tôi", for every role: change one's password (the server's rules shown
// before they bite) and see one's sign-ins ("phiên đăng nhập"), ending any but this one, or all
// the others at once. Text from the server (the user agent) is only ever set as text.

import { request } from '../api.js';
import { h, loaded, loading, replace } from '../dom.js';
import { clearErrors, errorMessage, showErrors, showFieldError, showFormError, whileBusy } from '../forms.js';
import { dayKey, formatDay, formatTime } from '../format.js';
import '../i18n-account.js';
import '../i18n-admin-people.js';
import { onLangChange, t } from '../i18n.js';
import { initLayout } from '../layout.js';

// The server's rule for a new password: school/schemas.py `Password` (length in characters, as
// Python counts them: code points).
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;

const form = document.getElementById('password-form');
const rules = document.getElementById('password-rules');
const who = document.getElementById('account-who');
const list = document.getElementById('sessions');
const sessionsStatus = document.getElementById('sessions-status');
const sessionsError = document.getElementById('sessions-error');
const endOthersButton = document.getElementById('end-others');

const sessionsApi = {
  list: async () => (await request('GET', '/api/auth/sessions')).items,
  end: (id) => request('DELETE', `/api/auth/sessions/${encodeURIComponent(id)}`),
  changePassword: (body) => request('POST', '/api/auth/password', { body }),
};

const state = { ctx: null, sessions: null };

const length = (text) => [...text].length;

// --- the device of a sign-in, from its User-Agent -----------------------------------------------
const BROWSERS = [
  [/coc_coc_browser/i, 'Cốc Cốc'],
  [/Edg(?:e|A|iOS)?\//, 'Edge'],
  [/OPR\/|Opera/, 'Opera'],
  [/SamsungBrowser/, 'Samsung Internet'],
  [/Zalo/i, 'Zalo'],
  [/Firefox\/|FxiOS/, 'Firefox'],
  [/Chrome\/|CriOS|Chromium/, 'Chrome'],
  [/Version\/[\d.]+.*Safari/, 'Safari'],
];
const SYSTEMS = [
  [/Android/, 'Android'],
  [/iPhone|iPad|iPod/, 'iOS'],
  [/Windows/, 'Windows'],
  [/CrOS/, 'ChromeOS'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/Linux|X11/, 'Linux'],
];
const APPS = /^(?:python|aiohttp|curl|Wget|OBS|okhttp|Go-http-client|node|PostmanRuntime)/i;

/** "Chrome trên Android", "Ứng dụng (curl/8.0)", or "Thiết bị không rõ". */
export function deviceName(agent) {
  const ua = (agent ?? '').trim();
  if (!ua) return t('acc.s.unknown_device');
  if (APPS.test(ua)) return `${t('acc.s.api_client')} (${ua.split(/\s/)[0].slice(0, 40)})`;
  const browser = BROWSERS.find(([re]) => re.test(ua))?.[1];
  const os = SYSTEMS.find(([re]) => re.test(ua))?.[1];
  if (!browser && !os) return t('acc.s.unknown_device');
  return t('acc.s.device', { browser: browser ?? t('acc.s.browser_other'), os: os ?? t('acc.s.os_other') });
}

/** "25/11/2026 08:05" in the school's time zone. */
function stamp(value) {
  const zone = state.ctx.timeZone;
  return `${formatDay(dayKey(value, zone), { day: '2-digit', month: '2-digit', year: 'numeric' })} ${formatTime(value, zone)}`;
}

// --- sign-ins ----------------------------------------------------------------------------------
function sessionItem(session) {
  const device = deviceName(session.user_agent);
  const at = stamp(session.created_at);
  return h(
    'li',
    { class: ['session-item', session.current && 'is-current'], dataset: { sessionId: session.id }, 'aria-current': session.current ? 'true' : null },
    h(
      'div',
      { class: 'session-head' },
      h('h3', { class: 'session-device' }, device),
      session.current ? h('span', { class: 'badge session-current' }, t('acc.s.current')) : null,
    ),
    session.user_agent ? h('p', { class: 'session-agent', title: t('acc.s.agent') }, session.user_agent) : null,
    h(
      'dl',
      { class: 'facts' },
      h('div', { class: 'fact-signed-in' }, h('dt', {}, t('acc.s.signed_in')), h('dd', {}, at)),
      h('div', { class: 'fact-last-used' }, h('dt', {}, t('acc.s.last_used')), h('dd', {}, stamp(session.last_used_at))),
    ),
    session.current
      ? null
      : h(
          'button',
          {
            type: 'button',
            class: 'button danger small end-session',
            'aria-label': t('acc.s.end_label', { device, at }),
            on: { click: (event) => endOne(session, event.currentTarget) },
          },
          t('acc.s.end'),
        ),
  );
}

function renderSessions() {
  const sessions = state.sessions;
  if (!sessions) return;
  loaded(list);
  const others = sessions.filter((s) => !s.current);
  replace(
    list,
    h('p', { class: 'muted', id: 'sessions-count' }, t('acc.s.count', { n: sessions.length })),
    h('ul', { class: 'session-list', 'aria-label': t('acc.s.list') }, sessions.map(sessionItem)),
    others.length ? null : h('p', { class: 'empty', id: 'sessions-only-this' }, t('acc.s.only_this')),
  );
  endOthersButton.hidden = others.length === 0;
}

async function loadSessions() {
  try {
    // This one first, then the most recently used.
    state.sessions = (await sessionsApi.list()).sort(
      (a, b) => Number(b.current) - Number(a.current) || String(b.last_used_at).localeCompare(String(a.last_used_at)),
    );
  } catch (err) {
    if (err.status === 401) return; // on its way to the sign-in page
    loaded(list);
    replace(list, h('p', { class: 'form-error', role: 'alert' }, errorMessage(err)));
    return;
  }
  renderSessions();
}

function showSessionsError(text) {
  sessionsError.textContent = text;
  sessionsError.hidden = !text;
}

/** Ends one sign-in; one that has already ended counts as ended. */
async function endSession(id) {
  try {
    await sessionsApi.end(id);
  } catch (err) {
    if (err.status !== 404) throw err;
  }
}

async function endOne(session, button) {
  showSessionsError('');
  sessionsStatus.textContent = '';
  button.disabled = true;
  button.textContent = t('acc.s.busy');
  try {
    await endSession(session.id);
    sessionsStatus.textContent = t('acc.s.ended_one', { device: deviceName(session.user_agent) });
  } catch (err) {
    if (err.status === 401) return;
    showSessionsError(t('acc.s.failed', { error: errorMessage(err) }));
  }
  await loadSessions();
  document.getElementById('sessions-heading').focus?.();
}

async function endOthers() {
  showSessionsError('');
  sessionsStatus.textContent = '';
  const others = (state.sessions ?? []).filter((s) => !s.current);
  const label = endOthersButton.textContent;
  endOthersButton.disabled = true;
  endOthersButton.textContent = t('acc.s.busy');
  let done = 0;
  let failure = null;
  for (const session of others) {
    try {
      await endSession(session.id);
      done += 1;
    } catch (err) {
      if (err.status === 401) return;
      failure = err;
    }
  }
  endOthersButton.disabled = false;
  endOthersButton.textContent = label;
  if (failure) showSessionsError(t('acc.s.ended_some', { done, n: others.length, error: errorMessage(failure) }));
  else sessionsStatus.textContent = t('acc.s.ended_others', { n: done });
  await loadSessions();
}

// --- password ----------------------------------------------------------------------------------
function newPasswordProblem(value, current) {
  const n = length(value);
  if (n < PASSWORD_MIN) return t('acc.pw.too_short', { min: PASSWORD_MIN, n });
  if (n > PASSWORD_MAX) return t('acc.pw.too_long', { max: PASSWORD_MAX });
  if (value === current) return t('acc.pw.same');
  return null;
}

/** The form's own checks, the server's rules among them; true when nothing is wrong. */
function checkPasswordForm() {
  clearErrors(form);
  const { current_password: current, new_password: next, repeat_password: repeat } = form.elements;
  let ok = true;
  const fail = (name, message) => {
    showFieldError(form, name, message);
    ok = false;
  };
  if (!current.value) fail('current_password', t('acc.pw.current_required'));
  const problem = newPasswordProblem(next.value, current.value);
  if (problem) fail('new_password', problem);
  if (!repeat.value) fail('repeat_password', t('acc.pw.repeat_required'));
  else if (!problem && repeat.value !== next.value) fail('repeat_password', t('acc.pw.mismatch'));
  if (!ok) form.querySelector('[aria-invalid="true"]')?.focus();
  return ok;
}

function showPasswordError(err) {
  const { current_password: current, new_password: next } = form.elements;
  if (err.status === 422 && err.fields.length) {
    clearErrors(form);
    const rest = [];
    for (const { field, message } of err.fields) {
      const name = String(field ?? '').split('.').at(-1);
      if (name === 'current_password') showFieldError(form, name, message === 'wrong password' ? t('acc.pw.current_wrong') : t('acc.pw.current_required'));
      else if (name === 'new_password') showFieldError(form, name, newPasswordProblem(next.value, '') ?? message);
      else rest.push({ field, message });
    }
    if (rest.length) showErrors(form, { ...err, fields: rest });
    if (form.elements.current_password.getAttribute('aria-invalid') === 'true') {
      current.value = '';
      current.focus();
    } else {
      form.querySelector('[aria-invalid="true"]')?.focus();
    }
  } else if (err.status === 429) {
    clearErrors(form);
    showFormError(form, err.retryAfter ? t('acc.pw.rate_limited', { seconds: Math.ceil(err.retryAfter) }) : t('acc.pw.rate_limited_later'));
  } else if (err.status === 409) {
    clearErrors(form);
    showFormError(form, t('acc.pw.conflict'));
  } else {
    showErrors(form, err);
  }
}

async function submitPassword(event) {
  event.preventDefault();
  const status = document.getElementById('password-status');
  status.textContent = '';
  if (!checkPasswordForm()) return;
  const body = { current_password: form.elements.current_password.value, new_password: form.elements.new_password.value };
  try {
    await whileBusy(form, 'acc.pw.busy', () => sessionsApi.changePassword(body));
  } catch (err) {
    if (err.status !== 401) showPasswordError(err);
    return;
  }
  form.reset();
  clearErrors(form);
  if (state.ctx.user.must_change_password) {
    // The reset password is replaced: the rest of lophoc opens again.
    state.ctx.user.must_change_password = false;
    status.textContent = t('acc.forced.done');
    setTimeout(() => location.assign('/lessons'), 1200);
    return;
  }
  status.textContent = t('acc.pw.done');
  await loadSessions();
}

function showPasswords(event) {
  const type = event.currentTarget.checked ? 'text' : 'password';
  for (const name of ['current_password', 'new_password', 'repeat_password']) form.elements[name].type = type;
}

// --- page --------------------------------------------------------------------------------------
/** After a password reset by the school: why this form comes first, above it. */
function renderForced() {
  let notice = document.getElementById('forced-change');
  if (!state.ctx.user.must_change_password) {
    notice?.remove();
    return;
  }
  if (!notice) {
    notice = h('div', { class: 'page-message warning forced-change', id: 'forced-change', role: 'alert' });
    form.before(notice);
  }
  replace(notice, h('h3', {}, t('acc.forced.title')), h('p', {}, t('acc.forced.text')));
}

function renderStatic() {
  const { user } = state.ctx;
  who.textContent = t('acc.who', { name: user.full_name, username: user.username });
  rules.textContent = t('acc.pw.rules', { min: PASSWORD_MIN, max: PASSWORD_MAX });
  renderForced();
}

async function main() {
  loading(list, t('common.loading'));
  state.ctx = await initLayout();
  if (!state.ctx) return;
  renderStatic();
  if (state.ctx.user.must_change_password) form.elements.current_password.focus();
  form.addEventListener('submit', submitPassword);
  document.getElementById('show-passwords').addEventListener('change', showPasswords);
  endOthersButton.addEventListener('click', endOthers);
  document.getElementById('sessions-heading').tabIndex = -1;
  onLangChange(() => {
    renderStatic();
    renderSessions();
  });
  await loadSessions();
}

main();
