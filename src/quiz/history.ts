/**
 * The answers of every revealed question, kept in the state (so they survive a restore) for
 * the results page and its CSV (PROTOCOL.md Part 2, "Results to keep").
 */
import type { QuestionResult } from '../protocol/messages';
import type { HistoryAnswer, MatchSnapshot } from './state';
import { questionKind } from './state';

/** Keeps the answers of the question being revealed; they are final once it is. */
export function recordRevealed(s: MatchSnapshot): void {
  const startsAt = s.questionStartsAt ?? 0;
  const answers: HistoryAnswer[] = Object.entries(s.answers).map(([id, a]) => [id, a.choice, a.points, Math.max(0, a.receivedAt - startsAt)]);
  const history = (s.history ??= []);
  // A match restored from a snapshot older than the history has none for its earlier questions.
  while (history.length < s.questionIndex) history.push([]);
  history[s.questionIndex] = answers;
}

/**
 * Every question with its answers, images left out. Like the standings, only players still in
 * the match count: a kicked player's answers go with it.
 */
export function questionResults(s: MatchSnapshot): QuestionResult[] {
  const inMatch = new Set(s.players.map((p) => p.id));
  return s.quiz.questions.map((q, index) => ({
    index,
    text: q.text,
    kind: questionKind(q),
    choices: [...q.choices],
    correct: q.correct ?? null,
    answers: (s.history?.[index] ?? [])
      .filter(([playerId]) => inMatch.has(playerId))
      .map(([playerId, choice, points, ms]) => ({ playerId, choice, points, ms })),
  }));
}
