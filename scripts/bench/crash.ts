/**
 * Crash sweep: 3 matches × 50 players on one pool worker, long questions; once every player
 * has the first question, the worker is SIGKILLed and each player's time from the kill to
 * the `welcome` that answers its `resume` is measured. Fresh pool and matches per kill.
 *
 * The players run in this process (scripts/lib MatchRun/MatchClient, which reconnect and
 * resume by themselves), so the kill and every welcome are timed on one clock.
 */
import { performance } from 'node:perf_hooks';
import { MatchRun } from '../lib/matchRun';
import { fetchWorkerStats } from '../lib/matchServiceApi';
import type { MatchClient } from '../lib/matchClient';
import { generateQuiz } from '../lib/quizGen';
import { LoadStats } from '../lib/stats';
import { setTimeout as sleep } from 'node:timers/promises';
import { Semaphore, parseDistribution, waitUntil } from '../lib/util';
import { descendants, signalProc } from '../lib/processTree';
import { type CrashKill, percentile } from './results';
import { type Server, startMatchServer, stopServer } from './servers';
import type { SweepContext } from './sweeps';

export const CRASH = {
  full: { kills: 3, matches: 3, players: 50 },
  quick: { kills: 1, matches: 3, players: 5 },
  questions: 2,
  questionTimeSec: 120,
  /** Players answer late, so the question is still open at the kill. */
  answerTime: 'uniform:1000-90000',
  /** Kill this long after every player received the first question. */
  killAfterMs: 1500,
  /** Give up waiting for resumes after this. */
  resumeTimeoutMs: 30_000,
  env: { MAX_WORKERS: '2', MAX_MATCHES: '3', MAX_PLAYERS: '100' },
};

export function crashSettings(quick: boolean): Record<string, unknown> {
  const { full: _full, quick: _quick, ...common } = CRASH;
  return { ...common, ...(quick ? CRASH.quick : CRASH.full) };
}

async function oneKill(ctx: SweepContext, kill: number, size: { matches: number; players: number }): Promise<CrashKill> {
  const stats = new LoadStats();
  const limiter = new Semaphore(50);
  const answerTime = parseDistribution(CRASH.answerTime);
  const quiz = generateQuiz(CRASH.questions, CRASH.questionTimeSec);
  const resumedAfter = new Map<MatchClient, number>();
  let killAt: number | null = null;
  let pool: Server | null = null;
  const runs: MatchRun[] = [];
  const result: CrashKill = {
    kill,
    players: size.matches * size.players,
    matches: size.matches,
    workerPid: 0,
    resumeMs: [],
    neverResumed: 0,
    ackedBeforeKill: 0,
    errors: {},
    note: null,
  };
  try {
    pool = await startMatchServer('pool', { outDir: ctx.opts.outDir, env: CRASH.env });
    const url = pool.url;
    for (let m = 0; m < size.matches; m++) {
      runs.push(
        new MatchRun({
          index: m,
          httpBase: url,
          wsBase: url.replace(/^http/, 'ws'),
          players: size.players,
          quiz: { inline: quiz },
          answerDelayMs: () => answerTime.sample(),
          correctRatio: 0.7,
          stats,
          connectLimiter: limiter,
          onPlayerWelcome: (client, _msg, resumed, at) => {
            if (resumed && killAt !== null && !resumedAfter.has(client)) resumedAfter.set(client, at - killAt);
          },
        }),
      );
    }
    for (const r of runs) await r.create();
    const connected = await Promise.race([Promise.all(runs.map((r) => r.connectAll())).then(() => true), sleep(30_000).then(() => false)]);
    if (!connected) throw new Error('players did not connect within 30 s');
    const everyone = size.matches * size.players;
    if (!(await waitUntil(() => stats.questionsReceived >= everyone, 20_000))) {
      throw new Error(`only ${stats.questionsReceived}/${everyone} players received the first question within 20 s`);
    }
    await sleep(CRASH.killAfterMs);

    const owners = (await fetchWorkerStats(pool.url)).workers.filter((w) => w.matches.length > 0);
    if (owners.length !== 1) result.note = `matches were on ${owners.length} workers; killed the first`;
    const owner = owners[0];
    const victim = owner ? descendants(pool.child.id.pid).find((d) => d.pid === owner.pid) : undefined;
    if (!owner || !victim) throw new Error('could not find the worker that owns the matches among the master\'s children');
    result.workerPid = owner.pid;
    result.ackedBeforeKill = stats.answersAcked;
    killAt = performance.now();
    signalProc(victim, 'SIGKILL');

    const joined = runs.reduce((a, r) => a + r.players.filter((p) => p.token !== null).length, 0);
    await waitUntil(() => resumedAfter.size >= joined || runs.every((r) => r.players.every((p) => p.phase === 'done' || resumedAfter.has(p))), CRASH.resumeTimeoutMs, 50);
    result.resumeMs = [...resumedAfter.values()].map((v) => Math.round(v * 10) / 10);
    result.neverResumed = everyone - resumedAfter.size;
    result.errors = stats.errorsByCode();
  } catch (err) {
    result.note = (err as Error).message;
    result.neverResumed = result.players - resumedAfter.size;
  } finally {
    await Promise.all(runs.map((r) => r.stop()));
    if (pool) ctx.results.logs.push({ sweep: 'crash', server: `pool (kill ${kill})`, digest: await stopServer(pool) });
  }
  return result;
}

export async function crashSweep(ctx: SweepContext): Promise<void> {
  const size = ctx.opts.quick ? CRASH.quick : CRASH.full;
  for (let kill = 1; kill <= size.kills && !ctx.aborted(); kill++) {
    const t0 = Date.now();
    const r = await oneKill(ctx, kill, size);
    ctx.results.crash.push(r);
    const p = (q: number) => (r.resumeMs.length > 0 ? percentile(r.resumeMs, q).toFixed(0) : '–');
    ctx.progress(
      `crash kill ${kill}/${size.kills} worker ${r.workerPid}: resumed ${r.resumeMs.length}/${r.players} ` +
        `p50 ${p(0.5)} p99 ${p(0.99)} max ${p(1)} ms, never ${r.neverResumed} (${((Date.now() - t0) / 1000).toFixed(1)} s)` +
        (r.note ? `  NOTE ${r.note}` : ''),
    );
  }
}
