/** The pool master's `MatchService`: the HTTP routes' view of `MatchWorkerPool`. */
import type { Config } from '../config';
import * as service from '../http/matchService';
import type { MasterStore } from './masterStore';
import type { MatchWorkerPool } from './workerPool';

const POOL_VERSION = '3.0.0 (Worker Pool)';

export class PoolMatchService implements service.MatchService {
  private state: service.Lifecycle = 'starting';

  constructor(
    private readonly pool: MatchWorkerPool,
    private readonly masterStore: MasterStore,
    private readonly config: Config,
  ) {}

  setLifecycle(state: service.Lifecycle): void {
    this.state = state;
  }

  lifecycle(): service.Lifecycle {
    return this.state;
  }

  createMatch(req: service.CreateMatchRequest): Promise<service.CreatedMatch> {
    return this.pool.createMatch(req.quiz, req.settings, req.requestId);
  }

  async matchInfo(matchId: string): Promise<service.MatchSummary | null> {
    return (await this.pool.matchInfo(matchId)) ?? service.finishedMatchSummary(this.masterStore.store, matchId);
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
}
