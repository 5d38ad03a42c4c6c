/**
 * The worker pool: forks `node:cluster` workers, places matches on them (cluster/placement),
 * routes each player's socket to the owning worker, watches heartbeats, suspends idle
 * workers, and when a worker dies replaces it and restores its matches from the store on
 * live workers. The master (matchServerMaster.ts) serves HTTP on top of it.
 *
 * Worker ids are slots 1..N: a replacement keeps its predecessor's id (and counts a restart),
 * a newly needed worker takes the lowest free id, so "worker 1" is always the first one.
 */
import cluster, { type Worker } from 'node:cluster';
import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { WebSocketServer } from 'ws';
import { allowedOrigins, type Config } from './config';
import type { Logger } from './log';
import type { PoolMetrics } from './metrics';
import { newMatchId } from './matchIds';
import { HttpError, CLOSE, CLOSE_REASONS } from './protocol/errors';
import type { MatchSettings } from './quiz/engine';
import type { Quiz } from './quiz/quizzes';
import { MemoryMatchStore } from './store/memoryStore';
import type { MatchStore } from './store/store';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoff } from './backoff';
import type { MatchInfo } from './hosting/matchHost';
import { checkUpgrade, refuseUpgrade } from './http/upgradeResponses';
import type { MatchSummary, WorkerStatsEntry } from './http/matchService';
import { IpcError, IpcRequester, type MasterRequest, type MasterRequestResults, type MasterToWorker, type WorkerToMaster } from './cluster/ipc';
import { nextWorkerId, place } from './cluster/placement';
import { HeldUpgrades } from './cluster/heldUpgrades';
import { handOffSocket } from './cluster/socketHandoff';
import { STORE_CHANNEL_FD, STORE_CHANNEL_STDIO, serveStoreChannel } from './cluster/storeBridge';

export type WorkerState = 'starting' | 'ready' | 'draining' | 'dead';

/** How long a freshly forked worker may take to say `ready` (ts-node compiles on first start). */
const STARTUP_TIMEOUT_MS = 30_000;
/** Owner deaths closer together than this (since the last restore) count towards poison. */
const POISON_WINDOW_MS = 60_000;
const RESTORE_ATTEMPTS = 8;
const STOP_TIMEOUT_MS = 5000;
const METRICS_TIMEOUT_MS = 1000;
const TOMBSTONE_TTL_MS = 10 * 60_000;

class WorkerSlot {
  state: WorkerState = 'starting';
  readonly matches = new Set<string>();
  /** Matches placed here whose creation or restore is still under way. */
  reserved = 0;
  players = 0;
  readonly startedAt = Date.now();
  lastHeartbeat = Date.now();
  idleSince: number | null = Date.now();
  readonly requester: IpcRequester;
  readonly ready: Promise<void>;
  markReady!: () => void;
  markFailed!: (err: Error) => void;

  constructor(
    readonly workerId: number,
    readonly worker: Worker,
    readonly restarts: number,
    ipcTimeoutMs: number,
  ) {
    // worker.send() returns false under backpressure but still delivers; only a closed
    // channel loses the message.
    this.requester = new IpcRequester((msg) => {
      if (!worker.isConnected()) return false;
      worker.send(msg);
      return true;
    }, ipcTimeoutMs);
    this.ready = new Promise<void>((resolve, reject) => {
      this.markReady = resolve;
      this.markFailed = reject;
    });
    // Nobody may be waiting; an unobserved failure must not crash the master.
    this.ready.catch(() => {});
  }

  get pid(): number {
    return this.worker.process.pid ?? 0;
  }

  get load(): number {
    return this.matches.size + this.reserved;
  }
}

interface RoutedMatch {
  matchId: string;
  workerId: number | null;
  state: 'creating' | 'active' | 'moving';
  /** Owner deaths in a row, each soon after the match was restored. */
  ownerDeaths: number;
  restoredAt: number | null;
}

export interface PoolDeps {
  config: Config;
  store: MatchStore;
  storeKind: 'memory' | 'redis';
  log: Logger;
  metrics: PoolMetrics;
  registry: Registry;
}

export class MatchWorkerPool {
  private readonly slots = new Map<number, WorkerSlot>();
  private readonly routes = new Map<string, RoutedMatch>();
  private readonly tombstones = new Map<string, { reason: string; at: number }>();
  private readonly closer = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
  private readonly origins;
  private readonly held: HeldUpgrades;
  private monitor: NodeJS.Timeout | null = null;
  private stopping = false;
  private readonly config: Config;
  private readonly log: Logger;

  constructor(private readonly deps: PoolDeps) {
    this.config = deps.config;
    this.log = deps.log;
    this.origins = allowedOrigins(deps.config);
    this.held = new HeldUpgrades({
      maxWaitMs: deps.config.UPGRADE_HOLD_MS,
      // Every player and the host, with room for a few stale connections.
      maxPerMatch: deps.config.MAX_PLAYERS + 20,
      expired: (_matchId, u) => {
        this.deps.metrics.handoffs.inc({ outcome: 'moving' });
        refuseUpgrade(u.socket, 'MATCH_MOVING');
      },
    });
    const dev = path.extname(__filename) === '.ts';
    cluster.setupPrimary({
      exec: path.join(__dirname, 'cluster', dev ? 'worker.ts' : 'worker.js'),
      // Under ts-node-dev, a worker that inherited the master's hooks would ask the cluster
      // master to compile for it and spin forever; a plain register hook compiles in-process.
      execArgv: [...(dev ? ['-r', 'ts-node/register/transpile-only'] : []), ...deps.config.WORKER_EXEC_ARGV.split(/\s+/).filter(Boolean)],
      // The embedded store gets a pipe of its own next to the IPC channel (cluster/storeBridge.ts).
      ...(deps.store instanceof MemoryMatchStore ? { stdio: [...STORE_CHANNEL_STDIO] } : {}),
    });
  }

  // ---- lifecycle -------------------------------------------------------------------

  /** Forks MIN_WORKERS, then (with a persistent store) takes back the matches it holds. */
  async start(): Promise<void> {
    const first = Array.from({ length: this.config.MIN_WORKERS }, () => this.spawn(nextWorkerId(this.slots.keys()), 0));
    await Promise.all(first.map((s) => this.waitReady(s)));
    this.monitor = setInterval(() => this.checkWorkers(), Math.min(this.config.HEARTBEAT_INTERVAL_MS, 1000));
    await this.recoverFromStore();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.monitor) clearInterval(this.monitor);
    this.held.dropAll();
    const slots = [...this.slots.values()].filter((s) => !s.worker.isDead());
    for (const slot of slots) this.sendTo(slot, { type: 'shutdown' });
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (Date.now() < deadline && slots.some((s) => !s.worker.isDead())) await sleep(25);
    for (const slot of slots) if (!slot.worker.isDead()) slot.worker.process.kill('SIGKILL');
    this.closer.close();
  }

  // ---- matches ---------------------------------------------------------------------

  async createMatch(quiz: Quiz, settings: MatchSettings, requestId?: string): Promise<{ matchId: string; hostToken: string; workerId: number }> {
    const slot = await this.reserveSlot();
    const matchId = newMatchId((id) => this.routes.has(id) || this.tombstones.has(id));
    const route: RoutedMatch = { matchId, workerId: slot.workerId, state: 'creating', ownerDeaths: 0, restoredAt: null };
    this.routes.set(matchId, route);
    try {
      const { hostToken } = await this.request(slot, { type: 'createMatch', matchId, quiz, settings, requestId });
      slot.matches.add(matchId);
      slot.idleSince = null;
      route.state = 'active';
      this.routeHeld(matchId);
      this.log.info({ matchId, workerId: slot.workerId, workerMatches: slot.matches.size, reqId: requestId }, 'Match assigned to worker');
      return { matchId, hostToken, workerId: slot.workerId };
    } catch (err) {
      this.routes.delete(matchId);
      this.routeHeld(matchId);
      this.log.warn({ matchId, workerId: slot.workerId, err: (err as Error).message, reqId: requestId }, 'Match creation failed');
      throw new HttpError('UNAVAILABLE', 'Could not create the match right now; try again.');
    } finally {
      slot.reserved--;
      this.updateGauges();
    }
  }

  async matchInfo(matchId: string): Promise<MatchSummary | null> {
    const route = this.routes.get(matchId);
    if (!route) return null;
    const slot = route.workerId === null ? undefined : this.slots.get(route.workerId);
    if (route.state === 'active' && slot) {
      try {
        const info = await this.request(slot, { type: 'matchInfo', matchId }, 2000);
        if (info) return { ...info, workerId: slot.workerId };
      } catch {
        // Fall back to the stored state below.
      }
    }
    const stored = await this.deps.store.load(matchId).catch(() => null);
    if (!stored) return null;
    const s = stored.snapshot;
    const status = s.phase === 'lobby' ? 'lobby' : s.phase === 'finished' || s.phase === 'closed' ? 'finished' : 'running';
    return {
      matchId,
      status,
      players: s.players.length,
      workerId: route.workerId,
      quiz: { title: s.quiz.title, questionCount: s.quiz.questions.length },
    };
  }

  // ---- socket routing --------------------------------------------------------------

  /** The master's `upgrade` handler: find the owner and hand it the socket itself. */
  routeUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const outcome = (o: string) => this.deps.metrics.handoffs.inc({ outcome: o });
    const check = checkUpgrade(req, socket, this.origins);
    if (!check.ok) return (outcome(check.refusal === 'FORBIDDEN_ORIGIN' ? 'forbidden' : 'not_found'), refuseUpgrade(socket, check.refusal));
    const matchId = check.matchId;
    const tomb = this.tombstones.get(matchId);
    if (tomb) return (outcome('closed'), this.answerClosed(req, socket, head, tomb.reason));
    const route = this.routes.get(matchId);
    if (!route) return (outcome('not_found'), refuseUpgrade(socket, 'NOT_FOUND'));
    const slot = route.workerId === null ? undefined : this.slots.get(route.workerId);
    const heartbeatLate = slot !== undefined && Date.now() - slot.lastHeartbeat > 2 * this.config.HEARTBEAT_INTERVAL_MS + 500;
    const mayHold = route.state !== 'active' && !this.stopping && this.config.UPGRADE_HOLD_MS > 0;
    if (mayHold && this.held.hold(matchId, { req, socket, head })) {
      // Being created or restored: it is back in well under a second, usually.
      return outcome('held');
    }
    if (route.state !== 'active' || !slot || slot.state !== 'ready' || heartbeatLate || !(socket instanceof Socket)) {
      // Moving between owners, or the owner looks stuck: a hand-off would queue behind it.
      outcome('moving');
      return refuseUpgrade(socket, 'MATCH_MOVING');
    }
    outcome('handed_off');
    const msg: MasterToWorker = {
      type: 'upgrade',
      matchId,
      request: { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers },
      head: head.toString('base64'),
    };
    handOffSocket(slot.worker, socket, msg, this.config.IPC_TIMEOUT_MS).catch((err: Error) => {
      outcome('failed');
      this.log.warn({ matchId, workerId: slot.workerId, err: err.message }, 'Socket hand-off failed');
    });
  }

  /** The match settled (restored, created, or gone): upgrades that waited for it go on. */
  private routeHeld(matchId: string): void {
    for (const u of this.held.release(matchId)) {
      // Called from the middle of create/restore: a failure here must cost this socket only.
      try {
        this.routeUpgrade(u.req, u.socket, u.head);
      } catch (err) {
        this.log.warn({ matchId, err: (err as Error).message }, 'A held upgrade could not be routed');
        u.socket.destroy();
      }
    }
  }

  /** A match closed for good has no worker; the master itself tells its players why. */
  private answerClosed(req: IncomingMessage, socket: Duplex, head: Buffer, reason: string): void {
    this.closer.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => {});
      ws.send(JSON.stringify({ type: 'match_closed', reason }));
      ws.close(CLOSE.MATCH_CLOSED, CLOSE_REASONS[CLOSE.MATCH_CLOSED]);
    });
  }

  // ---- operators' view -------------------------------------------------------------

  workerStats(): WorkerStatsEntry[] {
    const now = Date.now();
    return [...this.slots.values()]
      .sort((a, b) => a.workerId - b.workerId)
      .map((s) => ({
        workerId: s.workerId,
        pid: s.pid,
        state: s.state,
        matches: [...s.matches],
        players: s.players,
        uptimeMs: now - s.startedAt,
        restarts: s.restarts,
      }));
  }

  counts(): { totalWorkers: number; activeWorkers: number; idleWorkers: number; totalMatches: number } {
    const live = [...this.slots.values()].filter((s) => s.state !== 'dead');
    return {
      totalWorkers: live.length,
      activeWorkers: live.filter((s) => s.state === 'ready' || s.state === 'starting').length,
      idleWorkers: live.filter((s) => s.state === 'ready' && s.load === 0).length,
      totalMatches: this.routes.size,
    };
  }

  /**
   * Prometheus text for the master and every worker. Each worker is asked with its own short
   * timeout, so a stuck worker costs its own series, never the scrape (prom-client's
   * `clusterMetrics()` fails the whole scrape after 5 s, and leaves the master out).
   */
  async metrics(): Promise<{ contentType: string; body: string }> {
    type MetricsJson = Parameters<typeof AggregatorRegistry.aggregate>[0][number];
    const ready = [...this.slots.values()].filter((s) => s.state === 'ready' || s.state === 'draining');
    const answers = await Promise.all(
      ready.map((s) => this.request(s, { type: 'metrics' }, METRICS_TIMEOUT_MS).catch(() => null)),
    );
    const missing = answers.filter((a) => a === null).length;
    const own = await this.deps.registry.getMetricsAsJSON();
    const parts: MetricsJson[] = [own as unknown as MetricsJson, ...answers.flatMap((a) => (a ? [a as unknown as MetricsJson] : []))];
    const merged = AggregatorRegistry.aggregate(parts);
    let body = await merged.metrics();
    body += `# HELP matchserver_metrics_missing_workers Workers that did not answer this scrape in time\n# TYPE matchserver_metrics_missing_workers gauge\nmatchserver_metrics_missing_workers ${missing}\n`;
    return { contentType: merged.contentType, body };
  }

  // ---- workers ---------------------------------------------------------------------

  private spawn(workerId: number, restarts: number): WorkerSlot {
    const worker = cluster.fork({ WORKER_ID: String(workerId) });
    const slot = new WorkerSlot(workerId, worker, restarts, this.config.IPC_TIMEOUT_MS);
    this.slots.set(workerId, slot);
    worker.on('message', (msg: WorkerToMaster) => this.onMessage(slot, msg));
    worker.on('exit', (code, signal) => this.onExit(slot, code, signal));
    worker.on('error', (err) => this.log.warn({ workerId, err: err.message }, 'Worker IPC error'));
    const storeStream = worker.process.stdio[STORE_CHANNEL_FD];
    if (this.deps.store instanceof MemoryMatchStore) {
      if (!(storeStream instanceof Socket)) throw new Error('a worker was forked without its store channel');
      // A worker declared dead may still write (it was hung, not gone): fencing refuses it.
      serveStoreChannel(storeStream, this.deps.store, this.log.child({ component: 'store', workerId }), (reason) => {
        // The worker exits when it loses its store (cluster/worker.ts); its exit is the failure.
        if (this.slots.get(workerId) === slot && slot.state === 'ready' && worker.isConnected() && !this.stopping) {
          this.log.warn({ workerId, pid: slot.pid, reason }, 'Store channel to a live worker closed');
        }
      });
    }
    const live = [...this.slots.values()].filter((s) => s.state !== 'dead').length;
    this.log.info({ workerId, pid: worker.process.pid, totalWorkers: live }, 'Spawned new worker');
    const startTimer = setTimeout(() => {
      if (slot.state === 'starting') {
        this.log.error({ workerId, pid: slot.pid }, 'Worker did not start in time');
        slot.markFailed(new Error('worker did not start in time'));
        worker.process.kill('SIGKILL');
      }
    }, STARTUP_TIMEOUT_MS);
    startTimer.unref();
    this.updateGauges();
    return slot;
  }

  private onMessage(slot: WorkerSlot, msg: WorkerToMaster): void {
    // A worker declared dead may still talk (it was hung, not gone): it is not listened to.
    const current = this.slots.get(slot.workerId) === slot && slot.state !== 'dead';
    switch (msg.type) {
      case 'ready':
        if (!current) return;
        slot.state = 'ready';
        slot.lastHeartbeat = Date.now();
        slot.markReady();
        this.updateGauges();
        return;
      case 'heartbeat':
        if (!current) return;
        slot.lastHeartbeat = Date.now();
        slot.players = msg.players;
        return;
      case 'matchGone':
        if (current) this.onMatchGone(slot, msg.matchId, msg.reason);
        return;
      case 'reply':
        slot.requester.settle(msg);
        return;
      default: {
        const unreachable: never = msg;
        this.log.warn({ msg: unreachable }, 'Unknown IPC message from worker');
      }
    }
  }

  private onMatchGone(slot: WorkerSlot, matchId: string, reason: 'over' | 'fenced' | 'shutdown'): void {
    slot.matches.delete(matchId);
    if (slot.load === 0) slot.idleSince = Date.now();
    const route = this.routes.get(matchId);
    if (reason === 'over' && route?.workerId === slot.workerId) {
      this.routes.delete(matchId);
      this.log.info({ matchId, workerId: slot.workerId, workerMatches: slot.matches.size }, 'Match ended; slot freed');
    }
    this.updateGauges();
  }

  private onExit(slot: WorkerSlot, code: number | null, signal: string | null): void {
    slot.requester.failAll('worker exited');
    if (slot.state === 'starting') slot.markFailed(new Error(`worker exited during start-up (code ${code}, signal ${signal})`));
    if (this.slots.get(slot.workerId) !== slot) return; // an earlier incarnation, already replaced
    if (this.stopping) {
      this.slots.delete(slot.workerId);
      return;
    }
    if (slot.state === 'draining') {
      this.slots.delete(slot.workerId);
      this.log.info({ workerId: slot.workerId, pid: slot.pid }, 'Idle worker suspended');
      this.updateGauges();
      return;
    }
    if (slot.state === 'dead') return;
    this.workerFailed(slot, 'crash', { code, signal });
  }

  /** Heartbeats (hung workers) and idle suspension, once per tick. */
  private checkWorkers(): void {
    const now = Date.now();
    for (const slot of [...this.slots.values()]) {
      if (slot.state === 'ready' && now - slot.lastHeartbeat > this.config.HEARTBEAT_TIMEOUT_MS) {
        this.workerFailed(slot, 'hung', { silentMs: now - slot.lastHeartbeat });
      }
    }
    this.suspendIdleWorkers(now);
    for (const [id, t] of this.tombstones) if (now - t.at > TOMBSTONE_TTL_MS) this.tombstones.delete(id);
  }

  private suspendIdleWorkers(now: number): void {
    const live = [...this.slots.values()]
      .filter((s) => s.state === 'ready' || s.state === 'starting')
      .sort((a, b) => a.workerId - b.workerId);
    // The MIN_WORKERS lowest ids always stay (worker 1 first), whichever went idle first.
    for (const slot of live.slice(this.config.MIN_WORKERS)) {
      if (slot.state !== 'ready') continue;
      if (slot.load > 0 || slot.idleSince === null || now - slot.idleSince < this.config.WORKER_IDLE_TIMEOUT_MS) continue;
      this.log.info({ workerId: slot.workerId, pid: slot.pid, idleMs: now - slot.idleSince }, 'Suspending idle worker');
      slot.state = 'draining';
      this.sendTo(slot, { type: 'shutdown' });
      setTimeout(() => {
        if (!slot.worker.isDead()) slot.worker.process.kill('SIGKILL');
      }, STOP_TIMEOUT_MS).unref();
      this.updateGauges();
    }
  }

  /** A worker is gone (exited, or hung): replace it and move its matches to live workers. */
  private workerFailed(slot: WorkerSlot, reason: 'crash' | 'hung', detail: Record<string, unknown>): void {
    slot.state = 'dead';
    slot.requester.failAll(`worker ${reason}`);
    this.deps.metrics.workerRestarts.inc({ reason });
    const orphaned = [...slot.matches];
    this.log.warn({ workerId: slot.workerId, pid: slot.pid, reason, ...detail, matches: orphaned }, 'Worker died; replacing it');
    if (reason === 'hung') {
      // Its matches move at once; fencing makes any late write from it harmless.
      const kill = () => {
        if (!slot.worker.isDead()) slot.worker.process.kill('SIGKILL');
      };
      if (this.config.HUNG_WORKER_KILL_DELAY_MS > 0) setTimeout(kill, this.config.HUNG_WORKER_KILL_DELAY_MS).unref();
      else kill();
    }
    for (const matchId of orphaned) {
      const route = this.routes.get(matchId);
      if (!route) continue;
      route.state = 'moving';
      route.workerId = null;
      route.ownerDeaths = route.restoredAt !== null && Date.now() - route.restoredAt < POISON_WINDOW_MS ? route.ownerDeaths + 1 : 1;
    }
    this.spawn(slot.workerId, slot.restarts + 1);
    for (const matchId of orphaned) void this.reassign(matchId);
  }

  private async reassign(matchId: string): Promise<void> {
    for (let attempt = 1; attempt <= RESTORE_ATTEMPTS && !this.stopping; attempt++) {
      const route = this.routes.get(matchId);
      if (!route) return;
      if (route.ownerDeaths >= this.config.POISON_RESTORE_LIMIT) {
        return this.closePoison(matchId, `its worker died ${route.ownerDeaths} times in a row`);
      }
      let slot: WorkerSlot | undefined;
      try {
        slot = await this.reserveSlot();
        const claimed = await this.deps.store.claim(matchId);
        if (!claimed) {
          this.routes.delete(matchId);
          this.routeHeld(matchId);
          this.log.info({ matchId }, 'Match to restore is no longer in the store');
          return;
        }
        await this.request(slot, { type: 'restoreMatch', matchId, epoch: claimed.epoch });
        slot.matches.add(matchId);
        slot.idleSince = null;
        route.workerId = slot.workerId;
        route.state = 'active';
        route.restoredAt = Date.now();
        this.deps.metrics.matchRestores.inc({ outcome: 'ok' });
        this.log.info({ matchId, workerId: slot.workerId, epoch: claimed.epoch, attempt }, 'Match restored on worker');
        this.routeHeld(matchId);
        return;
      } catch (err) {
        this.deps.metrics.matchRestores.inc({ outcome: 'retry' });
        // The worker died while restoring it: that counts as one more owner death.
        if (err instanceof IpcError && err.code === 'IPC_CLOSED') route.ownerDeaths++;
        const delay = backoff(attempt, 200, 5000);
        this.log.warn({ matchId, attempt, err: (err as Error).message, retryInMs: delay }, 'Match restore failed; retrying');
        await sleep(delay);
      } finally {
        if (slot) slot.reserved--;
        this.updateGauges();
      }
    }
    if (!this.stopping) await this.closePoison(matchId, 'it could not be restored');
  }

  private async closePoison(matchId: string, why: string): Promise<void> {
    this.routes.delete(matchId);
    const reason = 'This match could not be kept running and was closed.';
    this.tombstones.set(matchId, { reason, at: Date.now() });
    this.routeHeld(matchId);
    this.deps.metrics.poisonMatches.inc();
    this.deps.metrics.matchRestores.inc({ outcome: 'poison' });
    this.log.error({ matchId, why }, 'Closing poison match');
    try {
      const claimed = await this.deps.store.claim(matchId);
      if (claimed) await this.deps.store.remove(matchId, claimed.epoch);
    } catch (err) {
      this.log.warn({ matchId, err: (err as Error).message }, 'Could not remove a poison match from the store');
    }
    this.updateGauges();
  }

  /** With Redis, a restarted master finds the live matches and serves them again. */
  private async recoverFromStore(): Promise<void> {
    if (this.deps.storeKind !== 'redis') return;
    const ids = await this.deps.store.liveMatchIds();
    if (ids.length === 0) return;
    this.log.info({ matches: ids.length }, 'Recovering live matches from the store');
    for (const matchId of ids) this.routes.set(matchId, { matchId, workerId: null, state: 'moving', ownerDeaths: 0, restoredAt: null });
    this.updateGauges();
    for (const matchId of ids) void this.reassign(matchId);
  }

  /** Picks a worker by the placement policy (forking if it says so) and reserves a place. */
  private async reserveSlot(): Promise<WorkerSlot> {
    const decision = place(
      [...this.slots.values()].map((s) => ({
        workerId: s.workerId,
        matches: s.load,
        accepting: s.state === 'starting' || s.state === 'ready',
      })),
      this.config.PLACEMENT,
      { maxMatchesPerWorker: this.config.MAX_MATCHES, maxWorkers: this.config.MAX_WORKERS },
    );
    if (decision.kind === 'full') {
      throw new HttpError('CAPACITY');
    }
    const slot = decision.kind === 'fork' ? this.spawn(nextWorkerId(this.slots.keys()), 0) : this.slots.get(decision.workerId)!;
    slot.reserved++;
    slot.idleSince = null;
    try {
      await this.waitReady(slot);
    } catch (err) {
      slot.reserved--;
      throw new HttpError('UNAVAILABLE', `No worker could take the match: ${(err as Error).message}`);
    }
    return slot;
  }

  private waitReady(slot: WorkerSlot): Promise<void> {
    return slot.ready;
  }

  private request<K extends MasterRequest['type']>(
    slot: WorkerSlot,
    msg: Extract<MasterRequest, { type: K }>,
    timeoutMs?: number,
  ): Promise<MasterRequestResults[K]> {
    return slot.requester.request<MasterRequestResults[K]>(msg, timeoutMs);
  }

  private sendTo(slot: WorkerSlot, msg: MasterToWorker): void {
    if (!slot.worker.isConnected()) return;
    try {
      slot.worker.send(msg);
    } catch (err) {
      this.log.debug({ workerId: slot.workerId, err: (err as Error).message }, 'IPC send failed');
    }
  }

  private updateGauges(): void {
    const c = this.counts();
    this.deps.metrics.activeWorkers.set(c.activeWorkers);
    this.deps.metrics.idleWorkers.set(c.idleWorkers);
    this.deps.metrics.activeMatches.set(c.totalMatches);
  }
}

export type { MatchInfo };
