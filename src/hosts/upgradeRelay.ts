/**
 * Relaying a WebSocket upgrade to the host that owns its match. Several hosts share one
 * Redis, and a client's upgrade may land on any of them; the one that does not own the match
 * passes the connection on as bytes: it opens TCP (or TLS) to the owner's public URL, writes
 * the upgrade request again, and pipes both ways until either side closes. No frame is
 * parsed here, so the owner sees the client's own handshake (key, extensions, protocols) and
 * the relay adds no WebSocket state, limits or buffering of its own.
 */
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log';
import { guardUpgradeSocket, refuseUpgrade } from '../http/upgradeResponses';

/** Marks a relayed upgrade. Lower case: how Node keys `req.headers`. */
const RELAYED_BY = 'x-quiz-relayed-by';
const FORWARDED_FOR = 'x-forwarded-for';

/** What a client is told when the owner cannot be reached: the match is fine, its host is not (yet) answering us. */
const UNREACHABLE_MESSAGE = "This match's host could not be reached; try again shortly.";

export interface RelayOptions {
  /** This host's id: sent as `X-Quiz-Relayed-By` so the owner never relays it again (no loops). */
  relayedBy: string;
  /** The client's address as this host worked it out (TRUST_PROXY rules): appended to X-Forwarded-For. */
  clientAddr?: string;
  /** Bounds the TCP connect and, for https:, the TLS handshake too. */
  connectTimeoutMs: number;
  /**
   * Closes a pipe that carried nothing either way for this long (unset: never). The owner
   * pings every client each CLIENT_PING_INTERVAL_MS, so a few of those without a byte means
   * one end is gone without a FIN (a host that lost power) and the client should reconnect.
   */
  idleTimeoutMs?: number;
  log: Logger;
}

/**
 * `relayed`: the pipe is set up (whatever the owner answers reaches the client as it is).
 * `unreachable`: no pipe; the client was answered 503 MATCH_MOVING, or had already gone.
 */
export type RelayOutcome = 'relayed' | 'unreachable';

/** Why no pipe was set up, in the log (stable codes, for alerts and searches). */
type UnreachableReason = 'connect_timeout' | 'connect_failed' | 'bad_target' | 'client_gone';

/** True when this upgrade was already relayed by a peer (the header is present): the receiver must not relay it again. */
export function wasRelayed(req: IncomingMessage): boolean {
  return req.headers[RELAYED_BY] !== undefined;
}

/**
 * Relays an upgrade request to `target` (the owner's public URL, http: or https:) and pipes
 * bytes both ways. Resolves once the pipe is set up ('relayed') or the owner could not be
 * reached and the client was answered 503 MATCH_MOVING ('unreachable'; also when the client
 * left before the owner answered). Never throws; never leaves either socket open when the
 * other closes.
 */
export function relayUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: URL, opts: RelayOptions): Promise<RelayOutcome> {
  guardUpgradeSocket(socket);
  const log = opts.log;
  const to = target.host;
  const secure = target.protocol === 'https:';
  let upstream: net.Socket;
  try {
    if (!secure && target.protocol !== 'http:') throw new Error(`${target.protocol} is neither http: nor https:`);
    upstream = connect(target, secure);
  } catch (err) {
    // A wrong URL in the hosts registry (or one Node refuses to connect to at once), not the
    // owner's fault: said loudly, answered as an owner that is down, and never thrown.
    log.error({ to: target.protocol + '//' + to, reason: 'bad_target' satisfies UnreachableReason, err: (err as Error).message }, 'Upgrade relay target unusable');
    refuseUpgrade(socket, 'MATCH_MOVING', UNREACHABLE_MESSAGE);
    return Promise.resolve('unreachable');
  }
  const request = Buffer.from(relayedRequest(req, opts.relayedBy, opts.clientAddr), 'latin1');

  return new Promise<RelayOutcome>((resolve) => {
    let settled = false;

    const giveUp = (reason: UnreachableReason, err?: Error & { code?: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('close', clientGone);
      upstream.destroy();
      if (reason === 'client_gone') {
        log.debug({ to, reason }, 'Client left before the upgrade could be relayed');
      } else {
        log.debug({ to, reason, err: err?.message, code: err?.code }, 'Match owner could not be reached; upgrade answered 503');
        refuseUpgrade(socket, 'MATCH_MOVING', UNREACHABLE_MESSAGE);
      }
      resolve('unreachable');
    };
    const clientGone = () => giveUp('client_gone');
    const timer = setTimeout(() => giveUp('connect_timeout'), opts.connectTimeoutMs);

    // Stays for the socket's life: once piped, an error is followed by 'close', which ends the client too.
    upstream.on('error', (err: Error & { code?: string }) => {
      if (!settled) giveUp('connect_failed', err);
      else log.debug({ to, err: err.message, code: err.code }, 'Relayed upgrade: owner side failed');
    });
    upstream.once('close', () => giveUp('connect_failed', new Error('closed before it connected')));
    // Nobody is waiting for this owner any more: its connect must not outlive the client.
    socket.once('close', clientGone);

    upstream.once(secure ? 'secureConnect' : 'connect', () => {
      if (settled) return;
      // 'close' is emitted a tick after destroy(): a client gone just now is seen here.
      if (socket.destroyed) return giveUp('client_gone');
      settled = true;
      clearTimeout(timer);
      socket.off('close', clientGone);
      pipeBoth(socket, upstream, request, head, opts.idleTimeoutMs);
      log.debug({ to }, 'Upgrade relayed to the match owner');
      resolve('relayed');
    });
  });
}

/** TCP or TLS to the owner; nothing is written before it connects, so a failure can still be answered 503. */
function connect(target: URL, secure: boolean): net.Socket {
  // URL keeps an IPv6 literal's brackets; the socket wants the bare address.
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(target.port) || (secure ? 443 : 80);
  // SNI takes a name, never an address; certificates are checked as for any https client.
  const socket = secure ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }) }) : net.connect({ host, port });
  // Set on the socket, not as connect options: tls.connect does not pass those on. Node
  // applies them once connected. Quiz messages are small and latency is the game: no Nagle.
  // Keep-alive lets the kernel notice a vanished owner even when the idle timeout is unset.
  socket.setNoDelay(true);
  socket.setKeepAlive(true);
  return socket;
}

/**
 * Writes the request and `head`, then joins the two sockets. `pipe` keeps each direction to
 * what the streams buffer (backpressure), carries a FIN across (the WebSocket closing
 * handshake relies on half-closes), and 'close' on either side destroys the other, so
 * neither outlives its partner whatever the reason (RST, error, idle).
 */
function pipeBoth(client: Duplex, upstream: net.Socket, request: Buffer, head: Buffer, idleTimeoutMs: number | undefined): void {
  upstream.write(request);
  if (head.length > 0) upstream.write(head);
  if (client instanceof net.Socket) client.setNoDelay(true);
  client.pipe(upstream);
  upstream.pipe(client);
  client.once('close', () => upstream.destroy());
  upstream.once('close', () => client.destroy());
  if (idleTimeoutMs !== undefined && idleTimeoutMs > 0) {
    // Reads and writes both count as activity, so this fires only when neither end spoke.
    upstream.setTimeout(idleTimeoutMs, () => upstream.destroy());
  }
}

/**
 * The client's request line and headers, as sent (order and case kept, Host included), for
 * the owner: minus any `X-Quiz-Relayed-By` a client made up, plus ours; and
 * `X-Forwarded-For` with the client's address appended, in the place of the first one the
 * request had (several lines are joined, as a proxy would), so an owner that trusts this
 * host (and only it) takes the last entry as the client.
 */
function relayedRequest(req: IncomingMessage, relayedBy: string, clientAddr: string | undefined): string {
  const raw = req.rawHeaders;
  const forwarded: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === FORWARDED_FOR && raw[i + 1]!.trim() !== '') forwarded.push(raw[i + 1]!.trim());
  }
  const lines: string[] = [];
  let forwardedWritten = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (lower === RELAYED_BY) continue;
    if (lower === FORWARDED_FOR && clientAddr !== undefined) {
      if (!forwardedWritten) lines.push(`${name}: ${[...forwarded, headerSafe(clientAddr)].join(', ')}`);
      forwardedWritten = true;
      continue;
    }
    lines.push(`${name}: ${raw[i + 1]!}`);
  }
  if (clientAddr !== undefined && !forwardedWritten) lines.push(`X-Forwarded-For: ${headerSafe(clientAddr)}`);
  lines.push(`X-Quiz-Relayed-By: ${headerSafe(relayedBy)}`);
  // Node's parser has already refused CR/LF in the method, URL and headers it passed us.
  const version = /^\d\.\d$/.test(req.httpVersion) ? req.httpVersion : '1.1';
  return `${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${version}\r\n${lines.join('\r\n')}\r\n\r\n`;
}

/** Our own values (config, a worked-out address) must never be able to split the request. */
function headerSafe(value: string): string {
  return value.replace(/[\r\n\0]/g, '');
}
