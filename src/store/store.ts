/**
 * Where match state lives so that no single process holds the only copy (PROTOCOL.md:
 * `answer_ack` means durable). One narrow interface, implemented by:
 * - `MemoryMatchStore`: in the master's memory (the embedded default) or the single process;
 * - `IpcMatchStore`: how a worker reaches the master's `MemoryMatchStore`;
 * - `RedisMatchStore`: Redis through ioredis, when REDIS_URL is set.
 *
 * Fencing: every live match has an owner epoch. `claim` starts a new epoch for a new owner;
 * `save` from any other epoch fails with `StoreFencedError`, so an owner that was declared
 * dead but wakes up again cannot overwrite its successor's state.
 */
import type { MatchSnapshot } from '../quiz/engine';
import type { RankedPlayer } from '../protocol/messages';

/**
 * What a running match changes: its snapshot without the quiz. The quiz never changes after
 * `create`, and was a large part of every write (20 % of a 50-player match on a built-in
 * quiz, a third of a 10-player one, most of one with a long quiz), so stores keep it once.
 */
export type MatchState = Omit<MatchSnapshot, 'quiz'>;

/** The state part of a snapshot: a shallow view, to be serialized or copied before any await. */
export function stateOf(snapshot: Readonly<MatchSnapshot>): MatchState {
  const { quiz: _quiz, ...state } = snapshot;
  return state;
}

export interface StoredMatch {
  epoch: number;
  snapshot: MatchSnapshot;
}

export interface MatchResults {
  matchId: string;
  title: string;
  questionCount: number;
  finishedAt: number;
  standings: RankedPlayer[];
}

/**
 * `create` and `save` must serialize or copy `snapshot` before they return (before their
 * first await): callers pass the live state of a running match, which changes right after.
 */
export interface MatchStore {
  /** Records a new match at epoch 1. */
  create(matchId: string, snapshot: Readonly<MatchSnapshot>): Promise<number>;
  /**
   * Replaces the match's state if `epoch` is still current; otherwise `StoreFencedError`.
   * The quiz is the one given to `create`: stores need not write it again.
   */
  save(matchId: string, epoch: number, snapshot: Readonly<MatchSnapshot>): Promise<void>;
  load(matchId: string): Promise<StoredMatch | null>;
  /** Hands the match to a new owner: bumps and returns the epoch with the snapshot. */
  claim(matchId: string): Promise<StoredMatch | null>;
  /** Keeps the final standings readable (at least 24 h with Redis). */
  saveResults(results: MatchResults): Promise<void>;
  results(matchId: string): Promise<MatchResults | null>;
  recentResults(limit: number): Promise<MatchResults[]>;
  /** The match is over: its live state goes; results stay. Fenced like `save`. */
  remove(matchId: string, epoch: number): Promise<void>;
  liveMatchIds(): Promise<string[]>;
  close(): Promise<void>;
}

export type StoreErrorCode = 'STORE_FENCED' | 'STORE_UNAVAILABLE' | 'STORE_NOT_FOUND';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

export class StoreFencedError extends StoreError {
  constructor(matchId: string, epoch: number) {
    super('STORE_FENCED', `match ${matchId}: epoch ${epoch} is no longer the owner`);
  }
}

export class StoreUnavailableError extends StoreError {
  constructor(detail: string) {
    super('STORE_UNAVAILABLE', `match store unavailable: ${detail}`);
  }
}

/** Results are kept this long (PROTOCOL.md: at least 24 h with Redis). */
export const RESULTS_TTL_SEC = 48 * 3600;
export const RECENT_RESULTS_KEPT = 50;
