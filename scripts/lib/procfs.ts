/**
 * The one reader of Linux's /proc for the load tool, the benchmark and the tests: a process'
 * /proc/<pid>/stat fields, its resident memory, and the machine's CPU ticks. Every reader
 * returns null (or zeros) for a process that is gone, because processes end while we look.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/** The fields of /proc/<pid>/stat this project reads (see proc(5)). */
export interface ProcStat {
  /** Field 3: R, S, D, Z (zombie), T (stopped)… */
  state: string;
  /** Field 4. */
  ppid: number;
  /** Fields 14 + 15: CPU ticks the process used itself. */
  ownTicks: number;
  /** Fields 16 + 17: CPU ticks of its children it has reaped (waited for). */
  reapedChildrenTicks: number;
  /**
   * Field 22, in clock ticks since boot: with the pid, names one process for good, so a pid
   * the kernel hands to a later process is never mistaken for the one we started.
   */
  startTime: string;
}

/** Parses /proc/<pid>/stat; null when there is no such process (or no /proc). */
export function readProcStat(pid: number | 'self'): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Field 2, the command name, may hold spaces and parentheses: split after the last ')'.
  // f[0] is then field 3.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const num = (i: number) => Number(f[i]);
  const own = num(11) + num(12);
  if (!Number.isFinite(own)) return null;
  return {
    state: f[0] ?? '?',
    ppid: num(1),
    ownTicks: own,
    reapedChildrenTicks: num(13) + num(14),
    startTime: f[19] ?? '',
  };
}

/** VmRSS of /proc/<pid>/status in KiB, or null. */
export function readRssKiB(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Whether this machine has a /proc to read (Linux). */
export function procAvailable(): boolean {
  return existsSync('/proc/self/stat');
}

let clockTicks: number | undefined;

/** USER_HZ: the unit of every tick count above (100 on nearly every Linux). */
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
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
