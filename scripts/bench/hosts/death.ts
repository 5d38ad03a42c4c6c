/**
 * A host's death: a match on host A with every player connected, either through B (each
 * socket a relay pipe to A) or to A itself. Once every player has the first question (long,
 * with answers spread over it, so it is still open), A's master and worker get SIGKILL at
 * once. B takes the match over once A's lease has run out; the players reconnect with
 * `resume` (the retrying client: OUTLIVE_RESTARTS; players on A move to B's address when A
 * refuses the connection). Measured from the kill: B's "Match restored on worker" (the
 * line's own time, B's clock = this machine's) and each player's resumed `welcome`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { requestJson } from '../../lib/http';
import type { MatchClient } from '../../lib/matchClient';
import { endMatches } from '../../lib/matchCloser';
import { MatchRun } from '../../lib/matchRun';
import { generateQuiz } from '../../lib/quizGen';
import { OUTLIVE_RESTARTS } from '../../lib/retryPolicy';
import { LoadStats } from '../../lib/stats';
import { Semaphore, parseDistribution, waitUntil } from '../../lib/util';
import type { CreatedMatch } from '../../lib/wire';
import { percentile } from '../results';
import type { HostsOptions } from './args';
import { type Host, type Kill, type LeaseReader, createOn, killHost } from './cluster';

/** relayed: players connected through B; direct: connected to A, failing over to B. */
export type DeathVia = 'relayed' | 'direct';

export const DEATH = {
  questions: 2,
  questionTimeSec: 120,
  answerTime: 'uniform:1000-90000',
  /** Kill this long after every player received the first question. */
  killAfterMs: 1500,
  /** Waits for the takeover and the resumes: the lease plus this. */
  slackMs: 30_000,
};

export interface DeathRun {
  via: DeathVia;
  matchId: string | null;
  players: number;
  joined: number;
  leaseMs: number;
  /** What A's lease key still had to live right after the kill (Redis PTTL). */
  leaseLeftAtKillMs: number | null;
  killedPids: number[];
  /** Kill → B's "Match restored on worker" for this match; null if never seen. */
  takeoverMs: number | null;
  /** Per resumed player: kill → its resumed `welcome` (ms, this process' clock). */
  resumeMs: number[];
  neverResumed: number;
  /** Players whose client ended up on B's address (the direct run fails over). */
  onBAfter: number;
  /** The match's owner after the takeover, as B answers GET /matches/:id. */
  ownerAfter: string | null;
  ackedBeforeKill: number;
  errors: Record<string, number>;
  /** Busy % (per core) of the machine just before the run, and how long it waited for that. */
  busyBeforePct: number;
  quietWaitMs: number;
  note: string | null;
}

export interface DeathContext {
  /** Host A (the victim); it is dead when `oneDeath` returns. */
  a: Host;
  b: Host;
  lease: LeaseReader;
  opts: HostsOptions;
  progress(line: string): void;
  quietGate(): Promise<{ busyPct: number; waitedMs: number }>;
}

export async function oneDeath(ctx: DeathContext, via: DeathVia): Promise<DeathRun> {
  const { a, b, opts } = ctx;
  const stats = new LoadStats();
  const answerTime = parseDistribution(DEATH.answerTime);
  const resumedAfter = new Map<MatchClient, number>();
  let kill: Kill | null = null;
  const run = new MatchRun({
    index: 0,
    httpBase: a.server.url,
    wsBase: via === 'relayed' ? b.ws : a.ws,
    ...(via === 'direct' ? { alternateWsBases: [b.ws] } : {}),
    retry: OUTLIVE_RESTARTS,
    players: opts.players,
    quiz: { inline: generateQuiz(DEATH.questions, DEATH.questionTimeSec) },
    answerDelayMs: () => answerTime.sample(),
    correctRatio: 0.7,
    stats,
    connectLimiter: new Semaphore(opts.connectConcurrency),
    onPlayerWelcome: (client, _msg, resumed, at) => {
      if (resumed && kill !== null && !resumedAfter.has(client)) resumedAfter.set(client, at - kill.at);
    },
  });
  const quiet = await ctx.quietGate();
  const result: DeathRun = {
    via,
    matchId: null,
    players: opts.players,
    joined: 0,
    leaseMs: opts.leaseMs,
    leaseLeftAtKillMs: null,
    killedPids: [],
    takeoverMs: null,
    resumeMs: [],
    neverResumed: opts.players,
    onBAfter: 0,
    ownerAfter: null,
    ackedBeforeKill: 0,
    errors: {},
    busyBeforePct: quiet.busyPct,
    quietWaitMs: quiet.waitedMs,
    note: null,
  };
  let created: CreatedMatch | null = null;
  try {
    created = await createOn(a, run);
    result.matchId = created.matchId;
    const connected = await Promise.race([run.connectAll().then(() => true), sleep(60_000).then(() => false)]);
    if (!connected) throw new Error('players did not connect within 60 s');
    result.joined = run.players.filter((p) => p.token !== null).length;
    if (!(await waitUntil(() => stats.questionsReceived >= result.joined, 20_000))) {
      throw new Error(`only ${stats.questionsReceived}/${result.joined} players received the first question within 20 s`);
    }
    await sleep(DEATH.killAfterMs);
    result.ackedBeforeKill = stats.answersAcked;

    kill = await killHost(a, ctx.lease);
    result.killedPids = kill.pids;
    result.leaseLeftAtKillMs = kill.leaseLeftMs;
    const matchId = created.matchId;
    const waitMs = opts.leaseMs + DEATH.slackMs;
    const restored = b.log.waitFor((r) => r.msg === 'Match restored on worker' && r.matchId === matchId, waitMs);
    const everyone = () => run.players.every((p) => p.token === null || p.phase === 'done' || resumedAfter.has(p));
    await waitUntil(everyone, waitMs, 50);
    const line = await restored;
    if (line) result.takeoverMs = line.time - kill.wall;
    else result.note = `B never logged "Match restored on worker" within ${waitMs / 1000} s`;
    const info = await requestJson('GET', `${b.server.url}/matches/${matchId}`, undefined, 3000).catch(() => null);
    result.ownerAfter = (info?.body as { hostId?: string } | undefined)?.hostId ?? null;
  } catch (err) {
    result.note = (err as Error).message;
  } finally {
    result.resumeMs = [...resumedAfter.values()].map((v) => Math.round(v * 10) / 10);
    result.neverResumed = result.joined - resumedAfter.size;
    result.onBAfter = run.players.filter((p) => p.currentUrl.startsWith(`${b.ws}/`)).length;
    result.errors = stats.errorsByCode();
    await run.stop();
    // B plays the orphaned match to its end, so it holds nothing when the next part starts.
    if (created) {
      const ended = await endMatches([created], { httpBase: b.server.url, wsBase: b.ws, timeoutMs: 20_000 });
      if (ended.failed.length > 0) ctx.progress(`death: could not end match ${created.matchId}: ${ended.failed[0]!.why}`);
    }
  }
  const p = (q: number) => (result.resumeMs.length > 0 ? percentile(result.resumeMs, q).toFixed(0) : '–');
  ctx.progress(
    `death ${via.padEnd(7)}: lease ${opts.leaseMs} ms (${result.leaseLeftAtKillMs ?? '?'} left at the kill), takeover after ${result.takeoverMs ?? '–'} ms, ` +
      `resumed ${result.resumeMs.length}/${result.joined} p50 ${p(0.5)} p99 ${p(0.99)} last ${p(1)} ms, owner now ${result.ownerAfter ?? '?'}` +
      (result.note ? `  NOTE ${result.note}` : ''),
  );
  return result;
}
