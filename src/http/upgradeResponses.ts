/**
 * HTTP answers to a WebSocket upgrade that will not become a WebSocket. The socket is raw at
 * that point (no express), so the response is written by hand, in the protocol's error shape.
 */
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';

/**
 * Node removes its own error listener from a socket before it emits `upgrade`, so a client
 * that resets the connection while we answer would raise an unhandled 'error' and take the
 * process, and every match on it, down. Every upgrade handler calls this first.
 */
export function guardUpgradeSocket(socket: Duplex): void {
  if (socket.listenerCount('error') === 0) socket.on('error', () => socket.destroy());
}

export function rejectUpgrade(
  socket: Duplex,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  guardUpgradeSocket(socket);
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: { code, message } });
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'Connection: close',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

const WS_PATH = /^\/ws\/matches\/([A-Za-z0-9]{1,12})\/?(?:\?.*)?$/;

/** The match id of a `/ws/matches/:id` upgrade path (upper-cased: codes are case-insensitive). */
export function matchIdFromPath(url: string | undefined): string | null {
  const m = WS_PATH.exec(url ?? '');
  return m ? m[1]!.toUpperCase() : null;
}
