/**
 * HTTP answers to a WebSocket upgrade that will not become a WebSocket, and the checks both
 * entry points make before an upgrade goes anywhere. The socket is raw at that point (no
 * express), so the response is written by hand, in the protocol's error shape.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import { HttpError, type HttpErrorKind } from '../protocol/errors';
import { originAllowed, type Origins } from './origins';

/**
 * Node removes its own error listener from a socket before it emits `upgrade`, so a client
 * that resets the connection while we answer would raise an unhandled 'error' and take the
 * process, and every match on it, down. Every upgrade handler calls this first.
 */
export function guardUpgradeSocket(socket: Duplex): void {
  if (socket.listenerCount('error') === 0) socket.on('error', () => socket.destroy());
}

/** Answers the upgrade with the catalogued error `kind` and closes the socket. */
export function refuseUpgrade(socket: Duplex, kind: HttpErrorKind, message?: string): void {
  guardUpgradeSocket(socket);
  if (socket.destroyed) return;
  const err = new HttpError(kind, message);
  const body = JSON.stringify(err.body());
  const head = [
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? ''}`,
    'Connection: close',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(err.headers()).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

const WS_PATH = /^\/ws\/matches\/([A-Za-z0-9]{1,12})\/?(?:\?.*)?$/;

/** The match id of a `/ws/matches/:id` upgrade path (upper-cased: codes are case-insensitive). */
export function matchIdFromPath(url: string | undefined): string | null {
  const m = WS_PATH.exec(url ?? '');
  return m ? m[1]!.toUpperCase() : null;
}

export type UpgradeCheck = { ok: true; matchId: string } | { ok: false; refusal: 'NO_WS_ENDPOINT' | 'FORBIDDEN_ORIGIN' };

/**
 * What every upgrade passes before anyone looks for its match: a `/ws/matches/:id` path and
 * an allowed Origin. Guards the socket first (see `guardUpgradeSocket`).
 */
export function checkUpgrade(req: IncomingMessage, socket: Duplex, origins: Origins): UpgradeCheck {
  guardUpgradeSocket(socket);
  const matchId = matchIdFromPath(req.url);
  if (!matchId) return { ok: false, refusal: 'NO_WS_ENDPOINT' };
  if (!originAllowed(req.headers.origin, origins)) return { ok: false, refusal: 'FORBIDDEN_ORIGIN' };
  return { ok: true, matchId };
}
