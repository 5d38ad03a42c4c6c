/**
 * The typed message catalog between the master and its workers, and request/reply over
 * IPC with a timeout and a typed error on every call. One union per direction; both sides
 * `switch` on `type` with exhaustiveness checks.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { MatchSettings, MatchSnapshot } from '../quiz/engine';
import type { Quiz } from '../quiz/quizzes';
import type { MatchInfo } from '../hosting/matchHost';
import type { MatchResults, MatchState, StoredMatch } from '../store/store';

/** A store call a worker makes on the master's memory store (embedded mode, on its store channel). */
export type StoreCall =
  | { op: 'create'; matchId: string; snapshot: Readonly<MatchSnapshot> }
  | { op: 'saveState'; matchId: string; epoch: number; state: Readonly<MatchState> }
  | { op: 'load'; matchId: string }
  | { op: 'saveResults'; results: MatchResults }
  | { op: 'remove'; matchId: string; epoch: number };

export type StoreCallResult = number | StoredMatch | null | void;

export type MasterRequest =
  /** `requestId`: the POST's X-Request-Id, put on the worker's log lines for the match. */
  | { type: 'createMatch'; matchId: string; quiz: Quiz; settings: MatchSettings; requestId?: string }
  | { type: 'restoreMatch'; matchId: string; epoch: number }
  | { type: 'matchInfo'; matchId: string }
  | { type: 'metrics' };

export interface MasterRequestResults {
  createMatch: { hostToken: string };
  restoreMatch: null;
  matchInfo: MatchInfo | null;
  metrics: unknown[];
}

export interface RemoteError {
  code: string;
  message: string;
}

export type Reply = { type: 'reply'; reqId: number } & ({ ok: true; value: unknown } | { ok: false; error: RemoteError });

export type MasterToWorker =
  | (MasterRequest & { reqId: number })
  /** Comes with the client's socket as the IPC handle. */
  | {
      type: 'upgrade';
      matchId: string;
      request: { method: string; url: string; headers: IncomingHttpHeaders };
      /** Bytes the master's HTTP parser read past the request head (base64): not carried by the handle. */
      head: string;
    }
  | { type: 'shutdown' };

export type WorkerToMaster =
  | { type: 'ready' }
  | { type: 'heartbeat'; matches: string[]; players: number }
  | { type: 'matchGone'; matchId: string; reason: 'over' | 'fenced' | 'shutdown' }
  | Reply;

export type IpcErrorCode = 'IPC_TIMEOUT' | 'IPC_CLOSED' | 'REMOTE_ERROR';

export class IpcError extends Error {
  constructor(
    readonly code: IpcErrorCode,
    message: string,
    readonly remoteCode?: string,
  ) {
    super(message);
    this.name = 'IpcError';
  }
}

interface Waiting {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Outstanding requests on one IPC channel. `send` is the channel's send function, returning
 * false only when the channel is closed (not for backpressure); the
 * channel's owner feeds every `reply` message to `settle`, and calls `failAll` when the
 * channel closes so nobody waits for a dead peer until the timeout.
 */
export class IpcRequester {
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();

  constructor(
    private readonly send: (msg: { reqId: number } & object) => boolean,
    private readonly timeoutMs: number,
  ) {}

  request<T>(msg: object, timeoutMs = this.timeoutMs): Promise<T> {
    const reqId = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(reqId);
        reject(new IpcError('IPC_TIMEOUT', `no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(reqId, { resolve: resolve as (v: unknown) => void, reject, timer });
      let sent = false;
      try {
        sent = this.send({ ...msg, reqId });
      } catch {
        sent = false;
      }
      if (!sent) {
        clearTimeout(timer);
        this.waiting.delete(reqId);
        reject(new IpcError('IPC_CLOSED', 'IPC channel is closed'));
      }
    });
  }

  settle(reply: Reply): void {
    const w = this.waiting.get(reply.reqId);
    if (!w) return;
    this.waiting.delete(reply.reqId);
    clearTimeout(w.timer);
    if (reply.ok) w.resolve(reply.value);
    else w.reject(new IpcError('REMOTE_ERROR', reply.error.message, reply.error.code));
  }

  failAll(reason: string): void {
    for (const [id, w] of this.waiting) {
      clearTimeout(w.timer);
      w.reject(new IpcError('IPC_CLOSED', reason));
      this.waiting.delete(id);
    }
  }
}

/** Serializes a thrown error for a `reply`, keeping a stable code where there is one. */
export function toRemoteError(err: unknown): RemoteError {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') {
    return { code: err.code, message: String((err as { message?: unknown }).message ?? err.code) };
  }
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}
