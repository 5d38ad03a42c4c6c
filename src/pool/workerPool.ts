/**
 * The worker pool, as the master's HTTP server sees it: create matches, describe them, route
 * upgrades, report. It only wires the parts, which talk through events and callbacks:
 *
 * - `WorkerSet` (workerSet.ts): the processes; emits `failed` and `matchGone`.
 * - `RouteTable` (routeTable.ts): match → owner, changed in one place; says when a match settles.
 * - `Restorer` (restorer.ts): claim, place and restore orphaned matches; poison.
 * - `UpgradeRouter` (upgradeRouter.ts): hold, refuse or hand off each upgrade.
 * - pool gauges are read at scrape time from `counts()`; `/metrics` merges every worker's.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import { allowedOrigins, type Config } from '../config';
import type { Logger } from '../log';
import type { PoolMetrics } from '../metrics';
import { newMatchId } from '../matchIds';
import { HttpError } from '../protocol/errors';
import type { MatchSettings } from '../quiz/engine';
import type { Quiz } from '../quiz/quizzes';
import { type CreatedMatch, type MatchSummary, storedMatchSummary, type WorkerStatsEntry } from '../http/matchService';
import { clusterForker } from './forkWorker';
import type { MasterStore } from './masterStore';
import { scrapePool } from './metricsAggregation';
import { Restorer } from './restorer';
import { RouteTable } from './routeTable';
import { UpgradeRouter } from './upgradeRouter';
import { type ForkWorker, WorkerSet, type WorkerSlot } from './workerSet';
import { QUIZ_BUDGET_MESSAGE, QuizBytes, quizBytes } from '../limits/quizBytes';
import { compileTrust } from '../http/clientAddress';
import { MasterConnectionCounts } from './masterConnectionCounts';
import { MatchMover } from './mover';
import type { HostCluster } from '../hosts/hostCluster';
import type { HostLoad } from '../hosts/hostRegistry';

const TOMBSTONE_TTL_MS = 10 * 60_000;
const MATCH_INFO_TIMEOUT_MS = 2000;

export interface PoolDeps {
  config: Config;
  store: MasterStore;
  log: Logger;
  metrics: PoolMetrics;
  registry: Registry;
  /** Tests replace the processes; by default workers are forked with node:cluster. */
  fork?: ForkWorker;
  clock?: () => number;
  /**
   * Several hosts on one Redis (hosts/hostCluster.ts): where matches this pool does not have
   * are, where to place one when it is full, and which dead hosts' matches to take over.
   */
  cluster?: HostCluster;
}

export class MatchWorkerPool {
  private readonly routes: RouteTable;
  private readonly workers: WorkerSet;
  private readonly restorer: Restorer;
  private readonly router: UpgradeRouter;
  /** MAX_QUIZ_BYTES_TOTAL over every match the pool holds (the master keeps each quiz too). */
  private readonly quizBytes: QuizBytes;
  /** MAX_CONNECTIONS_PER_IP (masterConnectionCounts.ts). */
  private readonly connections: MasterConnectionCounts;
  private readonly mover: MatchMover | null;
  private monitor: NodeJS.Timeout | null = null;
  private stopping = false;
  private draining = false;

  constructor(private readonly deps: PoolDeps) {
    const { config, log, metrics } = deps;
    const clock = deps.clock ?? Date.now;
    this.quizBytes = new QuizBytes(config.MAX_QUIZ_BYTES_TOTAL);
    this.connections = new MasterConnectionCounts(config.MAX_CONNECTIONS_PER_IP);
    const isStopping = () => this.stopping;
    this.routes = new RouteTable({
      clock,
      tombstoneTtlMs: TOMBSTONE_TTL_MS,
      settled: (matchId) => this.router.release(matchId),
      forgotten: (matchId) => this.quizBytes.release(matchId),
    });
    this.workers = new WorkerSet({ limits: config, clock, fork: deps.fork ?? clusterForker(config, deps.store, log), log, metrics });
    this.restorer = new Restorer({
      routes: this.routes,
      workers: this.workers,
      directory: deps.store.store,
      metrics,
      log,
      clock,
      poisonLimit: config.POISON_RESTORE_LIMIT,
      poisonHalfLifeMs: config.POISON_HALF_LIFE_MS,
      isStopping,
    });
    this.router = new UpgradeRouter({
      routes: this.routes,
      workers: this.workers,
      origins: allowedOrigins(config),
      holdMs: config.UPGRADE_HOLD_MS,
      // Every player and the host, with room for a few stale connections.
      maxHeldPerMatch: config.MAX_PLAYERS + 20,
      handOffTimeoutMs: config.IPC_TIMEOUT_MS,
      metrics,
      log,
      isStopping,
      connections: { counts: this.connections, trust: compileTrust(config.TRUST_PROXY) },
      ...(deps.cluster ? { elsewhere: deps.cluster.routeUpgrade.bind(deps.cluster) } : {}),
    });
    this.mover = deps.cluster
      ? new MatchMover({ routes: this.routes, workers: this.workers, restorer: this.restorer, cluster: deps.cluster, ipcTimeoutMs: config.IPC_TIMEOUT_MS, log })
      : null;
    deps.cluster?.bind({
      load: () => this.load(),
      isLocal: (matchId) => this.routes.get(matchId) !== undefined,
      adopt: (orphan) => this.restorer.adopt(orphan.matchId, orphan.epoch),
      activeMatchIds: () => this.routes.idsIn('active'),
      letGo: (ids) => {
        for (const matchId of ids) void this.letGo(matchId);
      },
    });
    this.workers.on('connectionsClosed', ({ pid, addrs }) => this.connections.closedOn(pid, addrs));
    this.workers.on('exited', ({ pid }) => this.connections.processExited(pid));
    this.workers.on('failed', (failure) => this.restorer.ownerDied(failure.orphaned, failure.workerId));
    this.workers.on('matchGone', ({ workerId, matchId, reason }) => {
      // Fenced, or let go after a lapsed lease: another host owns it now. A move in progress
      // (the mover's) has already taken the worker off the route, so it is not seen here.
      if (reason === 'shutdown' || this.routes.get(matchId)?.workerId !== workerId) return;
      this.routes.apply(matchId, { type: 'ended', workerId });
      this.restorer.forget(matchId);
      if (reason === 'over') log.info({ matchId, workerId, workerMatches: this.workers.get(workerId)?.matches.size ?? 0 }, 'Match ended; slot freed');
      else log.warn({ matchId, workerId, reason }, 'Match taken over by another host; slot freed');
    });
    metrics.observePool(() => this.counts());
  }

  /** Forks MIN_WORKERS, then (with a persistent store) takes back the matches it holds. */
  async start(): Promise<void> {
    await this.workers.start();
    this.monitor = setInterval(() => {
      this.workers.check();
      this.routes.expireTombstones();
    }, Math.min(this.deps.config.HEARTBEAT_INTERVAL_MS, 1000));
    // With several hosts the cluster takes back this host's own matches, and dead hosts' ones.
    if (this.deps.cluster) return this.deps.cluster.start();
    if (this.deps.store.kind !== 'redis') return;
    const ids = await this.deps.store.store.liveMatchIds();
    if (ids.length === 0) return;
    this.deps.log.info({ matches: ids.length }, 'Recovering live matches from the store');
    this.restorer.recover(ids);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.monitor) clearInterval(this.monitor);
    // The lease goes first, so the other hosts take this host's matches over at once.
    await this.deps.cluster?.stop({ release: true }).catch((err: Error) => this.deps.log.warn({ err: err.message }, 'Could not leave the cluster cleanly'));
    this.router.dropHeld();
    await this.workers.stop();
    this.router.close();
  }

  /**
   * Places the match on this pool's workers while it has room (packing); when it is full, on
   * another host with room (unless a peer asked: `localOnly`).
   */
  async createMatch(quiz: Quiz, settings: MatchSettings, requestId?: string, opts: { localOnly?: boolean } = {}): Promise<CreatedMatch> {
    try {
      return await this.createHere(quiz, settings, requestId);
    } catch (err) {
      const cluster = this.deps.cluster;
      if (!cluster || opts.localOnly || !(err instanceof HttpError) || err.kind !== 'CAPACITY') throw err;
      return cluster.placeElsewhere(quiz, settings, requestId);
    }
  }

  private async createHere(quiz: Quiz, settings: MatchSettings, requestId?: string): Promise<CreatedMatch> {
    // Counted before a worker is reserved, so concurrent creates cannot overshoot the budget.
    const matchId = newMatchId((id) => this.routes.isTaken(id) || this.quizBytes.has(id));
    if (!this.quizBytes.tryAdd(matchId, quizBytes(quiz))) throw new HttpError('CAPACITY', QUIZ_BUDGET_MESSAGE);
    let slot: WorkerSlot;
    try {
      slot = await this.workers.reserve();
    } catch (err) {
      this.quizBytes.release(matchId);
      throw err;
    }
    this.routes.apply(matchId, { type: 'creating', workerId: slot.workerId });
    try {
      const { hostToken } = await slot.request({ type: 'createMatch', matchId, quiz, settings, requestId });
      this.workers.host(slot, matchId);
      this.routes.apply(matchId, { type: 'created' });
      // MatchHostStore.create records a new match at epoch 1.
      this.restorer.owns(matchId, 1);
      this.deps.log.info({ matchId, workerId: slot.workerId, workerMatches: slot.matches.size, reqId: requestId }, 'Match assigned to worker');
      return { matchId, hostToken, workerId: slot.workerId, ...this.ownerFields() };
    } catch (err) {
      this.routes.apply(matchId, { type: 'createFailed' });
      this.deps.log.warn({ matchId, workerId: slot.workerId, err: (err as Error).message, reqId: requestId }, 'Match creation failed');
      throw new HttpError('UNAVAILABLE', 'Could not create the match right now; try again.');
    } finally {
      this.workers.release(slot);
    }
  }

  /**
   * A live match as its worker describes it, or as the store holds it while it moves; one on
   * another host as that host describes it (unless a peer asked: `localOnly`).
   */
  async matchInfo(matchId: string, opts: { localOnly?: boolean } = {}): Promise<MatchSummary | null> {
    const route = this.routes.get(matchId);
    if (!route) return opts.localOnly || !this.deps.cluster ? null : this.deps.cluster.describeRemote(matchId);
    const owner = route.workerId === null ? undefined : this.workers.get(route.workerId);
    const hostId = this.deps.cluster ? { hostId: this.deps.cluster.hostId } : {};
    if (route.state === 'active' && owner) {
      const info = await owner.request({ type: 'matchInfo', matchId }, MATCH_INFO_TIMEOUT_MS).catch(() => null);
      if (info) return { ...info, workerId: owner.workerId, ...hostId };
    }
    const stored = await this.deps.store.store.load(matchId).catch(() => null);
    return stored ? { ...storedMatchSummary(matchId, stored, route.workerId), ...hostId } : null;
  }

  /** Moves one match to another host (`toHostId`, or the least-loaded with room). */
  moveMatch(matchId: string, toHostId?: string): Promise<{ matchId: string; hostId: string }> {
    if (!this.mover) throw new HttpError('NO_ROUTE', 'Moving matches needs several hosts on one Redis (REDIS_URL).');
    return this.mover.move(matchId, toHostId);
  }

  /** A peer moves a match here: claim it at `epoch`, restore it; true once it is served here. */
  async adoptMatch(matchId: string, epoch: number): Promise<boolean> {
    if (this.stopping || this.draining) return false;
    if (!this.routes.get(matchId)) await this.restorer.adopt(matchId, epoch);
    return this.routes.get(matchId)?.state === 'active';
  }

  /**
   * Draining: no new matches here (peers see `draining`), and every match moves to another
   * host. Resolves with how many are left after `timeoutMs` (0: empty).
   */
  async drain(timeoutMs: number): Promise<number> {
    this.draining = true;
    if (!this.mover) return this.routes.size;
    return this.mover.drain(() => this.routes.idsIn('active'), timeoutMs);
  }

  /**
   * Another host owns the match now: its worker lets it go (the players are told to reconnect,
   * 4010, and reach the new owner); a write it still had is refused by the store.
   */
  private async letGo(matchId: string): Promise<void> {
    const route = this.routes.get(matchId);
    const owner = route?.workerId == null ? undefined : this.workers.get(route.workerId);
    if (!owner) return;
    await owner.request({ type: 'releaseMatch', matchId, timeoutMs: 1000 }, 1000 + this.deps.config.IPC_TIMEOUT_MS).catch(() => null);
  }

  /** This host's id and address on a match it creates, when there are several hosts. */
  private ownerFields(): { hostId?: string; hostUrl?: string } {
    const c = this.deps.cluster;
    return c ? { hostId: c.hostId, hostUrl: c.publicUrl } : {};
  }

  /** What this host tells the others about itself on every lease renewal. */
  load(): HostLoad {
    const { config } = this.deps;
    const slots = this.workers.list();
    return {
      state: this.stopping || this.draining ? 'draining' : 'ready',
      workers: slots.length,
      matches: this.routes.size,
      players: slots.reduce((n, s) => n + s.players, 0),
      freeSlots: Math.max(0, config.MAX_WORKERS * config.MAX_MATCHES - this.routes.size),
    };
  }

  routeUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.router.route(req, socket, head);
  }

  workerStats(): WorkerStatsEntry[] {
    const now = (this.deps.clock ?? Date.now)();
    return this.workers.list().map((s) => ({
      workerId: s.workerId,
      pid: s.proc.pid,
      state: s.state,
      matches: [...s.matches],
      players: s.players,
      uptimeMs: now - s.startedAt,
      restarts: s.restarts,
    }));
  }

  counts(): { totalWorkers: number; activeWorkers: number; idleWorkers: number; totalMatches: number } {
    return { ...this.workers.counts(), totalMatches: this.routes.size };
  }

  /** Prometheus text for the master and every worker (see metricsAggregation.ts). */
  metrics(): Promise<{ contentType: string; body: string }> {
    return scrapePool(this.deps.registry, this.workers.list(), this.deps.cluster?.hostId);
  }
}
