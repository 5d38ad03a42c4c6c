/**
 * Every process a test starts goes through a `ProcessGroup`, which records its pid and, at
 * `stopAll()`, ends it and every descendant (cluster workers, ts-node-dev children) by pid,
 * even when the test failed. A leftover worker is a bug.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ProcId, procId, stopProcessTree } from '../../scripts/lib/processTree';
import { ROOT } from '../../scripts/lib/repoRoot';

export interface Started {
  child: ChildProcess;
  pid: number;
  /** The pid with its start time, so the stop never signals a later process with the same pid. */
  id: ProcId;
  /** Every line the process printed (stdout and stderr), for log assertions. */
  lines: string[];
  exited: Promise<number | null>;
  /** Resolves with the first line matching, waiting up to `timeoutMs`. */
  waitForLine(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
}

export class ProcessGroup {
  private readonly started: Started[] = [];

  spawn(command: string, args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): Started {
    const child = spawn(command, args, {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    const waiters: Array<{ test: (l: string) => boolean; resolve: (l: string) => void }> = [];
    const onData = (buf: Buffer) => {
      for (const line of buf.toString().split('\n')) {
        if (!line) continue;
        lines.push(line);
        if (process.env.TEST_SHOW_LOGS) process.stderr.write(`[${child.pid}] ${line}\n`);
        for (const w of [...waiters]) {
          if (w.test(line)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const started: Started = {
      child,
      pid: child.pid!,
      id: procId(child.pid!) ?? { pid: child.pid!, startTime: '?' },
      lines,
      exited,
      waitForLine: (pattern, timeoutMs = 30_000) => {
        const test = (l: string) => (typeof pattern === 'string' ? l.includes(pattern) : pattern.test(l));
        const seen = lines.find(test);
        if (seen) return Promise.resolve(seen);
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern} in output of pid ${child.pid}:\n${lines.slice(-30).join('\n')}`)), timeoutMs);
          waiters.push({ test, resolve: (l) => (clearTimeout(timer), resolve(l)) });
        });
      },
    };
    this.started.push(started);
    return started;
  }

  /**
   * SIGTERM to each process and all its descendants at once (`npm run` and `sh -c` do not
   * forward signals), SIGKILL to whatever is left after `graceMs`.
   */
  async stopAll(graceMs = 5000): Promise<void> {
    await stopProcessTree(
      this.started.map((s) => s.id),
      { graceMs, signalDescendants: true },
    );
    this.started.length = 0;
  }
}

/** Polls `check` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}
