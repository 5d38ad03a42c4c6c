/**
 * What the benchmark records: one `RunRecord` per load-generator run (figures pulled out of
 * its LoadSummary, processes told apart), one `CrashKill` per worker kill, and the small
 * statistics the report needs (median over reps, ratios within a rep).
 */
import type { LoadSummary } from '../lib/report';
import type { ProcSummary } from '../lib/procSampler';
import type { SweepName } from './args';
import type { LogDigest } from './servers';
import type { MachineInfo } from './machine';
import type { PeerStatus } from './peer';
import type { WatchResult } from './watch';

export interface ProcFigures {
  pid: number;
  cpuAvgPct: number;
  cpuMaxPct: number;
  rssMaxMiB: number;
}

export interface RunRecord {
  sweep: SweepName;
  /** single, pool, pool+redis, floor, colyseus */
  server: string;
  rep: number;
  matches: number;
  playersPerMatch: number;
  /** Players asked for (hosts not counted). */
  players: number;
  serverEnv: Record<string, string>;
  loadCommand: string;
  outcome: string | null;
  error: string | null;
  /** Every player joined, nobody failed, every match finished. */
  complete: boolean;
  wallMs: number;
  elapsedMs: number;
  joined: number;
  answersSent: number;
  answersAcked: number;
  ackP50: number;
  ackP99: number;
  fanoutP99: number;
  /** The same once every player had joined (load generator's "ramp done"). */
  ackP99AfterRamp: number;
  fanoutP99AfterRamp: number;
  /** Answers acknowledged per second of the load run (whole run, connect phase included). */
  ackedPerSec: number;
  /** The process the benchmark spawned: pool master, single process or floor server. */
  main: ProcFigures | null;
  workers: ProcFigures[];
  loadgen: ProcFigures | null;
  /** Sum over the server's processes. */
  serverCpuAvgPct: number;
  serverRssMaxMiB: number;
  /** RSS of the server's processes just before the run. */
  serverRssIdleMiB: number;
  /** (peak − idle RSS of the server's processes) / joined players. */
  rssPerPlayerKiB: number | null;
  /** Busy % (per core) of the whole machine during the run, and the part no benchmark process used. */
  machineCpuPct: number;
  otherCpuPct: number;
  /** CPU % of redis-server over the run, when the server used one. */
  redisCpuPct: number | null;
  /** Machine busy % just before the run (nothing of the benchmark loaded), and how long it waited for quiet. */
  busyBeforePct: number;
  quietWaitMs: number;
  /** From GET /workers/stats once a second during the run (see watch.ts). */
  watch: WatchResult;
  /** Load generator start → every player connected (ms), from the watch; null if never seen. */
  connectRampMs: number | null;
  /** Answers acknowledged per second after every player was connected (upper estimate, see report). */
  ackedPerSecAfterRamp: number | null;
  errors: Record<string, number>;
  summary: LoadSummary | null;
}

export interface CrashKill {
  kill: number;
  players: number;
  matches: number;
  workerPid: number;
  /** performance.now() delta from the SIGKILL to each resumed player's welcome. */
  resumeMs: number[];
  neverResumed: number;
  /** Answers that had been acknowledged before the kill. */
  ackedBeforeKill: number;
  errors: Record<string, number>;
  note: string | null;
}

export interface ServerLog {
  sweep: SweepName;
  server: string;
  digest: LogDigest;
}

export interface BenchResults {
  machine: MachineInfo;
  options: { quick: boolean; reps: number; only: SweepName[] };
  settings: Record<SweepName, Record<string, unknown>>;
  runs: RunRecord[];
  crash: CrashKill[];
  logs: ServerLog[];
  /** Rooms of the floor size that completed against the floor server and the pool (null: none did). */
  floorRooms: number | null;
  /** The Colyseus peer of the floor sweep (null: the floor sweep did not run). */
  peer: PeerStatus | null;
  notes: string[];
  totalMs: number;
}

function figures(p: ProcSummary | undefined): ProcFigures | null {
  return p ? { pid: p.pid, cpuAvgPct: p.cpuAvgPct, cpuMaxPct: p.cpuMaxPct, rssMaxMiB: p.rssMaxMiB } : null;
}

export interface RunContext {
  sweep: SweepName;
  server: string;
  rep: number;
  matches: number;
  playersPerMatch: number;
  serverEnv: Record<string, string>;
  loadCommand: string;
  mainPid: number;
  idleRssMiB: number;
  wallMs: number;
  error: string | null;
  cpu: { machinePct: number; otherPct: number; redisPct: number | null };
  quiet: { busyPct: number; waitedMs: number };
  watch: WatchResult;
}

/** Pulls the figures the report uses out of one load-generator summary. */
export function toRecord(c: RunContext, s: LoadSummary | null): RunRecord {
  const procs = s?.processes ?? [];
  const main = procs.find((p) => p.pid === c.mainPid);
  const loadgen = procs.find((p) => p.label === 'loadgen');
  const workers = procs.filter((p) => p !== main && p !== loadgen);
  const server = [main, ...workers].filter((p): p is ProcSummary => p !== undefined);
  const cpu = server.reduce((a, p) => a + p.cpuAvgPct, 0);
  const rss = server.reduce((a, p) => a + p.rssMaxMiB, 0);
  const joined = s?.players.joined ?? 0;
  const players = c.matches * c.playersPerMatch;
  // The watch starts when the load generator is spawned; its own clock starts after ts-node
  // has loaded, about (wall − elapsed) later.
  const startup = s ? Math.max(0, c.wallMs - s.elapsedMs) : 0;
  const ramp = c.watch.allConnectedAfterMs === null ? null : Math.max(0, c.watch.allConnectedAfterMs - startup);
  return {
    sweep: c.sweep,
    server: c.server,
    rep: c.rep,
    matches: c.matches,
    playersPerMatch: c.playersPerMatch,
    players,
    serverEnv: c.serverEnv,
    loadCommand: c.loadCommand,
    outcome: s?.outcome ?? null,
    error: c.error,
    complete: s !== null && s.outcome === 'finished' && joined === players && s.players.failed === 0 && s.matches.finished === c.matches,
    wallMs: c.wallMs,
    elapsedMs: s?.elapsedMs ?? 0,
    joined,
    answersSent: s?.answers.sent ?? 0,
    answersAcked: s?.answers.acked ?? 0,
    ackP50: s?.latency.ackMs.p50 ?? Number.NaN,
    ackP99: s?.latency.ackMs.p99 ?? Number.NaN,
    fanoutP99: s?.latency.fanoutMs.p99 ?? Number.NaN,
    ackP99AfterRamp: afterRamp(s?.latency.ackAfterRampMs),
    fanoutP99AfterRamp: afterRamp(s?.latency.fanoutAfterRampMs),
    ackedPerSec: s && s.elapsedMs > 0 ? (s.answers.acked * 1000) / s.elapsedMs : 0,
    main: figures(main),
    workers: workers.map((w) => figures(w)!),
    loadgen: figures(loadgen),
    serverCpuAvgPct: round1(cpu),
    serverRssMaxMiB: round1(rss),
    serverRssIdleMiB: round1(c.idleRssMiB),
    rssPerPlayerKiB: joined > 0 && server.length > 0 ? Math.round(((rss - c.idleRssMiB) * 1024) / joined) : null,
    machineCpuPct: c.cpu.machinePct,
    otherCpuPct: c.cpu.otherPct,
    redisCpuPct: c.cpu.redisPct,
    busyBeforePct: c.quiet.busyPct,
    quietWaitMs: c.quiet.waitedMs,
    watch: c.watch,
    connectRampMs: ramp,
    ackedPerSecAfterRamp: s && ramp !== null && s.elapsedMs - ramp > 0 ? (s.answers.acked * 1000) / (s.elapsedMs - ramp) : null,
    errors: s?.errors ?? {},
    summary: s,
  };
}

export function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

/** Median of the finite values; NaN when there are none. */
export function median(values: number[]): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** a / b, NaN when b is not positive (e.g. a fan-out of 0 ms at millisecond resolution). */
export function ratio(a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : Number.NaN;
}

/** Nearest-rank percentile of raw values (for the crash sweep's per-player times). */
export function percentile(values: number[], q: number): number {
  const v = [...values].sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))]!;
}

/** Adds `b`'s error counts into `a`. */
export function addErrors(a: Record<string, number>, b: Record<string, number>): void {
  for (const [k, v] of Object.entries(b)) a[k] = (a[k] ?? 0) + v;
}

/** p99 of an after-ramp histogram; NaN when nothing was recorded (or an older summary). */
function afterRamp(h: { count: number; p99: number } | undefined): number {
  return h && h.count > 0 ? h.p99 : Number.NaN;
}
