/**
 * Every process the benchmark starts goes through `children`: it remembers each pid (with
 * its /proc start time, so a reused pid is never signalled), ends a process together with
 * its descendants (cluster workers), and on exit, Ctrl+C or a crash of the benchmark kills
 * whatever is still running. Nothing is ever signalled by name, only by the recorded pids.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { sleep } from '../lib/util';
import { startTimeOf } from './procfs';

export interface ProcId {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: tells a process apart from a later one with the same pid. */
  startTime: string;
}

export interface Child {
  name: string;
  proc: ChildProcess;
  id: ProcId;
  /** Exit code (or signal name) once exited. */
  exited: Promise<string>;
  hasExited(): boolean;
}

/** The pid together with its start time, or null when no such process exists. */
export function procId(pid: number): ProcId | null {
  const startTime = startTimeOf(pid);
  return startTime === null ? null : { pid, startTime };
}

/** True while the very process `id` names is alive (and not a zombie). */
export function isAlive(id: ProcId): boolean {
  if (startTimeOf(id.pid) !== id.startTime) return false;
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${id.pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Children, grandchildren… of `pid`, from /proc/<pid>/task/<tid>/children (bounded depth and count). */
export function descendants(pid: number): ProcId[] {
  const out: ProcId[] = [];
  let frontier = [pid];
  for (let depth = 0; depth < 4 && frontier.length > 0 && out.length < 512; depth++) {
    const next: number[] = [];
    for (const parent of frontier) {
      let tids: string[] = [];
      try {
        tids = readdirSync(`/proc/${parent}/task`);
      } catch {
        continue;
      }
      for (const tid of tids) {
        try {
          for (const c of readFileSync(`/proc/${parent}/task/${tid}/children`, 'utf8').split(' ')) {
            const child = Number(c);
            const id = Number.isInteger(child) && child > 0 ? procId(child) : null;
            if (id) {
              out.push(id);
              next.push(child);
            }
          }
        } catch {
          // the task ended meanwhile
        }
      }
    }
    frontier = next;
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
    return false;
  }
}

class Children {
  private readonly live = new Set<Child>();
  /** Descendants seen for each child, so they can be ended after the child itself is gone. */
  private readonly family = new Map<Child, Map<number, ProcId>>();

  spawn(name: string, command: string, args: string[], opts: SpawnOptions = {}): Child {
    const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    if (proc.pid === undefined) throw new Error(`could not start ${name} (${command})`);
    const id = procId(proc.pid) ?? { pid: proc.pid, startTime: '?' };
    let done = false;
    const exited = new Promise<string>((resolve) => {
      proc.once('exit', (code, signal) => {
        done = true;
        resolve(signal ?? String(code));
      });
      proc.once('error', (err) => {
        done = true;
        resolve(`error: ${err.message}`);
      });
    });
    const child: Child = { name, proc, id, exited, hasExited: () => done };
    this.live.add(child);
    this.family.set(child, new Map());
    void exited.then(() => this.live.delete(child));
    return child;
  }

  /** Remembers the current descendants of `child` (call while it runs: workers come and go). */
  noteFamily(child: Child): void {
    const fam = this.family.get(child);
    if (!fam) return;
    for (const d of descendants(child.id.pid)) fam.set(d.pid, d);
  }

  /**
   * SIGTERM to the child, then SIGKILL to it and to every descendant still alive after
   * `graceMs`. Resolves once all of them are gone (bounded: gives up after 5 s more).
   */
  async stop(child: Child, graceMs = 5000): Promise<void> {
    this.noteFamily(child);
    const fam = [...(this.family.get(child)?.values() ?? [])];
    if (!child.hasExited()) signalProc(child.id, 'SIGTERM');
    await Promise.race([child.exited, sleep(graceMs)]);
    if (!child.hasExited()) signalProc(child.id, 'SIGKILL');
    for (const d of fam) signalProc(d, 'SIGKILL');
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && (!child.hasExited() || fam.some(isAlive))) await sleep(20);
    this.family.delete(child);
  }

  /** SIGKILL to every child and descendant still running: for exit paths, synchronous. */
  killAllNow(): void {
    for (const child of this.live) {
      this.noteFamily(child);
      signalProc(child.id, 'SIGKILL');
    }
    for (const fam of this.family.values()) for (const d of fam.values()) signalProc(d, 'SIGKILL');
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.live].map((c) => this.stop(c, 2000)));
    this.killAllNow();
  }
}

/** The one registry of the benchmark's processes. */
export const children = new Children();

/**
 * Makes sure nothing outlives the benchmark: SIGINT/SIGTERM end every child and exit 130/143,
 * and the process' `exit` kills whatever is left (synchronously).
 */
export function installCleanup(onSignal: (signal: NodeJS.Signals) => void): void {
  let signalled = false;
  const handler = (signal: NodeJS.Signals) => {
    if (signalled) {
      children.killAllNow();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    signalled = true;
    onSignal(signal);
    process.stderr.write(`\nbench: ${signal}: stopping every process it started…\n`);
    const hard = setTimeout(() => {
      children.killAllNow();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }, 8000);
    hard.unref();
    void children.stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  process.on('SIGHUP', handler);
  process.on('exit', () => children.killAllNow());
}
