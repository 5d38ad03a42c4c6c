/**
 * This host among the others on the same Redis (WORKER_POOL_ARCHITECTURE.md "Several hosts").
 * The pool asks it what the pool alone cannot answer: where a match it does not have lives,
 * where to place a match when its own workers are full, and which dead hosts' matches to take
 * over. The parts:
 *
 * - `RedisHostRegistry` (hostRegistry.ts): this host's lease, and every live host's load.
 * - the directory: who owns each match, in the match store (`RedisMatchStore.owners`, epochs).
 * - `PeerClient` (peerClient.ts): HTTP to another host, with timeouts and typed errors.
 * - `relayUpgrade` (upgradeRelay.ts): a byte pipe to the owner of a WebSocket's match.
 * - `orphansToTake` (takeover.ts): which orphans to claim, decided purely.
 *
 * Nothing here holds a match: the pool does, through the bindings it gives `bind()`.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log';
import type { ClusterMetrics } from '../metrics';
import { HttpError } from '../protocol/errors';
import type { MatchSettings } from '../quiz/engine';
import type { Quiz } from '../quiz/quizzes';
import { type MatchSummary, storedMatchSummary } from '../http/matchService';
import { refuseUpgrade } from '../http/upgradeResponses';
import type { RedisMatchStore } from '../store/redisStore';
import type { RedisTarget } from '../store/redisConnection';
import { type HostLoad, type HostRecord, RedisHostRegistry } from './hostRegistry';
import { PeerClient, PeerError, type PlacedMatch } from './peerClient';
import { type Orphan, orphansToTake } from './takeover';
import { relayUpgrade, wasRelayed } from './upgradeRelay';

/** What the pool lends the cluster: its load, its route table's view, and a way to take a match over. */
export interface ClusterBindings {
  load(): HostLoad;
  isLocal(matchId: string): boolean;
  /** Claim (only at `orphan.epoch`) and restore the match here; settles when that is done or given up. */
  adopt(orphan: Orphan): unknown;
  /** This host's lease had lapsed: the matches in `ids` now belong to other hosts; let them go. */
  letGo(ids: string[]): void;
  /** The matches this host serves now. */
  activeMatchIds(): string[];
}

export interface HostClusterOptions {
  hostId: string;
  publicUrl: string;
  redis: RedisTarget;
  leaseMs: number;
  opsToken?: string;
  /** Bound of each call to a peer (IPC_TIMEOUT_MS). */
  peerTimeoutMs: number;
  /**
   * Closes a relayed connection that carried nothing either way this long (unset: never).
   * The owner pings every client, so silence means the owner is gone without a FIN (lost
   * power, cut off by the network) and the client should reconnect, here or elsewhere.
   */
  relayIdleTimeoutMs?: number;
  store: RedisMatchStore;
  log: Logger;
  metrics: ClusterMetrics;
}

/** Where a match the pool does not have is, as the directory and the leases say. */
export type MatchLocation = { kind: 'peer'; host: HostRecord } | { kind: 'orphan' } | { kind: 'none' };

/** How long a read of the live hosts is reused (a reconnect storm asks once per socket). */
const HOSTS_CACHE_MS = 1000;

export class HostCluster {
  readonly hostId: string;
  readonly publicUrl: string;
  private readonly registry: RedisHostRegistry;
  private readonly peers: PeerClient;
  private bindings: ClusterBindings | null = null;
  private scanTimer: NodeJS.Timeout | null = null;
  private scanning: Promise<void> | null = null;
  private hostsRead: { at: number; hosts: Promise<HostRecord[]> } | null = null;
  private lastHosts: HostRecord[] = [];
  private stopped = false;

  constructor(private readonly opts: HostClusterOptions) {
    this.hostId = opts.hostId;
    this.publicUrl = opts.publicUrl;
    this.registry = new RedisHostRegistry({
      redis: opts.redis,
      hostId: opts.hostId,
      publicUrl: opts.publicUrl,
      leaseMs: opts.leaseMs,
      log: opts.log.child({ component: 'lease' }),
      load: () => this.bound().load(),
    });
    this.peers = new PeerClient({ self: opts.hostId, opsToken: opts.opsToken, timeoutMs: opts.peerTimeoutMs });
    this.registry.on('lost', () => {
      opts.log.error('This host lost its lease (paused or cut off from Redis for longer than HOST_LEASE_MS): other hosts may have taken its matches; their stores refuse its late writes');
      void this.letGoOfTaken().catch((err: Error) => opts.log.warn({ err: err.message }, 'Could not check which matches were taken over'));
    });
    this.registry.on('replaced', () => opts.log.error({ hostId: opts.hostId }, 'Another process registered this HOST_ID: HOST_ID must be unique per host'));
    opts.metrics.observeHosts(() => this.lastHosts.length);
  }

  bind(bindings: ClusterBindings): void {
    this.bindings = bindings;
  }

  /** Takes the lease, takes back this host's own earlier matches and dead hosts' ones, then keeps watching. */
  async start(): Promise<void> {
    await this.registry.register();
    await this.registry.start();
    await this.scan(true);
    this.scheduleScan();
    this.opts.log.info({ hostId: this.hostId, publicUrl: this.publicUrl, leaseMs: this.opts.leaseMs }, 'Host joined the cluster');
  }

  /** Stops watching; `release` (a clean exit) gives the lease back so that peers need not wait for it to run out. */
  async stop(opts: { release: boolean }): Promise<void> {
    this.stopped = true;
    if (this.scanTimer) clearTimeout(this.scanTimer);
    await this.scanning?.catch(() => {});
    await this.registry.stop({ release: opts.release });
  }

  /** False once this host may have lost its lease: it must not claim or place anything. */
  leaseValid(): boolean {
    return this.registry.leaseValid();
  }

  /** Every live host (this one included), as of at most a second ago. */
  hosts(): Promise<HostRecord[]> {
    const now = performance.now();
    if (!this.hostsRead || now - this.hostsRead.at > HOSTS_CACHE_MS) {
      const hosts = this.registry.liveHosts().then((h) => (this.lastHosts = h));
      this.hostsRead = { at: now, hosts };
      hosts.catch(() => {
        if (this.hostsRead?.hosts === hosts) this.hostsRead = null;
      });
    }
    return this.hostsRead.hosts;
  }

  /** `/health`'s summary, from the last read (never waits for Redis). */
  summary(): { hostId: string; hosts: number; leaseValid: boolean } {
    return { hostId: this.hostId, hosts: this.lastHosts.length, leaseValid: this.leaseValid() };
  }

  async locate(matchId: string): Promise<MatchLocation> {
    const [owner] = await this.opts.store.owners([matchId]);
    if (!owner) return { kind: 'none' };
    if (owner.host === this.hostId || owner.host === null) return { kind: 'orphan' };
    const host = (await this.hosts()).find((h) => h.hostId === owner.host);
    return host ? { kind: 'peer', host } : { kind: 'orphan' };
  }

  /**
   * Places a match this host has no room for on the least-loaded live, ready host with room;
   * 503 CAPACITY when there is none.
   */
  async placeElsewhere(quiz: Quiz, settings: MatchSettings, requestId?: string): Promise<PlacedMatch> {
    for (const host of peersWithRoom(await this.hosts().catch(() => []), this.hostId)) {
      try {
        const placed = await this.peers.createMatch(host.publicUrl, { quiz, settings }, requestId);
        this.opts.metrics.peerPlacements.inc({ outcome: 'placed' });
        this.opts.log.info({ matchId: placed.matchId, hostId: placed.hostId, reqId: requestId }, 'Match placed on another host');
        return placed;
      } catch (err) {
        const code = err instanceof PeerError ? err.code : 'PEER_REFUSED';
        this.opts.metrics.peerPlacements.inc({ outcome: code === 'PEER_FULL' ? 'full' : 'failed' });
        this.opts.log.warn({ hostId: host.hostId, err: (err as Error).message }, 'Could not place a match on another host');
      }
    }
    throw new HttpError('CAPACITY', 'Every host is full; try again in a minute.');
  }

  /**
   * Where to move a match: `hostId` if it is live, ready and has room, or else the
   * least-loaded such host; 503 CAPACITY when there is none, 404 for an unknown host.
   */
  async pickTarget(hostId?: string): Promise<HostRecord> {
    const live = await this.hosts();
    const ready = peersWithRoom(live, this.hostId);
    if (hostId !== undefined) {
      if (!live.some((h) => h.hostId === hostId) || hostId === this.hostId) throw new HttpError('NOT_FOUND', `No other live host "${hostId}".`);
      const wanted = ready.find((h) => h.hostId === hostId);
      if (!wanted) throw new HttpError('CAPACITY', `Host ${hostId} is draining or full.`);
      return wanted;
    }
    if (ready.length === 0) throw new HttpError('CAPACITY', 'No other host has room for this match.');
    return ready[0]!;
  }

  /** Asks `target` to claim the match at `epoch` and restore it; resolves once it serves it. */
  async handOver(target: HostRecord, matchId: string, epoch: number): Promise<void> {
    await this.peers.adopt(target.publicUrl, matchId, epoch);
    this.opts.metrics.moves.inc();
  }

  /**
   * A match this host does not have: as its owner describes it, or (while it has no owner,
   * or the owner does not answer) as the store holds it; null when it is not live.
   */
  async describeRemote(matchId: string): Promise<MatchSummary | null> {
    const where = await this.locate(matchId).catch(() => ({ kind: 'none' }) as const);
    if (where.kind === 'none') return null;
    if (where.kind === 'peer') {
      const info = await this.peers.matchInfo(where.host.publicUrl, matchId).catch(() => null);
      if (info) return { ...info, hostId: where.host.hostId };
    }
    const stored = await this.opts.store.load(matchId).catch(() => null);
    return stored ? storedMatchSummary(matchId, stored, null) : null;
  }

  /**
   * An upgrade for a match this host does not have: relayed to its owner, or refused (503
   * MATCH_MOVING while it has no owner, so the client retries; 404 when there is no such match).
   * An upgrade a peer already relayed is never relayed again.
   */
  routeUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, matchId: string, clientAddr: string | undefined): void {
    const { metrics, log } = this.opts;
    if (wasRelayed(req)) {
      metrics.relays.inc({ outcome: 'not_here' });
      return refuseUpgrade(socket, 'MATCH_MOVING');
    }
    void this.locate(matchId).then(
      async (where) => {
        if (where.kind === 'none') {
          metrics.relays.inc({ outcome: 'not_found' });
          return refuseUpgrade(socket, 'NOT_FOUND');
        }
        if (where.kind === 'orphan') {
          metrics.relays.inc({ outcome: 'orphan' });
          return refuseUpgrade(socket, 'MATCH_MOVING');
        }
        const outcome = await relayUpgrade(req, socket, head, new URL(where.host.publicUrl), {
          relayedBy: this.hostId,
          clientAddr,
          connectTimeoutMs: this.opts.peerTimeoutMs,
          idleTimeoutMs: this.opts.relayIdleTimeoutMs,
          log,
        });
        metrics.relays.inc({ outcome });
      },
      (err: Error) => {
        metrics.relays.inc({ outcome: 'failed' });
        log.warn({ matchId, err: err.message }, 'Could not look up the owner of a match');
        refuseUpgrade(socket, 'MATCH_MOVING');
      },
    );
  }

  /**
   * After a lapsed lease: the matches another host has claimed meanwhile (the directory names
   * that host) are let go at once, instead of waiting for their next write to be refused.
   */
  private async letGoOfTaken(): Promise<void> {
    const bindings = this.bound();
    const ids = bindings.activeMatchIds();
    const owners = await this.opts.store.owners(ids);
    const taken = ids.filter((_, i) => owners[i]?.host !== this.hostId);
    if (taken.length === 0) return;
    this.opts.log.warn({ matches: taken }, 'Letting go of matches other hosts took over while this host had no lease');
    bindings.letGo(taken);
  }

  /** Every half lease, with jitter so that hosts do not scan in step. */
  private scheduleScan(): void {
    if (this.stopped) return;
    const delay = (this.opts.leaseMs / 2) * (0.75 + Math.random() / 2);
    this.scanTimer = setTimeout(() => {
      this.scanning = this.scan(false)
        .catch((err: Error) => this.opts.log.warn({ err: err.message }, 'Takeover scan failed'))
        .finally(() => this.scheduleScan());
    }, delay);
    this.scanTimer.unref();
  }

  /** Finds orphaned matches and adopts those this host has room for; forgets dead hosts that own nothing. */
  private async scan(includeOwn: boolean): Promise<void> {
    if (!this.registry.leaseValid()) return;
    const dead = new Set<string>(await this.registry.deadHosts());
    await this.hosts();
    if (dead.size === 0 && !includeOwn) return;
    const ids = await this.opts.store.liveMatchIds();
    const owners = await this.opts.store.owners(ids);
    const bindings = this.bound();
    const orphans = orphansToTake(owners, { self: this.hostId, dead, includeOwn, isLocal: (id) => bindings.isLocal(id), room: bindings.load().freeSlots });
    if (orphans.length > 0) {
      // At start-up, the seed's line: this host's own matches, kept by Redis while it was down.
      const line = includeOwn ? 'Recovering live matches from the store' : 'Taking over orphaned matches';
      this.opts.log.info({ matches: orphans.length, from: [...new Set(orphans.map((o) => o.from))] }, line);
    }
    for (const orphan of orphans) {
      // Settles once restored here, or lost to a host that claimed it first.
      void Promise.resolve(bindings.adopt(orphan)).then(() =>
        this.opts.metrics.takeovers.inc({ outcome: bindings.isLocal(orphan.matchId) ? 'taken' : 'lost_race' }),
      );
    }
    for (const host of dead) {
      if (!owners.some((o) => o?.host === host) && (await this.registry.forget(host))) {
        this.opts.log.info({ hostId: host }, 'Dead host owns nothing any more; forgotten');
      }
    }
    // Let restores start before the next scan reads the room left.
    if (orphans.length > 0) await sleep(0);
  }

  private bound(): ClusterBindings {
    if (!this.bindings) throw new Error('HostCluster used before bind()');
    return this.bindings;
  }
}

/** The other hosts that take matches (ready, with room), the least loaded first. */
function peersWithRoom(hosts: readonly HostRecord[], self: string): HostRecord[] {
  return hosts
    .filter((h) => h.hostId !== self && h.state === 'ready' && h.freeSlots > 0)
    .sort((a, b) => loadOf(a) - loadOf(b) || a.hostId.localeCompare(b.hostId));
}

/** How full a host is, 0 (empty) to 1 (full). */
function loadOf(h: HostRecord): number {
  const capacity = h.matches + h.freeSlots;
  return capacity === 0 ? 1 : h.matches / capacity;
}
