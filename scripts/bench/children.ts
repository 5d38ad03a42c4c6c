/**
 * Every process the benchmark starts goes through `children`: it remembers each pid (with
 * its /proc start time, so a reused pid is never signalled), ends a process together with
 * its descendants (cluster workers), and on exit, Ctrl+C or a crash of the benchmark kills
 * whatever is still running. Nothing is ever signalled by name, only by the recorded pids.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ProcId, descendants, killProcessTreeNow, procId, stopProcessTree } from '../lib/processTree';

export interface Child {
  name: string;
  proc: ChildProcess;
  id: ProcId;
  /** Exit code (or signal name) once exited. */
  exited: Promise<string>;
  hasExited(): boolean;
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
   * SIGTERM to the child alone (a pool master stops its own workers), then SIGKILL to it and
   * to every descendant still alive after `graceMs`. Resolves once all of them are gone.
   */
  async stop(child: Child, graceMs = 5000): Promise<void> {
    this.noteFamily(child);
    await stopProcessTree(child.hasExited() ? [] : [child.id], { graceMs, known: this.family.get(child)?.values() ?? [] });
    // An exit the kernel reported is seen by Node a moment later.
    await Promise.race([child.exited, sleep(1000)]);
    this.family.delete(child);
  }

  /** SIGKILL to every child and descendant still running: for exit paths, synchronous. */
  killAllNow(): void {
    for (const child of this.live) this.noteFamily(child);
    killProcessTreeNow([...this.live].map((c) => c.id));
    for (const fam of this.family.values()) killProcessTreeNow(fam.values());
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
