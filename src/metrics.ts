/**
 * Metric definitions. Each process owns one prom-client `Registry` (no global default
 * registry): hosting metrics live wherever matches are hosted (a worker, or the single
 * process), pool metrics in the master. The master merges every worker's registry with its
 * own through prom-client's `AggregatorRegistry.aggregate` (see pool/metricsAggregation.ts).
 *
 * Worker series carry a `worker` label (the worker's slot id). A respawned worker's counters
 * start again at zero; with the label that is an ordinary counter reset of one series,
 * which `rate()` and `increase()` handle, instead of a dip in a cluster-wide sum.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export class HostingMetrics {
  readonly connectedPlayers: Gauge;
  readonly hostedMatches: Gauge;
  readonly messagesIn: Counter;
  readonly messagesOut: Counter;
  readonly answerAckSeconds: Histogram;
  readonly protocolErrors: Counter<'code'>;
  readonly storeWriteSeconds: Histogram;
  readonly storeWriteFailures: Counter<'reason'>;
  readonly storeWrites: Counter<'kind'>;
  readonly eventLoopDelay: Gauge;
  private readonly loopMonitor = monitorEventLoopDelay({ resolution: 10 });
  private load: () => { matches: number; players: number } = () => ({ matches: 0, players: 0 });

  constructor(readonly registry: Registry) {
    // prom-client's process metrics (RSS, heap, CPU, GC), per process through the `worker` label.
    collectDefaultMetrics({ register: registry });
    // Read at scrape time: counting on every join and drop walked every player of every match,
    // O(players²) over a connect ramp.
    this.connectedPlayers = new Gauge({
      name: 'matchserver_connected_players',
      help: 'Players with an open WebSocket',
      registers: [registry],
      collect: () => this.connectedPlayers.set(this.load().players),
    });
    this.hostedMatches = new Gauge({
      name: 'matchserver_hosted_matches',
      help: 'Matches hosted by this process',
      registers: [registry],
      collect: () => this.hostedMatches.set(this.load().matches),
    });
    this.messagesIn = new Counter({
      name: 'matchserver_messages_in_total',
      help: 'WebSocket messages received from clients',
      registers: [registry],
    });
    this.messagesOut = new Counter({
      name: 'matchserver_messages_out_total',
      help: 'WebSocket messages sent to clients',
      registers: [registry],
    });
    this.answerAckSeconds = new Histogram({
      name: 'matchserver_answer_ack_seconds',
      help: 'From receiving an answer to sending its answer_ack (includes the durable store write)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
    this.protocolErrors = new Counter({
      name: 'matchserver_protocol_errors_total',
      help: 'error messages sent to clients, by code',
      labelNames: ['code'],
      registers: [registry],
    });
    this.storeWriteSeconds = new Histogram({
      name: 'matchserver_store_write_seconds',
      help: 'Duration of one match store write (answers appended, or the whole match)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers: [registry],
    });
    this.storeWriteFailures = new Counter({
      name: 'matchserver_store_write_failures_total',
      help: 'Failed match store writes, by reason (fenced = refused for an older owner epoch)',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.storeWrites = new Counter({
      name: 'matchserver_store_writes_total',
      help: 'Match store writes, by kind: answers (only answers, or joins to a big match, changed: appended) or full (the whole match)',
      labelNames: ['kind'],
      registers: [registry],
    });
    this.eventLoopDelay = new Gauge({
      name: 'matchserver_event_loop_delay_seconds',
      help: 'p99 event-loop delay of this process since the previous scrape',
      registers: [registry],
      collect: () => {
        const p99 = this.loopMonitor.percentile(99);
        this.eventLoopDelay.set(Number.isFinite(p99) ? p99 / 1e9 : 0);
        this.loopMonitor.reset();
      },
    });
    this.loopMonitor.enable();
  }

  /** Where the players and matches gauges read their values when scraped. */
  observeLoad(load: () => { matches: number; players: number }): void {
    this.load = load;
  }

  stop(): void {
    this.loopMonitor.disable();
  }
}

export class PoolMetrics {
  readonly activeWorkers: Gauge;
  readonly idleWorkers: Gauge;
  readonly activeMatches: Gauge;
  readonly workerRestarts: Counter<'reason'>;
  readonly matchRestores: Counter<'outcome'>;
  readonly poisonMatches: Counter;
  readonly handoffs: Counter<'outcome'>;
  private counts: () => PoolCounts = () => ({ activeWorkers: 0, idleWorkers: 0, totalMatches: 0 });

  constructor(readonly registry: Registry) {
    // The master's own process metrics; its pool metrics stay unlabelled.
    collectDefaultMetrics({ register: registry, labels: { worker: 'master' } });
    // The gauges are read at scrape time, like the hosting ones: nothing has to remember to
    // update them on each of the pool's many changes.
    this.activeWorkers = new Gauge({
      name: 'matchserver_active_workers',
      help: 'Workers that are up (starting or ready)',
      registers: [registry],
      collect: () => this.activeWorkers.set(this.counts().activeWorkers),
    });
    this.idleWorkers = new Gauge({
      name: 'matchserver_idle_workers',
      help: 'Ready workers hosting no match',
      registers: [registry],
      collect: () => this.idleWorkers.set(this.counts().idleWorkers),
    });
    this.activeMatches = new Gauge({
      name: 'matchserver_active_matches_total',
      help: 'Live matches across the pool (including matches being moved)',
      registers: [registry],
      collect: () => this.activeMatches.set(this.counts().totalMatches),
    });
    this.workerRestarts = new Counter({
      name: 'matchserver_worker_restarts_total',
      help: 'Workers that died unexpectedly and were replaced, by reason',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.matchRestores = new Counter({
      name: 'matchserver_match_restores_total',
      help: 'Matches restored from the store onto a new worker, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.poisonMatches = new Counter({
      name: 'matchserver_poison_matches_total',
      help: 'Matches closed because restoring them kept killing workers',
      registers: [registry],
    });
    this.handoffs = new Counter({
      name: 'matchserver_socket_handoffs_total',
      help: 'WebSocket upgrades routed by the master, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    });
  }

  /** Where the workers and matches gauges read their values when scraped. */
  observePool(counts: () => PoolCounts): void {
    this.counts = counts;
  }
}

/** Several hosts on one Redis (hosts/hostCluster.ts): what crosses between hosts. */
export class ClusterMetrics {
  readonly relays: Counter<'outcome'>;
  readonly peerPlacements: Counter<'outcome'>;
  readonly takeovers: Counter<'outcome'>;
  readonly moves: Counter;
  readonly liveHosts: Gauge;
  private hosts: () => number = () => 0;

  constructor(registry: Registry) {
    this.relays = new Counter({
      name: 'matchserver_relayed_connections_total',
      help: 'WebSocket upgrades for a match owned by another host, relayed to it (or not), by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.peerPlacements = new Counter({
      name: 'matchserver_peer_placements_total',
      help: 'Matches this host had no room for, placed on another host (or not), by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.takeovers = new Counter({
      name: 'matchserver_match_takeovers_total',
      help: 'Matches of a dead host (or of this host before it restarted) claimed here, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.moves = new Counter({
      name: 'matchserver_matches_moved_total',
      help: 'Matches this host moved to another host (a drain, or a move asked for), once the other host served them',
      registers: [registry],
    });
    this.liveHosts = new Gauge({
      name: 'matchserver_live_hosts',
      help: 'Hosts with a live lease in Redis, as this host last saw them',
      registers: [registry],
      collect: () => this.liveHosts.set(this.hosts()),
    });
  }

  observeHosts(count: () => number): void {
    this.hosts = count;
  }
}

export interface PoolCounts {
  activeWorkers: number;
  idleWorkers: number;
  totalMatches: number;
}

/**
 * What the match service as a whole holds and may hold, in both architectures (the master's
 * registry, or the single process's): the dashboard's capacity panel and the capacity alert
 * read these. `matchserver_matches` counts the same live matches as the seed's
 * `matchserver_active_matches_total` (kept: its name is part of the seed's contract), under a
 * name that is right for a gauge, and exists in the single process too. The limit is a gauge
 * of its own rather than a label value, so `sum()` over either stays meaningful.
 */
export class ServiceMetrics {
  readonly matches: Gauge;
  readonly matchesCapacity: Gauge;
  readonly buildInfo: Gauge<'version' | 'node_version' | 'architecture'>;
  private load: () => { matches: number; capacity: number } = () => ({ matches: 0, capacity: 0 });

  constructor(registry: Registry, build: { version: string; architecture: 'single' | 'pool' }) {
    this.matches = new Gauge({
      name: 'matchserver_matches',
      help: 'Live matches on this match service (lobby, running, finished but not yet freed, or moving)',
      registers: [registry],
      collect: () => this.matches.set(this.load().matches),
    });
    this.matchesCapacity = new Gauge({
      name: 'matchserver_matches_capacity',
      help: 'Most matches this match service may hold at once (pool: MAX_WORKERS x MAX_MATCHES)',
      registers: [registry],
      collect: () => this.matchesCapacity.set(this.load().capacity),
    });
    this.buildInfo = new Gauge({
      name: 'matchserver_build_info',
      help: 'Always 1; its labels say which build runs: package version, Node.js version, architecture',
      labelNames: ['version', 'node_version', 'architecture'],
      registers: [registry],
    });
    this.buildInfo.set({ version: build.version, node_version: process.version, architecture: build.architecture }, 1);
  }

  /** Where the matches and capacity gauges read their values when scraped. */
  observe(load: () => { matches: number; capacity: number }): void {
    this.load = load;
  }
}

/** The package's version, read from package.json next to `src/` or `dist/`. */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '..', 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
