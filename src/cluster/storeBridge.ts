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
import type { MatchStore } from '../store/store';
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

/** Master side: answers one worker's store calls from the master's store. */
export function serveStoreChannel(stream: Duplex, store: MatchStore, log: Logger): JsonLines {
  const channel: JsonLines = new JsonLines(stream, {
    message: (msg) => {
      const req = msg as StoreRequest;
      if (req?.type !== 'store' || typeof req.reqId !== 'number') {
        log.warn('Malformed message on a store channel; ignored');
        return;
      }
      runStoreCall(store, req.call).then(
        (value) => channel.send({ type: 'reply', reqId: req.reqId, ok: true, value: value ?? null }),
        (err: unknown) => channel.send({ type: 'reply', reqId: req.reqId, ok: false, error: toRemoteError(err) }),
      );
    },
    closed: (reason) => log.debug({ reason }, 'Store channel closed'),
  });
  return channel;
}

/** Worker side: a requester whose calls travel on the store channel the master opened. */
export function connectStoreChannel(timeoutMs: number): IpcRequester {
  const stream = new net.Socket({ fd: STORE_CHANNEL_FD, readable: true, writable: true });
  const channel = new JsonLines(stream, {
    message: (msg) => requester.settle(msg as Reply),
    closed: (reason) => requester.failAll(`store channel closed: ${reason}`),
  });
  const requester = new IpcRequester((msg) => channel.send(msg), timeoutMs);
  return requester;
}

function runStoreCall(store: MatchStore, call: StoreCall): Promise<StoreCallResult> {
  switch (call.op) {
    case 'create':
      return store.create(call.matchId, call.snapshot);
    case 'save':
      return store.save(call.matchId, call.epoch, call.snapshot);
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
