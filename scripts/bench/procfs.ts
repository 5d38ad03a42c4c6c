/**
 * The few /proc readings the benchmark needs besides lib/procSampler: a process' start time
 * (to recognise it), its CPU ticks (own and reaped children's), and the machine's CPU ticks,
 * so CPU used by processes outside the benchmark during a run can be told apart.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Fields of /proc/<pid>/stat after the command name; index 0 is field 3 (state). */
function statFields(pid: number | 'self'): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** Field 22 (starttime), or null when there is no such process. */
export function startTimeOf(pid: number): string | null {
  return statFields(pid)?.[19] ?? null;
}

/** utime + stime (fields 14, 15), plus cutime + cstime (16, 17: children reaped) when asked. */
export function cpuTicksOf(pid: number | 'self', withReapedChildren = false): number {
  const f = statFields(pid);
  if (!f) return 0;
  const own = Number(f[11]) + Number(f[12]);
  return withReapedChildren ? own + Number(f[13]) + Number(f[14]) : own;
}

export interface MachineTicks {
  busy: number;
  total: number;
}

/** The first line of /proc/stat: all CPUs together. */
export function machineTicks(): MachineTicks {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    // cpu user nice system idle iowait irq softirq steal (guest time is already in user)
    const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    return { busy: total - (v[3] ?? 0) - (v[4] ?? 0), total };
  } catch {
    return { busy: 0, total: 0 };
  }
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
  await new Promise((resolve) => setTimeout(resolve, ms));
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
