/**
 * Every message of the WebSocket protocol (docs/PROTOCOL.md: v1 and this project's additions): zod schemas for what
 * clients send (validated at the boundary, before the engine sees anything) and TypeScript
 * types for what the server sends.
 */
import { z } from 'zod';
import type { WsErrorCode } from './errors';

/** PROTOCOL.md: a frame over 4 KiB closes the connection (1009), whoever completes the handshake. */
export const MAX_FRAME_BYTES = 4096;

// Any integer: one that is not the current question is WRONG_QUESTION, from the engine.
const questionIndex = z.number().int();

/** The phases a host's `next` may name as the one it ends (PROTOCOL.md Part 2, "Game night additions"). */
export const NEXT_PHASES = ['intro', 'question', 'reveal', 'leaderboard'] as const;
export type NextPhase = (typeof NEXT_PHASES)[number];

export const clientMessageSchemas = {
  // No length bounds on name and token here (frames are at most 4 KiB anyway): a name of the
  // wrong length is INVALID_NAME and an empty token TOKEN_INVALID, from the engine, not
  // BAD_MESSAGE, which PROTOCOL.md keeps for wrong types.
  join: z.object({ type: z.literal('join'), name: z.string() }),
  resume: z.object({ type: z.literal('resume'), token: z.string() }),
  start: z.object({ type: z.literal('start') }),
  // `phase` and `questionIndex` name what the host means to end; a `next` that names a phase
  // the match has already left is refused (PHASE_PASSED) instead of ending the one after it.
  next: z.object({ type: z.literal('next'), phase: z.enum(NEXT_PHASES).optional(), questionIndex: questionIndex.optional() }),
  kick: z.object({ type: z.literal('kick'), playerId: z.string().min(1).max(100) }),
  lock: z.object({ type: z.literal('lock'), locked: z.boolean() }),
  answer: z.object({
    type: z.literal('answer'),
    questionIndex,
    choice: z.number().int().min(0).max(100),
  }),
  ping: z.object({ type: z.literal('ping'), t: z.number().finite() }),
  leave: z.object({ type: z.literal('leave') }),
} as const;

export type ClientMessageType = keyof typeof clientMessageSchemas;
export type ClientMessage = {
  [K in ClientMessageType]: z.infer<(typeof clientMessageSchemas)[K]>;
}[ClientMessageType];

export type ParseResult =
  | { ok: true; message: ClientMessage }
  | { ok: false; code: 'BAD_MESSAGE' | 'UNKNOWN_TYPE'; ref?: string };

function isClientMessageType(type: string): type is ClientMessageType {
  return Object.prototype.hasOwnProperty.call(clientMessageSchemas, type);
}

/** Parses one text frame. Never throws: malformed input is a result, not an exception. */
export function parseClientMessage(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, code: 'BAD_MESSAGE' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, code: 'BAD_MESSAGE' };
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') return { ok: false, code: 'BAD_MESSAGE' };
  if (!isClientMessageType(type)) return { ok: false, code: 'UNKNOWN_TYPE', ref: type.slice(0, 40) };
  const parsed = clientMessageSchemas[type].safeParse(value);
  if (!parsed.success) return { ok: false, code: 'BAD_MESSAGE', ref: type };
  return { ok: true, message: parsed.data as ClientMessage };
}

// ---- server → client ---------------------------------------------------------------

export type Role = 'player' | 'host';
export type Phase = 'lobby' | 'intro' | 'question' | 'reveal' | 'leaderboard' | 'finished' | 'closed';
/** How a question is played: `choice` (v1's), `truefalse` (2 choices), `poll` (no correct answer, no points). */
export const QUESTION_KINDS = ['choice', 'truefalse', 'poll'] as const;
export type QuestionKind = (typeof QUESTION_KINDS)[number];
/** What phones show (POST /matches `settings.phoneView`): text and choices, or only the four shapes. */
export const PHONE_VIEWS = ['full', 'shapes'] as const;
export type PhoneView = (typeof PHONE_VIEWS)[number];

export interface PlayerInfo {
  playerId: string;
  name: string;
  connected: boolean;
}

export interface QuestionView {
  index: number;
  total: number;
  text: string;
  choices: string[];
  startsAt: number;
  endsAt: number;
  kind: QuestionKind;
  /** A data: URL or the name of an image under /quiz-images/, when the question has one. */
  image?: string;
}

/** The suspense moment before a question opens: no choices, never the answer. */
export interface IntroView {
  index: number;
  total: number;
  text: string;
  kind: QuestionKind;
  image?: string;
  /** When the question opens (its `startsAt`), unless the host opens it sooner. */
  opensAt: number;
}

export interface RankedPlayer {
  playerId: string;
  name: string;
  score: number;
  rank: number;
}

/** One question of a finished match, as `GET /matches/:id/results` lists it (never its image). */
export interface QuestionResult {
  index: number;
  text: string;
  kind: QuestionKind;
  choices: string[];
  /** null for a poll. */
  correct: number | null;
  /** In the order they arrived; `ms` = receive time − `startsAt`. Players removed from the match are left out. */
  answers: Array<{ playerId: string; choice: number; points: number; ms: number }>;
}

export interface RevealYou {
  choice?: number;
  points: number;
  score: number;
  streak: number;
}

export interface RevealView {
  questionIndex: number;
  /** null for a poll, which has no correct answer. */
  correct: number | null;
  counts: number[];
  kind: QuestionKind;
}

/** What one client may see of a match right now; the `state` of `welcome`. */
export interface ClientState {
  matchId: string;
  phase: Phase;
  quiz: { title: string; questionCount: number };
  players: PlayerInfo[];
  /** In a big match (PROTOCOL.md Part 2, "Big matches"): how many players there are; `players` lists only the latest. */
  playerCount?: number;
  locked: boolean;
  lateJoin: boolean;
  settings: { lateJoin: boolean; maxPlayers: number; phoneView: PhoneView };
  /** Deadline of the current phase (question end, reveal end, …), if it has one. */
  phaseEndsAt: number | null;
  /** During `intro`: the question about to open. */
  intro: IntroView | null;
  question: QuestionView | null;
  answered: { answered: number; total: number } | null;
  reveal: RevealView | null;
  leaderboard: RankedPlayer[] | null;
  standings: RankedPlayer[] | null;
  you: {
    score: number;
    streak: number;
    rank: number | null;
    /** This client's answer to the current question, if any. */
    answer: { questionIndex: number; choice: number } | null;
    /** Points of the question being revealed, during reveal. */
    lastPoints: number | null;
  } | null;
}

export type ServerMessage =
  | {
      type: 'welcome';
      you: { playerId?: string; name?: string; role: Role };
      token: string;
      serverTime: number;
      state: ClientState;
    }
  /** `playerCount`: in a big match (to the host only), how many players there are; `players` lists only the latest. */
  | { type: 'players'; players: PlayerInfo[]; locked: boolean; playerCount?: number }
  /** In a big match, everyone's roster news instead of `players`. */
  | { type: 'roster_count'; players: number; connected: number; locked: boolean }
  | ({ type: 'question_intro' } & IntroView)
  | ({ type: 'question' } & QuestionView)
  | { type: 'answer_ack'; questionIndex: number; choice: number }
  | { type: 'answer_count'; questionIndex: number; answered: number; total: number }
  | ({ type: 'reveal'; you?: RevealYou } & RevealView)
  | { type: 'leaderboard'; top: RankedPlayer[]; you?: { rank: number; score: number } }
  /** In a big match `standings` is the top of them, `playerCount` how many there are in all, `you` each player's own place. */
  | { type: 'finished'; standings: RankedPlayer[]; playerCount?: number; you?: { rank: number; score: number } }
  | { type: 'pong'; t: number; serverTime: number }
  | { type: 'kicked'; reason: string }
  | { type: 'match_closed'; reason: string }
  | { type: 'error'; code: WsErrorCode; message: string; ref?: string };

export type ServerMessageType = ServerMessage['type'];
