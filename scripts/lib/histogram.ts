/**
 * A fixed-size log-linear histogram for latencies in milliseconds (fractional allowed).
 *
 * Values are stored in microseconds in pre-allocated buckets: width 1 µs below 256 µs, then
 * 128 sub-buckets per power of two, so any reported percentile is within ~0.8 % of the true
 * value. Recording is O(1) and allocation-free; memory is ~32 KB whatever the count.
 * Exact count, min, max and sum are kept on the side.
 */

const SUB_BITS = 7;
const SUB = 1 << SUB_BITS; // 128
const LINEAR = SUB * 2; // values below this (µs) get their own bucket
const MAX_US = 2 ** 36; // ~19 h; larger values are clamped into the last bucket
const BUCKETS = LINEAR + (36 - SUB_BITS) * SUB;

export interface HistogramSummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function msb(v: number): number {
  // v is a non-negative integer < 2^37
  if (v < 2 ** 32) return 31 - Math.clz32(v);
  return 32 + (31 - Math.clz32(Math.floor(v / 2 ** 32)));
}

function bucketOf(us: number): number {
  if (us < LINEAR) return us;
  const shift = msb(us) - SUB_BITS; // >= 1
  const mantissa = Math.floor(us / 2 ** shift); // in [SUB, 2*SUB)
  return LINEAR + (shift - 1) * SUB + (mantissa - SUB);
}

/** Lower bound and width (µs) of a bucket. */
function boundsOf(index: number): [number, number] {
  if (index < LINEAR) return [index, 1];
  const rel = index - LINEAR;
  const shift = Math.floor(rel / SUB) + 1;
  const mantissa = (rel % SUB) + SUB;
  return [mantissa * 2 ** shift, 2 ** shift];
}

export class Histogram {
  private readonly counts = new Uint32Array(BUCKETS);
  private n = 0;
  private sum = 0;
  private lo = Number.POSITIVE_INFINITY;
  private hi = Number.NEGATIVE_INFINITY;
  /** Values below zero (e.g. clock adjustments); recorded as 0 in the buckets. */
  negatives = 0;

  /** Records one value in milliseconds. NaN and non-finite values are ignored. */
  record(ms: number): void {
    if (!Number.isFinite(ms)) return;
    this.n++;
    this.sum += ms;
    if (ms < this.lo) this.lo = ms;
    if (ms > this.hi) this.hi = ms;
    let us = Math.round(ms * 1000);
    if (us < 0) {
      this.negatives++;
      us = 0;
    }
    if (us >= MAX_US) us = MAX_US - 1;
    this.counts[bucketOf(us)]!++;
  }

  get count(): number {
    return this.n;
  }

  /** The value (ms) at quantile q in [0, 1]; 0 when empty. */
  quantile(q: number): number {
    if (this.n === 0) return 0;
    if (q <= 0) return this.lo;
    if (q >= 1) return this.hi;
    const target = Math.ceil(q * this.n);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= target) {
        if (i === BUCKETS - 1) return this.hi; // the overflow bucket: only max is known
        const [low, width] = boundsOf(i);
        const mid = (low + (width - 1) / 2) / 1000;
        return Math.min(this.hi, Math.max(this.lo, mid));
      }
    }
    return this.hi;
  }

  /** Adds every recorded value of `other` to this histogram. */
  merge(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.n += other.n;
    this.sum += other.sum;
    this.negatives += other.negatives;
    if (other.lo < this.lo) this.lo = other.lo;
    if (other.hi > this.hi) this.hi = other.hi;
  }

  reset(): void {
    this.counts.fill(0);
    this.n = 0;
    this.sum = 0;
    this.negatives = 0;
    this.lo = Number.POSITIVE_INFINITY;
    this.hi = Number.NEGATIVE_INFINITY;
  }

  summary(): HistogramSummary {
    if (this.n === 0) return { count: 0, min: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 };
    const r = (v: number) => Math.round(v * 1000) / 1000;
    return {
      count: this.n,
      min: r(this.lo),
      mean: r(this.sum / this.n),
      p50: r(this.quantile(0.5)),
      p95: r(this.quantile(0.95)),
      p99: r(this.quantile(0.99)),
      max: r(this.hi),
    };
  }
}
