/**
 * Request/reply between processes (the cluster channel and the store pipe): every request
 * has an id, a timeout and a typed error, and every reply value is parsed with the schema of
 * what was asked for. The message catalogs themselves are in `messages.ts` and `storePipe.ts`.
 */
import type { z } from 'zod';
import type { Reply, RemoteError } from './messages';

export type IpcErrorCode = 'IPC_TIMEOUT' | 'IPC_CLOSED' | 'REMOTE_ERROR' | 'BAD_REPLY';

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
  settle(reply: Reply): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Outstanding requests on one channel. `send` is the channel's send function, returning
 * false only when the channel is closed (not for backpressure); the channel's owner feeds
 * every (parsed) `reply` to `settle`, and calls `failAll` when the channel closes so nobody
 * waits for a dead peer until the timeout.
 */
export class IpcRequester {
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();

  constructor(
    private readonly send: (msg: { reqId: number } & object) => boolean,
    private readonly timeoutMs: number,
  ) {}

  /** Sends `msg` with a fresh `reqId`; resolves with the reply's value once `result` accepts it. */
  request<S extends z.ZodType>(msg: object, result: S, timeoutMs = this.timeoutMs): Promise<z.infer<S>> {
    const reqId = this.nextId++;
    return new Promise<z.infer<S>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(reqId);
        reject(new IpcError('IPC_TIMEOUT', `no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      const settle = (reply: Reply) => {
        if (!reply.ok) return reject(new IpcError('REMOTE_ERROR', reply.error.message, reply.error.code));
        const value = result.safeParse(reply.value);
        if (value.success) resolve(value.data);
        else reject(new IpcError('BAD_REPLY', `a reply of the wrong shape: ${value.error.issues[0]?.message ?? 'invalid'}`));
      };
      this.waiting.set(reqId, { settle, reject, timer });
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
    w.settle(reply);
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

/**
 * Runs `work` and sends its outcome as the `reply` to request `reqId`: the answering side of
 * `IpcRequester`, for the cluster channel and the store pipe alike.
 */
export function replyTo(send: (reply: Reply) => unknown, reqId: number, work: () => unknown): void {
  Promise.resolve()
    .then(work)
    .then(
      (value) => send({ type: 'reply', reqId, ok: true, value: value ?? null }),
      (err: unknown) => send({ type: 'reply', reqId, ok: false, error: toRemoteError(err) }),
    );
}
