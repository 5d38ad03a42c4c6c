/**
 * Checks a pasted quiz against PROTOCOL.md's `Quiz` shape before it is sent, so people get
 * a friendly pointer to what is wrong ("Question 3: …") instead of a round trip. The
 * server validates again; this only mirrors its rules (src/quiz/quizzes.ts).
 */

const MAX_BODY_BYTES = 256 * 1024;
const LIMITS = { title: 100, text: 300, choice: 80, minChoices: 2, maxChoices: 4, minQuestions: 1, maxQuestions: 100 };
const MIN_TIME = 5;
const MAX_TIME = 240;

/** @returns {{ok: true, quiz: object} | {ok: false, message: string}} */
export function parseQuiz(text) {
  if (!text || !text.trim()) return fail('Paste your quiz JSON into the box first.');
  let value;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return fail(`That is not valid JSON (${err.message}). Check for missing commas or quotes.`);
  }
  return validateQuiz(value);
}

export function validateQuiz(value) {
  if (!isObject(value)) return fail('A quiz is a JSON object like {"title": "…", "questions": […]}.');
  const title = textField(value.title, LIMITS.title);
  if (title === null) return fail(`The quiz needs a "title": text of 1 to ${LIMITS.title} characters.`);
  if (!Array.isArray(value.questions)) return fail('The quiz needs a "questions" list.');
  const n = value.questions.length;
  if (n < LIMITS.minQuestions || n > LIMITS.maxQuestions) {
    return fail(`A quiz has ${LIMITS.minQuestions} to ${LIMITS.maxQuestions} questions; this one has ${n}.`);
  }

  const questions = [];
  for (const [i, q] of value.questions.entries()) {
    const where = `Question ${i + 1}`;
    if (!isObject(q)) return fail(`${where} must be an object with "text", "choices", "correct" and "timeLimitSec".`);
    const qText = textField(q.text, LIMITS.text);
    if (qText === null) return fail(`${where}: "text" must be 1 to ${LIMITS.text} characters.`);
    if (!Array.isArray(q.choices) || q.choices.length < LIMITS.minChoices || q.choices.length > LIMITS.maxChoices) {
      return fail(`${where}: "choices" must be a list of ${LIMITS.minChoices} to ${LIMITS.maxChoices} answers.`);
    }
    const choices = [];
    for (const [j, c] of q.choices.entries()) {
      const choice = textField(c, LIMITS.choice);
      if (choice === null) return fail(`${where}, answer ${j + 1}: must be text of 1 to ${LIMITS.choice} characters.`);
      choices.push(choice);
    }
    if (!Number.isInteger(q.correct) || q.correct < 0 || q.correct >= choices.length) {
      return fail(`${where}: "correct" must be the position of the right answer, counting from 0 (so 0 to ${choices.length - 1}).`);
    }
    if (!Number.isInteger(q.timeLimitSec) || q.timeLimitSec < MIN_TIME || q.timeLimitSec > MAX_TIME) {
      return fail(`${where}: "timeLimitSec" must be a whole number of seconds from ${MIN_TIME} to ${MAX_TIME}.`);
    }
    questions.push({ text: qText, choices, correct: q.correct, timeLimitSec: q.timeLimitSec });
  }

  const quiz = { title, questions };
  if (new Blob([JSON.stringify({ quiz })]).size > MAX_BODY_BYTES) {
    return fail('That quiz is larger than 256 KB. Try fewer or shorter questions.');
  }
  return { ok: true, quiz };
}

/** Trimmed text within `max` characters, or null. */
function textField(value, max) {
  if (typeof value !== 'string') return null;
  const t = value.trim();
  return t.length >= 1 && t.length <= max ? t : null;
}

function isObject(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(message) {
  return { ok: false, message };
}

/** A small valid example, shown as the textarea's placeholder. */
export const EXAMPLE_QUIZ = JSON.stringify(
  {
    title: 'My quiz',
    questions: [{ text: 'What is 2 + 2?', choices: ['3', '4', '5', '22'], correct: 1, timeLimitSec: 20 }],
  },
  null,
  2,
);
