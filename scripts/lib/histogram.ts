/**
 * Latencies in milliseconds over Node's own HDR histogram (`perf_hooks.createHistogram`).
 * That histogram takes positive integers, so values are kept in microseconds: percentiles in
 * ms to three decimals, within 0.1 % (three significant figures), whatever the count.
 */
import { type RecordableHistogram, createHistogram } from 'node:perf_hooks';

export interface HistogramSummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

const US_PER_MS = 1000;

export class LatencyHistogram {
  private readonly h: RecordableHistogram = createHistogram();
  /** Values below zero (e.g. clock adjustments); recorded as 0. */
  negatives = 0;

  /** Records one value in milliseconds. NaN and non-finite values are ignored. */
  record(ms: number): void {
    if (!Number.isFinite(ms)) return;
    if (ms < 0) this.negatives++;
    // 0 is not recordable; 1 µs stands for "under a microsecond" (0.001 ms when printed).
    this.h.record(Math.max(1, Math.round(ms * US_PER_MS)));
  }

  /** Adds every value `other` recorded (to pool runs into one distribution). */
  add(other: LatencyHistogram): void {
    this.h.add(other.h);
    this.negatives += other.negatives;
  }

  get count(): number {
    return this.h.count;
  }

  /** The value (ms) at quantile q in [0, 1]; 0 when empty. */
  quantile(q: number): number {
    if (this.h.count === 0) return 0;
    if (q <= 0) return this.h.min / US_PER_MS;
    if (q >= 1) return this.h.max / US_PER_MS;
    return this.h.percentile(q * 100) / US_PER_MS;
  }

  summary(): HistogramSummary {
    if (this.h.count === 0) return { count: 0, min: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 };
    const r = (us: number) => Math.round(us) / US_PER_MS;
    return {
      count: this.h.count,
      min: r(this.h.min),
      mean: r(this.h.mean),
      p50: this.quantile(0.5),
      p95: this.quantile(0.95),
      p99: this.quantile(0.99),
      max: r(this.h.max),
    };
  }
}
