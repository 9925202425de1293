// /login: the sign-in form.

import { auth } from '../api.js';
import { clearErrors, errorMessage, showErrors, showFieldError, showFormError, whileBusy } from '../forms.js';
import { applyTranslations, t } from '../i18n.js';
import { languageSwitch } from '../layout.js';

/** Where to go after signing in: `next` only when it is a path on this site. */
export function safeNext(raw) {
  if (typeof raw !== 'string' || !raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) return '/lessons';
  if (/[\u0000-\u001f\\]/.test(raw)) return '/lessons'; // browsers strip tabs/newlines and read "\" as "/"
  try {
    const url = new URL(raw, location.origin);
    if (url.origin !== location.origin) return '/lessons';
    if (url.pathname === '/login') return '/lessons';
    return url.pathname + url.search + url.hash;
  } catch {
    return '/lessons';
  }
}

const form = document.getElementById('login-form');

async function submit(event) {
  event.preventDefault();
  clearErrors(form);
  const username = form.elements.username.value.trim();
  const password = form.elements.password.value;
  let missing = false;
  if (!username) missing = showFieldError(form, 'username', t('login.username_required'));
  if (!password) missing = showFieldError(form, 'password', t('login.password_required')) || missing;
  if (missing) {
    form.querySelector('[aria-invalid="true"]')?.focus();
    return;
  }
  let signedIn;
  try {
    signedIn = await whileBusy(form, 'login.busy', () => auth.login(username, password));
  } catch (err) {
    if (err.status === 401) {
      showFormError(form, t('login.invalid'));
      form.elements.password.value = '';
      form.elements.password.focus();
    } else if (err.status === 429) {
      showFormError(form, t('login.rate_limited'));
    } else if (err.status === 422) {
      showErrors(form, err);
    } else {
      showFormError(form, errorMessage(err));
    }
    return;
  }
  if (signedIn?.user?.must_change_password) {
    // The school reset this password: the person chooses their own before anything else.
    location.assign('/account?change=1');
    return;
  }
  const next = new URLSearchParams(location.search).get('next');
  // Administrators land on the lessons happening now ("Đang diễn ra"), unless sent for a page.
  location.assign(next === null && signedIn?.user?.role === 'admin' ? '/supervision' : next === null && signedIn?.user?.role === 'parent' ? '/parent' : safeNext(next));
}

applyTranslations(document);
document.getElementById('lang-slot').append(languageSwitch());
form.addEventListener('submit', submit);
form.elements.username.focus();
