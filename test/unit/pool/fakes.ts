/** Worker processes without processes, a clock that moves when told, and quiet logs: for the pool's parts. */
import { Registry } from 'prom-client';
import { createLogger } from '../../../src/log';
import { PoolMetrics } from '../../../src/metrics';
import type { MasterToWorker } from '../../../src/cluster/messages';
import type { ForkWorker, WorkerProcess, WorkerProcessEvents, WorkerSetLimits } from '../../../src/pool/workerSet';

export const quietLog = createLogger({ LOG_LEVEL: 'silent', LOG_PRETTY: false });

export function poolMetrics(): { metrics: PoolMetrics; registry: Registry } {
  const registry = new Registry();
  return { metrics: new PoolMetrics(registry), registry };
}

export class FakeClock {
  now = 1_000_000;
  readonly read = () => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}

export const LIMITS: WorkerSetLimits = {
  MIN_WORKERS: 1,
  MAX_WORKERS: 3,
  MAX_MATCHES: 1,
  PLACEMENT: 'pack',
  HEARTBEAT_INTERVAL_MS: 1000,
  HEARTBEAT_TIMEOUT_MS: 5000,
  WORKER_IDLE_TIMEOUT_MS: 60_000,
  HUNG_WORKER_KILL_DELAY_MS: 0,
  IPC_TIMEOUT_MS: 1000,
};

/** A worker as the set sees one: what it was sent, and ways to make it talk or die. */
export class FakeWorker implements WorkerProcess {
  readonly sent: MasterToWorker[] = [];
  private dead = false;

  constructor(
    readonly workerId: number,
    readonly pid: number,
    private readonly on: WorkerProcessEvents,
    private readonly answer: (w: FakeWorker, msg: MasterToWorker) => void,
  ) {}

  send(msg: MasterToWorker): boolean {
    if (this.dead) return false;
    this.sent.push(msg);
    // Like IPC: the worker reads it later, never within send().
    queueMicrotask(() => this.answer(this, msg));
    return true;
  }
  handOff(): Promise<void> {
    return Promise.resolve();
  }
  isConnected(): boolean {
    return !this.dead;
  }
  isDead(): boolean {
    return this.dead;
  }
  kill(): void {
    queueMicrotask(() => this.exit(null, 'SIGKILL'));
  }
  say(msg: unknown): void {
    this.on.message(msg);
  }
  exit(code: number | null, signal: string | null): void {
    if (this.dead) return;
    this.dead = true;
    this.on.exit(code, signal);
  }
  reply(reqId: number, value: unknown): void {
    this.say({ type: 'reply', reqId, ok: true, value });
  }
}

/**
 * A fork function recording every worker it makes. By default a worker says `ready` at once
 * and answers nothing else; `answer` decides what it does with each message it is sent.
 */
export function fakeFork(answer: (w: FakeWorker, msg: MasterToWorker) => void = () => {}, opts: { readyAtOnce?: boolean } = {}) {
  const forked: FakeWorker[] = [];
  let pid = 100;
  const fork: ForkWorker = (workerId, on) => {
    const w = new FakeWorker(workerId, ++pid, on, answer);
    forked.push(w);
    if (opts.readyAtOnce !== false) queueMicrotask(() => w.say({ type: 'ready' }));
    return w;
  };
  return { fork, forked };
}

export const tick = () => new Promise((r) => setImmediate(r));
