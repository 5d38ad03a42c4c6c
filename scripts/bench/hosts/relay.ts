/**
 * Relayed vs direct: one match at a time, always created on host A (its owner); its players
 * connect either to A itself (direct) or to B, which relays each upgrade to A as a byte pipe
 * (relayed). The two alternate within every round, and which goes first alternates between
 * rounds, so drift on a shared machine hits both. Per player: upgrade → `welcome` (from the
 * moment its connect begins: TCP, HTTP upgrade, and the join's round trip) and answer →
 * `answer_ack` for every question. The clients run in this process (scripts/lib MatchRun).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type HistogramSummary, LatencyHistogram } from '../../lib/histogram';
import type { MatchClient } from '../../lib/matchClient';
import { MatchRun } from '../../lib/matchRun';
import { descendants } from '../../lib/processTree';
import { generateQuiz } from '../../lib/quizGen';
import { LoadStats } from '../../lib/stats';
import { Semaphore, parseDistribution } from '../../lib/util';
import { CpuWindow } from '../cpuWindow';
import { ratioCell } from '../reportFormat';
import { ratio } from '../results';
import { waitDrained } from '../servers';
import type { HostsOptions } from './args';
import { type Host, createOn } from './cluster';

export type Via = 'direct' | 'relayed';
export const VIAS: readonly Via[] = ['direct', 'relayed'];

export const RELAY = {
  questionTimeSec: 20,
  /** Answers spread over the question (it closes once everybody answered). */
  answerTime: 'uniform:200-2000',
  connectTimeoutMs: 60_000,
  /** Beyond the questions themselves, for connects, reveals and leaderboards. */
  matchSlackMs: 30_000,
  /** Players of the untimed warm-up match each way (fewer when --players is smaller). */
  warmupPlayers: 20,
};

export interface RelayRun {
  round: number;
  via: Via;
  /** 1 or 2: played first or second in its round. */
  order: number;
  matchId: string | null;
  players: number;
  joined: number;
  /** Every player joined, every answer was acked, the match finished. */
  complete: boolean;
  /** Player's connect begins → its `welcome`. */
  upgradeToWelcomeMs: HistogramSummary;
  /** new WebSocket() → open (TCP and the HTTP upgrade only). */
  handshakeMs: HistogramSummary;
  ackMs: HistogramSummary;
  answersSent: number;
  answersAcked: number;
  errors: Record<string, number>;
  /** Busy % (per core) of the machine just before the run, and how long it waited for that. */
  busyBeforePct: number;
  quietWaitMs: number;
  /** Busy % of the machine over the run, the part no benchmark process used, and redis-server's. */
  machineCpuPct: number;
  otherCpuPct: number;
  redisCpuPct: number;
  wallMs: number;
  note: string | null;
}

export interface RelayPooled {
  runs: number;
  players: number;
  upgradeToWelcomeMs: HistogramSummary;
  handshakeMs: HistogramSummary;
  ackMs: HistogramSummary;
}

export interface RelayResult {
  settings: Record<string, unknown>;
  runs: RelayRun[];
  /** Every run of a configuration pooled into one distribution. */
  pooled: Record<Via, RelayPooled>;
  /** relayed / direct of the pooled figures, and the same within each round. */
  ratios: Record<'connectP50' | 'connectP99' | 'ackP50' | 'ackP99', { pooled: number; perRound: number[] }>;
}

export interface RelayContext {
  a: Host;
  b: Host;
  redisPid: number;
  opts: HostsOptions;
  progress(line: string): void;
  aborted(): boolean;
  /** Waits (bounded) for the machine to calm down; the reading before the run. */
  quietGate(): Promise<{ busyPct: number; waitedMs: number }>;
}

interface Histograms {
  connect: LatencyHistogram;
  handshake: LatencyHistogram;
  ack: LatencyHistogram;
}

interface RunSpec {
  /** 0: the warm-up. */
  round: number;
  via: Via;
  order: number;
  players: number;
  questions: number;
}

/** One match; its figures are added to `into` (the warm-up's to nothing). */
async function oneRun(ctx: RelayContext, spec: RunSpec, into: Histograms | null): Promise<RelayRun> {
  const { a, b, opts } = ctx;
  const { round, via, order, players, questions } = spec;
  const quiet = round > 0 ? await ctx.quietGate() : { busyPct: Number.NaN, waitedMs: 0 };
  const t0 = Date.now();
  const stats = new LoadStats();
  stats.playersExpected = players;
  const connect = new LatencyHistogram();
  const startedAt = new Map<MatchClient, number>();
  const answerTime = parseDistribution(RELAY.answerTime);
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const run = new MatchRun({
    index: round,
    httpBase: a.server.url,
    wsBase: via === 'direct' ? a.ws : b.ws,
    players,
    quiz: { inline: generateQuiz(questions, RELAY.questionTimeSec) },
    answerDelayMs: () => answerTime.sample(),
    correctRatio: 0.7,
    stats,
    connectLimiter: new Semaphore(opts.connectConcurrency),
    connectTimeoutMs: 10_000,
    onPlayerConnecting: (c) => startedAt.set(c, performance.now()),
    onPlayerWelcome: (c, _msg, resumed, at) => {
      const t = startedAt.get(c);
      if (!resumed && t !== undefined) connect.record(at - t);
    },
    onDone: () => finished(),
  });
  const pids = () => [...descendants(a.server.child.id.pid), b.server.child.id, ...descendants(b.server.child.id.pid)].map((d) => d.pid);
  let cpu: CpuWindow | null = null;
  let note: string | null = null;
  let matchId: string | null = null;
  try {
    matchId = (await createOn(a, run)).matchId;
    cpu = new CpuWindow(a.server.child.id.pid, pids, [ctx.redisPid]);
    const connected = await Promise.race([run.connectAll().then(() => true), sleep(RELAY.connectTimeoutMs).then(() => false)]);
    if (!connected) throw new Error(`players did not connect within ${RELAY.connectTimeoutMs / 1000} s`);
    const limitMs = questions * RELAY.questionTimeSec * 1000 + RELAY.matchSlackMs;
    if (!(await Promise.race([done.then(() => true), sleep(limitMs).then(() => false)]))) throw new Error(`match not over within ${limitMs / 1000} s`);
  } catch (err) {
    note = (err as Error).message;
  } finally {
    await run.stop();
  }
  const usage = cpu?.close() ?? { machinePct: Number.NaN, otherPct: Number.NaN, extraPct: [Number.NaN] };
  into?.connect.add(connect);
  into?.handshake.add(stats.handshake);
  into?.ack.add(stats.ack);
  const joined = stats.playersJoined;
  return {
    round,
    via,
    order,
    matchId,
    players,
    joined,
    complete: note === null && run.finished && joined === players && stats.answersAcked === stats.answersSent && stats.answersSent > 0,
    upgradeToWelcomeMs: connect.summary(),
    handshakeMs: stats.handshake.summary(),
    ackMs: stats.ack.summary(),
    answersSent: stats.answersSent,
    answersAcked: stats.answersAcked,
    errors: stats.errorsByCode(),
    busyBeforePct: quiet.busyPct,
    quietWaitMs: quiet.waitedMs,
    machineCpuPct: usage.machinePct,
    otherCpuPct: usage.otherPct,
    redisCpuPct: usage.extraPct[0] ?? Number.NaN,
    wallMs: Date.now() - t0,
    note,
  };
}

export async function relayVsDirect(ctx: RelayContext): Promise<RelayResult> {
  const { opts } = ctx;
  const hist: Record<Via, Histograms> = {
    direct: { connect: new LatencyHistogram(), handshake: new LatencyHistogram(), ack: new LatencyHistogram() },
    relayed: { connect: new LatencyHistogram(), handshake: new LatencyHistogram(), ack: new LatencyHistogram() },
  };
  const runs: RelayRun[] = [];
  // Untimed: the first connections, relays and matches of a fresh process run cold code.
  for (const via of VIAS) {
    const w = await oneRun(ctx, { round: 0, via, order: 0, players: Math.min(opts.players, RELAY.warmupPlayers), questions: 1 }, null);
    if (!w.complete) ctx.progress(`relay warm-up ${via}: incomplete${w.note ? ` (${w.note})` : ''}`);
    if (!(await waitDrained(ctx.a.server, 10_000))) ctx.progress('relay: A still hosts a match 10 s after the warm-up');
  }
  for (let round = 1; round <= opts.rounds && !ctx.aborted(); round++) {
    const order: Via[] = round % 2 === 1 ? ['direct', 'relayed'] : ['relayed', 'direct'];
    for (const [i, via] of order.entries()) {
      if (ctx.aborted()) break;
      const r = await oneRun(ctx, { round, via, order: i + 1, players: opts.players, questions: opts.questions }, hist[via]);
      runs.push(r);
      const u = r.upgradeToWelcomeMs;
      ctx.progress(
        `relay round ${round}/${opts.rounds} ${via.padEnd(7)}: joined ${r.joined}/${r.players}, upgrade→welcome p50 ${u.p50.toFixed(1)} p99 ${u.p99.toFixed(1)} ms, ` +
          `ack p50 ${r.ackMs.p50.toFixed(2)} p99 ${r.ackMs.p99.toFixed(2)} ms (${r.answersAcked}/${r.answersSent}), other CPU ${r.otherCpuPct} % ` +
          `(${(r.wallMs / 1000).toFixed(1)} s)${r.note ? `  NOTE ${r.note}` : ''}`,
      );
      // The finished match leaves A after FINISH_GRACE_MS; the next one starts from empty.
      if (!(await waitDrained(ctx.a.server, 10_000))) ctx.progress('relay: A still hosts a match 10 s after the run');
    }
  }
  const pooled = (via: Via): RelayPooled => ({
    runs: runs.filter((r) => r.via === via).length,
    players: runs.filter((r) => r.via === via).reduce((n, r) => n + r.joined, 0),
    upgradeToWelcomeMs: hist[via].connect.summary(),
    handshakeMs: hist[via].handshake.summary(),
    ackMs: hist[via].ack.summary(),
  });
  const p = { direct: pooled('direct'), relayed: pooled('relayed') };
  const perRound = (f: (r: RelayRun) => number) => {
    const out: number[] = [];
    for (let round = 1; round <= opts.rounds; round++) {
      const d = runs.find((r) => r.round === round && r.via === 'direct');
      const rl = runs.find((r) => r.round === round && r.via === 'relayed');
      if (d && rl) out.push(ratio(f(rl), f(d)));
    }
    return out;
  };
  const both = (pooledOf: (x: RelayPooled) => number, runOf: (r: RelayRun) => number) => ({ pooled: ratio(pooledOf(p.relayed), pooledOf(p.direct)), perRound: perRound(runOf) });
  return {
    settings: { ...RELAY, players: opts.players, rounds: opts.rounds, questions: opts.questions, connectConcurrency: opts.connectConcurrency },
    runs,
    pooled: p,
    ratios: {
      connectP50: both((x) => x.upgradeToWelcomeMs.p50, (r) => r.upgradeToWelcomeMs.p50),
      connectP99: both((x) => x.upgradeToWelcomeMs.p99, (r) => r.upgradeToWelcomeMs.p99),
      ackP50: both((x) => x.ackMs.p50, (r) => r.ackMs.p50),
      ackP99: both((x) => x.ackMs.p99, (r) => r.ackMs.p99),
    },
  };
}

/** The pooled ratio, then the median and range of the per-round ones. */
export function ratioText(x: { pooled: number; perRound: number[] }): string {
  const pooled = Number.isFinite(x.pooled) ? x.pooled.toFixed(2) : '–';
  return x.perRound.length < 2 ? pooled : `${pooled}; per round ${ratioCell(x.perRound)}`;
}
