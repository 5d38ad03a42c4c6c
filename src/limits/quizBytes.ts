/**
 * The memory budget of a host's quizzes (MAX_QUIZ_BYTES_TOTAL): each live match holds its
 * quiz, up to 64 KiB of JSON inline, several times over in memory (the parsed request, the
 * engine's copy, the snapshot the store keeps). Counting the serialized bytes is a cheap,
 * deterministic stand-in for that memory: a host refuses a new match (503 CAPACITY) while
 * the quiz would take the total past the budget, and the bytes come back when the match
 * leaves the host. BENCHMARKS.md ("Quiz memory") measures what one byte costs.
 */
/**
 * What a quiz counts for: its JSON, as the store and the IPC channel carry it. (Typed as any
 * JSON value: limits/ sits below the engine and does not import its types.)
 */
export function quizBytes(quiz: object): number {
  return Buffer.byteLength(JSON.stringify(quiz));
}

export class QuizBytes {
  private readonly held = new Map<string, number>();
  private sum = 0;

  constructor(private readonly budget: number) {}

  /** Counts `bytes` for `matchId` unless the total would pass the budget. */
  tryAdd(matchId: string, bytes: number): boolean {
    if (this.held.has(matchId)) return true;
    if (this.sum + bytes > this.budget) return false;
    this.held.set(matchId, bytes);
    this.sum += bytes;
    return true;
  }

  release(matchId: string): void {
    const bytes = this.held.get(matchId);
    if (bytes === undefined) return;
    this.held.delete(matchId);
    this.sum -= bytes;
  }

  /** Releases every match `live` no longer knows (for hosts that do not announce each end). */
  releaseGone(live: (matchId: string) => boolean): void {
    for (const id of [...this.held.keys()]) if (!live(id)) this.release(id);
  }

  has(matchId: string): boolean {
    return this.held.has(matchId);
  }

  get total(): number {
    return this.sum;
  }
}

/** The catalog's answer when the budget is spent: the same CAPACITY a full pool gives. */
export const QUIZ_BUDGET_MESSAGE = 'This server holds as many quizzes as its memory allows; try again soon, or use a smaller quiz.';
