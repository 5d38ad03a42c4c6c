/**
 * The quiz editor page (editor.html): the draft (js/editor/draft.js) is the one state; the
 * form edits it, every change is kept in localStorage, and the quiz is checked with the
 * same rules the match service applies (js/quizValidation.js). "Start a match" creates the
 * match here and hands its host seat to the game page, which opens its lobby.
 */
import { replace } from './js/dom.js';
import * as api from './js/api.js';
import * as seats from './js/session.js';
import * as quizValidation from './js/quizValidation.js';
import { errorText } from './js/errors.js';
import { clearErrorIn, showErrorIn } from './js/errorArea.js';
import { isValidName } from './js/format.js';
import { announce, initAnnouncer } from './js/announcer.js';
import { downloadFile, fileNameSlug } from './js/download.js';
import { emptyDraft, fromQuiz, moved, newQuestion, toQuiz } from './js/editor/draft.js';
import { loadDraft, saveDraft } from './js/editor/draftStore.js';
import { questionCard } from './js/editor/questionCard.js';

/**
 * PROTOCOL.md Part 2: a picture is at most MAX_IMAGE_BYTES (the match service's setting,
 * default 128 KiB). The validator knows the number once it checks pictures.
 */
const MAX_IMAGE_BYTES = Number.isInteger(quizValidation.MAX_IMAGE_BYTES) ? quizValidation.MAX_IMAGE_BYTES : 131_072;
const MAX_QUESTIONS = 100;

const els = {
  main: document.getElementById('main'),
  error: document.getElementById('error'),
  title: document.getElementById('quiz-title'),
  saveStatus: document.getElementById('save-status'),
  questions: document.getElementById('questions'),
  add: document.getElementById('add-question'),
  exportQuiz: document.getElementById('export-quiz'),
  importQuiz: document.getElementById('import-quiz'),
  startOver: document.getElementById('start-over'),
  hostName: document.getElementById('host-name'),
  lateJoin: document.getElementById('late-join'),
  phoneView: document.getElementById('phone-view'),
  check: document.getElementById('quiz-check'),
  start: document.getElementById('start-match'),
};

const saved = loadDraft();
const state = {
  draft: saved.draft,
  options: saved.options,
  /** Names of the images shipped with the built-in quizzes (filled once fetched). */
  images: [],
  starting: false,
};

/** What a question card may ask of the page. */
const ed = {
  get images() {
    return state.images;
  },
  maxImageBytes: MAX_IMAGE_BYTES,
  changed,
  /** `imageNote`: what to say under the question's picture once it is redrawn. */
  replace(q, focusKey, imageNote) {
    const i = state.draft.questions.findIndex((x) => x.id === q.id);
    if (i < 0) return;
    state.draft.questions[i] = q;
    renderQuestions(focusKey);
    changed();
    const note = imageNote ? document.getElementById(`${q.id}-image-note`) : null;
    if (note) note.textContent = imageNote;
  },
  move(from, to, focusKey) {
    const questions = moved(state.draft.questions, from, to);
    if (questions === state.draft.questions) return;
    state.draft.questions = questions;
    renderQuestions(focusKey);
    changed();
    announce(`Question moved to position ${to + 1} of ${questions.length}.`);
  },
  remove(index) {
    const questions = state.draft.questions;
    if (questions.length <= 1) return;
    const [gone] = questions.splice(index, 1);
    // Focus goes to what took its place: the next question's delete button, else the last one's.
    const next = questions[Math.min(index, questions.length - 1)];
    renderQuestions(`${next.id}:delete`);
    changed();
    announce(`Question ${index + 1}${gone.text.trim() ? ` (“${gone.text.trim()}”)` : ''} deleted.`);
  },
};

// ---- rendering ------------------------------------------------------------------------

function renderQuestions(focusKey) {
  const questions = state.draft.questions;
  replace(
    els.questions,
    questions.map((q, i) => questionCard(q, i, questions.length, ed)),
  );
  els.add.disabled = questions.length >= MAX_QUESTIONS;
  if (focusKey) focusByKey(focusKey);
}

function focusByKey(key) {
  const target = [...els.questions.querySelectorAll('[data-focus]')].find((el) => el.dataset.focus === key);
  target?.focus();
}

function renderAll() {
  els.title.value = state.draft.title;
  els.hostName.value = state.options.hostName;
  els.lateJoin.checked = state.options.lateJoin;
  els.phoneView.value = state.options.phoneView;
  renderQuestions();
  showCheck();
}

/** The quiz as the match service would take it, or what it would refuse. */
function checked() {
  return quizValidation.validateQuiz(toQuiz(state.draft));
}

function showCheck() {
  const result = checked();
  els.check.classList.toggle('ok', result.ok);
  els.check.textContent = result.ok
    ? `✓ Ready to play: ${result.quiz.questions.length} question${result.quiz.questions.length === 1 ? '' : 's'}.`
    : `Not ready yet: ${result.message}`;
}

function changed() {
  const ok = saveDraft(state.draft, state.options);
  els.saveStatus.classList.toggle('field-error', !ok);
  els.saveStatus.textContent = ok
    ? 'Kept in this browser as you type.'
    : 'This browser’s storage is full (pictures take room), so changes are not kept here. Download the quiz file to keep it.';
  showCheck();
}

// ---- actions ------------------------------------------------------------------------------

els.title.addEventListener('input', () => {
  state.draft.title = els.title.value;
  changed();
});

for (const [el, read] of [
  [els.hostName, () => ({ hostName: els.hostName.value })],
  [els.lateJoin, () => ({ lateJoin: els.lateJoin.checked })],
  [els.phoneView, () => ({ phoneView: els.phoneView.value })],
]) {
  el.addEventListener(el.type === 'checkbox' || el.tagName === 'SELECT' ? 'change' : 'input', () => {
    Object.assign(state.options, read());
    changed();
  });
}

els.add.addEventListener('click', () => {
  if (state.draft.questions.length >= MAX_QUESTIONS) return;
  const q = newQuestion();
  state.draft.questions.push(q);
  renderQuestions(`${q.id}:text`);
  changed();
  announce(`Question ${state.draft.questions.length} added.`);
});

els.exportQuiz.addEventListener('click', () => {
  const quiz = toQuiz(state.draft);
  downloadFile(quizFileName(quiz.title), `${JSON.stringify(quiz, null, 2)}\n`, 'application/json');
  const result = checked();
  if (!result.ok) announce(`Downloaded. Note: the quiz is not ready to play yet: ${result.message}`);
});

els.importQuiz.addEventListener('change', async () => {
  const file = els.importQuiz.files?.[0];
  els.importQuiz.value = '';
  if (!file) return;
  clearError();
  let value;
  try {
    value = JSON.parse(await file.text());
  } catch {
    showError(`“${file.name}” is not a quiz file (it is not JSON).`);
    return;
  }
  const draft = fromQuiz(value);
  if (!draft) {
    showError(`“${file.name}” is not a quiz file: it has no "questions" list.`);
    return;
  }
  state.draft = draft;
  renderAll();
  changed();
  els.title.focus();
  announce(`Opened “${draft.title || file.name}”: ${draft.questions.length} questions.`);
});

/** Two presses, like leaving a match: the first arms the button for a few seconds. */
let startOverTimer = null;
els.startOver.addEventListener('click', () => {
  if (!startOverTimer) {
    els.startOver.textContent = 'Sure? Press again to clear';
    els.startOver.classList.add('armed');
    startOverTimer = setTimeout(disarmStartOver, 4000);
    return;
  }
  disarmStartOver();
  state.draft = emptyDraft();
  renderAll();
  changed();
  els.title.focus();
  announce('Started a new quiz.');
});

function disarmStartOver() {
  clearTimeout(startOverTimer);
  startOverTimer = null;
  els.startOver.textContent = 'Start over';
  els.startOver.classList.remove('armed');
}

els.start.addEventListener('click', () => void startMatch());

async function startMatch() {
  if (state.starting) return;
  clearError();
  const result = checked();
  if (!result.ok) {
    showError(`${errorText('QUIZ_INVALID')} ${result.message}`);
    focusProblem(result.message);
    return;
  }
  const hostName = state.options.hostName.trim();
  if (hostName && !isValidName(hostName)) {
    showError(errorText('INVALID_NAME'));
    els.hostName.focus();
    return;
  }
  const payload = {
    quiz: result.quiz,
    ...(hostName ? { hostName } : {}),
    settings: { lateJoin: state.options.lateJoin, phoneView: state.options.phoneView },
  };
  setStarting(true);
  let created;
  try {
    created = await api.createMatch(payload);
  } catch (err) {
    setStarting(false);
    showError(
      err instanceof api.ApiError
        ? errorText(err.code, { detail: err.code === 'BAD_REQUEST' ? err.message : undefined, retryAfterSec: err.retryAfterSec })
        : errorText('NETWORK'),
    );
    return;
  }
  // The game page finds this tab's new host seat and opens the match's lobby.
  seats.takeHostSeat(created);
  window.location.assign('/');
}

function setStarting(starting) {
  state.starting = starting;
  els.start.disabled = starting;
  els.start.setAttribute('aria-busy', starting ? 'true' : 'false');
  els.start.textContent = starting ? 'Starting…' : 'Start a match';
}

/** "Question 3: …" from the validator: take the person to question 3. */
function focusProblem(message) {
  const match = /^Question (\d+)/.exec(message);
  const q = match ? state.draft.questions[Number(match[1]) - 1] : null;
  if (q) focusByKey(`${q.id}:text`);
  else els.title.focus();
}

function showError(text) {
  showErrorIn(els.error, text);
}

function clearError() {
  clearErrorIn(els.error);
}

function quizFileName(title) {
  return `${fileNameSlug(title, 'quiz')}.quiz.json`;
}

async function loadImages() {
  try {
    const names = await api.quizImages();
    state.images = Array.isArray(names) ? names.filter((n) => typeof n === 'string') : [];
  } catch {
    state.images = []; // files still work; only the built-in pictures are not offered
  }
  // The list arrives right after load; someone may already be on a control: keep them there.
  if (state.images.length > 0) renderQuestions(document.activeElement?.dataset?.focus);
}

initAnnouncer(document.getElementById('announcer'));
renderAll();
void loadImages();
