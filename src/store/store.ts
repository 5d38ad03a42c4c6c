/**
 * Where match state lives so that no single process holds the only copy (PROTOCOL.md:
 * `answer_ack` means durable). Two narrow interfaces, by who uses them (as Colyseus keeps
 * presence apart from its driver):
 * - `MatchHostStore`, what a match host needs: create its match, save and remove it fenced by
 *   its epoch, keep the results. A worker's `PipedMatchStore` (cluster/storePipe.ts) is one.
 * - `MatchDirectory`, what whoever places matches needs: claim a match for a new owner, list
 *   the live ones, look one up while it has no owner, read results. A later multi-host
 *   directory implements this one.
 * `MemoryMatchStore` (the master's memory, or the single process's) and `RedisMatchStore`
 * (REDIS_URL) implement both: `MatchStore`.
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
 * What a match host needs for the matches it owns. `create` is here because the host calls
 * it: it builds the match (and its host token) and must hold it durable before it answers.
 * `create` and `save` must serialize or copy `snapshot` before they return (before their
 * first await): callers pass the live state of a running match, which changes right after.
 */
export interface MatchHostStore {
  /** Records a new match at epoch 1. */
  create(matchId: string, snapshot: Readonly<MatchSnapshot>): Promise<number>;
  /**
   * Replaces the match's state if `epoch` is still current; otherwise `StoreFencedError`.
   * The quiz is the one given to `create`: stores need not write it again.
   */
  save(matchId: string, epoch: number, snapshot: Readonly<MatchSnapshot>): Promise<void>;
  /** The match is over: its live state goes; results stay. Fenced like `save`. */
  remove(matchId: string, epoch: number): Promise<void>;
  /** Keeps the final standings readable (at least 24 h with Redis). */
  saveResults(results: MatchResults): Promise<void>;
}

/** What places matches and answers for them while no host has them: the pool master today. */
export interface MatchDirectory {
  /** Hands the match to a new owner: bumps and returns the epoch with the snapshot. */
  claim(matchId: string): Promise<StoredMatch | null>;
  /** The stored match, for describing one that is between owners. */
  load(matchId: string): Promise<StoredMatch | null>;
  /** Removes a match the directory claimed (a poison match), fenced by that claim's epoch. */
  remove(matchId: string, epoch: number): Promise<void>;
  liveMatchIds(): Promise<string[]>;
  results(matchId: string): Promise<MatchResults | null>;
  recentResults(limit: number): Promise<MatchResults[]>;
}

/** Both sides in one store (memory, Redis), and the connection it owns. */
export interface MatchStore extends MatchHostStore, MatchDirectory {
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
