/**
 * A finished match's results as one CSV file: the final standings, then (when the match
 * service gives them, PROTOCOL.md Part 2 "Results to keep") every answer to every question.
 * Built from `GET /matches/:id/results` or an entry of `GET /api/results`: same shape.
 */
import { toCsv } from './csv.js';
import { fileNameSlug } from './download.js';

export const STANDINGS_HEADER = ['rank', 'name', 'score'];
export const ANSWERS_HEADER = ['question', 'text', 'player', 'choice', 'correct', 'points', 'ms'];

export function resultsCsv(results) {
  const standings = Array.isArray(results?.standings) ? results.standings : [];
  const rows = [STANDINGS_HEADER, ...standings.map((s) => [s.rank, s.name, s.score])];
  const questions = Array.isArray(results?.questions) ? results.questions : [];
  if (questions.length > 0) {
    const names = new Map(standings.map((s) => [s.playerId, s.name]));
    rows.push([], ANSWERS_HEADER);
    for (const q of questions) rows.push(...answerRows(q, names));
  }
  return toCsv(rows);
}

/** One row per answer; a question nobody answered still gets a row, so it is not lost. */
function answerRows(q, names) {
  const choices = Array.isArray(q.choices) ? q.choices : [];
  const poll = q.correct === null || q.correct === undefined;
  const number = Number.isInteger(q.index) ? q.index + 1 : null;
  const answers = Array.isArray(q.answers) ? q.answers : [];
  if (answers.length === 0) return [[number, q.text, '', '', '', '', '']];
  return answers.map((a) => [
    number,
    q.text,
    // A player removed from the standings (kicked) is still named by id.
    names.get(a.playerId) ?? a.playerId,
    choices[a.choice] ?? '',
    poll ? '' : a.choice === q.correct ? 'yes' : 'no',
    a.points,
    a.ms,
  ]);
}

/** `quiz-night-ABC234.csv`: the quiz title (letters and digits) and the match code. */
export function resultsFileName(results) {
  return `${fileNameSlug(results?.title, 'quiz')}-${results?.matchId ?? 'results'}.csv`;
}
