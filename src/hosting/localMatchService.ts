/**
 * The single-process architecture's `MatchService`: matches are hosted right here by one
 * `MatchHost`, with state in this process's memory. It is the baseline the pool is measured
 * against, and the fallback when the pool misbehaves.
 */
import { Registry } from 'prom-client';
import { HttpError } from '../protocol/errors';
import { newMatchId } from '../matchIds';
import type { HostingMetrics } from '../metrics';
import type { MatchDirectory } from '../store/store';
import { finishedMatchSummary, healthBody } from '../http/matchService';
import type { CreateMatchRequest, CreatedMatch, HealthBody, Lifecycle, MatchService, MatchSummary, WorkerStatsBody } from '../http/matchService';
import type { MatchHost } from './matchHost';
import type { MatchRequestIds } from '../requestIds';
import { QUIZ_BUDGET_MESSAGE, QuizBytes, quizBytes } from '../limits/quizBytes';

const VERSION = '1.0.0 (single process)';

export class LocalMatchService implements MatchService {
  private state: Lifecycle = 'starting';
  private readonly startedAt = Date.now();
  private readonly quizBytes: QuizBytes;

  constructor(
    private readonly host: MatchHost,
    private readonly store: MatchDirectory,
    private readonly metricsRegistry: Registry,
    private readonly hostingMetrics: HostingMetrics,
    private readonly maxMatches: number,
    /** Where the creating request's id is kept for the match's log lines. */
    private readonly requestIds?: MatchRequestIds,
    /** MAX_QUIZ_BYTES_TOTAL (unset: no budget beyond the match limit). */
    maxQuizBytes = Number.POSITIVE_INFINITY,
  ) {
    this.quizBytes = new QuizBytes(maxQuizBytes);
  }

  setLifecycle(state: Lifecycle): void {
    this.state = state;
  }

  lifecycle(): Lifecycle {
    return this.state;
  }

  async createMatch(req: CreateMatchRequest): Promise<CreatedMatch> {
    if (this.host.load().matches.length >= this.maxMatches) {
      throw new HttpError('CAPACITY', 'This server is hosting as many matches as it may; try again soon.');
    }
    // Matches leave the host on their own (over, lobby timeout): their bytes are freed here.
    this.quizBytes.releaseGone((id) => this.host.hasMatch(id));
    const matchId = newMatchId((id) => this.host.hasMatch(id) || this.quizBytes.has(id));
    if (!this.quizBytes.tryAdd(matchId, quizBytes(req.quiz))) throw new HttpError('CAPACITY', QUIZ_BUDGET_MESSAGE);
    this.requestIds?.remember(matchId, req.requestId);
    let hostToken: string;
    try {
      ({ hostToken } = await this.host.createMatch({ matchId, quiz: req.quiz, settings: req.settings }));
    } catch (err) {
      this.quizBytes.release(matchId);
      throw err;
    }
    return { matchId, hostToken, workerId: 0 };
  }

  async matchInfo(matchId: string): Promise<MatchSummary | null> {
    const info = this.host.info(matchId);
    if (info) return { ...info, workerId: 0 };
    return finishedMatchSummary(this.store, matchId);
  }

  results(matchId: string) {
    return this.store.results(matchId);
  }

  recentResults(limit: number) {
    return this.store.recentResults(limit);
  }

  health(): HealthBody {
    const matches = this.host.load().matches.length;
    return healthBody(this.state, {
      server: { name: 'Match Service (single process)', role: 'single' },
      mode: 'Single Process',
      version: VERSION,
      workerPool: { totalWorkers: 1, activeWorkers: matches > 0 ? 1 : 0, idleWorkers: matches > 0 ? 0 : 1, totalMatches: matches },
      store: 'memory',
    });
  }

  workerStats(): WorkerStatsBody {
    const load = this.host.load();
    return {
      totalWorkers: 1,
      totalMatches: load.matches.length,
      maxWorkers: 1,
      maxMatchesPerWorker: this.maxMatches,
      workers: [
        {
          workerId: 0,
          pid: process.pid,
          state: this.state,
          matches: load.matches,
          players: load.players,
          uptimeMs: Date.now() - this.startedAt,
          restarts: 0,
        },
      ],
    };
  }

  async metrics(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.metricsRegistry.contentType, body: await this.metricsRegistry.metrics() };
  }
}
