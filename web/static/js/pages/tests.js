// /tests: "Bài kiểm tra". Students see their class's tests with a link to take (or continue) each one
// and their score once the teacher publishes the results. Teachers and administrators also keep
// question banks ("ngân hàng câu hỏi": add a question, import a CSV/Excel sheet) and create tests
// that draw their questions from a bank; each test links to its grading page.

import '../i18n-tests.js';
import { classes as classesApi, subjects as subjectsApi } from '../api.js';
import { fillSelect, h, replace, table } from '../dom.js';
import { announce, clearErrors, errorMessage, showErrors, whileBusy } from '../forms.js';
import { formatDate, formatTime, zonedToInstant } from '../format.js';
import { onLangChange, t } from '../i18n.js';
import { initLayout } from '../layout.js';
import { banks as banksApi, tests as testsApi } from '../tests-api.js';

const KINDS = ['single', 'multiple', 'true_false', 'short', 'number', 'essay'];
const el = (id) => document.getElementById(id);
const state = { user: null, timeZone: null, tests: [], banks: [], subjects: [], classes: [] };
const staff = () => state.user.role !== 'student';
const when = (value) => `${formatDate(value, state.timeZone)} ${formatTime(value, state.timeZone)}`;

function actions(test) {
  if (staff()) {
    return h(
      'div',
      { class: 'row-actions' },
      h('a', { class: 'button small secondary', href: `/tests/${test.id}/grade` }, t('ot.grade')),
      h('button', {
        type: 'button',
        class: 'button small ghost',
        on: {
          click: async () => {
            try {
              await testsApi.publish(test.id, !test.results_published);
              await loadTests();
            } catch (err) {
              el('tests-status').textContent = errorMessage(err);
            }
          },
        },
      }, t(test.results_published ? 'ot.unpublish' : 'ot.publish')),
    );
  }
  const open = test.my_attempts.find((a) => a.status === 'in_progress');
  if (open) return h('a', { class: 'button small primary', href: `/tests/${test.id}/take` }, t('ot.resume'));
  if (test.my_attempts.length >= test.attempts_allowed) return h('span', { class: 'muted' }, t('ot.no_attempts_left'));
  return h('a', { class: 'button small primary', href: `/tests/${test.id}/take` }, t('ot.take'));
}

function result(test) {
  if (staff()) return test.results_published ? t('ot.published') : '';
  const scored = test.my_attempts.filter((a) => a.score10 !== null);
  if (scored.length) return t('ot.score', { score: Math.max(...scored.map((a) => a.score10)) });
  return test.my_attempts.length ? t('ot.waiting_result') : '';
}

function renderTests() {
  replace(
    el('tests-list'),
    table({
      headers: [t('ot.col.title'), t('ot.col.window'), t('ot.col.limit'), t('ot.col.questions'), t('ot.col.result'), t('ot.col.actions')],
      rows: state.tests.map((test) => ({
        attrs: { dataset: { testId: String(test.id) } },
        cells: [
          test.title,
          `${when(test.opens_at)} – ${when(test.closes_at)}`,
          t('ot.minutes', { n: test.time_limit_minutes }),
          String(test.question_count),
          result(test),
          actions(test),
        ],
      })),
      emptyText: t('ot.empty'),
    }),
  );
}

async function loadTests() {
  state.tests = await testsApi.list();
  renderTests();
}

function renderBanks() {
  const subjectName = (id) => state.subjects.find((s) => s.id === id)?.name ?? '';
  replace(el('banks-list'), state.banks.map((b) => h('li', {}, `${b.title} · ${subjectName(b.subject_id)} · ${t('ot.bank_count', { n: b.questions })}`)));
  const options = state.banks.map((b) => ({ value: b.id, label: `${b.title} (${b.questions})` }));
  for (const id of ['q-bank', 'import-bank', 't-bank']) fillSelect(el(id), options);
}

async function loadBanks() {
  state.banks = await banksApi.list();
  renderBanks();
}

function renderKinds() {
  fillSelect(el('q-kind'), KINDS.map((k) => ({ value: k, label: t(`ot.kind.${k}`) })));
  const kind = el('q-kind').value;
  el('q-options-field').hidden = !['single', 'multiple'].includes(kind);
  el('q-correct-field').hidden = kind === 'essay';
}

function questionFrom(form) {
  const kind = form.elements.kind.value;
  const options = form.elements.options.value.split('\n').map((s) => s.trim()).filter(Boolean);
  const raw = form.elements.correct.value.trim();
  const question = { kind, text: form.elements.text.value, points: Number(form.elements.points.value || 1) };
  if (kind === 'single' || kind === 'multiple') {
    question.options = options;
    question.correct = raw.split(/[;,\s]+/).filter(Boolean).map((n) => Number(n) - 1);
  } else if (kind === 'true_false') {
    question.correct = [/^(sai|false|s)$/i.test(raw) ? 1 : 0];
  } else if (kind === 'short') {
    question.correct = raw;
  } else if (kind === 'number') {
    question.correct = Number(raw.replace(',', '.'));
  }
  return question;
}

const base64Of = (buffer) => {
  let binary = '';
  const bytes = new Uint8Array(buffer);
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
};

/** A datetime-local value read on the school's clock, as an ISO instant. */
function instant(value) {
  if (!value) return '';
  const [key, time] = value.split('T');
  return zonedToInstant(key, time.slice(0, 5), state.timeZone).toISOString();
}

function wireForms() {
  el('q-kind').addEventListener('change', renderKinds);
  el('bank-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    clearErrors(form);
    await whileBusy(form, 'ot.create', async () => {
      try {
        await banksApi.create({ title: form.elements.title.value, subject_id: Number(form.elements.subject_id.value) });
        form.reset();
        await loadBanks();
      } catch (err) {
        showErrors(form, err);
      }
    });
  });
  el('question-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    clearErrors(form);
    await whileBusy(form, 'ot.q_add', async () => {
      try {
        const image = form.elements.image.files[0];
        const added = await banksApi.addQuestions(Number(form.elements.bank_id.value), [questionFrom(form)]);
        if (image) {
          try {
            await banksApi.setImage(added.items[0].id, image.type, base64Of(await image.arrayBuffer()));
          } catch (err) {
            showErrors(form, err); // the question is kept; its image may be sent again
            await loadBanks();
            return;
          }
        }
        form.elements.text.value = '';
        form.elements.options.value = '';
        form.elements.correct.value = '';
        form.elements.image.value = '';
        announce(form, t('ot.q_added'));
        await loadBanks();
      } catch (err) {
        showErrors(form, err);
      }
    });
  });
  el('import-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    clearErrors(form);
    const file = form.elements.file.files[0];
    if (!file) return;
    await whileBusy(form, 'ot.import_go', async () => {
      try {
        const xlsx = /\.xlsx$/i.test(file.name);
        const content = xlsx ? base64Of(await file.arrayBuffer()) : await file.text();
        const added = await banksApi.importSheet(Number(form.elements.bank_id.value), xlsx ? 'xlsx' : 'csv', content);
        announce(form, t('ot.imported', { n: added.items.length }));
        await loadBanks();
      } catch (err) {
        showErrors(form, err);
      }
    });
  });
  el('test-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    clearErrors(form);
    const f = form.elements;
    const body = {
      title: f.title.value,
      class_id: Number(f.class_id.value),
      subject_id: Number(f.subject_id.value),
      opens_at: instant(f.opens_at.value),
      closes_at: instant(f.closes_at.value),
      time_limit_minutes: Number(f.time_limit_minutes.value),
      attempts_allowed: Number(f.attempts_allowed.value || 1),
      draws: [{ bank_id: Number(f.bank_id.value), count: Number(f.count.value) }],
      shuffle: f.shuffle.checked,
      camera_required: f.camera_required.checked,
      lesson_id: f.lesson_id.value ? Number(f.lesson_id.value) : null,
    };
    await whileBusy(form, 'ot.create', async () => {
      try {
        await testsApi.create(body);
        announce(form, t('ot.created'));
        await loadTests();
      } catch (err) {
        showErrors(form, err);
      }
    });
  });
}

async function main() {
  const layout = await initLayout();
  if (!layout) return;
  Object.assign(state, { user: layout.user, timeZone: layout.timeZone });
  try {
    await loadTests();
  } catch (err) {
    el('tests-status').textContent = errorMessage(err);
  }
  onLangChange(() => {
    renderTests();
    if (staff()) {
      renderBanks();
      renderKinds();
    }
  });
  if (!staff()) return;
  el('staff-tools').hidden = false;
  const [subjects, classes] = await Promise.all([subjectsApi.list(), classesApi.list()]);
  state.subjects = subjects;
  state.classes = classes;
  const subjectOptions = subjects.map((s) => ({ value: s.id, label: s.name }));
  fillSelect(el('bank-subject'), subjectOptions);
  fillSelect(el('t-subject'), subjectOptions);
  fillSelect(el('t-class'), classes.map((c) => ({ value: c.id, label: c.name })));
  renderKinds();
  wireForms();
  await loadBanks();
}

main();
