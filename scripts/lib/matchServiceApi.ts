/**
 * The match service's HTTP reads the tools and tests need (PROTOCOL.md): worker stats, one
 * match's status, and from the stats how many more matches the service will take now.
 * Typed with the service's own response types (types only: nothing of src/ runs here).
 */
import type { MatchSummary, WorkerStatsBody } from '../../src/http/matchService';
import { HttpFailure, requestJson } from './http';

/** GET /workers/stats; throws HttpFailure unless it answers 200. */
export async function fetchWorkerStats(base: string, timeoutMs = 5000): Promise<WorkerStatsBody> {
  const url = `${base}/workers/stats`;
  const res = await requestJson('GET', url, undefined, timeoutMs);
  if (res.status !== 200) throw new HttpFailure(`GET ${url} answered ${res.status}`, `http:${res.status}`, res.status);
  return res.body as WorkerStatsBody;
}

/** GET /matches/:id: the match's status, or 'gone' once the service no longer knows it. */
export async function fetchMatchStatus(base: string, matchId: string, timeoutMs = 5000): Promise<MatchSummary['status'] | 'gone'> {
  const url = `${base}/matches/${matchId}`;
  const res = await requestJson('GET', url, undefined, timeoutMs);
  if (res.status === 404) return 'gone';
  if (res.status !== 200) throw new HttpFailure(`GET ${url} answered ${res.status}`, `http:${res.status}`, res.status);
  return (res.body as MatchSummary).status;
}

export interface Capacity {
  maxWorkers: number;
  maxMatchesPerWorker: number;
  /** Matches hosted now: lobbies, running, and finished ones within FINISH_GRACE_MS. */
  inUse: number;
  /** How many more `POST /matches` the service will place now. */
  free: number;
}

/**
 * What the service will take, from its own figures: every worker that may exist times
 * MAX_MATCHES, less what it hosts. Null when it sets no limit (the floor server reports none).
 */
export function capacityOf(stats: WorkerStatsBody): Capacity | null {
  const { maxWorkers, maxMatchesPerWorker, totalMatches } = stats as Partial<WorkerStatsBody>;
  if (typeof maxWorkers !== 'number' || typeof maxMatchesPerWorker !== 'number' || typeof totalMatches !== 'number') return null;
  return { maxWorkers, maxMatchesPerWorker, inUse: totalMatches, free: Math.max(0, maxWorkers * maxMatchesPerWorker - totalMatches) };
}

/** One plain sentence: what the service has room for, and what to change to run `wanted` matches at once. */
export function capacityAdvice(c: Capacity, wanted: number): string {
  const total = c.maxWorkers * c.maxMatchesPerWorker;
  const room = `the match service has room for ${c.free} more match${c.free === 1 ? '' : 'es'} (${c.maxWorkers} worker${c.maxWorkers === 1 ? '' : 's'} × MAX_MATCHES=${c.maxMatchesPerWorker} = ${total}, ${c.inUse} in use)`;
  const perWorker = Math.ceil((wanted + c.inUse) / c.maxWorkers);
  const workers = Math.ceil((wanted + c.inUse) / c.maxMatchesPerWorker);
  const change =
    c.maxWorkers === 1
      ? `start it with MAX_MATCHES=${perWorker}`
      : `start it with MAX_MATCHES=${perWorker}, or with MAX_WORKERS=${workers} (the default is one worker per CPU)`;
  const wait = c.inUse > 0 ? `, or wait until the ${c.inUse} hosted match${c.inUse === 1 ? ' ends' : 'es end'} (a finished match keeps its slot for FINISH_GRACE_MS)` : '';
  return `${room}. To run ${wanted} at once, ${change}${wait}.`;
}
