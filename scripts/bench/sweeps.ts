/**
 * The three sweeps that drive servers with the load generator: seed (single process vs pool
 * on the seed's small table), heavy (many players on one worker, memory and Redis store) and
 * floor (the bare-`ws` floor server, the Colyseus peer and the pool on the same
 * 1-question-per-second pattern). Each measured run is one spawn of scripts/loadtest.ts (of
 * the peer's own driver for the peer); see `measure`.
 */
import { fetchWorkerStats } from '../lib/matchServiceApi';
import { ProcSampler } from '../lib/procSampler';
import type { BenchOptions, SweepName } from './args';
import { descendants } from '../lib/processTree';
import { children } from './children';
import { type LoadRequest, runLoad } from './loadgen';
import { ensurePeer, startColyseusServer } from './peer';
import { CpuWindow } from './cpuWindow';
import { ServerWatch } from './watch';
import { type BenchResults, type RunRecord, toRecord } from './results';
import {
  type Redis,
  type Server,
  startFloorServer,
  startMatchServer,
  startRedis,
  stopServer,
  waitDrained,
} from './servers';

export interface SweepContext {
  opts: BenchOptions;
  results: BenchResults;
  progress(line: string): void;
  aborted(): boolean;
  /** Waits (bounded) for other processes on the machine to calm down before a run. */
  quietGate(): Promise<{ busyPct: number; waitedMs: number }>;
}

type LoadShape = Omit<LoadRequest, 'url' | 'masterPid' | 'matches'>;

// ---- settings ------------------------------------------------------------------------------

/** The seed's table: tiny matches, short phases; the pool with the seed's defaults. */
export const SEED = {
  full: { sizes: [1, 2, 4, 6, 8, 10, 12], load: { players: 2, questions: 3, questionTimeSec: 5, answerTime: 'uniform:100-1000', durationSec: 60 } },
  quick: { sizes: [1, 3], load: { players: 2, questions: 1, questionTimeSec: 5, answerTime: 'uniform:100-1000', durationSec: 30 } },
  env: { REVEAL_MS: '500', LEADERBOARD_MS: '500' },
  poolEnv: { MAX_WORKERS: '4', MAX_MATCHES: '3' },
};

/** Many players on one worker at a realistic cadence; Redis at the largest size. */
export const HEAVY = {
  full: {
    sizes: [2, 10, 40, 100],
    load: { players: 50, questions: 2, questionTimeSec: 10, answerTime: 'uniform:500-5000', durationSec: 240, connectConcurrency: 200 },
    env: { REVEAL_MS: '2000', LEADERBOARD_MS: '2000' },
  },
  quick: {
    sizes: [2],
    load: { players: 10, questions: 1, questionTimeSec: 5, answerTime: 'uniform:100-1000', durationSec: 40, connectConcurrency: 200 },
    env: { REVEAL_MS: '200', LEADERBOARD_MS: '200' },
  },
  env: { MAX_WORKERS: '1', MAX_MATCHES: '200', MAX_PLAYERS: '100' },
  ackThresholdMs: 10,
};

/**
 * Rooms of 10, about one question per second per room, every answer within 500 ms: 5 s
 * questions at time scale 0.2 (= 1 s; they close as soon as all 10 answered), then 250 ms
 * reveal and 250 ms leaderboard. The pool's REVEAL_MS/LEADERBOARD_MS are scaled by
 * MATCH_TIME_SCALE, the floor server's are not.
 */
export const FLOOR = {
  full: { ladder: [500, 250, 100], load: { players: 10, questions: 12, questionTimeSec: 5, answerTime: 'uniform:0-500', durationSec: 150, connectConcurrency: 500 } },
  quick: { ladder: [20], load: { players: 10, questions: 3, questionTimeSec: 5, answerTime: 'uniform:0-500', durationSec: 40, connectConcurrency: 500 } },
  timeScale: 0.2,
  phaseMs: 250,
  poolEnv: { MAX_WORKERS: '1', MAX_MATCHES: '500', MAX_PLAYERS: '100', MATCH_TIME_SCALE: '0.2', REVEAL_MS: '1250', LEADERBOARD_MS: '1250' },
  floorFlags: ['--time-scale', '0.2', '--reveal-ms', '250', '--leaderboard-ms', '250', '--finish-grace-ms', '1000'],
};

/** The floor sweep's sizes and load: the ladder, or exactly `--floor-clients`. */
function floorPlan(opts: Pick<BenchOptions, 'quick' | 'floorClients'>): (typeof FLOOR)['full'] {
  const s = opts.quick ? FLOOR.quick : FLOOR.full;
  return opts.floorClients === null ? s : { ...s, ladder: [opts.floorClients / s.load.players] };
}

export function sweepSettings(opts: Pick<BenchOptions, 'quick' | 'floorClients'>): Record<Exclude<SweepName, 'crash'>, Record<string, unknown>> {
  const mode = opts.quick ? 'quick' : 'full';
  return {
    seed: { ...SEED[mode], env: SEED.env, poolEnv: SEED.poolEnv },
    heavy: { ...HEAVY[mode], env: { ...HEAVY.env, ...HEAVY[mode].env }, ackThresholdMs: HEAVY.ackThresholdMs },
    floor: { ...floorPlan(opts), poolEnv: FLOOR.poolEnv, floorFlags: FLOOR.floorFlags },
  };
}

// ---- one measured run ----------------------------------------------------------------------

/** Pids of the server: the spawned process plus the workers it lists. */
async function serverPids(s: Server): Promise<number[]> {
  const pids = new Set([s.child.id.pid]);
  try {
    for (const w of (await fetchWorkerStats(s.url)).workers) if (typeof w.pid === 'number') pids.add(w.pid);
  } catch {
    // the spawned process alone
  }
  return [...pids];
}

async function idleRssMiB(s: Server): Promise<number> {
  const sampler = new ProcSampler();
  sampler.add((await serverPids(s)).map((pid) => ({ pid, label: String(pid) })));
  return sampler.summary().reduce((a, p) => a + p.rssLastMiB, 0);
}

function fmt(v: number, digits = 1): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '–';
}

function progressLine(r: RunRecord, reps: number): string {
  const size = `${r.matches}×${r.playersPerMatch}`;
  const status = r.error ? `  ERROR ${r.error.slice(0, 120)}` : r.complete ? '' : `  INCOMPLETE (${r.outcome}, joined ${r.joined}/${r.players})`;
  return (
    `${r.sweep.padEnd(5)} rep ${r.rep}/${reps} ${r.server.padEnd(10)} ${size.padStart(7)}  ` +
    `ack p50 ${fmt(r.ackP50, 2)} p99 ${fmt(r.ackP99, 2)} ms  fan-out p99 ${fmt(r.fanoutP99, 0)} ms  ` +
    `acked ${r.answersAcked}/${r.answersSent}  cpu server ${fmt(r.serverCpuAvgPct, 0)}% loadgen ${fmt(r.loadgen?.cpuAvgPct ?? Number.NaN, 0)}% other ${fmt(r.otherCpuPct, 0)}%  ` +
    `(${(r.wallMs / 1000).toFixed(1)} s)${status}`
  );
}

async function measure(
  ctx: SweepContext,
  server: Server,
  sweep: SweepName,
  rep: number,
  matches: number,
  load: LoadShape,
  redis: Redis | null = null,
): Promise<RunRecord> {
  if (!(await waitDrained(server))) ctx.results.notes.push(`${sweep} rep ${rep}: ${server.label} still hosted matches of the previous run after 15 s.`);
  const idle = await idleRssMiB(server);
  const quiet = await ctx.quietGate();
  const mainPid = server.child.id.pid;
  const cpu = new CpuWindow(mainPid, () => descendants(mainPid).map((d) => d.pid), redis ? [redis.child.id.pid] : []);
  const watch = new ServerWatch(server, matches * load.players);
  const res = await runLoad({ ...load, matches, url: server.url, masterPid: mainPid, ...(server.driver ? { driver: server.driver } : {}) });
  const watched = watch.stop();
  const cpuUse = cpu.close();
  children.noteFamily(server.child);
  const record = toRecord(
    {
      sweep,
      server: server.label,
      rep,
      matches,
      playersPerMatch: load.players,
      serverEnv: server.env,
      loadCommand: res.command,
      mainPid: server.child.id.pid,
      idleRssMiB: idle,
      wallMs: res.wallMs,
      error: res.error,
      cpu: { machinePct: cpuUse.machinePct, otherPct: cpuUse.otherPct, redisPct: redis ? (cpuUse.extraPct[0] ?? null) : null },
      quiet,
      watch: watched,
    },
    res.summary,
  );
  ctx.results.runs.push(record);
  ctx.progress(progressLine(record, ctx.opts.reps));
  return record;
}

/**
 * Stops servers (in parallel) and keeps the match servers' log digests for the report
 * (redis-server's own start-up lines are not findings).
 */
async function stopAll(ctx: SweepContext, sweep: SweepName, servers: Array<Server | Redis | null>, labels: string[]): Promise<void> {
  await Promise.all(
    servers.map(async (s, i) => {
      if (!s) return;
      const digest = await stopServer(s);
      if ('kind' in s) ctx.results.logs.push({ sweep, server: labels[i] ?? '?', digest });
    }),
  );
}

// ---- sweeps --------------------------------------------------------------------------------

/** Seed table: every size against the single process and the pool, fresh servers per rep. */
export async function seedSweep(ctx: SweepContext): Promise<void> {
  const s = ctx.opts.quick ? SEED.quick : SEED.full;
  for (let rep = 1; rep <= ctx.opts.reps && !ctx.aborted(); rep++) {
    let single: Server | null = null;
    let pool: Server | null = null;
    try {
      single = await startMatchServer('single', { outDir: ctx.opts.outDir, env: SEED.env });
      pool = await startMatchServer('pool', { outDir: ctx.opts.outDir, env: { ...SEED.env, ...SEED.poolEnv } });
      for (const size of s.sizes) {
        // Alternate who goes first so slow drift of the machine does not favour one side.
        const order = rep % 2 === 1 ? [single, pool] : [pool, single];
        for (const server of order) {
          if (ctx.aborted()) break;
          await measure(ctx, server, 'seed', rep, size, s.load);
        }
      }
    } finally {
      await stopAll(ctx, 'seed', [single, pool], [`single (rep ${rep})`, `pool (rep ${rep})`]);
    }
  }
}

/** Heavy: one worker, 50 players per match, fresh pool (and Redis) per run for clean RSS. */
export async function heavySweep(ctx: SweepContext): Promise<void> {
  const s = ctx.opts.quick ? HEAVY.quick : HEAVY.full;
  const largest = Math.max(...s.sizes);
  const configs = [...s.sizes.map((m) => ({ matches: m, redis: false })), { matches: largest, redis: true }];
  const env = { ...HEAVY.env, ...s.env };
  for (let rep = 1; rep <= ctx.opts.reps && !ctx.aborted(); rep++) {
    for (const c of configs) {
      if (ctx.aborted()) break;
      let redis: Redis | null = null;
      let pool: Server | null = null;
      const label = c.redis ? 'pool+redis' : 'pool';
      try {
        if (c.redis) redis = await startRedis(ctx.opts.outDir);
        pool = await startMatchServer('pool', { outDir: ctx.opts.outDir, label, env: { ...env, ...(redis ? { REDIS_URL: redis.url } : {}) } });
        await measure(ctx, pool, 'heavy', rep, c.matches, s.load, redis);
      } finally {
        await stopAll(ctx, 'heavy', [pool, redis], [`${label} ${c.matches}×${s.load.players} (rep ${rep})`]);
      }
    }
  }
}

/**
 * Floor: the floor server, the Colyseus peer (when its dependencies could be installed) and the
 * pool on the same pattern, one after the other for each size and rep. The largest size of the
 * ladder where the floor server and the pool connected every client is measured `reps` times;
 * failed sizes are noted. The peer does not move the ladder: an incomplete peer run is shown
 * as such beside the other two.
 */
export async function floorSweep(ctx: SweepContext): Promise<void> {
  const s = floorPlan(ctx.opts);
  const peer = await ensurePeer(ctx.progress);
  ctx.results.peer = peer;
  if (!peer.ok) {
    ctx.results.notes.push(`floor: Colyseus peer skipped: ${peer.install}.`);
    ctx.progress(`colyseus peer skipped: ${peer.install}`);
  }
  type Kind = 'floor' | 'colyseus' | 'pool';
  const kinds: Kind[] = peer.ok ? ['floor', 'colyseus', 'pool'] : ['floor', 'pool'];
  const start = (kind: Kind): Promise<Server> => {
    const o = { outDir: ctx.opts.outDir };
    if (kind === 'floor') return startFloorServer(FLOOR.floorFlags, o);
    if (kind === 'colyseus') return startColyseusServer(FLOOR.floorFlags, o);
    // Room for every match of the largest size measured (one worker holds them all).
    return startMatchServer('pool', { ...o, env: { ...FLOOR.poolEnv, MAX_MATCHES: String(Math.max(Number(FLOOR.poolEnv.MAX_MATCHES), ...s.ladder)) } });
  };
  const runOne = async (kind: Kind, rep: number, rooms: number): Promise<RunRecord> => {
    let server: Server | null = null;
    try {
      server = await start(kind);
      return await measure(ctx, server, 'floor', rep, rooms, s.load);
    } finally {
      await stopAll(ctx, 'floor', [server], [`${kind} ${rooms}×${s.load.players} (rep ${rep})`]);
    }
  };

  for (const rooms of s.ladder) {
    if (ctx.aborted()) return;
    const first = [];
    for (const kind of kinds) first.push(await runOne(kind, 1, rooms));
    const failed = first.filter((r) => !r.complete);
    const why = (rs: RunRecord[]) => rs.map((r) => `${r.server}: ${r.error ?? r.outcome}, joined ${r.joined}/${r.players}`).join('; ');
    if (failed.some((r) => r.server !== 'colyseus')) {
      ctx.results.notes.push(`floor: ${rooms * s.load.players} clients did not complete (${why(failed)}); trying a smaller size.`);
      continue;
    }
    if (failed.length > 0) ctx.results.notes.push(`floor: the Colyseus peer did not complete ${rooms * s.load.players} clients (${why(failed)}).`);
    ctx.results.floorRooms = rooms;
    for (let rep = 2; rep <= ctx.opts.reps && !ctx.aborted(); rep++) {
      // Alternate the order between reps, as in the seed sweep (the peer stays in the middle).
      for (const kind of rep % 2 === 1 ? kinds : [...kinds].reverse()) await runOne(kind, rep, rooms);
    }
    return;
  }
  ctx.results.notes.push('floor: no size of the ladder completed against both the floor server and the pool.');
}
