// /admin/parents: parent accounts linked to students, invitation codes, and the school's SMTP
// settings for e-mailing notices (the password is never shown).

import { request } from '../api.js';
import { fillSelect, h, replace } from '../dom.js';
import { formatDate } from '../format.js';
import { clearErrors, showErrors } from '../forms.js';
import { onLangChange, t } from '../i18n.js';
import '../i18n-parents.js';
import { initLayout, showLoadError } from '../layout.js';

const ctx = await initLayout({ role: 'admin' });
const form = document.getElementById('parent-form');
const smtpForm = document.getElementById('smtp-form');
const status = document.getElementById('parent-status');
let parents = [];

function renderParents() {
  const box = document.getElementById('parents');
  if (!parents.length) {
    replace(box, h('p', { class: 'muted' }, t('adm.none')));
    return;
  }
  replace(
    box,
    h(
      'table',
      { class: 'data-table', id: 'parents-table' },
      h('thead', {}, h('tr', {}, ['adm.col.name', 'adm.col.username', 'adm.col.email', 'adm.col.children'].map((k) => h('th', { scope: 'col' }, t(k))))),
      h(
        'tbody',
        {},
        parents.map((p) =>
          h('tr', { dataset: { parentId: String(p.id) } }, h('td', {}, p.full_name), h('td', {}, p.username), h('td', {}, p.email ?? ''),
            h('td', {}, p.children.map((c) => `${c.full_name}${c.class_name ? ` (${c.class_name})` : ''}`).join(', '))),
        ),
      ),
    ),
  );
}

async function loadParents() {
  parents = (await request('GET', '/api/parents')).items;
  renderParents();
}

async function loadSmtp() {
  const s = await request('GET', '/api/school/smtp');
  smtpForm.elements.enabled.checked = s.enabled;
  smtpForm.elements.smtp_host.value = s.smtp_host;
  smtpForm.elements.smtp_port.value = String(s.smtp_port);
  smtpForm.elements.smtp_user.value = s.smtp_user;
  smtpForm.elements.smtp_from.value = s.smtp_from;
  smtpForm.elements.smtp_tls.value = s.smtp_tls;
  smtpForm.elements.smtp_password.value = '';
  smtpForm.elements.smtp_password.placeholder = s.password_set ? t('smtp.password_set') : '';
}

if (ctx) {
  document.title = t('title.admin_parents');
  onLangChange(renderParents);
  try {
    const students = (await request('GET', '/api/users', { query: { role: 'student' } })).items;
    fillSelect(form.elements.student_id, students.map((s) => ({ value: String(s.id), label: `${s.full_name}${s.class_name ? ` (${s.class_name})` : ''}` })));
    await Promise.all([loadParents(), loadSmtp()]);
  } catch (err) {
    showLoadError(document.getElementById('main'), err);
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const value = (name) => form.elements[name].value.trim();
    const body = { username: value('username'), full_name: value('full_name'), password: form.elements.password.value,
      student_ids: [Number(form.elements.student_id.value)] };
    if (value('email')) body.email = value('email');
    try {
      await request('POST', '/api/parents', { body });
      const student = form.elements.student_id.value;
      form.reset();
      form.elements.student_id.value = student; // the same child: ready for a code or a second parent
      status.textContent = t('adm.created');
      await loadParents();
    } catch (err) {
      showErrors(form, err);
    }
  });

  document.getElementById('invite-button').addEventListener('click', async () => {
    clearErrors(form);
    const select = form.elements.student_id;
    try {
      const invite = await request('POST', `/api/students/${select.value}/parent-invites`);
      status.textContent = t('adm.invite_for', { name: invite.student_name, code: invite.code, date: formatDate(invite.expires_at, ctx.timeZone) });
    } catch (err) {
      showErrors(form, err);
    }
  });

  smtpForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(smtpForm);
    const e = smtpForm.elements;
    const body = { enabled: e.enabled.checked, smtp_host: e.smtp_host.value.trim(), smtp_port: Number(e.smtp_port.value),
      smtp_user: e.smtp_user.value, smtp_from: e.smtp_from.value.trim(), smtp_tls: e.smtp_tls.value };
    if (e.smtp_password.value) body.smtp_password = e.smtp_password.value;
    try {
      await request('PATCH', '/api/school/smtp', { body });
      document.getElementById('smtp-status').textContent = t('smtp.saved');
      await loadSmtp();
    } catch (err) {
      showErrors(smtpForm, err);
    }
  });
}
