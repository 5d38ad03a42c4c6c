/**
 * What a match is, as plain JSON, and the few facts about it every part of the engine reads.
 *
 * The engine's parts (roster, answers, phases, views) are functions over this one state
 * object, which `Match` owns; keeping it plain JSON is what makes `restore(snapshot())` exact.
 */
import type { WsErrorCode } from '../protocol/errors';
import type { Phase, PhoneView, QuestionKind, ServerMessage } from '../protocol/messages';
import type { Question, Quiz } from './quizzes';

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
  /**
   * A lobby never started closes this long after the match was created, even with its host
   * connected, so an abandoned browser tab cannot hold a slot forever (LOBBY_MAX_MS).
   * Optional because snapshots written before it existed have none: those lobbies keep the
   * old rule (only the idle close).
   */
  lobbyMaxMs?: number;
  /**
   * The suspense moment before each question (QUESTION_INTRO_MS, scaled); 0 or absent: none,
   * the question opens at once. Absent in snapshots written before it existed.
   */
  introMs?: number;
}

export interface MatchSettings {
  lateJoin: boolean;
  maxPlayers: number;
  /** `hostName` of POST /matches: the host's name in its `welcome`. */
  hostName?: string;
  /** What phones show; the server only stores and reports it. Absent (older snapshots): `full`. */
  phoneView?: PhoneView;
  /**
   * PLAYER_LIST_MAX: with more players than this the match is big (PROTOCOL.md Part 2, "Big
   * matches"): lists of players are cut to this many, and players get counts instead of the
   * player list. Absent (older snapshots, tests of v1's rules): no limit.
   */
  playerListMax?: number;
}

export interface PlayerRecord {
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

/**
 * One revealed answer, kept for the results: [playerId, choice, points, ms after startsAt].
 * A tuple, not an object, because the history is part of every state the store writes.
 */
export type HistoryAnswer = [playerId: string, choice: number, points: number, ms: number];

export interface AnswerRecord {
  choice: number;
  receivedAt: number;
  points: number;
}

/**
 * Answers recorded since the match's last full save, and nothing else: what a store appends
 * instead of rewriting the whole match, so an answer costs the same bytes whatever the
 * match's size. `revision` is the match's revision after the last of them.
 *
 * In a big match (PROTOCOL.md Part 2, "Big matches") the players who joined since are
 * appended too (`players`, their records as of the write): rewriting 10,000 players for each
 * join was most of a worker's work while a big match filled. Absent: nobody joined.
 */
export interface AnswerAppend {
  revision: number;
  questionIndex: number;
  answers: Record<string, AnswerRecord>;
  players?: PlayerRecord[];
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
  /**
   * `nameKey`s of players the host kicked: the name stays taken for the rest of the match, so
   * a kicked player cannot walk straight back in under it. Optional: older snapshots have none.
   */
  kickedNames?: string[];
  /**
   * The answers of each revealed question, by question index (`history.ts`), so the results
   * can list them after a restore. Optional: older snapshots have none.
   */
  history?: HistoryAnswer[][];
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

export const fail = (code: WsErrorCode): Failure => ({ ok: false, code });

export type MatchStatus = 'lobby' | 'running' | 'finished';

/**
 * The one mapping from the engine's phases to the status that HTTP and the pool report
 * (PROTOCOL.md `GET /matches/:id`): a closed match reads as finished, like one that ended.
 */
export function matchStatus(phase: Phase): MatchStatus {
  if (phase === 'lobby') return 'lobby';
  if (phase === 'finished' || phase === 'closed') return 'finished';
  return 'running';
}

/**
 * Connected, or dropped less than the reconnect grace ago (and not gone by `leave`): a player
 * the match waits for, and who counts in `answer_count.total`.
 */
export function isPresent(s: MatchSnapshot, p: PlayerRecord, now: number): boolean {
  if (p.left) return false;
  if (p.connected) return true;
  return p.droppedAt !== null && now < p.droppedAt + s.timing.reconnectGraceMs;
}

/** How the question is played; absent is v1's `choice`. */
export function questionKind(question: Question): QuestionKind {
  return question.kind ?? 'choice';
}

/** The suspense moment before each question, in ms (0: none). */
export function introMs(s: MatchSnapshot): number {
  return s.timing.introMs ?? 0;
}

/** A question's time limit as this match plays it (scaled), in ms. */
export function questionLimitMs(s: MatchSnapshot, question: Question): number {
  return Math.round(question.timeLimitSec * 1000 * s.timing.questionScale);
}
