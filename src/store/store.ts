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
import type { AnswerAppend, HistoryAnswer, MatchSnapshot } from '../quiz/engine';
import type { QuestionResult, RankedPlayer } from '../protocol/messages';

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

/**
 * The state to write when the store already holds the history below `historyFrom`: its own
 * fields, and the history entries from that index on (a shallow view, like `stateOf`).
 */
export function stateToWrite(snapshot: Readonly<MatchSnapshot>, historyFrom: number): { state: Omit<MatchState, 'history'>; history: HistoryAnswer[][] } {
  const { quiz: _quiz, history, ...state } = snapshot;
  return { state, history: history?.slice(historyFrom) ?? [] };
}

/**
 * The history as stored apart, put back into a state read from a store: entries by question
 * index, over whatever the state itself carries (states written before the history was kept
 * apart carry all of it).
 */
export function withHistory<S extends MatchState>(state: S, entries: ReadonlyMap<number, HistoryAnswer[]>): S {
  if (entries.size === 0) return state;
  const history = (state.history ??= []);
  for (const [index, answers] of [...entries].sort((a, b) => a[0] - b[0])) {
    while (history.length < index) history.push([]);
    history[index] = answers;
  }
  return state;
}

/**
 * A stored state with the answers (and a big match's joins) appended since it was saved: what
 * `claim` and `load` return, exactly the match as its owner last had it acknowledged. Answers
 * for another question than the state's cannot be there (every phase change is a full save);
 * they are ignored rather than trusted if they are.
 */
export function withAnswers<S extends MatchState>(state: S, append: AnswerAppend | null): S {
  if (!append || append.questionIndex !== state.questionIndex) return state;
  Object.assign(state.answers, append.answers);
  if (append.players && append.players.length > 0) addJoined(state, append.players);
  state.revision = Math.max(state.revision, append.revision);
  return state;
}

/**
 * Players appended by their joins, after those already in the state, in join order (as `join`
 * left them). The state's players are in join order, and every full save clears the appends,
 * so an appended player with a join order up to the state's last is already in it.
 */
function addJoined(state: MatchState, joined: readonly MatchState['players'][number][]): void {
  // A store may give them back in any order (a Redis hash does).
  for (const p of [...joined].sort((a, b) => a.joinOrder - b.joinOrder)) {
    if (p.joinOrder <= (state.players.at(-1)?.joinOrder ?? 0)) continue;
    state.players.push(p);
    state.nextJoinOrder = Math.max(state.nextJoinOrder, p.joinOrder + 1);
  }
  // A join marks the lobby as in use.
  state.idleSince = null;
}

export interface StoredMatch {
  epoch: number;
  snapshot: MatchSnapshot;
  /**
   * From `claim`: how long ago the match was last written (by the store's own clock, so hosts'
   * clocks need not agree). A match restored after its owner died gets that time back on an
   * open question's clock (quiz/phases.ts `giveTimeBack`).
   */
  sinceWriteMs?: number;
}

export interface MatchResults {
  matchId: string;
  title: string;
  questionCount: number;
  finishedAt: number;
  standings: RankedPlayer[];
  /** Each question with its answers (PROTOCOL.md Part 2). Absent in results kept from before it existed. */
  questions?: QuestionResult[];
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
   *
   * `historyFrom`: the store already holds the revealed questions' answers (`history`) below
   * this index, from an earlier save: only the later ones are written. The history only grows
   * (a question's answers are final once revealed), and it was most of every phase change's
   * write: all the answers of the match so far, rewritten three times a question. A store that
   * holds fewer entries than `historyFrom` (it lost them) fails the save as unavailable: the
   * caller's retry writes everything.
   */
  save(matchId: string, epoch: number, snapshot: Readonly<MatchSnapshot>, historyFrom?: number): Promise<void>;
  /**
   * Adds answers to the current question of the state last saved (and, in a big match, the
   * players who joined), fenced like `save`: what a match writes when those are all that
   * changed, so an answer or a join costs the same few bytes whatever the match's size. The
   * next `save` replaces them with the whole state.
   */
  appendAnswers(matchId: string, epoch: number, append: AnswerAppend): Promise<void>;
  /** The match is over: its live state goes; results stay. Fenced like `save`. */
  remove(matchId: string, epoch: number): Promise<void>;
  /** Keeps the final standings readable (at least 24 h with Redis). */
  saveResults(results: MatchResults): Promise<void>;
}

/** What places matches and answers for them while no host has them: the pool master today. */
export interface MatchDirectory {
  /**
   * Hands the match to a new owner: bumps and returns the epoch with the snapshot. With
   * `ifEpoch`, only if the match is still at that epoch (several hosts racing to take over a
   * dead host's match: exactly one wins); otherwise `StoreFencedError`.
   */
  claim(matchId: string, ifEpoch?: number): Promise<StoredMatch | null>;
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
