/**
 * A stream of updates where only the latest matters (a count, a list): sent at most once per
 * interval, the first at once and the latest at the end of the interval, the ones between
 * dropped. What `answer_count`, `roster_count` and a big match's host list go through. The
 * interval is asked for at each update, so it may grow with the match.
 */
export class LatestOnly<T> {
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private pending: T | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly intervalMs: () => number,
    private readonly clock: () => number,
    private readonly send: (update: T) => void,
  ) {}

  offer(update: T): void {
    const now = this.clock();
    const wait = this.lastSentAt + this.intervalMs() - now;
    if (wait <= 0 && !this.timer) {
      this.lastSentAt = now;
      this.send(update);
      return;
    }
    this.pending = update;
    this.timer ??= setTimeout(() => {
      this.timer = null;
      const latest = this.pending;
      this.pending = null;
      if (latest === null) return;
      this.lastSentAt = this.clock();
      this.send(latest);
    }, Math.max(wait, 0));
  }

  /** Drops the update waiting for its turn, if any (it is stale, or nobody may get it now). */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
  }
}
