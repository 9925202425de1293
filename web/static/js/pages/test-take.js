// /tests/{id}/take: "Làm bài". The student's attempt (started, or resumed after a reload, a lost
// connection or a restart of the server) with its own order of questions and options. Every answer
// is saved on its own as soon as it changes (the server acknowledges it only once it is kept); the
// countdown ("Thời gian còn lại") follows the server's deadline, and when it ends the server has
// submitted the attempt. Leaving the page, hiding it and pasting are reported to the teacher. A test
// that requires the camera shares it into its live lesson.

import '../i18n-tests.js';
import { h, replace } from '../dom.js';
import { errorMessage } from '../forms.js';
import { onLangChange, t } from '../i18n.js';
import { initLayout } from '../layout.js';
import { publishCamera } from '../test-camera.js';
import { attempts as attemptsApi, tests as testsApi } from '../tests-api.js';

const TEXT_SAVE_MS = 700;
const el = (id) => document.getElementById(id);
const testId = Number(location.pathname.split('/')[2]);
const state = { test: null, attempt: null, endsAt: 0, timer: null, done: false, camera: null, pending: new Map() };

const pad = (n) => String(n).padStart(2, '0');

function renderTimer() {
  const left = Math.max(0, Math.round((state.endsAt - Date.now()) / 1000));
  el('timer').textContent = `${pad(Math.floor(left / 60))}:${pad(left % 60)}`;
  el('timer-bar').classList.toggle('urgent', left <= 60);
  if (left === 0 && !state.done) finished();
}

function status(position, text, kind = '') {
  const line = document.querySelector(`[data-save="${position}"]`);
  if (!line) return;
  line.textContent = text;
  line.className = ['save-status', kind].filter(Boolean).join(' ');
}

async function save(position, answer) {
  if (state.done) return;
  status(position, t('ot.saving'));
  try {
    await attemptsApi.save(state.attempt.id, position, answer);
    const item = state.attempt.items.find((i) => i.position === position);
    if (item) item.answer = answer.choices ?? answer.text ?? answer.number;
    status(position, t('ot.saved'), 'ok');
  } catch (err) {
    if (err.status === 409) {
      await finished();
      return;
    }
    status(position, t('ot.save_failed', { error: errorMessage(err) }), 'error');
  }
}

function saveLater(position, answer) {
  clearTimeout(state.pending.get(position));
  state.pending.set(position, setTimeout(() => {
    state.pending.delete(position);
    save(position, answer());
  }, TEXT_SAVE_MS));
}

function control(item, readOnly) {
  const name = `q${item.position}`;
  const given = item.answer;
  if (['single', 'true_false', 'multiple'].includes(item.kind)) {
    const type = item.kind === 'multiple' ? 'checkbox' : 'radio';
    const box = h('div', { class: 'options' });
    item.options.forEach((option, i) => {
      const input = h('input', {
        type,
        name,
        value: String(i),
        checked: Array.isArray(given) && given.includes(i),
        disabled: readOnly,
        on: {
          change: () => {
            const chosen = [...box.querySelectorAll('input:checked')].map((x) => Number(x.value));
            if (chosen.length) save(item.position, { choices: chosen });
          },
        },
      });
      box.append(h('label', { class: 'option' }, input, h('span', {}, option)));
    });
    return box;
  }
  const label = t('ot.your_answer');
  if (item.kind === 'essay') {
    const area = h('textarea', { name, rows: '6', 'aria-label': label, disabled: readOnly, value: given ?? '' });
    area.addEventListener('input', () => saveLater(item.position, () => ({ text: area.value })));
    return area;
  }
  const input = h('input', {
    name,
    type: item.kind === 'number' ? 'number' : 'text',
    step: item.kind === 'number' ? 'any' : null,
    inputmode: item.kind === 'number' ? 'decimal' : null,
    'aria-label': label,
    disabled: readOnly,
    value: given === null || given === undefined ? '' : String(given),
  });
  const value = () => (item.kind === 'number' ? { number: Number(input.value) } : { text: input.value });
  input.addEventListener('input', () => {
    if (input.value.trim() !== '' && (item.kind !== 'number' || Number.isFinite(Number(input.value)))) saveLater(item.position, value);
  });
  return input;
}

function renderPaper() {
  const attempt = state.attempt;
  const readOnly = attempt.status !== 'in_progress';
  replace(
    el('paper'),
    attempt.items.map((item, n) =>
      h(
        'fieldset',
        { class: 'question', dataset: { position: String(item.position), kind: item.kind } },
        h('legend', {}, `${t('ot.question_n', { n: n + 1 })} `, h('span', { class: 'muted' }, t('ot.points_n', { n: item.points }))),
        h('p', { class: 'question-text' }, item.text),
        item.image_url ? h('img', { class: 'question-image', src: item.image_url, alt: '' }) : null,
        control(item, readOnly),
        readOnly && item.awarded !== null ? h('p', { class: 'awarded' }, t('ot.awarded', { n: item.awarded })) : null,
        readOnly && item.comment ? h('p', { class: 'comment' }, item.comment) : null,
        h('p', { class: 'save-status', dataset: { save: String(item.position) }, role: 'status' }),
      ),
    ),
  );
}

function renderDone() {
  const attempt = state.attempt;
  el('timer-bar').hidden = true;
  el('submit-bar').hidden = true;
  el('done').hidden = false;
  el('done-text').textContent = t(attempt.submitted_by === 'server' ? 'ot.submitted_server' : 'ot.submitted');
  el('done-score').textContent = attempt.score10 !== null ? t('ot.result', { score: attempt.score10 }) : t('ot.result_hidden');
}

async function finished() {
  if (state.done) return;
  state.done = true;
  clearInterval(state.timer);
  for (const timer of state.pending.values()) clearTimeout(timer);
  state.camera?.stop();
  try {
    state.attempt = await attemptsApi.get(state.attempt.id);
  } catch (err) {
    el('take-status').textContent = errorMessage(err);
  }
  renderPaper();
  renderDone();
}

async function flushPending() {
  const inputs = [...state.pending.keys()];
  for (const position of inputs) {
    clearTimeout(state.pending.get(position));
    state.pending.delete(position);
    const item = state.attempt.items.find((i) => i.position === position);
    const field = el('paper').elements.namedItem(`q${position}`);
    if (!item || !field) continue;
    const value = item.kind === 'number' ? { number: Number(field.value) } : { text: field.value };
    await save(position, value);
  }
}

function wireSubmit() {
  el('submit').addEventListener('click', () => {
    el('submit-confirm').hidden = false;
    el('submit-yes').focus();
  });
  el('submit-yes').addEventListener('click', async () => {
    el('submit-yes').disabled = true;
    try {
      await flushPending();
      if (!state.done) {
        state.attempt = await attemptsApi.submit(state.attempt.id);
        await finished();
      }
    } catch (err) {
      if (err.status === 409) await finished();
      else el('take-status').textContent = errorMessage(err);
    } finally {
      el('submit-yes').disabled = false;
    }
  });
}

function report(kind) {
  if (state.done || !state.attempt) return;
  attemptsApi.event(state.attempt.id, kind).catch(() => {});
}

function wireIntegrity() {
  window.addEventListener('blur', () => report('blur'));
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') report('hidden');
  });
  el('paper').addEventListener('paste', () => report('paste'));
  el('paper').addEventListener('submit', (event) => event.preventDefault());
}

async function startCamera() {
  const note = el('camera-status');
  note.hidden = false;
  try {
    state.camera = await publishCamera(state.test.lesson_id, state.attempt.id);
    el('camera-preview').srcObject = state.camera.stream;
    el('camera-preview').hidden = false;
    note.textContent = t('ot.camera_on');
    state.camera.pc.addEventListener('connectionstatechange', () => {
      if (['failed', 'closed'].includes(state.camera.pc.connectionState)) report('camera_off');
    });
  } catch (err) {
    note.textContent = t('ot.camera_failed', { error: err.message });
    note.classList.add('error');
    report('camera_off');
  }
}

async function main() {
  const layout = await initLayout({ role: 'student' });
  if (!layout) return;
  try {
    state.test = await testsApi.get(testId);
    el('test-title').textContent = state.test.title;
    document.title = `${state.test.title} · lophoc`;
    state.attempt = await testsApi.start(testId);
  } catch (err) {
    el('take-status').textContent = errorMessage(err);
    return;
  }
  state.endsAt = Date.now() + state.attempt.remaining_s * 1000;
  renderPaper();
  wireIntegrity();
  wireSubmit();
  onLangChange(() => {
    renderPaper();
    if (state.done) renderDone();
  });
  el('timer-bar').hidden = false;
  el('submit-bar').hidden = false;
  renderTimer();
  state.timer = setInterval(renderTimer, 1000);
  if (state.test.camera_required && state.test.lesson_id) startCamera();
}

main();
