/** The pool master's `MatchService`: the HTTP routes' view of `MatchWorkerPool`. */
import type { Config } from '../config';
import type { MatchWorkerPool } from '../matchWorkerPool';
import type { MatchStore } from '../store/store';
import { finishedSummary, healthBody } from '../http/matchService';
import type { CreateMatchRequest, CreatedMatch, HealthBody, Lifecycle, MatchService, MatchSummary, WorkerStatsBody } from '../http/matchService';

export const POOL_VERSION = '3.0.0 (Worker Pool)';

export class PoolMatchService implements MatchService {
  private state: Lifecycle = 'starting';

  constructor(
    private readonly pool: MatchWorkerPool,
    private readonly store: MatchStore,
    private readonly storeKind: 'memory' | 'redis',
    private readonly config: Config,
  ) {}

  setLifecycle(state: Lifecycle): void {
    this.state = state;
  }

  lifecycle(): Lifecycle {
    return this.state;
  }

  createMatch(req: CreateMatchRequest): Promise<CreatedMatch> {
    return this.pool.createMatch(req.quiz, req.settings, req.requestId);
  }

  async matchInfo(matchId: string): Promise<MatchSummary | null> {
    const live = await this.pool.matchInfo(matchId);
    if (live) return live;
    const results = await this.store.results(matchId).catch(() => null);
    return results ? finishedSummary(results) : null;
  }

  results(matchId: string) {
    return this.store.results(matchId);
  }

  recentResults(limit: number) {
    return this.store.recentResults(limit);
  }

  health(): HealthBody {
    return healthBody(this.state, {
      server: { name: 'Match Service Master', role: 'master' },
      mode: 'Worker Pool Architecture',
      version: POOL_VERSION,
      workerPool: this.pool.counts(),
      store: this.storeKind,
    });
  }

  workerStats(): WorkerStatsBody {
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
