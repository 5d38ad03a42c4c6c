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
 * client may see), as functions over the state defined in `state.ts`.
 */
import type { Phase, RankedPlayer, ServerMessage } from '../protocol/messages';
import { answer } from './answers';
import { close, isOver, next, nextDeadline, start, tick } from './phases';
import type { Quiz } from './quizzes';
import { disconnect, dropEveryone, expireLobbySeats, join, kick, leave, lock, newToken, nextSeatExpiry, resume } from './roster';
import type { Attached, Done, Effect, Failure, MatchSettings, MatchSnapshot, MatchStatus, MatchTiming, ParticipantId } from './state';
import { connectedPlayers, matchStatus } from './state';
import { quizInfo, ranked, welcome } from './views';

export type { Attached, Done, Effect, Failure, MatchSettings, MatchSnapshot, MatchStatus, MatchTiming, ParticipantId } from './state';
export { HOST_ID, matchStatus } from './state';
export { newToken } from './roster';
export { validName } from './names';

export class Match {
  private constructor(private readonly s: MatchSnapshot) {}

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
   * after its old one died, and everyone is dropped at that moment (see `dropEveryone`).
   */
  static restore(snapshot: MatchSnapshot, opts: { moved?: { now: number } } = {}): Match {
    const s: MatchSnapshot = structuredClone(snapshot);
    if (opts.moved) dropEveryone(s, opts.moved.now);
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
    return this.s.phase === 'finished' ? ranked(this.s) : null;
  }

  // ---- roster ----------------------------------------------------------------------

  join(rawName: string, _now: number): Attached | Failure {
    return join(this.s, rawName);
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
  next(by: ParticipantId, now: number): Done | Failure {
    return next(this.s, by, now);
  }
  answer(by: ParticipantId, questionIndex: number, choice: number, now: number): Done | Failure {
    return answer(this.s, by, questionIndex, choice, now);
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
