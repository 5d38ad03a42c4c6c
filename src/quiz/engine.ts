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
 */
import { randomBytes } from 'node:crypto';
import type { WsErrorCode } from '../protocol/errors';
import type {
  ClientState,
  Phase,
  PlayerInfo,
  QuestionView,
  RankedPlayer,
  RevealView,
  RevealYou,
  ServerMessage,
} from '../protocol/messages';
import type { Quiz } from './quizzes';
import { nextStreak, pointsFor, rank } from './scoring';

export const HOST_ID = 'host';
export type ParticipantId = string;

/** Durations in ms, already multiplied by MATCH_TIME_SCALE. */
export interface MatchTiming {
  /** Multiplies each question's `timeLimitSec × 1000`. */
  questionScale: number;
  revealMs: number;
  leaderboardMs: number;
  reconnectGraceMs: number;
  /** How long a finished match stays (podium, late resumes) before its slot is freed. */
  finishGraceMs: number;
  /** A lobby with nobody connected this long is closed. */
  lobbyIdleMs: number;
}

export interface MatchSettings {
  lateJoin: boolean;
  maxPlayers: number;
  /** `hostName` of POST /matches: the host's name in its `welcome`. */
  hostName?: string;
}

interface PlayerRecord {
  id: string;
  name: string;
  token: string;
  score: number;
  streak: number;
  joinOrder: number;
  connected: boolean;
  /** When the connection dropped; the player stays present for the reconnect grace. */
  droppedAt: number | null;
  left: boolean;
}

interface AnswerRecord {
  choice: number;
  receivedAt: number;
  points: number;
}

/** Everything a match is, as plain JSON. `restore(snapshot())` rebuilds it exactly. */
export interface MatchSnapshot {
  v: 1;
  id: string;
  quiz: Quiz;
  settings: MatchSettings;
  timing: MatchTiming;
  hostToken: string;
  createdAt: number;
  /** Bumped on every change that must be durable before it is acknowledged. */
  revision: number;
  phase: Phase;
  questionIndex: number;
  questionStartsAt: number | null;
  /** Absolute deadline of the current phase; for `finished`, when the match is disposed. */
  phaseEndsAt: number | null;
  locked: boolean;
  players: PlayerRecord[];
  /** Answers to the current (or just revealed) question, by player id. */
  answers: Record<string, AnswerRecord>;
  hostConnected: boolean;
  /** Since when nobody has been connected to the lobby (null when someone is). */
  idleSince: number | null;
  nextJoinOrder: number;
  closedReason: string | null;
}

export type Effect =
  | { kind: 'send'; to: ParticipantId; msg: ServerMessage }
  /** To every connected participant; `personal` adds a `you` field for the ones it names. */
  | { kind: 'broadcast'; msg: ServerMessage; personal?: ReadonlyMap<ParticipantId, object> }
  /** Close that participant's connection after what was sent before. */
  | { kind: 'drop'; to: ParticipantId; reason: string }
  /** The match is over for good; everyone's connection closes. */
  | { kind: 'closed'; reason: string };

export type Failure = { ok: false; code: WsErrorCode };
export type Done = { ok: true; effects: Effect[] };
export type Attached = { ok: true; participantId: ParticipantId; effects: Effect[] };

export type MatchStatus = 'lobby' | 'running' | 'finished';

const fail = (code: WsErrorCode): Failure => ({ ok: false, code });
const MAX_NAME_CHARS = 20;
// Control, format (zero-width, bidi), private-use and unassigned characters, and every space
// other than U+0020 (a no-break space would let "Ann\u00a0Lee" pose as "Ann Lee").
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}]|(?! )\p{Zs}/u;

/** The trimmed name if it is 1..20 visible characters (PROTOCOL.md `join`), else null. */
export function validName(raw: string): string | null {
  const name = raw.trim();
  const chars = [...name].length;
  return chars < 1 || chars > MAX_NAME_CHARS || INVISIBLE.test(name) ? null : name;
}

export function newToken(): string {
  return randomBytes(18).toString('base64url');
}

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
   * Rebuilds a match from `snapshot()`. With `moved`, the match has just come to a new
   * host after its old one died: nobody's socket survived that, so every player is marked
   * dropped now and stays present for the reconnect grace (PROTOCOL.md: "right after a
   * match moves to another worker every player is present").
   */
  static restore(snapshot: MatchSnapshot, opts: { moved?: { now: number } } = {}): Match {
    const s: MatchSnapshot = structuredClone(snapshot);
    if (opts.moved) {
      const now = opts.moved.now;
      for (const p of s.players) {
        if (p.left) continue;
        p.connected = false;
        p.droppedAt = now;
      }
      s.hostConnected = false;
      if (s.phase === 'lobby') s.idleSince = now;
    }
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
    return { title: this.s.quiz.title, questionCount: this.s.quiz.questions.length };
  }

  get status(): MatchStatus {
    if (this.s.phase === 'lobby') return 'lobby';
    if (this.s.phase === 'finished' || this.s.phase === 'closed') return 'finished';
    return 'running';
  }

  /** Players currently holding a connection (the host not counted). */
  get connectedPlayers(): number {
    let n = 0;
    for (const p of this.s.players) if (p.connected) n++;
    return n;
  }

  get playerCount(): number {
    return this.s.players.length;
  }

  /** True once the match may be forgotten by its host: closed, or finished and past its grace. */
  isOver(now: number): boolean {
    if (this.s.phase === 'closed') return true;
    return this.s.phase === 'finished' && this.s.phaseEndsAt !== null && now >= this.s.phaseEndsAt;
  }

  /** Final standings, all players, once finished. */
  standings(): RankedPlayer[] | null {
    return this.s.phase === 'finished' ? this.ranked() : null;
  }

  // ---- identity --------------------------------------------------------------------

  join(rawName: string, now: number): Attached | Failure {
    const name = validName(rawName);
    if (name === null) return fail('INVALID_NAME');
    const s = this.s;
    if (s.phase === 'finished' || s.phase === 'closed') return fail('MATCH_STARTED');
    if (s.locked) return fail('LOBBY_LOCKED');
    if (s.phase !== 'lobby' && !s.settings.lateJoin) return fail('MATCH_STARTED');
    const key = nameKey(name);
    if (s.players.some((p) => nameKey(p.name) === key)) return fail('NAME_TAKEN');
    if (s.players.length >= s.settings.maxPlayers) return fail('MATCH_FULL');

    const player: PlayerRecord = {
      id: `p${s.nextJoinOrder}`,
      name,
      token: newToken(),
      score: 0,
      streak: 0,
      joinOrder: s.nextJoinOrder,
      connected: true,
      droppedAt: null,
      left: false,
    };
    s.nextJoinOrder++;
    s.players.push(player);
    s.idleSince = null;
    this.bump();
    return { ok: true, participantId: player.id, effects: [this.playersEffect()] };
  }

  /** Re-attaches the player or host that `token` belongs to. */
  resume(token: string, now: number): Attached | Failure {
    const s = this.s;
    if (token === s.hostToken) {
      s.hostConnected = true;
      s.idleSince = null;
      return { ok: true, participantId: HOST_ID, effects: [] };
    }
    const player = s.players.find((p) => p.token === token);
    if (!player) return fail('TOKEN_INVALID');
    const wasPresent = player.connected && !player.left;
    player.connected = true;
    player.droppedAt = null;
    s.idleSince = null;
    if (player.left) {
      player.left = false;
      this.bump();
    }
    const effects = wasPresent ? [] : [this.playersEffect()];
    effects.push(...this.closeQuestionIfAllAnswered(now));
    return { ok: true, participantId: player.id, effects };
  }

  /** The participant's connection is gone (closed, replaced, or dead). */
  disconnect(id: ParticipantId, now: number): Effect[] {
    const s = this.s;
    if (id === HOST_ID) {
      s.hostConnected = false;
    } else {
      const player = this.player(id);
      if (!player || !player.connected) return [];
      player.connected = false;
      player.droppedAt = now;
    }
    if (s.phase === 'lobby' && !s.hostConnected && this.connectedPlayers === 0) s.idleSince = now;
    return id === HOST_ID ? [] : [this.playersEffect()];
  }

  leave(id: ParticipantId, now: number): Done | Failure {
    if (id === HOST_ID) return fail('NOT_JOINED');
    const s = this.s;
    const player = this.player(id);
    if (!player) return fail('NOT_JOINED');
    if (s.phase === 'lobby') {
      s.players = s.players.filter((p) => p.id !== id);
      if (!s.hostConnected && this.connectedPlayers === 0) s.idleSince = now;
    } else {
      player.left = true;
      player.connected = false;
      player.droppedAt = null;
    }
    this.bump();
    return { ok: true, effects: [this.playersEffect(), ...this.closeQuestionIfAllAnswered(now)] };
  }

  welcome(id: ParticipantId, now: number): ServerMessage {
    const player = id === HOST_ID ? undefined : this.player(id);
    return {
      type: 'welcome',
      you: player
        ? { playerId: player.id, name: player.name, role: 'player' }
        : { ...(this.s.settings.hostName ? { name: this.s.settings.hostName } : {}), role: 'host' },
      token: player ? player.token : this.s.hostToken,
      serverTime: now,
      state: this.clientState(id),
    };
  }

  // ---- host commands ---------------------------------------------------------------

  start(by: ParticipantId, now: number): Done | Failure {
    if (by !== HOST_ID) return fail('NOT_HOST');
    if (this.s.phase !== 'lobby') return fail('MATCH_STARTED');
    return { ok: true, effects: this.beginQuestion(0, now) };
  }

  next(by: ParticipantId, now: number): Done | Failure {
    if (by !== HOST_ID) return fail('NOT_HOST');
    return { ok: true, effects: this.advance(now) };
  }

  kick(by: ParticipantId, playerId: string, now: number): Done | Failure {
    if (by !== HOST_ID) return fail('NOT_HOST');
    const s = this.s;
    const player = this.player(playerId);
    if (!player) return fail('BAD_MESSAGE');
    s.players = s.players.filter((p) => p.id !== playerId);
    delete s.answers[playerId];
    if (s.phase === 'lobby' && !s.hostConnected && this.connectedPlayers === 0) s.idleSince = now;
    this.bump();
    return {
      ok: true,
      effects: [
        { kind: 'send', to: playerId, msg: { type: 'kicked', reason: 'Removed by the host' } },
        { kind: 'drop', to: playerId, reason: 'kicked' },
        this.playersEffect(),
        ...this.closeQuestionIfAllAnswered(now),
      ],
    };
  }

  lock(by: ParticipantId, locked: boolean): Done | Failure {
    if (by !== HOST_ID) return fail('NOT_HOST');
    if (this.s.locked === locked) return { ok: true, effects: [] };
    this.s.locked = locked;
    this.bump();
    return { ok: true, effects: [this.playersEffect()] };
  }

  // ---- answers ---------------------------------------------------------------------

  answer(by: ParticipantId, questionIndex: number, choice: number, now: number): Done | Failure {
    if (by === HOST_ID) return fail('NOT_JOINED');
    const s = this.s;
    const player = this.player(by);
    if (!player || player.left) return fail('NOT_JOINED');
    if (questionIndex !== s.questionIndex || s.phase === 'lobby') return fail('WRONG_QUESTION');
    const question = s.quiz.questions[questionIndex];
    if (!question) return fail('WRONG_QUESTION');
    if (!Number.isInteger(choice) || choice < 0 || choice >= question.choices.length) return fail('BAD_MESSAGE');

    const previous = s.answers[by];
    if (previous) {
      // A retry (after a reconnect, say) is acknowledged again, even after the question
      // closed, so the client learns its answer counted; a different choice is refused.
      if (previous.choice !== choice) return fail('ALREADY_ANSWERED');
      return { ok: true, effects: [{ kind: 'send', to: by, msg: { type: 'answer_ack', questionIndex, choice } }] };
    }
    if (s.phase !== 'question' || s.questionStartsAt === null || s.phaseEndsAt === null || now >= s.phaseEndsAt) {
      return fail('QUESTION_CLOSED');
    }
    s.answers[by] = {
      choice,
      receivedAt: now,
      points: pointsFor(choice === question.correct, now, s.questionStartsAt, s.phaseEndsAt - s.questionStartsAt),
    };
    this.bump();
    const effects: Effect[] = [
      { kind: 'send', to: by, msg: { type: 'answer_ack', questionIndex, choice } },
      { kind: 'broadcast', msg: this.answerCount() },
    ];
    effects.push(...this.closeQuestionIfAllAnswered(now));
    return { ok: true, effects };
  }

  // ---- time ------------------------------------------------------------------------

  /**
   * The earliest moment after `now` at which `tick` may have something to do, or null.
   * Grace expiries already past are left out: they changed nothing when they passed (someone
   * connected still had to answer), and reporting them would spin the host's timer at 0 ms.
   */
  nextDeadline(now: number): number | null {
    const s = this.s;
    let next: number | null = s.phaseEndsAt;
    const consider = (t: number) => {
      if (next === null || t < next) next = t;
    };
    if (s.phase === 'lobby' && s.idleSince !== null) consider(s.idleSince + s.timing.lobbyIdleMs);
    if (s.phase === 'question') {
      // A player's grace running out can make "everyone present has answered" true.
      for (const p of s.players) {
        if (!p.connected && !p.left && p.droppedAt !== null && !s.answers[p.id]) {
          const expiry = p.droppedAt + s.timing.reconnectGraceMs;
          if (expiry > now) consider(expiry);
        }
      }
    }
    return next;
  }

  /** Runs every transition whose deadline has passed. */
  tick(now: number): Effect[] {
    const s = this.s;
    const effects: Effect[] = [];
    // Bounded: each pass either moves the phase on or stops.
    for (let guard = 0; guard < 10; guard++) {
      if (s.phase === 'lobby' && s.idleSince !== null && now >= s.idleSince + s.timing.lobbyIdleMs) {
        effects.push(...this.close('The lobby was empty for too long'));
        break;
      }
      if (s.phase === 'question') effects.push(...this.closeQuestionIfAllAnswered(now));
      if (s.phase === 'finished' || s.phase === 'closed') break;
      if (s.phaseEndsAt === null || now < s.phaseEndsAt) break;
      effects.push(...this.advance(now));
    }
    return effects;
  }

  /** Ends the match for good (lobby idle, or a match its hosts cannot keep alive). */
  close(reason: string): Effect[] {
    if (this.s.phase === 'closed') return [];
    this.s.phase = 'closed';
    this.s.phaseEndsAt = null;
    this.s.closedReason = reason;
    this.bump();
    return [{ kind: 'broadcast', msg: { type: 'match_closed', reason } }, { kind: 'closed', reason }];
  }

  // ---- internals -------------------------------------------------------------------

  private advance(now: number): Effect[] {
    switch (this.s.phase) {
      case 'question':
        return this.beginReveal(now);
      case 'reveal':
        return this.beginLeaderboard(now);
      case 'leaderboard': {
        const nextIndex = this.s.questionIndex + 1;
        return nextIndex < this.s.quiz.questions.length ? this.beginQuestion(nextIndex, now) : this.finish(now);
      }
      case 'lobby':
      case 'finished':
      case 'closed':
        return [];
    }
  }

  private beginQuestion(index: number, now: number): Effect[] {
    const s = this.s;
    const question = s.quiz.questions[index];
    if (!question) return this.finish(now);
    s.phase = 'question';
    s.questionIndex = index;
    s.questionStartsAt = now;
    s.phaseEndsAt = now + Math.round(question.timeLimitSec * 1000 * s.timing.questionScale);
    s.answers = {};
    this.bump();
    return [{ kind: 'broadcast', msg: { type: 'question', ...this.questionView()! } }];
  }

  private beginReveal(now: number): Effect[] {
    const s = this.s;
    const question = s.quiz.questions[s.questionIndex]!;
    const personal = new Map<ParticipantId, RevealYou>();
    for (const p of s.players) {
      const a = s.answers[p.id];
      const correct = a !== undefined && a.choice === question.correct;
      const points = a?.points ?? 0;
      p.score += points;
      p.streak = nextStreak(p.streak, correct);
      personal.set(p.id, { ...(a ? { choice: a.choice } : {}), points, score: p.score, streak: p.streak });
    }
    s.phase = 'reveal';
    s.phaseEndsAt = now + s.timing.revealMs;
    this.bump();
    return [{ kind: 'broadcast', msg: { type: 'reveal', ...this.revealView()! }, personal }];
  }

  private beginLeaderboard(now: number): Effect[] {
    const s = this.s;
    s.phase = 'leaderboard';
    s.phaseEndsAt = now + s.timing.leaderboardMs;
    this.bump();
    const ranked = this.ranked();
    const personal = new Map<ParticipantId, { rank: number; score: number }>();
    for (const r of ranked) personal.set(r.playerId, { rank: r.rank, score: r.score });
    return [{ kind: 'broadcast', msg: { type: 'leaderboard', top: ranked.slice(0, 10) }, personal }];
  }

  private finish(now: number): Effect[] {
    const s = this.s;
    s.phase = 'finished';
    s.phaseEndsAt = now + s.timing.finishGraceMs;
    this.bump();
    return [{ kind: 'broadcast', msg: { type: 'finished', standings: this.ranked() } }];
  }

  private closeQuestionIfAllAnswered(now: number): Effect[] {
    const s = this.s;
    if (s.phase !== 'question') return [];
    let present = 0;
    for (const p of s.players) {
      if (!this.isPresent(p, now)) continue;
      present++;
      if (!s.answers[p.id]) return [];
    }
    // With nobody present the question runs its full time rather than racing to the end.
    return present > 0 ? this.beginReveal(now) : [];
  }

  private isPresent(p: PlayerRecord, now: number): boolean {
    if (p.left) return false;
    if (p.connected) return true;
    return p.droppedAt !== null && now < p.droppedAt + this.s.timing.reconnectGraceMs;
  }

  private player(id: string): PlayerRecord | undefined {
    return this.s.players.find((p) => p.id === id);
  }

  private bump(): void {
    this.s.revision++;
  }

  private ranked(): RankedPlayer[] {
    return rank(this.s.players.map((p) => ({ playerId: p.id, name: p.name, score: p.score, joinOrder: p.joinOrder }))).map(
      (r) => ({ playerId: r.playerId, name: r.name, score: r.score, rank: r.rank }),
    );
  }

  private playersEffect(): Effect {
    return { kind: 'broadcast', msg: { type: 'players', players: this.playerList(), locked: this.s.locked } };
  }

  private playerList(): PlayerInfo[] {
    return this.s.players.map((p) => ({ playerId: p.id, name: p.name, connected: p.connected }));
  }

  private answerCount(): ServerMessage {
    const s = this.s;
    let total = 0;
    for (const p of s.players) if (!p.left) total++;
    return { type: 'answer_count', questionIndex: s.questionIndex, answered: Object.keys(s.answers).length, total };
  }

  /** The current question as players may see it: never the correct choice. */
  private questionView(): QuestionView | null {
    const s = this.s;
    const q = s.quiz.questions[s.questionIndex];
    if (!q || s.questionStartsAt === null) return null;
    const endsAt = s.questionStartsAt + Math.round(q.timeLimitSec * 1000 * s.timing.questionScale);
    return {
      index: s.questionIndex,
      total: s.quiz.questions.length,
      text: q.text,
      choices: [...q.choices],
      startsAt: s.questionStartsAt,
      endsAt,
    };
  }

  private revealView(): RevealView | null {
    const s = this.s;
    const q = s.quiz.questions[s.questionIndex];
    if (!q) return null;
    const counts = q.choices.map(() => 0);
    for (const a of Object.values(s.answers)) counts[a.choice] = (counts[a.choice] ?? 0) + 1;
    return { questionIndex: s.questionIndex, correct: q.correct, counts };
  }

  private clientState(id: ParticipantId): ClientState {
    const s = this.s;
    const player = id === HOST_ID ? undefined : this.player(id);
    const ranked = this.ranked();
    const mine = player ? ranked.find((r) => r.playerId === player.id) : undefined;
    const answer = player ? s.answers[player.id] : undefined;
    const showQuestion = s.phase === 'question' || s.phase === 'reveal';
    // The correct choice exists in the state only once its question has been revealed.
    const revealed = s.phase === 'reveal' || s.phase === 'leaderboard';
    const count = this.answerCount();
    return {
      matchId: s.id,
      phase: s.phase,
      quiz: this.quizInfo,
      players: this.playerList(),
      locked: s.locked,
      lateJoin: s.settings.lateJoin,
      phaseEndsAt: s.phase === 'finished' ? null : s.phaseEndsAt,
      question: showQuestion ? this.questionView() : null,
      answered:
        s.phase === 'question' && count.type === 'answer_count' ? { answered: count.answered, total: count.total } : null,
      reveal: revealed ? this.revealView() : null,
      leaderboard: s.phase === 'leaderboard' || s.phase === 'reveal' ? ranked.slice(0, 10) : null,
      standings: s.phase === 'finished' ? ranked : null,
      you: player
        ? {
            score: player.score,
            streak: player.streak,
            rank: mine?.rank ?? null,
            answer: answer && s.phase !== 'leaderboard' ? { questionIndex: s.questionIndex, choice: answer.choice } : null,
            lastPoints: revealed ? (answer?.points ?? 0) : null,
          }
        : null,
    };
  }
}

function nameKey(name: string): string {
  return name.normalize('NFC').toLocaleLowerCase('en');
}
