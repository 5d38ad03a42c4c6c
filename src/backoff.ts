/**
 * Retry delays for every retry loop in the service (store writes, restores): exponential,
 * capped, with "equal jitter" (half fixed, half random) so that many matches retrying after
 * the same outage do not hit the store or a worker at the same instant.
 */
export function backoff(attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 16));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}
