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
function stopReading(socket: Socket): void {
  const handle = (socket as unknown as { _handle?: { readStop?: () => number } })._handle;
  handle?.readStop?.();
}

/**
 * Sends `socket` to `worker` with the upgrade request it belongs to. Resolves once the send
 * is written; a send that neither completes nor fails within `timeoutMs` destroys the socket
 * (the client retries) instead of leaving it pending forever.
 */
export function handOffSocket(worker: Worker, socket: Socket, msg: UpgradeMessage, timeoutMs: number): Promise<void> {
  stopReading(socket);
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
          resolve();
        }
      });
    } catch (err) {
      clearTimeout(timer);
      socket.destroy();
      reject(new IpcError('IPC_CLOSED', (err as Error).message));
    }
  });
}
