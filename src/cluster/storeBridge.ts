/**
 * The embedded store's wire: a worker reaches the master's `MemoryMatchStore` through a pipe
 * of its own (stdio fd `STORE_CHANNEL_FD`), not the cluster IPC channel. Node queues every
 * message to a child while a socket handle sent to it awaits acknowledgement, so on the IPC
 * channel store replies, and with them every `answer_ack`, waited behind hand-offs whenever
 * players were connecting. Requests and replies keep the IPC shapes (`reqId`, `Reply`) and
 * the same `IpcRequester` timeouts.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log';
import type { MemoryMatchStore } from '../store/memoryStore';
import { IpcRequester, type Reply, type StoreCall, type StoreCallResult, toRemoteError } from './ipc';
import { JsonLines } from './jsonLines';

/** fds 0-2 are stdio and 3 is the cluster IPC channel. */
export const STORE_CHANNEL_FD = 4;
/** `cluster.setupPrimary({ stdio })` for workers that use the embedded store. */
export const STORE_CHANNEL_STDIO = ['inherit', 'inherit', 'inherit', 'ipc', 'pipe'] as const;

interface StoreRequest {
  type: 'store';
  reqId: number;
  call: StoreCall;
}

/**
 * Master side: answers one worker's store calls from the master's store. `closed` tells the
 * pool the channel is gone while the worker may still be alive.
 */
export function serveStoreChannel(stream: Duplex, store: MemoryMatchStore, log: Logger, closed: (reason: string) => void): void {
  const channel: JsonLines = new JsonLines(stream, {
    message: (msg) => {
      const req = msg as Partial<StoreRequest> | null;
      if (req?.type !== 'store' || typeof req.reqId !== 'number' || typeof req.call !== 'object' || req.call === null) {
        log.warn('Malformed message on a store channel; ignored');
        return;
      }
      const reqId = req.reqId;
      runStoreCall(store, req.call).then(
        (value) => channel.send({ type: 'reply', reqId, ok: true, value: value ?? null }),
        (err: unknown) => channel.send({ type: 'reply', reqId, ok: false, error: toRemoteError(err) }),
      );
    },
    closed,
  });
}

/**
 * Worker side: a requester whose calls travel on the store channel the master opened.
 * `closed` is called if the channel goes away: a worker without its store can acknowledge
 * nothing, so it should exit and let the master replace it.
 */
export function connectStoreChannel(timeoutMs: number, closed: (reason: string) => void): IpcRequester {
  const stream = new net.Socket({ fd: STORE_CHANNEL_FD, readable: true, writable: true });
  const channel = new JsonLines(stream, {
    message: (msg) => {
      if (typeof msg !== 'object' || msg === null || typeof (msg as Reply).reqId !== 'number') throw new Error('not a reply');
      requester.settle(msg as Reply);
    },
    closed: (reason) => {
      requester.failAll(`store channel closed: ${reason}`);
      closed(reason);
    },
  });
  const requester = new IpcRequester((msg) => channel.send(msg), timeoutMs);
  return requester;
}

function runStoreCall(store: MemoryMatchStore, call: StoreCall): Promise<StoreCallResult> {
  switch (call.op) {
    case 'create':
      return store.create(call.matchId, call.snapshot);
    case 'saveState':
      return store.saveState(call.matchId, call.epoch, call.state);
    case 'load':
      return store.load(call.matchId);
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
