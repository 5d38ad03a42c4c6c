/** Small helpers shared by the load tools. */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** Limits how many async tasks run at once; waiters are served in FIFO order. */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error('Semaphore limit must be a positive integer');
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  /** Tasks waiting for a slot. */
  get pending(): number {
    return this.waiting.length;
  }
}

/** A delay distribution in milliseconds: `uniform:MIN-MAX` or `fixed:MS`. */
export interface Distribution {
  readonly spec: string;
  sample(): number;
}

export function parseDistribution(spec: string): Distribution {
  const fixed = /^fixed:(\d+(?:\.\d+)?)$/.exec(spec);
  if (fixed) {
    const ms = Number(fixed[1]);
    return { spec, sample: () => ms };
  }
  const uniform = /^uniform:(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(spec);
  if (uniform) {
    const min = Number(uniform[1]);
    const max = Number(uniform[2]);
    if (max < min) throw new Error(`Distribution ${spec}: MAX must be >= MIN.`);
    return { spec, sample: () => min + Math.random() * (max - min) };
  }
  throw new Error(`Unknown distribution ${JSON.stringify(spec)}: use uniform:MIN-MAX or fixed:MS (milliseconds).`);
}

export function randomInt(maxExclusive: number): number {
  return Math.floor(Math.random() * maxExclusive);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Resolves true once `cond()` holds (polled every `stepMs`), or false after `timeoutMs`. */
export async function waitUntil(cond: () => boolean, timeoutMs: number, stepMs = 20): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) return false;
    await sleep(stepMs);
  }
  return true;
}
