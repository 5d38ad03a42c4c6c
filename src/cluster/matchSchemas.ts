/**
 * The shapes of match data that cross a process boundary (the cluster channel and the store
 * pipe), as zod schemas: a worker or a master that sends something else is a bug or a
 * version skew, and is refused at the boundary instead of corrupting a match.
 *
 * Objects are `looseObject`: a field the engine adds to its snapshot and nobody adds here
 * travels on unchecked rather than being stripped (which would silently lose state). Each
 * schema is declared as the engine's or store's own type, so the compiler holds the two
 * together and both sides of a channel speak in the domain types.
 */
import { z } from 'zod';
import { PHONE_VIEWS, QUESTION_KINDS } from '../protocol/messages';
import type { AnswerAppend, MatchSettings, MatchSnapshot, MatchTiming } from '../quiz/engine';
import { quizSchema } from '../quiz/quizzes';
import type { MatchResults } from '../store/store';

const finite = z.number().finite();
const int = z.number().int();
const nullableNumber = finite.nullable();

export const matchSettingsSchema: z.ZodType<MatchSettings> = z.looseObject({
  lateJoin: z.boolean(),
  maxPlayers: int.min(1),
  hostName: z.string().optional(),
  phoneView: z.enum(PHONE_VIEWS).optional(),
  playerListMax: int.min(1).optional(),
});

const timingSchema: z.ZodType<MatchTiming> = z.looseObject({
  questionScale: finite,
  revealMs: finite,
  leaderboardMs: finite,
  reconnectGraceMs: finite,
  finishGraceMs: finite,
  lobbyIdleMs: finite,
  introMs: finite.optional(),
});

const playerRecordSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  token: z.string(),
  score: finite,
  streak: int,
  joinOrder: int,
  connected: z.boolean(),
  droppedAt: nullableNumber,
  left: z.boolean(),
});

const answerRecordSchema = z.looseObject({ choice: int, receivedAt: finite, points: finite });

const stateShape = z.looseObject({
  v: z.literal(1),
  id: z.string(),
  settings: matchSettingsSchema,
  timing: timingSchema,
  hostToken: z.string(),
  createdAt: finite,
  revision: int,
  phase: z.enum(['lobby', 'intro', 'question', 'reveal', 'leaderboard', 'finished', 'closed']),
  questionIndex: int,
  questionStartsAt: nullableNumber,
  phaseEndsAt: nullableNumber,
  locked: z.boolean(),
  players: z.array(playerRecordSchema),
  answers: z.record(z.string(), answerRecordSchema),
  hostConnected: z.boolean(),
  idleSince: nullableNumber,
  nextJoinOrder: int,
  closedReason: z.string().nullable(),
  history: z.array(z.array(z.tuple([z.string(), int, finite, finite]))).optional(),
});

export const answerAppendSchema: z.ZodType<AnswerAppend> = z.object({
  revision: int,
  questionIndex: int,
  answers: z.record(z.string(), answerRecordSchema),
  players: z.array(playerRecordSchema).optional(),
});

export const matchSnapshotSchema: z.ZodType<MatchSnapshot> = stateShape.extend({ quiz: quizSchema });

export const matchResultsSchema: z.ZodType<MatchResults> = z.object({
  matchId: z.string(),
  title: z.string(),
  questionCount: int,
  finishedAt: finite,
  standings: z.array(z.object({ playerId: z.string(), name: z.string(), score: finite, rank: int })),
  questions: z
    .array(
      z.object({
        index: int,
        text: z.string(),
        kind: z.enum(QUESTION_KINDS),
        choices: z.array(z.string()),
        correct: int.nullable(),
        answers: z.array(z.object({ playerId: z.string(), choice: int, points: finite, ms: finite })),
      }),
    )
    .optional(),
});

/** What a worker says about a match it hosts (MatchHost.info). */
export const matchInfoSchema = z.object({
  matchId: z.string(),
  status: z.enum(['lobby', 'running', 'finished']),
  players: int.min(0),
  quiz: z.object({ title: z.string(), questionCount: int }),
});
export type HostedMatchInfo = z.infer<typeof matchInfoSchema>;

/** Not the join-code pattern: a Redis store may hold ids from an older generator. */
export const matchIdSchema = z.string().min(1).max(64);
