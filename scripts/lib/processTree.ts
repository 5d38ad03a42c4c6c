/**
 * Finding and ending the processes a tool or test started, with their descendants (cluster
 * workers, the node under `npm run` and `sh -c`). Only recorded pids are ever signalled, never
 * a name, and each pid together with its start time, so a pid the kernel has meanwhile given
 * to somebody else's process is left alone.
 */
import { readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { readProcStat } from './procfs';

export interface ProcId {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: tells a process apart from a later one with the same pid. */
  startTime: string;
}

/** The pid together with its start time, or null when no such process exists. */
export function procId(pid: number): ProcId | null {
  const stat = readProcStat(pid);
  return stat ? { pid, startTime: stat.startTime } : null;
}

/** True while the very process `id` names runs (a zombie has ended: it only waits to be reaped). */
export function isAlive(id: ProcId): boolean {
  const stat = readProcStat(id.pid);
  return stat !== null && stat.startTime === id.startTime && stat.state !== 'Z';
}

/** True while some live process has this pid (for a pid read from a server's own report). */
export function pidAlive(pid: number): boolean {
  const stat = readProcStat(pid);
  return stat !== null && stat.state !== 'Z';
}

/**
 * Children, grandchildren… of `pid`, from the parent pid of every process in /proc: that works
 * on every kernel (…/task/<tid>/children needs CONFIG_PROC_CHILDREN) and at any depth.
 */
export function descendants(pid: number): ProcId[] {
  const children = new Map<number, ProcId[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (!stat) continue; // it ended while we looked
    const list = children.get(stat.ppid) ?? [];
    list.push({ pid: Number(entry), startTime: stat.startTime });
    children.set(stat.ppid, list);
  }
  const out: ProcId[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    for (const child of children.get(stack.pop()!) ?? []) {
      out.push(child);
      stack.push(child.pid);
    }
  }
  return out;
}

/** Sends `signal` to the process `id` names, only if it is still that process. */
export function signalProc(id: ProcId, signal: NodeJS.Signals): boolean {
  if (!isAlive(id)) return false;
  try {
    process.kill(id.pid, signal);
    return true;
  } catch {
    return false; // gone between the check and the signal
  }
}

export interface StopTreeOptions {
  /** How long the processes get to end on SIGTERM before SIGKILL (default 5 s). */
  graceMs?: number;
  /**
   * SIGTERM every process of the tree, not only the roots. Right for what does not forward
   * signals (`npm run`, `sh -c`); wrong for a pool master, which stops its own workers in
   * order and would log a worker that died before it asked as a failure.
   */
  signalDescendants?: boolean;
  /** Descendants seen earlier: a root that already exited no longer leads to its orphans. */
  known?: Iterable<ProcId>;
}

/**
 * Ends `roots` and all their descendants: SIGCONT first (a stopped process cannot act on
 * SIGTERM), SIGTERM, then, once the signalled ones exited or the grace ran out, SIGKILL to
 * whatever of the tree is left. Resolves once every
 * one of them is gone, or 5 s after the SIGKILL (a process in uninterruptible sleep).
 */
export async function stopProcessTree(roots: ProcId[], o: StopTreeOptions = {}): Promise<void> {
  const tree = new Map<number, ProcId>();
  for (const id of [...roots, ...(o.known ?? [])]) tree.set(id.pid, id);
  for (const root of roots) for (const d of descendants(root.pid)) tree.set(d.pid, d);
  const all = [...tree.values()];
  for (const id of all) signalProc(id, 'SIGCONT');
  for (const id of o.signalDescendants ? all : roots) signalProc(id, 'SIGTERM');
  // The ones signalled get the grace; a root's own descendants end with it when it stops them.
  const signalled = o.signalDescendants ? all : roots;
  const graceEnds = Date.now() + (o.graceMs ?? 5000);
  while (Date.now() < graceEnds && signalled.some(isAlive)) await sleep(20);
  // Workers a root forked during the grace (a master replacing a worker) count too.
  for (const root of roots) for (const d of descendants(root.pid)) if (!tree.has(d.pid)) all.push(d);
  killProcessTreeNow(all);
  const killWaitEnds = Date.now() + 5000;
  while (Date.now() < killWaitEnds && all.some(isAlive)) await sleep(20);
}

/** SIGKILL to each process still alive, synchronously: for `exit` handlers, which cannot wait. */
export function killProcessTreeNow(ids: Iterable<ProcId>): void {
  for (const id of ids) signalProc(id, 'SIGKILL');
}
