/**
 * The cluster channel's message catalog, both directions, as zod schemas: each side parses
 * what arrives with them, and the TypeScript types are inferred from them, so the catalog is
 * written once. A message that does not parse is logged and dropped by the receiver.
 */
import { z } from 'zod';
import { quizSchema } from '../quiz/quizzes';
import { matchIdSchema, matchInfoSchema, matchSettingsSchema, matchSnapshotSchema } from './matchSchemas';

const reqId = z.number().int().min(1);

/** Requests the master makes of a worker, each answered by one `reply` with the same `reqId`. */
export const masterRequestSchema = z.discriminatedUnion('type', [
  // requestId: the POST's X-Request-Id, put on the worker's log lines for the match.
  z.object({ type: z.literal('createMatch'), reqId, matchId: matchIdSchema, quiz: quizSchema, settings: matchSettingsSchema, requestId: z.string().max(200).optional() }),
  /** Carries the snapshot `claim` returned, so the worker need not read it back from the store. */
  z.object({
    type: z.literal('restoreMatch'),
    reqId,
    matchId: matchIdSchema,
    epoch: z.number().int().min(1),
    snapshot: matchSnapshotSchema,
    sinceWriteMs: z.number().int().min(0).max(7 * 24 * 3600_000).optional(),
  }),
  z.object({ type: z.literal('matchInfo'), reqId, matchId: matchIdSchema }),
  z.object({ type: z.literal('metrics'), reqId }),
  /** Let the match go to another host (hosting/matchHost.ts `releaseMatch`); `timeoutMs` bounds the wait for the store. */
  z.object({ type: z.literal('releaseMatch'), reqId, matchId: matchIdSchema, timeoutMs: z.number().int().min(1).max(60_000) }),
]);
export type MasterRequest = z.infer<typeof masterRequestSchema>;
export type MasterRequestType = MasterRequest['type'];
/** A request as its sender writes it: the requester adds `reqId`. */
export type MasterRequestBody = MasterRequest extends infer R ? (R extends unknown ? Omit<R, 'reqId'> : never) : never;

/** prom-client's `getMetricsAsJSON()` entries: checked as far as the aggregation reads them. */
const metricJsonSchema = z.looseObject({
  name: z.string(),
  help: z.string(),
  type: z.string(),
  values: z.array(z.looseObject({ value: z.number(), labels: z.record(z.string(), z.union([z.string(), z.number()])).optional() })),
});

/** What each request's `reply` carries when it succeeds. */
export const masterReplySchemas = {
  createMatch: z.object({ hostToken: z.string().min(1) }),
  restoreMatch: z.null(),
  matchInfo: matchInfoSchema.nullable(),
  metrics: z.array(metricJsonSchema),
  releaseMatch: z.object({ epoch: z.number().int().min(1) }).nullable(),
} satisfies Record<MasterRequestType, z.ZodType>;
export type MasterReply<K extends MasterRequestType> = z.infer<(typeof masterReplySchemas)[K]>;

export const upgradeMessageSchema = z.object({
  type: z.literal('upgrade'),
  matchId: matchIdSchema,
  request: z.object({
    method: z.string(),
    url: z.string(),
    headers: z.record(z.string(), z.union([z.string(), z.array(z.string())]).optional()),
  }),
  /** Bytes the master's HTTP parser read past the request head (base64): not carried by the handle. */
  head: z.base64(),
  /** The client's address, as the master worked it out once (`clientAddress`, TRUST_PROXY). */
  clientAddr: z.string().max(100).optional(),
  /** Counted against MAX_CONNECTIONS_PER_IP: the worker reports its close (`connectionsClosed`). */
  counted: z.boolean().optional(),
});
/** Comes with the client's socket as the IPC handle. */
export type UpgradeMessage = z.infer<typeof upgradeMessageSchema>;

export const masterToWorkerSchema = z.union([masterRequestSchema, upgradeMessageSchema, z.object({ type: z.literal('shutdown') })]);
export type MasterToWorker = z.infer<typeof masterToWorkerSchema>;

export const remoteErrorSchema = z.object({ code: z.string(), message: z.string() });
export type RemoteError = z.infer<typeof remoteErrorSchema>;

/** The answer to one request, on the cluster channel or the store pipe. */
export const replySchema = z.discriminatedUnion('ok', [
  z.object({ type: z.literal('reply'), reqId, ok: z.literal(true), value: z.unknown() }),
  z.object({ type: z.literal('reply'), reqId, ok: z.literal(false), error: remoteErrorSchema }),
]);
export type Reply = z.infer<typeof replySchema>;

export const workerToMasterSchema = z.union([
  z.object({ type: z.literal('ready') }),
  /** Proof of life; `players` is what /workers/stats shows (the master keeps its own match list). */
  z.object({ type: z.literal('heartbeat'), players: z.number().int().min(0) }),
  z.object({ type: z.literal('matchGone'), matchId: matchIdSchema, reason: z.enum(['over', 'fenced', 'shutdown', 'moved']) }),
  /** Counted sockets handed to this worker that closed since the last report, one address per socket. */
  z.object({ type: z.literal('connectionsClosed'), addrs: z.array(z.string().max(100)).min(1).max(10_000) }),
  replySchema,
]);
export type WorkerToMaster = z.infer<typeof workerToMasterSchema>;
