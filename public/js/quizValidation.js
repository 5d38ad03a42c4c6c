/**
 * Checks a pasted quiz against PROTOCOL.md's `Quiz` shape (with Part 2's `kind` and `image`)
 * before it is sent, so people get a friendly pointer to what is wrong ("Question 3: …")
 * instead of a round trip. The server validates again; this only mirrors its rules
 * (src/quiz/quizzes.ts, src/quiz/images.ts).
 */

const MAX_BODY_BYTES = 2 * 1024 * 1024;
const LIMITS = { title: 100, text: 300, choice: 80, minChoices: 2, maxChoices: 4, minQuestions: 1, maxQuestions: 100 };
const MIN_TIME = 5;
const MAX_TIME = 240;
const KINDS = ['choice', 'truefalse', 'poll'];
/** The server's default MAX_IMAGE_BYTES: a data: picture, the whole string, at most this. */
export const MAX_IMAGE_BYTES = 128 * 1024;
/** Pictures shipped with the built-in quizzes, served at /quiz-images/<name> (src/quiz/images.ts). */
export const SHIPPED_IMAGES = ['saturn.svg', 'moon.svg', 'flag-japan.svg'];
const DATA_URL = /^data:image\/(png|jpeg|webp);base64,[A-Za-z0-9+/]+={0,2}$/;

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
    const kind = q.kind ?? 'choice';
    if (!KINDS.includes(kind)) return fail(`${where}: "kind" must be "choice", "truefalse" or "poll".`);
    if (kind === 'truefalse' && choices.length !== 2) return fail(`${where}: a true-or-false question has exactly 2 answers.`);
    if (kind === 'poll') {
      if (q.correct !== undefined) return fail(`${where}: a poll has no right answer; leave "correct" out.`);
    } else if (!Number.isInteger(q.correct) || q.correct < 0 || q.correct >= choices.length) {
      return fail(`${where}: "correct" must be the position of the right answer, counting from 0 (so 0 to ${choices.length - 1}).`);
    }
    if (!Number.isInteger(q.timeLimitSec) || q.timeLimitSec < MIN_TIME || q.timeLimitSec > MAX_TIME) {
      return fail(`${where}: "timeLimitSec" must be a whole number of seconds from ${MIN_TIME} to ${MAX_TIME}.`);
    }
    if (q.image !== undefined) {
      const problem = imageProblem(q.image);
      if (problem) return fail(`${where}: the picture ${problem}`);
    }
    questions.push({
      text: qText,
      choices,
      ...(kind === 'poll' ? {} : { correct: q.correct }),
      timeLimitSec: q.timeLimitSec,
      ...(q.kind !== undefined ? { kind } : {}),
      ...(q.image !== undefined ? { image: q.image } : {}),
    });
  }

  const quiz = { title, questions };
  if (new Blob([JSON.stringify({ quiz })]).size > MAX_BODY_BYTES) {
    return fail('That quiz is larger than 2 MB. Try fewer or smaller pictures, or fewer questions.');
  }
  return { ok: true, quiz };
}

/**
 * Why a question's "image" is refused, or null: a data: URL of a PNG, JPEG or WebP picture in
 * base64 of at most MAX_IMAGE_BYTES, or the name of a shipped picture (as the server checks).
 */
function imageProblem(image) {
  if (typeof image !== 'string') return 'must be text: a data: URL or the name of a shipped picture.';
  if (SHIPPED_IMAGES.includes(image)) return null;
  if (/^https?:/i.test(image)) return 'must be a data: URL or a shipped picture, not a link to another site.';
  const data = /^data:([^;,]*)[;,]/i.exec(image);
  if (!data) return `must be a data: URL (PNG, JPEG or WebP) or one of the shipped pictures: ${SHIPPED_IMAGES.join(', ')}.`;
  if (!/^image\/(png|jpeg|webp)$/.test(data[1])) return `must be a PNG, JPEG or WebP picture, not ${data[1] || 'untyped data'}.`;
  if (image.length > MAX_IMAGE_BYTES) return `is ${Math.ceil(image.length / 1024)} KB; at most ${MAX_IMAGE_BYTES / 1024} KB. Try a smaller picture.`;
  if (!DATA_URL.test(image)) return 'must be base64 data (data:image/…;base64,…).';
  return null;
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
