/**
 * What the match service's HTTP routes need, whichever architecture serves them: the single
 * process (`LocalMatchService`) or the pool master (`PoolMatchService`). Routes stay the
 * same; only this interface's implementation differs.
 */
import type { MatchSettings, MatchStatus } from '../quiz/engine';
import type { Quiz } from '../quiz/quizzes';
import type { MatchDirectory, MatchResults } from '../store/store';

/** Decides what routes answer: nothing is created while starting or draining. */
export type Lifecycle = 'starting' | 'ready' | 'draining';

export interface CreateMatchRequest {
  quiz: Quiz;
  settings: MatchSettings;
  /** The HTTP request's id (X-Request-Id), carried to the log lines of the match's host. */
  requestId?: string;
}

export interface CreatedMatch {
  matchId: string;
  hostToken: string;
  workerId: number;
}

export interface MatchSummary {
  matchId: string;
  status: MatchStatus;
  players: number;
  workerId: number | null;
  quiz: { title: string; questionCount: number };
}

export interface HealthBody {
  status: 'OK' | 'STARTING' | 'DRAINING';
  /** PROTOCOL.md's fixed name, whichever architecture answers; `mode` and `version` tell them apart. */
  service: 'Match Service Master';
  /**
   * What actually answers, truthfully: `service` above must say "Match Service Master"
   * (PROTOCOL.md), even in the single process, which has no master. `role` is the same value
   * as the `role` field of the process's log lines.
   */
  server: { name: 'Match Service Master' | 'Match Service (single process)'; role: 'master' | 'single' };
  mode: 'Worker Pool Architecture' | 'Single Process';
  version: string;
  workerPool: { totalWorkers: number; activeWorkers: number; idleWorkers: number; totalMatches: number };
  store: 'memory' | 'redis';
}

/** `/health`'s body, either architecture: only a ready service is OK (the route answers 503 otherwise). */
export function healthBody(state: Lifecycle, about: Omit<HealthBody, 'status' | 'service'>): HealthBody {
  const status = state === 'ready' ? 'OK' : state === 'starting' ? 'STARTING' : 'DRAINING';
  return { status, service: 'Match Service Master', ...about };
}

export interface WorkerStatsEntry {
  workerId: number;
  pid: number;
  state: string;
  matches: string[];
  players: number;
  uptimeMs: number;
  restarts: number;
}

export interface WorkerStatsBody {
  totalWorkers: number;
  totalMatches: number;
  maxWorkers: number;
  maxMatchesPerWorker: number;
  workers: WorkerStatsEntry[];
}

export interface MatchService {
  lifecycle(): Lifecycle;
  /** Throws `HttpError` (CAPACITY, UNAVAILABLE…) when the match cannot be placed. */
  createMatch(req: CreateMatchRequest): Promise<CreatedMatch>;
  matchInfo(matchId: string): Promise<MatchSummary | null>;
  results(matchId: string): Promise<MatchResults | null>;
  recentResults(limit: number): Promise<MatchResults[]>;
  health(): HealthBody;
  workerStats(): WorkerStatsBody;
  metrics(): Promise<{ contentType: string; body: string }>;
}

/**
 * A match that has left its host, described from its kept results; null when there are
 * none. Both services answer this way for finished matches.
 */
export async function finishedMatchSummary(directory: Pick<MatchDirectory, 'results'>, matchId: string): Promise<MatchSummary | null> {
  const results = await directory.results(matchId).catch(() => null);
  if (!results) return null;
  return {
    matchId,
    status: 'finished',
    players: results.standings.length,
    workerId: null,
    quiz: { title: results.title, questionCount: results.questionCount },
  };
}
