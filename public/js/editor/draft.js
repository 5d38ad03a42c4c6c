/**
 * The quiz being written: a plain object the form edits and localStorage keeps. Its
 * questions carry a local `id` (for focus and keys, never sent). `toQuiz` turns it into
 * PROTOCOL.md's `Quiz` (what `POST /matches` takes and what an exported file holds);
 * `fromQuiz` reads any such object back, leniently: what is wrong is for the validator
 * (js/quizValidation.js) to say, not a reason to lose what was typed.
 */

export const KINDS = ['choice', 'truefalse', 'poll'];
export const MIN_CHOICES = 2;
export const MAX_CHOICES = 4;
export const MIN_TIME_SEC = 5;
export const MAX_TIME_SEC = 240;
export const DEFAULT_TIME_SEC = 20;
const TRUE_FALSE = ['True', 'False'];

let lastId = 0;
function newId() {
  lastId += 1;
  return `q${Date.now().toString(36)}${lastId}`;
}

export function emptyDraft() {
  return { title: '', questions: [newQuestion()] };
}

export function newQuestion(kind = 'choice') {
  const q = { id: newId(), text: '', kind: 'choice', choices: ['', ''], correct: 0, timeLimitSec: DEFAULT_TIME_SEC, image: null };
  return kind === 'choice' ? q : withKind(q, kind);
}

/**
 * The question as another kind. True/false has exactly the two answers True and False
 * (editable, e.g. to translate them); a poll has no right answer; back to multiple choice
 * keeps the answers there are.
 */
export function withKind(q, kind) {
  if (!KINDS.includes(kind) || kind === q.kind) return q;
  if (kind === 'truefalse') return { ...q, kind, choices: [...TRUE_FALSE], correct: q.correct === 1 ? 1 : 0 };
  if (kind === 'poll') return { ...q, kind, correct: null };
  return { ...q, kind, correct: Number.isInteger(q.correct) ? q.correct : 0 };
}

export function canAddChoice(q) {
  return q.kind !== 'truefalse' && q.choices.length < MAX_CHOICES;
}

export function canRemoveChoice(q) {
  return q.kind !== 'truefalse' && q.choices.length > MIN_CHOICES;
}

export function withoutChoice(q, j) {
  if (!canRemoveChoice(q)) return q;
  const choices = q.choices.filter((_, k) => k !== j);
  let correct = q.correct;
  if (Number.isInteger(correct)) correct = correct === j ? 0 : correct > j ? correct - 1 : correct;
  return { ...q, choices, correct };
}

/** The list with item `from` moved to `to` (both in range; otherwise unchanged). */
export function moved(list, from, to) {
  if (from === to || from < 0 || to < 0 || from >= list.length || to >= list.length) return list;
  const copy = [...list];
  const [item] = copy.splice(from, 1);
  copy.splice(to, 0, item);
  return copy;
}

/** PROTOCOL.md's `Quiz`; a multiple-choice question is written as v1 wrote it (no `kind`). */
export function toQuiz(draft) {
  return {
    title: draft.title,
    questions: draft.questions.map((q) => ({
      text: q.text,
      ...(q.kind === 'choice' ? {} : { kind: q.kind }),
      choices: [...q.choices],
      ...(q.kind === 'poll' ? {} : { correct: q.correct }),
      timeLimitSec: q.timeLimitSec,
      ...(q.image ? { image: q.image } : {}),
    })),
  };
}

/** A draft from a `Quiz`-like object, or null when it is not one at all. */
export function fromQuiz(value) {
  if (!isObject(value) || !Array.isArray(value.questions)) return null;
  const questions = value.questions.filter(isObject).map(questionFrom);
  if (questions.length === 0) questions.push(newQuestion());
  return { title: typeof value.title === 'string' ? value.title : '', questions };
}

function questionFrom(raw) {
  const kind = KINDS.includes(raw.kind) ? raw.kind : 'choice';
  let choices = Array.isArray(raw.choices) ? raw.choices.slice(0, MAX_CHOICES).map((c) => (typeof c === 'string' ? c : String(c ?? ''))) : [];
  while (choices.length < MIN_CHOICES) choices.push('');
  if (kind === 'truefalse') choices = choices.slice(0, 2);
  const correct = kind === 'poll' ? null : Number.isInteger(raw.correct) && raw.correct >= 0 && raw.correct < choices.length ? raw.correct : 0;
  const time = Number.isInteger(raw.timeLimitSec) ? raw.timeLimitSec : DEFAULT_TIME_SEC;
  return {
    id: newId(),
    text: typeof raw.text === 'string' ? raw.text : '',
    kind,
    choices,
    correct,
    timeLimitSec: time,
    image: typeof raw.image === 'string' && raw.image ? raw.image : null,
  };
}

/** The draft as kept in storage: the same shape; ids are made anew when read. */
export function restoreDraft(value) {
  const draft = fromQuiz(value);
  return draft ?? emptyDraft();
}

function isObject(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
