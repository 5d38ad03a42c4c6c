/**
 * The master's WebSocket upgrades: each goes to the worker that owns its match, with the
 * socket itself (no frame passes through the master). An upgrade for a match between owners
 * waits (bounded) until the route table says it settled; one for a match closed for good is
 * answered by the master itself with `match_closed`; the rest are refused with PROTOCOL.md's
 * HTTP answers. `decideUpgrade` is the decision, pure; the class carries it out.
 */
import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Logger } from '../log';
import type { PoolMetrics } from '../metrics';
import { CLOSE, CLOSE_REASONS } from '../protocol/errors';
import { MAX_FRAME_BYTES } from '../protocol/messages';
import { checkUpgrade, refuseUpgrade } from '../http/upgradeResponses';
import { clientAddress, isLocalClient, type TrustFn } from '../http/clientAddress';
import type { MasterConnectionCounts } from './masterConnectionCounts';
import type { Origins } from '../http/origins';
import { HeldUpgrades } from './heldUpgrades';
import type { Route, RouteTable } from './routeTable';
import type { WorkerSet } from './workerSet';

export type UpgradeDecision = 'closed' | 'not_found' | 'hold' | 'moving' | 'hand_off';

/**
 * For an upgrade that passed the path and Origin checks: closed for good → `closed`; unknown
 * → `not_found`; between owners → `hold` if waiting is allowed, else `moving` (503); active
 * on an owner that is not responsive (or a socket that cannot be handed over) → `moving`,
 * since a hand-off would queue behind a stuck worker; otherwise `hand_off`.
 */
export function decideUpgrade(i: { closed: boolean; route: Route | undefined; mayHold: boolean; ownerResponsive: boolean }): UpgradeDecision {
  if (i.closed) return 'closed';
  if (!i.route) return 'not_found';
  if (i.route.state !== 'active') return i.mayHold ? 'hold' : 'moving';
  return i.ownerResponsive ? 'hand_off' : 'moving';
}

export interface UpgradeRouterDeps {
  routes: RouteTable;
  workers: Pick<WorkerSet, 'get' | 'responsive'>;
  origins: Origins;
  /** How long an upgrade may wait for its match (0: never waits). */
  holdMs: number;
  maxHeldPerMatch: number;
  handOffTimeoutMs: number;
  metrics: PoolMetrics;
  log: Logger;
  isStopping: () => boolean;
  /** MAX_CONNECTIONS_PER_IP, and who the client is (TRUST_PROXY); unset: nothing counted. */
  connections?: { counts: MasterConnectionCounts; trust: TrustFn };
  /**
   * Several hosts: an upgrade for a match this host does not know is the directory's to route
   * (relayed to its owner, or refused). Unset: 404 NOT_FOUND, as a standalone host answers.
   */
  elsewhere?: (req: IncomingMessage, socket: Duplex, head: Buffer, matchId: string, clientAddr: string | undefined) => void;
}

export class UpgradeRouter {
  private readonly held: HeldUpgrades;
  /** Completes handshakes only to say `match_closed`; the same frame limit as the gateway's. */
  private readonly closer = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false, clientTracking: false });

  constructor(private readonly deps: UpgradeRouterDeps) {
    this.held = new HeldUpgrades({
      maxWaitMs: deps.holdMs,
      maxPerMatch: deps.maxHeldPerMatch,
      expired: (_matchId, u) => {
        this.count('moving');
        refuseUpgrade(u.socket, 'MATCH_MOVING');
      },
    });
  }

  /** The master's `upgrade` handler. */
  route(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const check = checkUpgrade(req, socket, this.deps.origins);
    if (!check.ok) {
      this.count(check.refusal === 'FORBIDDEN_ORIGIN' ? 'forbidden' : 'not_found');
      return refuseUpgrade(socket, check.refusal);
    }
    const client = this.admit(req, socket);
    if (!client.ok) {
      this.count('rate_limited');
      return refuseUpgrade(socket, 'RATE_LIMITED', 'Too many connections from your address; close some and try again.');
    }
    const matchId = check.matchId;
    const { routes, workers } = this.deps;
    const route = routes.get(matchId);
    const owner = route && route.workerId !== null ? workers.get(route.workerId) : undefined;
    const closedReason = routes.closedReason(matchId);
    const decision = decideUpgrade({
      closed: closedReason !== null,
      route,
      mayHold: !this.deps.isStopping() && this.deps.holdMs > 0,
      ownerResponsive: owner !== undefined && workers.responsive(owner) && socket instanceof Socket,
    });
    switch (decision) {
      case 'closed':
        this.count('closed');
        return this.answerClosed(req, socket, head, closedReason!);
      case 'not_found':
        if (this.deps.elsewhere) {
          this.count('elsewhere');
          return this.deps.elsewhere(req, socket, head, matchId, client.addr);
        }
        this.count('not_found');
        return refuseUpgrade(socket, 'NOT_FOUND');
      case 'hold':
        // Being created or restored: it is back in well under a second, usually.
        if (this.held.hold(matchId, { req, socket, head })) return this.count('held');
        this.count('moving');
        return refuseUpgrade(socket, 'MATCH_MOVING');
      case 'moving':
        this.count('moving');
        return refuseUpgrade(socket, 'MATCH_MOVING');
      case 'hand_off': {
        this.count('handed_off');
        const msg = {
          type: 'upgrade' as const,
          matchId,
          request: { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers },
          head: head.toString('base64'),
          clientAddr: client.addr,
          counted: this.deps.connections?.counts.counted(socket) ?? false,
        };
        this.deps.connections?.counts.handedTo(socket, owner!.proc.pid);
        owner!.proc.handOff(socket as Socket, msg, this.deps.handOffTimeoutMs).catch((err: Error) => {
          this.deps.connections?.counts.handOffFailed(socket);
          this.count('failed');
          this.deps.log.warn({ matchId, workerId: owner!.workerId, err: err.message }, 'Socket hand-off failed');
        });
        return;
      }
      default: {
        const unreachable: never = decision;
        return unreachable;
      }
    }
  }

  /**
   * MAX_CONNECTIONS_PER_IP: counts the upgrade against its client's address (once, however
   * often it is routed) or refuses it. Clients on this machine are neither counted nor refused.
   */
  private admit(req: IncomingMessage, socket: Duplex): { ok: true; addr: string | undefined } | { ok: false } {
    const c = this.deps.connections;
    if (!c) return { ok: true, addr: undefined };
    const addr = clientAddress(req, c.trust);
    if (isLocalClient(req, c.trust)) return { ok: true, addr };
    return c.counts.open(socket, addr) ? { ok: true, addr } : { ok: false };
  }

  /** The match settled (created, restored, or gone): upgrades that waited for it go on. */
  release(matchId: string): void {
    for (const u of this.held.release(matchId)) {
      // Called from the middle of create/restore: a failure here must cost this socket only.
      try {
        this.route(u.req, u.socket, u.head);
      } catch (err) {
        this.deps.log.warn({ matchId, err: (err as Error).message }, 'A held upgrade could not be routed');
        u.socket.destroy();
      }
    }
  }

  /** Shutting down: nobody waits any more. */
  dropHeld(): void {
    this.held.dropAll();
  }

  close(): void {
    this.held.dropAll();
    this.closer.close();
  }

  private count(outcome: 'handed_off' | 'held' | 'moving' | 'not_found' | 'forbidden' | 'closed' | 'failed' | 'rate_limited' | 'elsewhere'): void {
    this.deps.metrics.handoffs.inc({ outcome });
  }

  /** A match closed for good has no worker; the master itself tells its players why. */
  private answerClosed(req: IncomingMessage, socket: Duplex, head: Buffer, reason: string): void {
    this.closer.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => {});
      ws.send(JSON.stringify({ type: 'match_closed', reason }));
      ws.close(CLOSE.MATCH_CLOSED, CLOSE_REASONS[CLOSE.MATCH_CLOSED]);
    });
  }
}
