/**
 * The pool's worker processes: forking (ids are slots 1..N: a replacement keeps its
 * predecessor's id and counts a restart, a new worker takes the lowest free id), start-up,
 * heartbeats, hung workers, idle suspension and exits. A worker that dies (or hangs) is
 * replaced at once and reported as `failed` with the matches it hosted; what happens to
 * those is not this part's business. Decisions read the injected clock, so they can be
 * tested without processes or waiting (`livenessActions`).
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log';
import type { PoolMetrics } from '../metrics';
import { HttpError } from '../protocol/errors';
import type { WorkerStatsEntry } from '../http/matchService';
import { IpcRequester } from '../cluster/ipc';
import { type MasterReply, type MasterRequestBody, type MasterToWorker, masterReplySchemas, type UpgradeMessage, workerToMasterSchema } from '../cluster/messages';
import { nextWorkerId, place, type PlacementPolicy } from '../cluster/placement';

export type WorkerState = 'starting' | 'ready' | 'draining' | 'dead';

/** What the set needs of one forked process (a cluster worker, or a fake in tests). */
export interface WorkerProcess {
  readonly pid: number;
  /** False when the channel is closed; backpressure still delivers. */
  send(msg: MasterToWorker): boolean;
  handOff(socket: Socket, msg: UpgradeMessage, timeoutMs: number): Promise<void>;
  isConnected(): boolean;
  isDead(): boolean;
  kill(): void;
}

export interface WorkerProcessEvents {
  message(raw: unknown): void;
  exit(code: number | null, signal: string | null): void;
  storePipeClosed(reason: string): void;
}

export type ForkWorker = (workerId: number, on: WorkerProcessEvents) => WorkerProcess;

export interface WorkerSetLimits {
  MIN_WORKERS: number;
  MAX_WORKERS: number;
  MAX_MATCHES: number;
  PLACEMENT: PlacementPolicy;
  HEARTBEAT_INTERVAL_MS: number;
  HEARTBEAT_TIMEOUT_MS: number;
  WORKER_IDLE_TIMEOUT_MS: number;
  HUNG_WORKER_KILL_DELAY_MS: number;
  IPC_TIMEOUT_MS: number;
}

/** How long a freshly forked worker may take to say `ready` (ts-node compiles on first start). */
const STARTUP_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5000;

export class WorkerSlot {
  state: WorkerState = 'starting';
  /** The matches the master placed here (created or restored), as the master knows them. */
  readonly matches = new Set<string>();
  /** Matches placed here whose creation or restore is still under way. */
  reserved = 0;
  players = 0;
  lastHeartbeat: number;
  idleSince: number | null;
  readonly requester: IpcRequester;
  readonly ready: Promise<void>;
  markReady!: () => void;
  markFailed!: (err: Error) => void;

  constructor(
    readonly workerId: number,
    readonly proc: WorkerProcess,
    readonly restarts: number,
    readonly startedAt: number,
    ipcTimeoutMs: number,
  ) {
    this.lastHeartbeat = startedAt;
    this.idleSince = startedAt;
    this.requester = new IpcRequester((msg) => proc.send(msg as MasterToWorker), ipcTimeoutMs);
    this.ready = new Promise<void>((resolve, reject) => {
      this.markReady = resolve;
      this.markFailed = reject;
    });
    // Nobody may be waiting; an unobserved failure must not crash the master.
    this.ready.catch(() => {});
  }

  get load(): number {
    return this.matches.size + this.reserved;
  }

  /** A request to this worker; the reply is parsed with the schema of what `type` answers. */
  request<M extends MasterRequestBody>(msg: M, timeoutMs?: number): Promise<MasterReply<M['type']>> {
    return this.requester.request(msg, masterReplySchemas[msg.type], timeoutMs) as Promise<MasterReply<M['type']>>;
  }
}

/** What one liveness tick decides for a worker. */
export type LivenessAction = { kind: 'hung'; workerId: number; silentMs: number } | { kind: 'suspend'; workerId: number; idleMs: number };

export interface SlotView {
  workerId: number;
  state: WorkerState;
  lastHeartbeat: number;
  idleSince: number | null;
  load: number;
}

/**
 * Hung: ready but silent for longer than the heartbeat timeout. Idle: ready, nothing hosted
 * or on its way, for the idle timeout; the MIN_WORKERS lowest live ids always stay (worker 1
 * first), whichever went idle first.
 */
export function livenessActions(
  slots: readonly SlotView[],
  now: number,
  limits: Pick<WorkerSetLimits, 'MIN_WORKERS' | 'HEARTBEAT_TIMEOUT_MS' | 'WORKER_IDLE_TIMEOUT_MS'>,
): LivenessAction[] {
  const actions: LivenessAction[] = [];
  for (const s of slots) {
    if (s.state === 'ready' && now - s.lastHeartbeat > limits.HEARTBEAT_TIMEOUT_MS) {
      actions.push({ kind: 'hung', workerId: s.workerId, silentMs: now - s.lastHeartbeat });
    }
  }
  // A hung worker keeps its place in the id order: its replacement takes the same id.
  const hung = new Set(actions.map((a) => a.workerId));
  const live = slots.filter((s) => s.state === 'ready' || s.state === 'starting').sort((a, b) => a.workerId - b.workerId);
  for (const s of live.slice(limits.MIN_WORKERS)) {
    if (s.state !== 'ready' || hung.has(s.workerId) || s.load > 0 || s.idleSince === null) continue;
    if (now - s.idleSince >= limits.WORKER_IDLE_TIMEOUT_MS) actions.push({ kind: 'suspend', workerId: s.workerId, idleMs: now - s.idleSince });
  }
  return actions;
}

/** A late heartbeat: a hand-off would queue behind a worker that may be stuck. */
export function heartbeatLate(lastHeartbeat: number, now: number, intervalMs: number): boolean {
  return now - lastHeartbeat > 2 * intervalMs + 500;
}

export interface WorkerFailure {
  workerId: number;
  reason: 'crash' | 'hung';
  /** The matches it hosted, now without an owner. */
  orphaned: string[];
}

/** A worker no longer hosts a match: it ended, was fenced or moved, or the worker shuts down. */
export interface MatchGone {
  workerId: number;
  matchId: string;
  reason: 'over' | 'fenced' | 'shutdown' | 'moved';
}

type WorkerSetEvents = {
  failed: [WorkerFailure];
  matchGone: [MatchGone];
  /** Keyed by pid: any incarnation's sockets count, and its exit closes them (masterConnectionCounts.ts). */
  connectionsClosed: [{ pid: number; addrs: string[] }];
  exited: [{ pid: number }];
};

export class WorkerSet extends EventEmitter<WorkerSetEvents> {
  private readonly slots = new Map<number, WorkerSlot>();
  private stopping = false;

  constructor(
    private readonly opts: { limits: WorkerSetLimits; clock: () => number; fork: ForkWorker; log: Logger; metrics: PoolMetrics },
  ) {
    super();
  }

  /** Forks MIN_WORKERS and waits until they are ready. */
  async start(): Promise<void> {
    const first = Array.from({ length: this.opts.limits.MIN_WORKERS }, () => this.spawn(nextWorkerId(this.slots.keys()), 0));
    await Promise.all(first.map((s) => s.ready));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const slots = [...this.slots.values()].filter((s) => !s.proc.isDead());
    for (const slot of slots) slot.proc.send({ type: 'shutdown' });
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (Date.now() < deadline && slots.some((s) => !s.proc.isDead())) await sleep(25);
    for (const slot of slots) if (!slot.proc.isDead()) slot.proc.kill();
  }

  get(workerId: number): WorkerSlot | undefined {
    return this.slots.get(workerId);
  }

  /** Every slot, in id order. */
  list(): WorkerSlot[] {
    return [...this.slots.values()].sort((a, b) => a.workerId - b.workerId);
  }

  /** Every slot as `/workers/stats` lists it. */
  stats(): WorkerStatsEntry[] {
    const now = this.opts.clock();
    return this.list().map((s) => ({
      workerId: s.workerId,
      pid: s.proc.pid,
      state: s.state,
      matches: [...s.matches],
      players: s.players,
      uptimeMs: now - s.startedAt,
      restarts: s.restarts,
    }));
  }

  /** Live (not dead) workers; active = starting or ready; idle = ready and hosting nothing. */
  counts(): { totalWorkers: number; activeWorkers: number; idleWorkers: number } {
    const live = [...this.slots.values()].filter((s) => s.state !== 'dead');
    return {
      totalWorkers: live.length,
      activeWorkers: live.filter((s) => s.state === 'ready' || s.state === 'starting').length,
      idleWorkers: live.filter((s) => s.state === 'ready' && s.load === 0).length,
    };
  }

  /** Ready and heard from recently: a socket handed to it will not queue behind a stuck worker. */
  responsive(slot: WorkerSlot): boolean {
    return slot.state === 'ready' && !heartbeatLate(slot.lastHeartbeat, this.opts.clock(), this.opts.limits.HEARTBEAT_INTERVAL_MS);
  }

  /**
   * Picks a worker by the placement policy (forking if it says so), reserves a place on it
   * and waits until it is ready. `release` gives the place back once the match is hosted
   * (`host`) or not.
   */
  async reserve(): Promise<WorkerSlot> {
    const { limits } = this.opts;
    const decision = place(
      [...this.slots.values()].map((s) => ({ workerId: s.workerId, matches: s.load, accepting: s.state === 'starting' || s.state === 'ready' })),
      limits.PLACEMENT,
      { maxMatchesPerWorker: limits.MAX_MATCHES, maxWorkers: limits.MAX_WORKERS },
    );
    if (decision.kind === 'full') throw new HttpError('CAPACITY');
    const slot = decision.kind === 'fork' ? this.spawn(nextWorkerId(this.slots.keys()), 0) : this.slots.get(decision.workerId)!;
    slot.reserved++;
    slot.idleSince = null;
    try {
      await slot.ready;
    } catch (err) {
      slot.reserved--;
      throw new HttpError('UNAVAILABLE', `No worker could take the match: ${(err as Error).message}`);
    }
    return slot;
  }

  release(slot: WorkerSlot): void {
    slot.reserved--;
    if (slot.load === 0) slot.idleSince ??= this.opts.clock();
  }

  /** The match is now hosted by `slot`. */
  host(slot: WorkerSlot, matchId: string): void {
    slot.matches.add(matchId);
    slot.idleSince = null;
  }

  /** One liveness tick: hung workers fail, idle ones above MIN_WORKERS are suspended. */
  check(): void {
    const now = this.opts.clock();
    for (const action of livenessActions(this.list(), now, this.opts.limits)) {
      const slot = this.slots.get(action.workerId)!;
      if (action.kind === 'hung') this.fail(slot, 'hung', { silentMs: action.silentMs });
      else this.suspend(slot, action.idleMs);
    }
  }

  private spawn(workerId: number, restarts: number): WorkerSlot {
    let slot: WorkerSlot | undefined;
    const proc = this.opts.fork(workerId, {
      message: (raw) => slot && this.onMessage(slot, raw),
      exit: (code, signal) => slot && this.onExit(slot, code, signal),
      storePipeClosed: (reason) => {
        // The worker exits when it loses its store (matchServerWorker.ts); its exit is the failure.
        if (slot && this.isCurrent(slot) && slot.state === 'ready' && slot.proc.isConnected() && !this.stopping) {
          this.opts.log.warn({ workerId, pid: slot.proc.pid, reason }, 'Store channel to a live worker closed');
        }
      },
    });
    slot = new WorkerSlot(workerId, proc, restarts, this.opts.clock(), this.opts.limits.IPC_TIMEOUT_MS);
    this.slots.set(workerId, slot);
    const live = [...this.slots.values()].filter((s) => s.state !== 'dead').length;
    this.opts.log.info({ workerId, pid: proc.pid, totalWorkers: live }, 'Spawned new worker');
    const started = slot;
    setTimeout(() => {
      if (started.state !== 'starting') return;
      this.opts.log.error({ workerId, pid: proc.pid }, 'Worker did not start in time');
      started.markFailed(new Error('worker did not start in time'));
      proc.kill();
    }, STARTUP_TIMEOUT_MS).unref();
    return slot;
  }

  private isCurrent(slot: WorkerSlot): boolean {
    return this.slots.get(slot.workerId) === slot;
  }

  private onMessage(slot: WorkerSlot, raw: unknown): void {
    const parsed = workerToMasterSchema.safeParse(raw);
    if (!parsed.success) {
      this.opts.log.warn({ workerId: slot.workerId, issue: parsed.error.issues[0]?.message }, 'Malformed IPC message from a worker; ignored');
      return;
    }
    const msg = parsed.data;
    // A worker declared dead may still talk (it was hung, not gone): only its replies count.
    const current = this.isCurrent(slot) && slot.state !== 'dead';
    switch (msg.type) {
      case 'reply':
        return slot.requester.settle(msg);
      case 'connectionsClosed':
        this.emit('connectionsClosed', { pid: slot.proc.pid, addrs: msg.addrs });
        return;
      case 'ready':
        if (!current) return;
        slot.state = 'ready';
        slot.lastHeartbeat = this.opts.clock();
        slot.markReady();
        return;
      case 'heartbeat':
        if (!current) return;
        slot.lastHeartbeat = this.opts.clock();
        slot.players = msg.players;
        return;
      case 'matchGone':
        if (!current) return;
        slot.matches.delete(msg.matchId);
        if (slot.load === 0) slot.idleSince = this.opts.clock();
        this.emit('matchGone', { workerId: slot.workerId, matchId: msg.matchId, reason: msg.reason });
        return;
      default: {
        const unreachable: never = msg;
        return unreachable;
      }
    }
  }

  private onExit(slot: WorkerSlot, code: number | null, signal: string | null): void {
    slot.requester.failAll('worker exited');
    this.emit('exited', { pid: slot.proc.pid });
    if (slot.state === 'starting') slot.markFailed(new Error(`worker exited during start-up (code ${code}, signal ${signal})`));
    if (!this.isCurrent(slot)) return; // an earlier incarnation, already replaced
    if (this.stopping) {
      this.slots.delete(slot.workerId);
      return;
    }
    if (slot.state === 'draining') {
      this.slots.delete(slot.workerId);
      this.opts.log.info({ workerId: slot.workerId, pid: slot.proc.pid }, 'Idle worker suspended');
      return;
    }
    if (slot.state === 'dead') return;
    this.fail(slot, 'crash', { code, signal });
  }

  private suspend(slot: WorkerSlot, idleMs: number): void {
    this.opts.log.info({ workerId: slot.workerId, pid: slot.proc.pid, idleMs }, 'Suspending idle worker');
    slot.state = 'draining';
    slot.proc.send({ type: 'shutdown' });
    setTimeout(() => {
      if (!slot.proc.isDead()) slot.proc.kill();
    }, STOP_TIMEOUT_MS).unref();
  }

  /** A worker is gone (exited, or hung): replace it, then report the matches it leaves. */
  private fail(slot: WorkerSlot, reason: 'crash' | 'hung', detail: Record<string, unknown>): void {
    slot.state = 'dead';
    slot.requester.failAll(`worker ${reason}`);
    this.opts.metrics.workerRestarts.inc({ reason });
    const orphaned = [...slot.matches];
    this.opts.log.warn({ workerId: slot.workerId, pid: slot.proc.pid, reason, ...detail, matches: orphaned }, 'Worker died; replacing it');
    if (reason === 'hung') {
      // Its matches move at once; fencing makes any late write from it harmless.
      const kill = () => {
        if (!slot.proc.isDead()) slot.proc.kill();
      };
      if (this.opts.limits.HUNG_WORKER_KILL_DELAY_MS > 0) setTimeout(kill, this.opts.limits.HUNG_WORKER_KILL_DELAY_MS).unref();
      else kill();
    }
    this.spawn(slot.workerId, slot.restarts + 1);
    this.emit('failed', { workerId: slot.workerId, reason, orphaned });
  }
}
