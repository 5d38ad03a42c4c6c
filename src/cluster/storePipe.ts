/**
 * The embedded store's wire: a worker reaches the master's `MemoryMatchStore` through a pipe
 * of its own (stdio fd `STORE_PIPE_FD`), not the cluster IPC channel. Node queues every
 * message to a child while a socket handle sent to it awaits acknowledgement, so on the IPC
 * channel store replies, and with them every `answer_ack`, waited behind hand-offs whenever
 * players were connecting. Requests and replies keep the IPC shapes (`reqId`, `Reply`), the
 * same `IpcRequester` timeouts, and are parsed with zod on arrival like every other input.
 *
 * Both ends are here: `serveStorePipe` (master) and `connectStorePipe` + `PipedMatchStore`
 * (worker), so the calls and their answers are read in one file.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { z } from 'zod';
import type { Logger } from '../log';
import type { AnswerAppend, MatchSnapshot } from '../quiz/engine';
import type { MemoryMatchStore } from '../store/memoryStore';
import { type MatchHostStore, type MatchResults, type MatchState, StoreFencedError, StoreUnavailableError, stateToWrite } from '../store/store';
import { IpcError, IpcRequester, replyTo } from './ipc';
import { JsonLines } from './jsonLines';
import { answerAppendSchema, matchIdSchema, matchResultsSchema, matchSnapshotSchema } from './matchSchemas';
import { replySchema } from './messages';

/** fds 0-2 are stdio and 3 is the cluster IPC channel. */
export const STORE_PIPE_FD = 4;
/** `cluster.setupPrimary({ stdio })` for workers that use the embedded store. */
export const STORE_PIPE_STDIO = ['inherit', 'inherit', 'inherit', 'ipc', 'pipe'] as const;

const epoch = z.number().int().min(1);
/** A match state the store keeps as it is (see `saveState`). */
const opaqueState = z.custom<MatchState>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'state must be an object');

/** A store call a worker makes on the master's memory store: the host side of the store only. */
export const storeCallSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('create'), matchId: matchIdSchema, snapshot: matchSnapshotSchema }),
  /**
   * `save` without the quiz, which the master's store already holds from `create`. The state
   * is checked only for being an object: the master keeps it without reading it, and it is
   * parsed field by field where it is used again, in the restore message a worker receives
   * (cluster/messages.ts). Parsing every write here cost, at 200 players in memory mode
   * (`bench --quick`, floor pool, 3 reps each in one sitting): server CPU 45–58 % instead of
   * 41–42 %, RSS per player 215–222 KiB instead of 177–184.
   */
  z.object({ op: z.literal('saveState'), matchId: matchIdSchema, epoch, state: opaqueState, historyFrom: z.number().int().min(0).optional() }),
  /** Answers only: small and constant in size, so parsed in full. */
  z.object({ op: z.literal('appendAnswers'), matchId: matchIdSchema, epoch, append: answerAppendSchema }),
  z.object({ op: z.literal('saveResults'), results: matchResultsSchema }),
  z.object({ op: z.literal('remove'), matchId: matchIdSchema, epoch }),
]);
export type StoreCall = z.infer<typeof storeCallSchema>;

/** What each call's reply carries: `create` the epoch, the others nothing. */
export const storeCallResults = {
  create: epoch,
  saveState: z.null(),
  appendAnswers: z.null(),
  saveResults: z.null(),
  remove: z.null(),
} satisfies Record<StoreCall['op'], z.ZodType>;

const storeRequestSchema = z.object({ type: z.literal('store'), reqId: z.number().int().min(1), call: storeCallSchema });

/** What the master's side runs calls on: the host-side methods of its memory store. */
export type PipedStoreBackend = Pick<MemoryMatchStore, 'create' | 'saveState' | 'appendAnswers' | 'saveResults' | 'remove'>;

/**
 * Master side: answers one worker's store calls from the master's store. A request that does
 * not parse is logged and dropped (its sender times out). `closed` tells the pool the pipe is
 * gone while the worker may still be alive.
 */
export function serveStorePipe(stream: Duplex, store: PipedStoreBackend, log: Logger, closed: (reason: string) => void): void {
  const channel: JsonLines = new JsonLines(stream, {
    message: (msg) => {
      const req = storeRequestSchema.safeParse(msg);
      if (!req.success) {
        log.warn({ issue: req.error.issues[0]?.message }, 'Malformed message on a store channel; ignored');
        return;
      }
      replyTo((reply) => channel.send(reply), req.data.reqId, () => runStoreCall(store, req.data.call));
    },
    closed,
  });
}

/**
 * Worker side: a requester whose calls travel on the store pipe the master opened. Anything
 * but a reply on the pipe means a broken peer: the handler throws and `JsonLines` drops the
 * pipe. `closed` is called if the pipe goes away: a worker without its store can acknowledge
 * nothing, so it should exit and let the master replace it.
 */
export function connectStorePipe(timeoutMs: number, closed: (reason: string) => void): IpcRequester {
  const stream = new net.Socket({ fd: STORE_PIPE_FD, readable: true, writable: true });
  const channel = new JsonLines(stream, {
    message: (msg) => requester.settle(replySchema.parse(msg)),
    closed: (reason) => {
      requester.failAll(`store channel closed: ${reason}`);
      closed(reason);
    },
  });
  const requester = new IpcRequester((msg) => channel.send(msg), timeoutMs);
  return requester;
}

function runStoreCall(store: PipedStoreBackend, call: StoreCall): Promise<number | void> {
  switch (call.op) {
    case 'create':
      return store.create(call.matchId, call.snapshot);
    case 'saveState':
      return store.saveState(call.matchId, call.epoch, call.state, call.historyFrom);
    case 'appendAnswers':
      return store.appendAnswers(call.matchId, call.epoch, call.append);
    case 'saveResults':
      return store.saveResults(call.results);
    case 'remove':
      return store.remove(call.matchId, call.epoch);
    default: {
      const unreachable: never = call;
      return Promise.reject(new Error(`unknown store op ${JSON.stringify(unreachable)}`));
    }
  }
}

/**
 * A worker's store when the master keeps matches in its memory: every call is a request on
 * the store pipe, run by the master's `MemoryMatchStore`. Only the host side: claiming,
 * listing and results are the master's business. Errors come back with their store codes,
 * so fencing reads the same as with Redis.
 */
export class PipedMatchStore implements MatchHostStore {
  constructor(private readonly requester: IpcRequester) {}

  private async call<C extends StoreCall>(call: C): Promise<z.infer<(typeof storeCallResults)[C['op']]>> {
    try {
      return (await this.requester.request({ type: 'store', call }, storeCallResults[call.op])) as z.infer<(typeof storeCallResults)[C['op']]>;
    } catch (err) {
      if (err instanceof IpcError && err.remoteCode === 'STORE_FENCED' && 'epoch' in call) {
        throw new StoreFencedError(call.matchId, call.epoch);
      }
      throw new StoreUnavailableError((err as Error).message);
    }
  }

  // The pipe serializes in send(), before the first await, as MatchHostStore requires.
  create(matchId: string, snapshot: Readonly<MatchSnapshot>): Promise<number> {
    return this.call({ op: 'create', matchId, snapshot });
  }
  async save(matchId: string, epoch: number, snapshot: Readonly<MatchSnapshot>, historyFrom = 0): Promise<void> {
    const { state, history } = stateToWrite(snapshot, historyFrom);
    await this.call({ op: 'saveState', matchId, epoch, state: { ...state, history }, ...(historyFrom > 0 ? { historyFrom } : {}) });
  }
  async appendAnswers(matchId: string, epoch: number, append: AnswerAppend): Promise<void> {
    await this.call({ op: 'appendAnswers', matchId, epoch, append });
  }
  async saveResults(results: MatchResults): Promise<void> {
    await this.call({ op: 'saveResults', results });
  }
  async remove(matchId: string, epoch: number): Promise<void> {
    await this.call({ op: 'remove', matchId, epoch });
  }
  /** The pipe belongs to the process; nothing of its own to release. */
  async close(): Promise<void> {}
}
