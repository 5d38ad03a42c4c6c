/**
 * Match state in this process's memory: the master's in pool mode (workers reach it over their store pipe
 * through `PipedMatchStore`), or the single process's own. Snapshots are copied in, as the
 * MatchStore contract requires: callers may hand over a running match's live state.
 */
import type { AnswerAppend, MatchSnapshot } from '../quiz/engine';
import { type MatchResults, type MatchState, type MatchStore, RECENT_RESULTS_KEPT, RESULTS_TTL_SEC, StoreFencedError, StoreUnavailableError, type StoredMatch, stateToWrite, withAnswers } from './store';

export class MemoryMatchStore implements MatchStore {
  private readonly live = new Map<string, StoredMatch>();
  /** When each live match was last written (the `sinceWriteMs` of a claim). */
  private readonly writtenAt = new Map<string, number>();
  private readonly finished = new Map<string, MatchResults>();

  /**
   * `copy: false` is for the master, whose snapshots arrive freshly deserialized from IPC and
   * belong to nobody else; a process handing over live state (the single process) copies.
   */
  constructor(private readonly opts: { copy: boolean; clock?: () => number } = { copy: true }) {}

  private now(): number {
    return (this.opts.clock ?? Date.now)();
  }

  private own<T>(value: Readonly<T>): T {
    return this.opts.copy ? structuredClone(value as T) : (value as T);
  }

  async create(matchId: string, snapshot: Readonly<MatchSnapshot>): Promise<number> {
    this.live.set(matchId, { epoch: 1, snapshot: this.own(snapshot) });
    this.writtenAt.set(matchId, this.now());
    return 1;
  }

  async save(matchId: string, epoch: number, snapshot: Readonly<MatchSnapshot>, historyFrom = 0): Promise<void> {
    const { state, history } = stateToWrite(snapshot, historyFrom);
    return this.saveState(matchId, epoch, { ...state, history }, historyFrom);
  }

  /**
   * `save` without the quiz, which this store already holds: what a worker's store pipe sends.
   * `state.history` holds the entries from `historyFrom` on; the earlier ones are kept.
   */
  async saveState(matchId: string, epoch: number, state: Readonly<MatchState>, historyFrom = 0): Promise<void> {
    const current = this.live.get(matchId);
    if (!current || current.epoch !== epoch) throw new StoreFencedError(matchId, epoch);
    const kept = current.snapshot.history ?? [];
    if (kept.length < historyFrom) throw new StoreUnavailableError(`match ${matchId}: history up to ${historyFrom} expected, ${kept.length} held`);
    // `own` is this store's object (a copy, or freshly deserialized): completed in place.
    const next = this.own<MatchState>(state);
    const history = historyFrom === 0 ? (next.history ?? []) : [...kept.slice(0, historyFrom), ...(next.history ?? [])];
    // A match before its first reveal has no history, as the engine leaves it.
    if (history.length > 0) next.history = history;
    else delete next.history;
    current.snapshot = Object.assign(next, { quiz: current.snapshot.quiz });
    this.writtenAt.set(matchId, this.now());
  }

  /** Appended in place: the stored state is this store's own object. */
  async appendAnswers(matchId: string, epoch: number, append: AnswerAppend): Promise<void> {
    const current = this.live.get(matchId);
    if (!current || current.epoch !== epoch) throw new StoreFencedError(matchId, epoch);
    if (append.questionIndex !== current.snapshot.questionIndex) {
      // Never happens while every phase change is a full save; the caller's retry is one.
      throw new StoreUnavailableError(`match ${matchId}: answers for question ${append.questionIndex}, state at ${current.snapshot.questionIndex}`);
    }
    withAnswers(current.snapshot, this.own(append));
    this.writtenAt.set(matchId, this.now());
  }

  async load(matchId: string): Promise<StoredMatch | null> {
    return this.live.get(matchId) ?? null;
  }

  async claim(matchId: string, ifEpoch?: number): Promise<StoredMatch | null> {
    const current = this.live.get(matchId);
    if (!current) return null;
    if (ifEpoch !== undefined && current.epoch !== ifEpoch) throw new StoreFencedError(matchId, ifEpoch);
    current.epoch++;
    return { ...current, sinceWriteMs: Math.max(0, this.now() - (this.writtenAt.get(matchId) ?? this.now())) };
  }

  async saveResults(results: MatchResults): Promise<void> {
    this.finished.delete(results.matchId);
    this.finished.set(results.matchId, results);
    this.prune();
  }

  async results(matchId: string): Promise<MatchResults | null> {
    this.prune();
    return this.finished.get(matchId) ?? null;
  }

  async recentResults(limit: number): Promise<MatchResults[]> {
    this.prune();
    return [...this.finished.values()].slice(-limit).reverse();
  }

  async remove(matchId: string, epoch: number): Promise<void> {
    const current = this.live.get(matchId);
    if (!current) return;
    if (current.epoch !== epoch) throw new StoreFencedError(matchId, epoch);
    this.live.delete(matchId);
    this.writtenAt.delete(matchId);
  }

  async liveMatchIds(): Promise<string[]> {
    return [...this.live.keys()];
  }

  async close(): Promise<void> {}

  /** Memory is bounded: old results expire like Redis keys would, and only the newest are kept. */
  private prune(): void {
    const oldest = (this.opts.clock ?? Date.now)() - RESULTS_TTL_SEC * 1000;
    for (const [id, r] of this.finished) {
      if (r.finishedAt >= oldest && this.finished.size <= RECENT_RESULTS_KEPT * 20) break;
      this.finished.delete(id);
    }
  }
}
