/**
 * The quiz match: rules, phases, timing and scoring of PROTOCOL.md, and nothing else.
 *
 * Pure on purpose: no sockets, no timers, no I/O. Every method takes `now` from the caller,
 * deadlines are absolute timestamps kept in the state, and the host asks `nextDeadline()`
 * to arm its one timer and calls `tick(now)` when it fires. That is what lets the single
 * process and a cluster worker host the very same code, lets tests drive a match with a fake
 * clock, and makes `restore(snapshot())` exact: there is no hidden timer state to lose.
 *
 * Methods return `Effect`s (messages to deliver) instead of sending anything themselves.
 *
 * `Match` owns the state and is the one door to it; the rules live by concern in
 * `roster.ts` (who is in), `answers.ts`, `phases.ts` (the clock) and `views.ts` (what each
 * client may see), as functions over the state defined in `state.ts`. `rosterIndex.ts` keeps
 * lookups and counts beside the state (never in it), so a match of 10,000 players does not
 * walk its players on every join and answer.
 */
import type { Phase, QuestionResult, RankedPlayer, ServerMessage } from '../protocol/messages';
import { answer } from './answers';
import { questionResults } from './history';
import { type NextTarget, close, giveTimeBack, isOver, next, nextDeadline, start, tick } from './phases';
import type { Quiz } from './quizzes';
import { disconnect, dropEveryone, expireLobbySeats, join, kick, leave, lock, newToken, nextSeatExpiry, resume } from './roster';
import type { AnswerAppend, AnswerRecord, Attached, Done, Effect, Failure, MatchSettings, MatchSnapshot, MatchStatus, MatchTiming, ParticipantId } from './state';
import { connectedPlayers, findPlayer, ranking } from './rosterIndex';
import { matchStatus } from './state';
import { isBig, quizInfo, welcome } from './views';

export type { AnswerAppend, AnswerRecord, Attached, Done, Effect, Failure, HistoryAnswer, MatchSettings, MatchSnapshot, MatchStatus, MatchTiming, ParticipantId, PlayerRecord } from './state';
export { HOST_ID, matchStatus } from './state';
export { newToken } from './roster';
export { validName } from './names';
export type { NextTarget } from './phases';

/**
 * What the store must be told since the last save: nothing, only answers (and, in a big
 * match, joins: appended), or the whole match (`full`: every other change, and anything after one).
 */
export type Unsaved = { kind: 'none' } | { kind: 'answers'; append: AnswerAppend } | { kind: 'full' };

export class Match {
  /**
   * Save bookkeeping (not part of the state: a restored match starts saved). Revisions up to
   * `classified` are known to be answers (`answersSinceSave`), joins to a big match
   * (`joinsSinceSave`) or other changes, the latest of which is `lastOtherChange`; the store
   * holds everything up to `savedRevision`.
   */
  private savedRevision: number;
  private classified: number;
  private lastOtherChange: number;
  private answersSinceSave: Array<{ id: ParticipantId; revision: number }> = [];
  private joinsSinceSave: Array<{ id: ParticipantId; revision: number }> = [];

  private constructor(private readonly s: MatchSnapshot) {
    this.savedRevision = this.classified = this.lastOtherChange = s.revision;
  }

  static create(init: {
    id: string;
    quiz: Quiz;
    settings: MatchSettings;
    timing: MatchTiming;
    now: number;
    hostToken?: string;
  }): Match {
    return new Match({
      v: 1,
      id: init.id,
      quiz: init.quiz,
      settings: init.settings,
      timing: init.timing,
      hostToken: init.hostToken ?? newToken(),
      createdAt: init.now,
      revision: 1,
      phase: 'lobby',
      questionIndex: -1,
      questionStartsAt: null,
      phaseEndsAt: null,
      locked: false,
      players: [],
      answers: {},
      hostConnected: false,
      idleSince: init.now,
      nextJoinOrder: 1,
      closedReason: null,
    });
  }

  /**
   * Rebuilds a match from `snapshot()`. With `moved`, the match has just come to a new host
   * after its old one died, and everyone is dropped at that moment (see `dropEveryone`); with
   * `moved.lostMs`, the time it had no host is given back to an open question (`giveTimeBack`).
   */
  static restore(snapshot: MatchSnapshot, opts: { moved?: { now: number; lostMs?: number } } = {}): Match {
    const s: MatchSnapshot = structuredClone(snapshot);
    if (opts.moved) dropEveryone(s, opts.moved.now);
    if (opts.moved?.lostMs) giveTimeBack(s, opts.moved.lostMs);
    return new Match(s);
  }

  snapshot(): MatchSnapshot {
    return structuredClone(this.s);
  }

  /**
   * The live state, read-only, for a store write that serializes or copies it before it
   * returns (MatchStore.save's contract). Saves the deep copy `snapshot()` makes, which was
   * one of the largest costs of a busy worker.
   */
  view(): Readonly<MatchSnapshot> {
    return this.s;
  }

  get id(): string {
    return this.s.id;
  }
  get revision(): number {
    return this.s.revision;
  }
  get hostToken(): string {
    return this.s.hostToken;
  }
  get phase(): Phase {
    return this.s.phase;
  }
  get quizInfo(): { title: string; questionCount: number } {
    return quizInfo(this.s);
  }
  get status(): MatchStatus {
    return matchStatus(this.s.phase);
  }
  /** Players currently holding a connection (the host not counted). */
  get connectedPlayers(): number {
    return connectedPlayers(this.s);
  }
  get playerCount(): number {
    return this.s.players.length;
  }

  /** True once the match may be forgotten by its host: closed, or finished and past its grace. */
  isOver(now: number): boolean {
    return isOver(this.s, now);
  }

  /** Final standings, all players, once finished. */
  standings(): RankedPlayer[] | null {
    return this.s.phase === 'finished' ? [...ranking(this.s)] : null;
  }

  /** Every question with the answers it got, once finished (the results' `questions`). */
  questionResults(): QuestionResult[] | null {
    return this.s.phase === 'finished' ? questionResults(this.s) : null;
  }

  // ---- roster ----------------------------------------------------------------------

  join(rawName: string, now: number): Attached | Failure {
    this.classifyChanges();
    const before = this.s.revision;
    const result = join(this.s, rawName, now);
    // A join to a big match changed only the roster (one revision): the store may append the
    // player instead of rewriting all of them. Below PLAYER_LIST_MAX a full write is small.
    if (result.ok && this.s.revision === before + 1 && isBig(this.s)) {
      this.joinsSinceSave.push({ id: result.participantId, revision: this.s.revision });
      this.classified = this.s.revision;
    }
    return result;
  }
  /** Re-attaches the player or host that `token` belongs to. */
  resume(token: string, now: number): Attached | Failure {
    return resume(this.s, token, now);
  }
  /** The participant's connection is gone (closed, replaced, or dead). */
  disconnect(id: ParticipantId, now: number): Effect[] {
    return disconnect(this.s, id, now);
  }
  leave(id: ParticipantId, now: number): Done | Failure {
    return leave(this.s, id, now);
  }
  kick(by: ParticipantId, playerId: string, now: number): Done | Failure {
    return kick(this.s, by, playerId, now);
  }
  lock(by: ParticipantId, locked: boolean): Done | Failure {
    return lock(this.s, by, locked);
  }
  welcome(id: ParticipantId, now: number): ServerMessage {
    return welcome(this.s, id, now);
  }

  // ---- play ------------------------------------------------------------------------

  start(by: ParticipantId, now: number): Done | Failure {
    return start(this.s, by, now);
  }
  /** `target`: the phase (and question) the host means to end; a bare `next` ends the current one. */
  next(by: ParticipantId, now: number, target: NextTarget = {}): Done | Failure {
    return next(this.s, by, now, target);
  }
  answer(by: ParticipantId, questionIndex: number, choice: number, now: number): Done | Failure {
    this.classifyChanges();
    const before = this.s.revision;
    const result = answer(this.s, by, questionIndex, choice, now);
    // Only the answer changed (one revision, the question still open): the store may append
    // it instead of rewriting the match.
    if (this.s.revision === before + 1 && this.s.phase === 'question') {
      this.answersSinceSave.push({ id: by, revision: this.s.revision });
      this.classified = this.s.revision;
    }
    return result;
  }

  // ---- saving ----------------------------------------------------------------------

  /**
   * What the store lacks: nothing, answers (and a big match's joins) only (an append of a few
   * dozen bytes each, the same whatever the match's size), or the whole match (any other
   * change since the last save). Write what it says before the next await, then `markSaved`
   * with the revision read with it.
   */
  unsaved(): Unsaved {
    this.classifyChanges();
    if (this.lastOtherChange > this.savedRevision) return { kind: 'full' };
    if (this.answersSinceSave.length === 0 && this.joinsSinceSave.length === 0) return { kind: 'none' };
    const answers: Record<string, AnswerRecord> = {};
    for (const { id } of this.answersSinceSave) {
      const a = this.s.answers[id];
      if (a) answers[id] = { ...a };
    }
    const append: AnswerAppend = { revision: this.s.revision, questionIndex: this.s.questionIndex, answers };
    if (this.joinsSinceSave.length > 0) {
      append.players = this.joinsSinceSave.flatMap(({ id }) => {
        const p = findPlayer(this.s, id);
        return p ? [{ ...p }] : [];
      });
    }
    return { kind: 'answers', append };
  }

  /** The store now holds every change up to `revision` (the one read with `unsaved()`). */
  markSaved(revision: number): void {
    this.savedRevision = Math.max(this.savedRevision, revision);
    this.answersSinceSave = this.answersSinceSave.filter((a) => a.revision > this.savedRevision);
    this.joinsSinceSave = this.joinsSinceSave.filter((j) => j.revision > this.savedRevision);
  }

  /** Every revision not yet classified came from something other than an answer. */
  private classifyChanges(): void {
    if (this.s.revision > this.classified) this.lastOtherChange = this.classified = this.s.revision;
  }

  // ---- time ------------------------------------------------------------------------

  /** The earliest moment after `now` at which `tick` may have something to do, or null. */
  nextDeadline(now: number): number | null {
    const phase = nextDeadline(this.s, now);
    const seat = nextSeatExpiry(this.s, now);
    return phase === null ? seat : seat === null ? phase : Math.min(phase, seat);
  }
  /** Runs every transition whose deadline has passed: lobby seats given back first, then the clock. */
  tick(now: number): Effect[] {
    return [...expireLobbySeats(this.s, now), ...tick(this.s, now)];
  }
  /** Ends the match for good (lobby idle, or a match its hosts cannot keep alive). */
  close(reason: string): Effect[] {
    return close(this.s, reason);
  }
}
