// /parent/join: a parent creates their account with the invitation code (mã mời) from the school.

import { request } from '../api.js';
import { clearErrors, showErrors } from '../forms.js';
import { applyTranslations } from '../i18n.js';
import '../i18n-parents.js';
import { languageSwitch } from '../layout.js';

applyTranslations(document);
document.getElementById('lang-slot').append(languageSwitch());
const form = document.getElementById('join-form');
const code = new URLSearchParams(location.search).get('code');
if (code && /^[A-Za-z0-9]{6,16}$/.test(code)) form.elements.code.value = code;

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearErrors(form);
  const value = (name) => form.elements[name].value.trim();
  const body = { code: value('code'), full_name: value('full_name'), username: value('username'), password: form.elements.password.value };
  if (value('email')) body.email = value('email');
  try {
    await request('POST', '/api/parent/join', { body, redirectOn401: false });
    form.hidden = true;
    document.getElementById('join-done').hidden = false;
  } catch (err) {
    showErrors(form, err);
  }
});
