/** The pool master's `MatchService`: the HTTP routes' view of `MatchWorkerPool`. */
import type { Config } from '../config';
import * as service from '../http/matchService';
import type { MasterStore } from './masterStore';
import type { MatchWorkerPool } from './workerPool';
import type { HostCluster } from '../hosts/hostCluster';

const POOL_VERSION = '3.0.0 (Worker Pool)';

export class PoolMatchService implements service.MatchService {
  private state: service.Lifecycle = 'starting';

  constructor(
    private readonly pool: MatchWorkerPool,
    private readonly masterStore: MasterStore,
    private readonly config: Config,
    private readonly cluster?: HostCluster,
  ) {}

  setLifecycle(state: service.Lifecycle): void {
    this.state = state;
  }

  lifecycle(): service.Lifecycle {
    return this.state;
  }

  createMatch(req: service.CreateMatchRequest): Promise<service.CreatedMatch> {
    return this.pool.createMatch(req.quiz, req.settings, req.requestId, { localOnly: req.localOnly });
  }

  async matchInfo(matchId: string, opts: { localOnly?: boolean } = {}): Promise<service.MatchSummary | null> {
    return (await this.pool.matchInfo(matchId, opts)) ?? service.finishedMatchSummary(this.masterStore.store, matchId);
  }

  results(matchId: string) {
    return this.masterStore.store.results(matchId);
  }

  recentResults(limit: number) {
    return this.masterStore.store.recentResults(limit);
  }

  health(): service.HealthBody {
    return service.healthBody(this.state, {
      server: { name: 'Match Service Master', role: 'master' },
      mode: 'Worker Pool Architecture',
      version: POOL_VERSION,
      workerPool: this.pool.counts(),
      store: this.masterStore.kind,
      ...(this.cluster ? { cluster: this.cluster.summary() } : {}),
    });
  }

  workerStats(): service.WorkerStatsBody {
    const c = this.pool.counts();
    return {
      totalWorkers: c.totalWorkers,
      totalMatches: c.totalMatches,
      maxWorkers: this.config.MAX_WORKERS,
      maxMatchesPerWorker: this.config.MAX_MATCHES,
      workers: this.pool.workerStats(),
    };
  }

  metrics() {
    return this.pool.metrics();
  }

  moveMatch(matchId: string, toHostId?: string) {
    return this.pool.moveMatch(matchId, toHostId);
  }

  adoptMatch(matchId: string, epoch: number) {
    return this.pool.adoptMatch(matchId, epoch);
  }

  async hosts(): Promise<service.HostEntry[]> {
    if (!this.cluster) {
      const load = this.pool.load();
      return [{ hostId: 'standalone', publicUrl: this.config.PUBLIC_MATCH_URL, ...load, leaseAgeMs: 0 }];
    }
    return (await this.cluster.hosts()).map((h) => ({
      hostId: h.hostId,
      publicUrl: h.publicUrl,
      state: h.state,
      workers: h.workers,
      matches: h.matches,
      players: h.players,
      freeSlots: h.freeSlots,
      leaseAgeMs: h.leaseAgeMs,
    }));
  }
}
