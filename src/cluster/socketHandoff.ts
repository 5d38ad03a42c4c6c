/**
 * Passing an upgraded client socket from the master to the worker that owns its match.
 */
import type { Worker } from 'node:cluster';
import type { Socket } from 'node:net';
import { IpcError } from './ipc';
import type { UpgradeMessage } from './messages';

/**
 * Stops the master reading a socket it is about to hand over.
 *
 * Until the worker acknowledges the handle, libuv in the master keeps reading from it, and
 * whatever it reads (often the client's first WebSocket frame) is consumed here and lost to
 * the worker: measured at 127 of 2,000 connects. `socket.pause()` does not help (it only
 * stops 'data' events, not the handle's reads), and Node has no public API for this, so
 * this is the one place that reaches into a private field. Verified on Node 20.
 */
function stopReading(socket: Socket): SocketHandle | null {
  const handle = (socket as unknown as { _handle?: SocketHandle | null })._handle ?? null;
  handle?.readStop?.();
  return handle;
}

/** The libuv handle under a socket, as far as this module uses it (see `stopReading`). */
interface SocketHandle {
  readStop?: () => number;
  /** libuv closes a handle once; closing one Node already closed does nothing. */
  close?: () => void;
}

/**
 * Hands client sockets to one worker. Node keeps the master's copy of a handed-off socket
 * open until the worker acknowledges it, and a worker killed before it does never will: the
 * client would wait on a connection nobody reads (seen when a worker died with upgrades in
 * flight). Node sends one handle at a time per worker, each after the previous one's
 * acknowledgement, so only the last handle written can still be unacknowledged: that one is
 * closed if the worker exits.
 */
export class SocketHandOff {
  private unacknowledged: SocketHandle | null = null;

  constructor(private readonly worker: Worker) {
    worker.once('exit', () => {
      this.unacknowledged?.close?.();
      this.unacknowledged = null;
    });
  }

  async send(socket: Socket, msg: UpgradeMessage, timeoutMs: number): Promise<void> {
    const handle = await handOffSocket(this.worker, socket, msg, timeoutMs);
    // This write came after the previous handle's acknowledgement: only this one may be pending.
    this.unacknowledged = handle;
  }
}

/**
 * Sends `socket` to `worker` with the upgrade request it belongs to. Resolves once the send
 * is written, with the handle it sent; a send that neither completes nor fails within
 * `timeoutMs` destroys the socket (the client retries) instead of leaving it pending forever.
 */
function handOffSocket(worker: Worker, socket: Socket, msg: UpgradeMessage, timeoutMs: number): Promise<SocketHandle | null> {
  const handle = stopReading(socket);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new IpcError('IPC_TIMEOUT', `socket hand-off not written within ${timeoutMs} ms`));
    }, timeoutMs);
    try {
      worker.send(msg, socket, { keepOpen: false }, (err: Error | null) => {
        clearTimeout(timer);
        if (err) {
          socket.destroy();
          reject(new IpcError('IPC_CLOSED', err.message));
        } else {
          resolve(handle);
        }
      });
    } catch (err) {
      clearTimeout(timer);
      socket.destroy();
      reject(new IpcError('IPC_CLOSED', (err as Error).message));
    }
  });
}
