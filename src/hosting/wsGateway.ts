/**
 * Turns upgraded sockets into match sessions: completes the WebSocket handshake (`ws` with
 * `noServer`, so the same code serves a local upgrade and a socket handed over by the master),
 * enforces the 4 KiB frame limit (ws closes with 1009), the per-connection rate limit and
 * the bad-message budget (close 1008), parses frames at the boundary and passes valid
 * messages to the `MatchHost`.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { WebSocket, WebSocketServer } from 'ws';
import { CLOSE, CLOSE_REASONS } from '../protocol/errors';
import { MAX_FRAME_BYTES, parseClientMessage } from '../protocol/messages';
import { refuseUpgrade } from '../http/upgradeResponses';
import type { Logger } from '../log';
import type { HostingMetrics } from '../metrics';
import type { MatchHost } from './matchHost';
import { LivenessMonitor } from './liveness';
import { TokenBucket } from './rateLimit';

/** Broadcasts hand over Buffers, which ws would send as binary frames; one options object for all sends. */
const TEXT_FRAME = { binary: false } as const;

export interface GatewayLimits {
  msgRatePerSec: number;
  msgBurst: number;
  badMessageBudget: number;
  pingIntervalMs: number;
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

  constructor(
    private readonly host: MatchHost,
    private readonly limits: GatewayLimits,
    private readonly log: Logger,
    private readonly metrics: HostingMetrics,
  ) {
    this.liveness = new LivenessMonitor(limits.pingIntervalMs);
  }

  accept(req: IncomingMessage, socket: Duplex, head: Buffer, matchId: string): void {
    if (!this.host.hasMatch(matchId)) {
      // The master thought this host owns the match; it does not (any more). Let the client retry.
      refuseUpgrade(socket, 'MATCH_MOVING');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, matchId));
  }

  close(): void {
    this.liveness.stop();
    for (const ws of this.open) ws.terminate();
    this.wss.close();
  }

  private onConnection(ws: WebSocket, matchId: string): void {
    const session = this.host.attach(matchId, {
      send: (data) => ws.send(data, TEXT_FRAME),
      close: (code, reason) => ws.close(code, reason),
    });
    if (!session) {
      ws.close(CLOSE.MATCH_MOVED, CLOSE_REASONS[CLOSE.MATCH_MOVED]);
      return;
    }
    this.open.add(ws);
    this.liveness.watch(ws);
    const bucket = new TokenBucket(this.limits.msgRatePerSec, this.limits.msgBurst, performance.now());
    let bad = 0;
    let limited = 0;

    ws.on('message', (data, isBinary) => {
      const receivedAt = performance.now();
      this.metrics.messagesIn.inc();
      if (!bucket.take(receivedAt)) {
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
        if (bad > this.limits.badMessageBudget) ws.close(CLOSE.POLICY, 'too many bad messages');
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
      this.open.delete(ws);
      this.host.detach(session);
    });
  }
}
