/**
 * Turns upgraded sockets into match sessions: completes the WebSocket handshake (`ws` with
 * `noServer`, so the same code serves a local upgrade and a socket handed over by the master),
 * enforces the 4 KiB frame limit (ws closes with 1009), the message rate and bad-message
 * budgets (close 1008), parses frames at the boundary and passes valid messages to the
 * `MatchHost`.
 *
 * Budgets hold per connection and per client address (over all that address's connections on
 * this process), so reconnecting does not reset them. A socket that neither joins nor resumes
 * within the join deadline is closed (4004), and so is one that does not read what it is sent
 * once its unsent data passes the send-buffer limit (1013). Per message, all of this costs one
 * bucket take per budget and, per send, one integer compare.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { WebSocket, WebSocketServer } from 'ws';
import { CLOSE, CLOSE_REASONS } from '../protocol/errors';
import { MAX_FRAME_BYTES, parseClientMessage } from '../protocol/messages';
import { refuseUpgrade } from '../http/upgradeResponses';
import { clientAddress, compileTrust, type TrustFn } from '../http/clientAddress';
import { KeyedBuckets } from '../limits/keyedBuckets';
import type { Logger } from '../log';
import type { HostingMetrics } from '../metrics';
import type { MatchHost } from './matchHost';
import { LivenessMonitor } from './liveness';
import { TokenBucket } from '../limits/tokenBucket';

/** Broadcasts hand over Buffers, which ws would send as binary frames; one options object for all sends. */
const TEXT_FRAME = { binary: false } as const;
/**
 * A client closed for not reading will not read our close frame either (it waits behind its
 * unsent data), and ws would wait 30 s for the close handshake: the socket goes after this.
 */
const SLOW_CLIENT_CLOSE_GRACE_MS = 1000;

export interface GatewayLimits {
  msgRatePerSec: number;
  msgBurst: number;
  badMessageBudget: number;
  pingIntervalMs: number;
  /** A socket with no `join` or `resume` by then is closed (4004). */
  joinDeadlineMs: number;
  addressMsgRatePerSec: number;
  addressMsgBurst: number;
  addressBadMessagesPerMin: number;
  /** A socket whose unsent data (ws `bufferedAmount`) passes this is closed (1013). */
  sendBufferLimitBytes: number;
  /** TRUST_PROXY, for the client address of an upgrade accepted without one. */
  trustProxy: string;
}

export class WsGateway {
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME_BYTES,
    perMessageDeflate: false,
    clientTracking: false,
  });
  private readonly liveness: LivenessMonitor;
  private readonly open = new Set<WebSocket>();
  private readonly trust: TrustFn;
  /** Per client address, over all its connections: reconnecting does not refill them. */
  private readonly addressMessages: KeyedBuckets;
  private readonly addressBadMessages: KeyedBuckets;

  constructor(
    private readonly host: MatchHost,
    private readonly limits: GatewayLimits,
    private readonly log: Logger,
    private readonly metrics: HostingMetrics,
  ) {
    this.liveness = new LivenessMonitor(limits.pingIntervalMs);
    this.trust = compileTrust(limits.trustProxy);
    this.addressMessages = new KeyedBuckets(limits.addressMsgRatePerSec, limits.addressMsgBurst);
    this.addressBadMessages = new KeyedBuckets(limits.addressBadMessagesPerMin / 60, limits.addressBadMessagesPerMin);
  }

  /**
   * Completes the upgrade of `socket` for `matchId`. `clientAddr` is the client's address
   * where the caller already knows it; otherwise it is read from `req` (its X-Forwarded-For
   * and its socket's peer address: a socket handed over by the pool master keeps its peer).
   */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, matchId: string, clientAddr?: string): void {
    if (!this.host.hasMatch(matchId)) {
      // The master thought this host owns the match; it does not (any more). Let the client retry.
      refuseUpgrade(socket, 'MATCH_MOVING');
      return;
    }
    const addr = clientAddr ?? clientAddress(req, this.trust);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, matchId, addr));
  }

  close(): void {
    this.liveness.stop();
    for (const ws of this.open) ws.terminate();
    this.wss.close();
  }

  private onConnection(ws: WebSocket, matchId: string, addr: string): void {
    const sendLimit = this.limits.sendBufferLimitBytes;
    const session = this.host.attach(matchId, {
      send: (data) => {
        // The hot path: one compare. Past the limit the client is not reading; what it has
        // not read stays bounded, and the close refuses everything sent after it.
        if (ws.bufferedAmount > sendLimit) return this.closeSlowClient(ws, matchId);
        ws.send(data, TEXT_FRAME);
      },
      close: (code, reason) => ws.close(code, reason),
    });
    if (!session) {
      ws.close(CLOSE.MATCH_MOVED, CLOSE_REASONS[CLOSE.MATCH_MOVED]);
      return;
    }
    this.open.add(ws);
    this.liveness.watch(ws);
    // A socket that only holds a descriptor: closed unless it joined or resumed by then. Let go
    // of the timer once it fired: the close handler below would otherwise keep it (about 200
    // bytes) for as long as the connection lives.
    let joinDeadline: NodeJS.Timeout | null = setTimeout(() => {
      joinDeadline = null;
      if (session.participantId === null) ws.close(CLOSE.JOIN_TIMEOUT, CLOSE_REASONS[CLOSE.JOIN_TIMEOUT]);
    }, this.limits.joinDeadlineMs);
    const bucket = new TokenBucket(this.limits.msgRatePerSec, this.limits.msgBurst, performance.now());
    let bad = 0;
    let limited = 0;

    ws.on('message', (data, isBinary) => {
      const receivedAt = performance.now();
      this.metrics.messagesIn.inc();
      if (!bucket.take(receivedAt) || !this.addressMessages.take(addr, receivedAt)) {
        limited++;
        // Tell the client once in a while, not once per flooded message.
        if (limited % 10 === 1) this.host.error(session, 'RATE_LIMITED');
        if (limited > this.limits.msgBurst * 2) ws.close(CLOSE.POLICY, 'rate limit exceeded');
        return;
      }
      const parsed = isBinary ? ({ ok: false, code: 'BAD_MESSAGE' } as const) : parseClientMessage(data.toString());
      if (!parsed.ok) {
        bad++;
        this.host.error(session, parsed.code, 'ref' in parsed ? parsed.ref : undefined);
        // The address's budget spans its reconnects: once spent, each of its sockets that
        // sends another bad message is closed at once (its honest neighbours are not).
        if (bad > this.limits.badMessageBudget || !this.addressBadMessages.take(addr, receivedAt)) {
          ws.close(CLOSE.POLICY, 'too many bad messages');
        }
        return;
      }
      try {
        this.host.handle(session, parsed.message, receivedAt);
      } catch (err) {
        // A bug must cost one message, not the process and every match on it.
        this.log.error({ err, matchId, type: parsed.message.type }, 'Message handling failed');
        this.host.error(session, 'BAD_MESSAGE', parsed.message.type);
      }
    });
    ws.on('error', (err) => this.log.debug({ matchId, err: err.message }, 'WebSocket error'));
    ws.on('close', () => {
      if (joinDeadline) clearTimeout(joinDeadline);
      this.open.delete(ws);
      this.host.detach(session);
    });
  }

  /** Closes a client that does not read (1013), and drops its socket soon after whatever it owes us. */
  private closeSlowClient(ws: WebSocket, matchId: string): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    this.log.warn({ matchId, bufferedBytes: ws.bufferedAmount }, 'Closing a client that does not read its messages');
    ws.close(CLOSE.TRY_AGAIN_LATER, CLOSE_REASONS[CLOSE.TRY_AGAIN_LATER]);
    setTimeout(() => ws.terminate(), SLOW_CLIENT_CLOSE_GRACE_MS).unref();
  }
}
