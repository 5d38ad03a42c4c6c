/**
 * When a `MatchClient` tries a connect again, and how long it waits. Two policies, because
 * the load tool and the recovery tests want opposite things: a load run must not hide a
 * failing server behind endless retries, while a test player must outlive its server.
 */

/** Why one connect attempt did not end in `welcome`. */
export type ConnectFailure =
  | { kind: 'upgrade'; status: number; retryAfterMs?: number }
  /** No upgrade answer: ECONNREFUSED, ECONNRESET, TIMEOUT… */
  | { kind: 'network'; code: string }
  /** Closed after the upgrade, before `welcome`. */
  | { kind: 'closed'; code: number }
  /** `join`/`resume` answered with an error (NAME_TAKEN, MATCH_FULL, TOKEN_INVALID…). */
  | { kind: 'refused'; code: string };

export interface RetryPolicy {
  /** Attempts per connect: the first join, or each reconnect. */
  attemptsPerConnect: number;
  /** Reconnects (with `resume`) after a joined socket dropped. */
  reconnects: number;
  retryable(failure: ConnectFailure): boolean;
  /** Wait before attempt `attempt + 1` when the server sent no `Retry-After`. */
  backoffMs(attempt: number): number;
  /** Pause after a drop before the first reconnect attempt. */
  reconnectDelayMs(): number;
}

/** No wait between attempts is ever longer, whatever a server's `Retry-After` says. */
export const MAX_BACKOFF_MS = 5000;

const jitter = () => 0.5 + Math.random() / 2;

/** Closes a client sees when the server goes away or restarts, not when it refuses the client. */
const TRANSIENT_CLOSE = new Set([1001, 1006, 1012, 1013]);

/** The load tool's: a few attempts, and only for what a busy but healthy server answers. */
export const LOAD_RETRY: RetryPolicy = {
  attemptsPerConnect: 5,
  reconnects: 3,
  retryable: (f) =>
    (f.kind === 'upgrade' && f.status === 503) ||
    (f.kind === 'network' && f.code === 'ECONNRESET') ||
    (f.kind === 'closed' && TRANSIENT_CLOSE.has(f.code)),
  backoffMs: (attempt) => Math.min(2000, 100 * 2 ** attempt) * jitter(),
  reconnectDelayMs: () => 100 + Math.random() * 400,
};

/**
 * The tests': a player that outlives its server. Refused connections while a master restarts,
 * 404 until the restarted master has found the match again, 503 while it moves: all retried.
 */
export const OUTLIVE_RESTARTS: RetryPolicy = {
  attemptsPerConnect: 300,
  reconnects: Number.POSITIVE_INFINITY,
  retryable: (f) => f.kind !== 'refused',
  backoffMs: (attempt) => Math.min(1000, 50 * 2 ** Math.min(attempt, 5)) * jitter(),
  reconnectDelayMs: () => 25 + Math.random() * 25,
};
