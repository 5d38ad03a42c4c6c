/**
 * Samples CPU% and resident memory of processes from /proc (Linux), once per interval.
 * CPU% is per core: 100 means one core busy for the whole interval.
 *
 * A process is identified by pid *and* start time, so a pid reused by another process after
 * a worker restart is tracked as a new entry rather than mixed into the old one.
 */
import { performance } from 'node:perf_hooks';
import { readProcStat, readRssKiB, ticksPerSecond } from './procfs';

export interface ProcTarget {
  pid: number;
  label: string;
}

export interface ProcSummary {
  pid: number;
  label: string;
  samples: number;
  cpuAvgPct: number;
  cpuMaxPct: number;
  rssMaxMiB: number;
  rssLastMiB: number;
  /** False once the process was seen gone. */
  alive: boolean;
}

interface Tracked {
  pid: number;
  label: string;
  startTime: string;
  lastTicks: number;
  lastAt: number;
  cpuSum: number;
  cpuMax: number;
  samples: number;
  rssMaxKiB: number;
  rssLastKiB: number;
  alive: boolean;
}

export class ProcSampler {
  private readonly tracked = new Map<string, Tracked>();
  private timer: NodeJS.Timeout | null = null;
  private readonly hz = ticksPerSecond();

  constructor(private readonly intervalMs = 1000) {}

  /** Starts tracking `targets` (already tracked pids keep their history; labels are updated). */
  add(targets: ProcTarget[]): void {
    for (const t of targets) {
      if (!Number.isInteger(t.pid) || t.pid <= 0) continue;
      const stat = readProcStat(t.pid);
      if (!stat) continue;
      const key = `${t.pid}:${stat.startTime}`;
      const existing = this.tracked.get(key);
      if (existing) {
        existing.label = t.label;
        continue;
      }
      const rss = readRssKiB(t.pid) ?? 0;
      this.tracked.set(key, {
        pid: t.pid,
        label: t.label,
        startTime: stat.startTime,
        lastTicks: stat.ownTicks,
        lastAt: performance.now(),
        cpuSum: 0,
        cpuMax: 0,
        samples: 0,
        rssMaxKiB: rss,
        rssLastKiB: rss,
        alive: true,
      });
    }
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Takes one sample of every live tracked process now. */
  sample(): void {
    const now = performance.now();
    for (const t of this.tracked.values()) {
      if (!t.alive) continue;
      const stat = readProcStat(t.pid);
      if (!stat || stat.startTime !== t.startTime) {
        t.alive = false;
        continue;
      }
      const elapsedSec = (now - t.lastAt) / 1000;
      if (elapsedSec <= 0.05) continue;
      const pct = ((stat.ownTicks - t.lastTicks) / this.hz / elapsedSec) * 100;
      t.lastTicks = stat.ownTicks;
      t.lastAt = now;
      t.cpuSum += pct;
      t.samples++;
      if (pct > t.cpuMax) t.cpuMax = pct;
      const rss = readRssKiB(t.pid);
      if (rss !== null) {
        t.rssLastKiB = rss;
        if (rss > t.rssMaxKiB) t.rssMaxKiB = rss;
      }
    }
  }

  /** Whole-run figures per tracked process. */
  summary(): ProcSummary[] {
    const r1 = (v: number) => Math.round(v * 10) / 10;
    return [...this.tracked.values()].map((t) => ({
      pid: t.pid,
      label: t.label,
      samples: t.samples,
      cpuAvgPct: t.samples ? r1(t.cpuSum / t.samples) : 0,
      cpuMaxPct: r1(t.cpuMax),
      rssMaxMiB: r1(t.rssMaxKiB / 1024),
      rssLastMiB: r1(t.rssLastKiB / 1024),
      alive: t.alive,
    }));
  }
}
