/**
 * What the match service's HTTP routes need, whichever architecture serves them: the single
 * process (`LocalMatchService`) or the pool master (`PoolMatchService`). Routes stay the
 * same; only this interface's implementation differs.
 */
import { Match, type MatchSettings, type MatchStatus } from '../quiz/engine';
import type { Quiz } from '../quiz/quizzes';
import type { MatchDirectory, MatchResults, StoredMatch } from '../store/store';

/** Decides what routes answer: nothing is created while starting or draining. */
export type Lifecycle = 'starting' | 'ready' | 'draining';

/** Header of a request a peer host sends (hosts/peerClient.ts): its receiver answers from its own matches only. */
export const FORWARDED_BY = 'x-quiz-forwarded-by';

export interface CreateMatchRequest {
  quiz: Quiz;
  settings: MatchSettings;
  /** The HTTP request's id (X-Request-Id), carried to the log lines of the match's host. */
  requestId?: string;
  /** Placed by a peer host (POST /internal/matches): here or nowhere, never forwarded again. */
  localOnly?: boolean;
}

export interface CreatedMatch {
  matchId: string;
  hostToken: string;
  workerId: number;
  /** Several hosts: the host that owns it, and its match service's address (PUBLIC_MATCH_URL). */
  hostId?: string;
  hostUrl?: string;
}

export interface MatchSummary {
  matchId: string;
  status: MatchStatus;
  players: number;
  workerId: number | null;
  quiz: { title: string; questionCount: number };
  /** Several hosts: the host that owns it. */
  hostId?: string;
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
  /** Several hosts on one Redis: this host's id, the live hosts it last saw, and whether its lease holds. */
  cluster?: { hostId: string; hosts: number; leaseValid: boolean };
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
  /** `localOnly`: asked by a peer host, which wants this host's own view, not the directory's. */
  matchInfo(matchId: string, opts?: { localOnly?: boolean }): Promise<MatchSummary | null>;
  results(matchId: string): Promise<MatchResults | null>;
  recentResults(limit: number): Promise<MatchResults[]>;
  health(): HealthBody;
  workerStats(): WorkerStatsBody;
  metrics(): Promise<{ contentType: string; body: string }>;
  /** Several hosts: every live host (GET /hosts). Absent where there is no cluster. */
  hosts?(): Promise<HostEntry[]>;
  /** Several hosts: move a match to another host (POST /admin/matches/:id/move). */
  moveMatch?(matchId: string, toHostId?: string): Promise<{ matchId: string; hostId: string }>;
  /** Several hosts: a peer moves a match here (POST /internal/matches/:id/adopt); true once served here. */
  adoptMatch?(matchId: string, epoch: number): Promise<boolean>;
}

/** One host as GET /hosts lists it (hosts/hostRegistry.ts keeps these in Redis). */
export interface HostEntry {
  hostId: string;
  publicUrl: string;
  state: 'ready' | 'draining';
  workers: number;
  matches: number;
  players: number;
  freeSlots: number;
  leaseAgeMs: number;
}

/**
 * A live match described from the store while no worker can (it is moving, or its host died
 * and nobody has taken it over yet). Rebuilt so that status and counts are read the engine's
 * way, not worked out again here.
 */
export function storedMatchSummary(matchId: string, stored: StoredMatch, workerId: number | null): MatchSummary {
  const match = Match.restore(stored.snapshot);
  return { matchId, status: match.status, players: match.playerCount, workerId, quiz: match.quizInfo };
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
