/**
 * The worker pool, as the master's HTTP server sees it: create matches, describe them, route
 * upgrades, report. It only wires the parts, which talk through events and callbacks:
 *
 * - `WorkerSet` (workerSet.ts): the processes; emits `failed` and `matchGone`.
 * - `RouteTable` (routeTable.ts): match → owner, changed in one place; says when a match settles.
 * - `Restorer` (restorer.ts): claim, place and restore orphaned matches; poison.
 * - `UpgradeRouter` (upgradeRouter.ts): hold, refuse or hand off each upgrade.
 * - `MatchCreator` (matchCreator.ts): a new match on a worker, within the quiz-bytes budget.
 * - `ClusterLink` (clusterLink.ts), with several hosts: the cluster's calls in, and moves out.
 * - pool gauges are read at scrape time from `counts()`; `/metrics` merges every worker's.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import { allowedOrigins, type Config } from '../config';
import type { Logger } from '../log';
import type { PoolMetrics } from '../metrics';
import { HttpError } from '../protocol/errors';
import type { MatchSettings } from '../quiz/engine';
import type { Quiz } from '../quiz/quizzes';
import type { CreatedMatch, MatchSummary, WorkerStatsEntry } from '../http/matchService';
import { clusterForker } from './forkWorker';
import type { MasterStore } from './masterStore';
import { scrapePool } from './metricsAggregation';
import { Restorer } from './restorer';
import { RouteTable } from './routeTable';
import { UpgradeRouter } from './upgradeRouter';
import { type ForkWorker, WorkerSet } from './workerSet';
import { QuizBytes } from '../limits/quizBytes';
import { compileTrust } from '../http/clientAddress';
import { MasterConnectionCounts } from './masterConnectionCounts';
import { ClusterLink } from './clusterLink';
import { MatchCreator } from './matchCreator';
import { matchInfo } from './matchInfo';
import type { HostCluster } from '../hosts/hostCluster';
import type { HostLoad } from '../hosts/hostRegistry';

const TOMBSTONE_TTL_MS = 10 * 60_000;

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
  private readonly creator: MatchCreator;
  /** MAX_CONNECTIONS_PER_IP (masterConnectionCounts.ts). */
  private readonly connections: MasterConnectionCounts;
  private readonly link: ClusterLink | null;
  private monitor: NodeJS.Timeout | null = null;
  private stopping = false;
  private draining = false;

  constructor(private readonly deps: PoolDeps) {
    const { config, log, metrics } = deps;
    const clock = deps.clock ?? Date.now;
    const quizBytes = new QuizBytes(config.MAX_QUIZ_BYTES_TOTAL);
    this.connections = new MasterConnectionCounts(config.MAX_CONNECTIONS_PER_IP);
    const isStopping = () => this.stopping;
    this.routes = new RouteTable({
      clock,
      tombstoneTtlMs: TOMBSTONE_TTL_MS,
      settled: (matchId) => this.router.release(matchId),
      forgotten: (matchId) => quizBytes.release(matchId),
    });
    this.workers = new WorkerSet({ limits: config, clock, fork: deps.fork ?? clusterForker(config, deps.store, log), log, metrics });
    const poison = { poisonLimit: config.POISON_RESTORE_LIMIT, poisonHalfLifeMs: config.POISON_HALF_LIFE_MS };
    this.restorer = new Restorer({ routes: this.routes, workers: this.workers, directory: deps.store.store, metrics, log, clock, ...poison, isStopping });
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
    const parts = { routes: this.routes, workers: this.workers, restorer: this.restorer, log };
    this.link = deps.cluster ? new ClusterLink({ ...parts, cluster: deps.cluster, load: () => this.load(), ipcTimeoutMs: config.IPC_TIMEOUT_MS }) : null;
    this.creator = new MatchCreator({ ...parts, quizBytes, ownerFields: () => this.link?.ownerFields() ?? {}, elsewhere: deps.cluster });
    this.workers.on('connectionsClosed', ({ pid, addrs }) => this.connections.closedOn(pid, addrs));
    this.workers.on('exited', ({ pid }) => this.connections.processExited(pid));
    this.workers.on('failed', (failure) => this.restorer.ownerDied(failure.orphaned, failure.workerId));
    this.workers.on('matchGone', (gone) => this.restorer.matchGone(gone));
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
    if (this.deps.store.kind === 'redis') await this.restorer.recoverLive();
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
  createMatch(quiz: Quiz, settings: MatchSettings, requestId?: string, opts: { localOnly?: boolean } = {}): Promise<CreatedMatch> {
    return this.creator.create(quiz, settings, requestId, opts);
  }

  /**
   * A live match as its worker describes it, or as the store holds it while it moves; one on
   * another host as that host describes it (unless a peer asked: `localOnly`).
   */
  matchInfo(matchId: string, opts: { localOnly?: boolean } = {}): Promise<MatchSummary | null> {
    return matchInfo({ routes: this.routes, workers: this.workers, directory: this.deps.store.store, cluster: this.deps.cluster }, matchId, opts);
  }

  /** Moves one match to another host (`toHostId`, or the least-loaded with room). */
  moveMatch(matchId: string, toHostId?: string): Promise<{ matchId: string; hostId: string }> {
    if (!this.link) throw new HttpError('NO_ROUTE', 'Moving matches needs several hosts on one Redis (REDIS_URL).');
    return this.link.move(matchId, toHostId);
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
    return this.link ? this.link.drain(timeoutMs) : this.routes.size;
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
    return this.workers.stats();
  }

  counts(): { totalWorkers: number; activeWorkers: number; idleWorkers: number; totalMatches: number } {
    return { ...this.workers.counts(), totalMatches: this.routes.size };
  }

  /** Prometheus text for the master and every worker (see metricsAggregation.ts). */
  metrics(): Promise<{ contentType: string; body: string }> {
    return scrapePool(this.deps.registry, this.workers.list(), this.link?.hostId);
  }
}
