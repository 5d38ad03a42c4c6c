/**
 * Home: join a game with a code, or host one (built-in quiz or pasted JSON). Form checks
 * happen here so people get told what to fix next to what they typed; the actions get
 * clean values.
 */
import { h, replace } from '../dom.js';
import { isValidCode, isValidName, normalizeCode, plural, timeAgo } from '../format.js';
import { EXAMPLE_QUIZ, parseQuiz } from '../quizValidation.js';
import { errorText } from '../errors.js';
import { screenRoot, screenTitle } from './common.js';

const CUSTOM = '__custom';

export function homeScreen(ctx) {
  const home = ctx.home;

  // ---- join ----
  const codeInput = h('input', {
    id: 'join-code',
    name: 'code',
    dataset: { testid: 'join-code' },
    class: 'input input-code',
    autocomplete: 'off',
    autocapitalize: 'characters',
    spellcheck: 'false',
    maxlength: '12',
    placeholder: 'ABC234',
    'aria-describedby': 'join-code-hint',
    value: home.prefillCode ?? '',
  });
  const nameInput = h('input', {
    id: 'player-name',
    name: 'name',
    dataset: { testid: 'player-name' },
    class: 'input',
    autocomplete: 'nickname',
    placeholder: 'e.g. Quizzy McQuizface',
    'aria-describedby': 'player-name-hint',
    value: home.prefillName ?? '',
  });
  const joinButton = h('button', { type: 'submit', class: 'btn btn-primary btn-block', dataset: { testid: 'join-button' } }, 'Join game');

  const joinForm = h(
    'form',
    { class: 'card card-join', novalidate: true, 'aria-labelledby': 'join-heading', on: { submit: onJoin } },
    h('h2', { id: 'join-heading' }, 'Join a game'),
    h('label', { for: 'join-code' }, 'Game code'),
    codeInput,
    h('p', { id: 'join-code-hint', class: 'hint' }, '6 letters and digits, shown on the host’s screen.'),
    h('label', { for: 'player-name' }, 'Your name'),
    nameInput,
    h('p', { id: 'player-name-hint', class: 'hint' }, 'Up to 20 characters. Everyone in the game will see it.'),
    joinButton,
  );

  function onJoin(event) {
    event.preventDefault();
    clearInvalid(codeInput, nameInput);
    const code = normalizeCode(codeInput.value);
    if (!isValidCode(code)) return invalid(codeInput, errorText('INVALID_CODE'));
    if (!isValidName(nameInput.value)) return invalid(nameInput, errorText('INVALID_NAME'));
    codeInput.value = code;
    ctx.actions.join(code, nameInput.value.trim());
  }

  // ---- host ----
  // Until the person picks, the list may still be loading; then the first quiz is the default.
  let userPicked = false;
  const quizSelect = h('select', {
    id: 'quiz-select',
    name: 'quiz',
    class: 'input',
    dataset: { testid: 'quiz-select' },
    'aria-describedby': 'quiz-description',
    on: {
      change: () => {
        userPicked = true;
        syncCustom();
      },
    },
  });
  const quizDescription = h('p', { id: 'quiz-description', class: 'hint quiz-description' });
  const quizJson = h('textarea', {
    id: 'quiz-json',
    name: 'quizJson',
    class: 'input input-json',
    dataset: { testid: 'quiz-json' },
    rows: '10',
    spellcheck: 'false',
    placeholder: EXAMPLE_QUIZ,
    'aria-describedby': 'quiz-json-hint',
  });
  const customBox = h(
    'div',
    { class: 'custom-quiz', hidden: true },
    h('label', { for: 'quiz-json' }, 'Your quiz (JSON)'),
    quizJson,
    h(
      'p',
      { id: 'quiz-json-hint', class: 'hint' },
      'A "title" and 1–100 "questions", each with "text", 2–4 "choices", "correct" (position of the right choice, from 0) and "timeLimitSec" (5–240).',
    ),
  );
  const hostName = h('input', {
    id: 'host-name',
    name: 'hostName',
    class: 'input',
    dataset: { testid: 'host-name' },
    autocomplete: 'nickname',
    'aria-describedby': 'host-name-hint',
  });
  const lateJoin = h('input', { id: 'late-join', type: 'checkbox', dataset: { testid: 'late-join' } });
  const maxPlayers = h('input', {
    id: 'max-players',
    type: 'number',
    class: 'input input-narrow',
    dataset: { testid: 'max-players' },
    min: '1',
    step: '1',
    inputmode: 'numeric',
    placeholder: 'server limit',
  });
  const createButton = h('button', { type: 'submit', class: 'btn btn-secondary btn-block', dataset: { testid: 'create-match' } }, 'Create match');
  const phoneView = phoneViewChoice();

  const hostForm = h(
    'form',
    { class: 'card card-host', novalidate: true, 'aria-labelledby': 'host-heading', on: { submit: onCreate } },
    h('h2', { id: 'host-heading' }, 'Host a game'),
    h('label', { for: 'quiz-select' }, 'Quiz'),
    quizSelect,
    quizDescription,
    customBox,
    h('label', { for: 'host-name' }, 'Your name ', h('span', { class: 'optional' }, '(optional)')),
    hostName,
    h('p', { id: 'host-name-hint', class: 'hint' }, 'You run the game from this screen; hosts don’t answer questions.'),
    phoneView.root,
    h(
      'details',
      { class: 'options' },
      h('summary', {}, 'Match options'),
      h('div', { class: 'check-row' }, lateJoin, h('label', { for: 'late-join' }, 'Let people join after the game has started')),
      h('label', { for: 'max-players' }, 'Most players'),
      maxPlayers,
    ),
    createButton,
  );

  function syncCustom() {
    const custom = quizSelect.value === CUSTOM;
    customBox.hidden = !custom;
    const quiz = (home.quizzes ?? []).find((q) => q.id === quizSelect.value);
    quizDescription.textContent = custom
      ? 'Paste a quiz you wrote yourself.'
      : quiz
        ? `${quiz.description ? `${quiz.description} ` : ''}(${plural(quiz.questionCount, 'question')})`
        : '';
  }

  function onCreate(event) {
    event.preventDefault();
    clearInvalid(quizSelect, quizJson, hostName, maxPlayers);
    const payload = {};
    if (quizSelect.value === CUSTOM) {
      const parsed = parseQuiz(quizJson.value);
      if (!parsed.ok) return invalid(quizJson, `${errorText('QUIZ_INVALID')} ${parsed.message}`);
      payload.quiz = parsed.quiz;
    } else if (quizSelect.value) {
      payload.quizId = quizSelect.value;
    } else {
      return invalid(quizSelect, 'Pick a quiz first, or paste your own.');
    }
    const name = hostName.value.trim();
    if (name) {
      if (!isValidName(name)) return invalid(hostName, errorText('INVALID_NAME'));
      payload.hostName = name;
    }
    const settings = { lateJoin: lateJoin.checked, phoneView: phoneView.value() };
    if (maxPlayers.value !== '') {
      const n = Number(maxPlayers.value);
      if (!Number.isInteger(n) || n < 1) return invalid(maxPlayers, 'Most players must be a whole number, 1 or more.');
      settings.maxPlayers = n;
    }
    payload.settings = settings;
    ctx.actions.create(payload);
  }

  /** Says what is wrong both at the top (error area) and right under the field. */
  function invalid(input, message) {
    input.setAttribute('aria-invalid', 'true');
    const note = h('p', { class: 'field-error', id: `${input.id}-error` }, message);
    input.after(note);
    input.setAttribute('aria-describedby', `${note.id} ${input.getAttribute('aria-describedby') ?? ''}`.trim());
    ctx.actions.showError(message);
    input.focus();
  }

  // ---- rejoin and recent results ----
  const rejoinSlot = h('div', { class: 'rejoin-slot' });
  const resultsSlot = h('section', { class: 'card card-results', 'aria-labelledby': 'results-heading' });

  const root = screenRoot(
    'home',
    h(
      'div',
      { class: 'hero' },
      screenTitle('Quiz Rush'),
      h('p', { class: 'tagline' }, 'Fast questions. Big buttons. Bragging rights.'),
      h('p', { class: 'home-links' }, h('a', { href: '/editor', dataset: { testid: 'editor-link' } }, 'Write your own quiz'), ' · ', h('a', { href: '/results' }, 'Past results')),
    ),
    rejoinSlot,
    h('div', { class: 'home-grid' }, joinForm, hostForm),
    resultsSlot,
  );

  function update(next) {
    Object.assign(home, next.home);
    fillQuizzes();
    fillRejoin();
    fillResults();
    setBusy(joinButton, home.busy === 'join', 'Joining…', 'Join game');
    setBusy(createButton, home.busy === 'create', 'Creating…', 'Create match');
  }

  function fillQuizzes() {
    const previous = userPicked ? quizSelect.value : null;
    const options = [];
    if (home.quizzes === null && !home.quizzesError) options.push(h('option', { value: '', disabled: true }, 'Loading quizzes…'));
    for (const q of home.quizzes ?? []) options.push(h('option', { value: q.id }, `${q.title} (${plural(q.questionCount, 'question')})`));
    options.push(h('option', { value: CUSTOM }, 'Paste my own quiz (JSON)…'));
    replace(quizSelect, options);
    const ids = new Set((home.quizzes ?? []).map((q) => q.id).concat(CUSTOM));
    quizSelect.value = ids.has(previous) ? previous : (home.quizzes?.[0]?.id ?? CUSTOM);
    syncCustom();
    if (home.quizzesError) quizDescription.textContent = 'Built-in quizzes could not be loaded; you can still paste your own.';
  }

  function fillRejoin() {
    if (!home.rejoin) return replace(rejoinSlot);
    replace(
      rejoinSlot,
      h(
        'div',
        { class: 'card card-rejoin', role: 'region', 'aria-label': 'Your last game' },
        h('p', {}, 'You were in game ', h('strong', { class: 'code-inline' }, home.rejoin.matchId), home.rejoin.role === 'host' ? ' as the host.' : '.'),
        h(
          'div',
          { class: 'button-row' },
          h('button', { type: 'button', class: 'btn btn-primary', dataset: { testid: 'rejoin-match' }, on: { click: () => ctx.actions.rejoin() } }, 'Rejoin'),
          h('button', { type: 'button', class: 'btn btn-ghost', on: { click: () => ctx.actions.forgetRejoin() } }, 'Forget it'),
        ),
      ),
    );
  }

  function fillResults() {
    const results = home.results;
    if (!Array.isArray(results) || results.length === 0) {
      resultsSlot.hidden = true;
      return;
    }
    resultsSlot.hidden = false;
    replace(
      resultsSlot,
      h('h2', { id: 'results-heading' }, 'Recent games'),
      h(
        'ul',
        { class: 'results-list' },
        results.slice(0, 5).map((r) => {
          const winner = Array.isArray(r.standings) ? r.standings.find((s) => s.rank === 1) : null;
          return h(
            'li',
            {},
            h('span', { class: 'results-title' }, r.title ?? ''),
            winner ? h('span', { class: 'results-winner' }, '🏆 ', winner.name, ` – ${winner.score}`) : null,
            h('span', { class: 'results-when' }, timeAgo(r.finishedAt)),
          );
        }),
      ),
    );
  }

  update(ctx);
  return {
    root,
    update,
    focusTarget: home.prefillCode && !nameInput.value ? nameInput : null,
  };
}

/**
 * What players' phones show (settings.phoneView): the question and answers ("full", as
 * always), or only the four coloured shapes while the text is on the host's big screen.
 */
function phoneViewChoice() {
  const option = (value, label, hint, checked) =>
    h(
      'div',
      { class: 'radio-row' },
      h('input', { type: 'radio', name: 'phoneView', id: `phone-view-${value}`, value, checked, dataset: { testid: `phone-view-${value}` }, 'aria-describedby': `phone-view-${value}-hint` }),
      h(
        'label',
        { for: `phone-view-${value}` },
        label,
        h('span', { class: 'radio-hint', id: `phone-view-${value}-hint` }, hint),
      ),
    );
  const root = h(
    'fieldset',
    { class: 'phone-view' },
    h('legend', {}, 'Players’ phones show'),
    option('full', 'Question and answers', 'Everyone can play from their phone alone.', true),
    option('shapes', 'Only the coloured shapes', 'The question and answers are on your big screen; phones are buttons.', false),
  );
  return { root, value: () => (root.querySelector('input[name="phoneView"]:checked')?.value === 'shapes' ? 'shapes' : 'full') };
}

function setBusy(button, busy, busyLabel, idleLabel) {
  button.disabled = busy;
  button.setAttribute('aria-busy', busy ? 'true' : 'false');
  button.textContent = busy ? busyLabel : idleLabel;
}

function clearInvalid(...inputs) {
  for (const input of inputs) {
    input.removeAttribute('aria-invalid');
    const note = document.getElementById(`${input.id}-error`);
    if (note) {
      note.remove();
      const rest = (input.getAttribute('aria-describedby') ?? '').split(' ').filter((id) => id && id !== note.id);
      if (rest.length) input.setAttribute('aria-describedby', rest.join(' '));
      else input.removeAttribute('aria-describedby');
    }
  }
}
