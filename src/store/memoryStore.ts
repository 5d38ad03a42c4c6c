/**
 * Match state in this process's memory: the master's in pool mode (workers reach it over their store pipe
 * through `PipedMatchStore`), or the single process's own. Snapshots are copied in, as the
 * MatchStore contract requires: callers may hand over a running match's live state.
 */
import type { MatchSnapshot } from '../quiz/engine';
import { type MatchResults, type MatchState, type MatchStore, RECENT_RESULTS_KEPT, RESULTS_TTL_SEC, StoreFencedError, type StoredMatch, stateOf } from './store';

export class MemoryMatchStore implements MatchStore {
  private readonly live = new Map<string, StoredMatch>();
  private readonly finished = new Map<string, MatchResults>();

  /**
   * `copy: false` is for the master, whose snapshots arrive freshly deserialized from IPC and
   * belong to nobody else; a process handing over live state (the single process) copies.
   */
  constructor(private readonly opts: { copy: boolean; clock?: () => number } = { copy: true }) {}

  private own<T>(value: Readonly<T>): T {
    return this.opts.copy ? structuredClone(value as T) : (value as T);
  }

  async create(matchId: string, snapshot: Readonly<MatchSnapshot>): Promise<number> {
    this.live.set(matchId, { epoch: 1, snapshot: this.own(snapshot) });
    return 1;
  }

  async save(matchId: string, epoch: number, snapshot: Readonly<MatchSnapshot>): Promise<void> {
    return this.saveState(matchId, epoch, stateOf(snapshot));
  }

  /** `save` without the quiz, which this store already holds: what a worker's store pipe sends. */
  async saveState(matchId: string, epoch: number, state: Readonly<MatchState>): Promise<void> {
    const current = this.live.get(matchId);
    if (!current || current.epoch !== epoch) throw new StoreFencedError(matchId, epoch);
    // `own` is this store's object (a copy, or freshly deserialized): completed in place.
    current.snapshot = Object.assign(this.own<MatchState>(state), { quiz: current.snapshot.quiz });
  }

  async load(matchId: string): Promise<StoredMatch | null> {
    return this.live.get(matchId) ?? null;
  }

  async claim(matchId: string): Promise<StoredMatch | null> {
    const current = this.live.get(matchId);
    if (!current) return null;
    current.epoch++;
    return current;
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
