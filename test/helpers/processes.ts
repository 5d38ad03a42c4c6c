/**
 * Every process a test starts goes through a `ProcessGroup`, which records its pid and, at
 * `stopAll()`, ends it and every descendant (cluster workers, ts-node-dev children) by pid,
 * even when the test failed. A leftover worker is a bug.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');

export interface Started {
  child: ChildProcess;
  pid: number;
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

  /** SIGTERM to each process and its descendants, SIGKILL to whatever is left after `graceMs`. */
  async stopAll(graceMs = 5000): Promise<void> {
    const pids = new Set<number>();
    for (const s of this.started) {
      for (const pid of [s.pid, ...descendants(s.pid)]) pids.add(pid);
    }
    for (const pid of pids) signal(pid, 'SIGCONT');
    for (const pid of pids) signal(pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && [...pids].some(alive)) await sleep(50);
    for (const pid of pids) if (alive(pid)) signal(pid, 'SIGKILL');
    while ([...pids].some(alive)) await sleep(20);
    this.started.length = 0;
  }
}

export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // The process ended while we looked.
    }
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length) {
    for (const c of children.get(stack.pop()!) ?? []) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
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
