/**
 * How busy the machine was during a benchmark run, and how much of that was not the
 * benchmark: other sessions may share the machine, and their CPU use must be told apart
 * from the server's before a figure is trusted.
 */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { machineTicks, readProcStat } from '../lib/procfs';

/** CPU ticks of `pid`, plus those of the children it reaped (the load generator) when asked. */
function cpuTicksOf(pid: number | 'self', withReapedChildren = false): number {
  const s = readProcStat(pid);
  if (!s) return 0;
  return withReapedChildren ? s.ownTicks + s.reapedChildrenTicks : s.ownTicks;
}

/**
 * CPU accounting over one run: the machine's busy time minus what the benchmark used — this
 * process with its reaped children (the load generator), the server's process with its reaped
 * children, and the server's live children (`serverChildren()`, read at both ends; one that
 * appears during the run counts whole). Per-core percent.
 */
export class CpuWindow {
  private readonly m0 = machineTicks();
  private readonly ours0: number;

  private readonly extra0: number[];

  /** `extra`: further processes of the benchmark (redis-server), each also reported alone. */
  constructor(
    private readonly serverPid: number,
    private readonly serverChildren: () => number[],
    private readonly extra: number[] = [],
  ) {
    this.ours0 = this.ours();
    this.extra0 = extra.map((pid) => cpuTicksOf(pid));
  }

  private ours(): number {
    const kids = [...this.serverChildren(), ...this.extra].reduce((a, pid) => a + cpuTicksOf(pid), 0);
    return cpuTicksOf('self', true) + cpuTicksOf(this.serverPid, true) + kids;
  }

  /** { machine, other }: busy % of the whole machine, and the part not used by the benchmark. */
  close(): { machinePct: number; otherPct: number; extraPct: number[] } {
    const m1 = machineTicks();
    const dt = m1.total - this.m0.total;
    if (dt <= 0) return { machinePct: Number.NaN, otherPct: Number.NaN, extraPct: this.extra.map(() => Number.NaN) };
    const cores = os.availableParallelism();
    const busy = m1.busy - this.m0.busy;
    const ours = this.ours() - this.ours0;
    const pct = (ticks: number) => Math.round((ticks / dt) * cores * 1000) / 10;
    return {
      machinePct: pct(busy),
      otherPct: Math.max(0, pct(busy - ours)),
      extraPct: this.extra.map((pid, i) => pct(cpuTicksOf(pid) - this.extra0[i]!)),
    };
  }
}

/** Busy % (per core) of the whole machine over the next `ms`. */
export async function machineBusyPct(ms: number): Promise<number> {
  const a = machineTicks();
  await sleep(ms);
  const b = machineTicks();
  const dt = b.total - a.total;
  return dt > 0 ? Math.round(((b.busy - a.busy) / dt) * os.availableParallelism() * 1000) / 10 : 0;
}

/**
 * Waits (at most `maxWaitMs`) until the machine is below `thresholdPct` busy, measured over
 * 0.3–1 s windows while none of the benchmark's load runs; returns the last reading and the wait.
 */
export async function waitForQuiet(thresholdPct: number, maxWaitMs: number): Promise<{ busyPct: number; waitedMs: number }> {
  const t0 = Date.now();
  let busy = await machineBusyPct(300);
  while (busy > thresholdPct && Date.now() - t0 < maxWaitMs) busy = await machineBusyPct(1000);
  return { busyPct: busy, waitedMs: Date.now() - t0 };
}

export interface QuietGateOptions {
  /** Busy % (per core) below which the machine counts as quiet. */
  thresholdPct: number;
  /** The longest wait of one call. */
  maxWaitMs: number;
  /** The longest wait over all calls together (0: never waits, only reads). */
  budgetMs: number;
  progress(line: string): void;
}

/**
 * A gate to call before each measured run: other sessions may share the machine, so it waits
 * (bounded per call and over all calls) until the machine is calm, says when it gave up, and
 * returns the last reading and the wait, for the record.
 */
export function quietGate(o: QuietGateOptions): () => Promise<{ busyPct: number; waitedMs: number }> {
  let budget = o.budgetMs;
  return async () => {
    const q = await waitForQuiet(o.thresholdPct, Math.min(o.maxWaitMs, budget));
    budget = Math.max(0, budget - q.waitedMs);
    if (q.busyPct > o.thresholdPct) {
      o.progress(`machine busy (${q.busyPct.toFixed(0)} % CPU used by other processes) after waiting ${(q.waitedMs / 1000).toFixed(0)} s; running anyway`);
    }
    return q;
  };
}
