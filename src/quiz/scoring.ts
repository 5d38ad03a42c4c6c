/** PROTOCOL.md "Answers and scoring": the points formula and streaks. */

/**
 * Points for one answer: `round(1000 × (1 − (t / T) / 2))` when correct, else 0, where `t`
 * is the receive time minus `startsAt` and `T` the question's (scaled) time limit.
 */
export function pointsFor(correct: boolean, receivedAt: number, startsAt: number, limitMs: number): number {
  if (!correct) return 0;
  const t = Math.min(Math.max(receivedAt - startsAt, 0), limitMs);
  return Math.round(1000 * (1 - t / limitMs / 2));
}

/** Streaks count consecutive correct answers; a wrong answer or none resets them. */
export function nextStreak(streak: number, correct: boolean): number {
  return correct ? streak + 1 : 0;
}

export interface Scored {
  playerId: string;
  name: string;
  score: number;
  joinOrder: number;
}

/**
 * Standard competition ranking ("1224"): equal scores share a rank. Ties are listed in
 * join order so the order is stable across restores.
 */
export function rank<T extends Scored>(players: readonly T[]): Array<T & { rank: number }> {
  const sorted = [...players].sort((a, b) => b.score - a.score || a.joinOrder - b.joinOrder);
  let previousScore = Number.NaN;
  let previousRank = 0;
  return sorted.map((p, i) => {
    const r = p.score === previousScore ? previousRank : i + 1;
    previousScore = p.score;
    previousRank = r;
    return { ...p, rank: r };
  });
}
