/**
 * HTTP answers to a WebSocket upgrade that will not become a WebSocket. The socket is raw at
 * that point (no express), so the response is written by hand, in the protocol's error shape.
 */
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';

export function rejectUpgrade(
  socket: Duplex,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
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
