/**
 * Token buckets per key (a client address), for limits that must not reset when a client
 * reconnects: match creation per address, messages per address. Pure: the caller passes the
 * time. Idle keys are forgotten once their bucket would be full again, so an address space
 * sweep cannot grow the map without bound beyond `maxKeys`.
 */
export class KeyedBuckets {
  private readonly buckets = new Map<string, { tokens: number; last: number }>();

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Takes `cost` tokens for `key` if it has them. */
  take(key: string, now: number, cost = 1): boolean {
    const b = this.refill(key, now);
    if (b.tokens < cost) return false;
    b.tokens -= cost;
    return true;
  }

  /** Seconds until `key` has `cost` tokens again (0 if it has them now). */
  waitSec(key: string, now: number, cost = 1): number {
    const b = this.refill(key, now);
    return b.tokens >= cost ? 0 : Math.ceil((cost - b.tokens) / this.ratePerSec);
  }

  get size(): number {
    return this.buckets.size;
  }

  private refill(key: string, now: number): { tokens: number; last: number } {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.sweep(now);
      b = { tokens: this.burst, last: now };
      this.buckets.set(key, b);
      return b;
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.last) / 1000) * this.ratePerSec);
    b.last = now;
    return b;
  }

  /** Drops keys whose buckets are full again (they would start full anyway); then the oldest. */
  private sweep(now: number): void {
    const fullAfterMs = (this.burst / this.ratePerSec) * 1000;
    for (const [key, b] of this.buckets) if (now - b.last >= fullAfterMs) this.buckets.delete(key);
    // Still full: the oldest quarter goes (Map keeps insertion order).
    if (this.buckets.size >= this.maxKeys) {
      let drop = Math.ceil(this.maxKeys / 4);
      for (const key of this.buckets.keys()) {
        if (drop-- <= 0) break;
        this.buckets.delete(key);
      }
    }
  }
}

/** Counts open things (connections, lobbies) per key against a cap. */
export class KeyedCounts {
  private readonly counts = new Map<string, number>();

  constructor(private readonly cap: number) {}

  /** Counts one more for `key` unless it is at its cap. */
  tryAdd(key: string): boolean {
    const n = this.counts.get(key) ?? 0;
    if (n >= this.cap) return false;
    this.counts.set(key, n + 1);
    return true;
  }

  remove(key: string): void {
    const n = this.counts.get(key) ?? 0;
    if (n <= 1) this.counts.delete(key);
    else this.counts.set(key, n - 1);
  }

  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  get keys(): number {
    return this.counts.size;
  }
}
