/**
 * Nothing is lost when a worker dies (the seed's scenario 5 and the recovery issue), in both
 * store modes: the master's memory and a real redis-server this test starts on a free port.
 *
 * Standings must come out as in a fault-free run. Points depend on answer time, which a
 * loaded machine stretches (an answer sent on receipt scores 1000 within 60 ms of a 60 s
 * question, 999 after), so runs are compared by what no timing can change: each player's
 * count of counted correct answers. A lost acknowledged answer or one counted twice moves
 * that count, since a correct answer is worth 500 to 1000 points; answers are sent on receipt,
 * so each one must also score close to 1000. Answers held across a crash are wrong (0).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { fetchWorkerStats } from '../../scripts/lib/matchServiceApi';
import { setTimeout as sleep } from 'node:timers/promises';
import { pidAlive as alive } from '../../scripts/lib/processTree';
import { eventually, ProcessGroup } from '../helpers/processes';
import { TestRedis } from '../helpers/redis';
import { CRASH_Q, correctOf, finish, HELD, PLAYERS, playToCrashQuestion, quiz, script, scriptCorrect, wrongOf } from '../helpers/chaosScript';
import { MatchSocket } from '../../scripts/lib/matchSocket';
import { createMatch, type RunningService, startMatchService } from '../helpers/servers';

const POOL_ENV = {
  MATCH_TIME_SCALE: '1',
  REVEAL_MS: '150',
  LEADERBOARD_MS: '150',
  FINISH_GRACE_MS: '5000',
  MAX_MATCHES: '3',
  MAX_WORKERS: '2',
  HEARTBEAT_INTERVAL_MS: '200',
  HEARTBEAT_TIMEOUT_MS: '1500',
};

const group = new ProcessGroup();
const redises: TestRedis[] = [];
afterEach(async () => {
  await group.stopAll();
});
afterAll(async () => {
  await group.stopAll();
  for (const r of redises) r.cleanup();
});

/**
 * Waits until the baseline's matches have left their workers (FINISH_GRACE_MS after the
 * podium), so the crash run's matches are packed onto one worker again however slowly the
 * machine ran: a baseline match still held would push some of them onto the next worker.
 */
async function baselineGone(svc: RunningService): Promise<void> {
  await eventually(async () => ((await fetchWorkerStats(svc.url)).totalMatches === 0 ? true : undefined), 30_000, 'the baseline matches to leave');
}

async function ownerOf(svc: RunningService, matchId: string) {
  const s = await fetchWorkerStats(svc.url);
  return s.workers.find((w) => w.matches.includes(matchId))!;
}

async function redisFor(mode: 'memory' | 'redis'): Promise<Record<string, string>> {
  if (mode === 'memory') return {};
  const r = await TestRedis.start(group);
  redises.push(r);
  return { REDIS_URL: r.url };
}

describe.each(['memory', 'redis'] as const)('crash recovery with the %s store', (mode) => {
  it('scenario 5: SIGKILL of the worker mid-question; every player resumes; standings equal a fault-free run', async () => {
    const env = { ...POOL_ENV, ...(await redisFor(mode)) };
    const svc = await startMatchService(group, 'pool', env);
    if (mode === 'redis') await svc.proc.waitForLine('"Master connected to Redis"');

    const baseline = await finish(await playToCrashQuestion(svc, 3));
    await baselineGone(svc);

    const played = await playToCrashQuestion(svc, 3);
    const victim = await ownerOf(svc, played.matchIds[0]!);
    expect(victim.matches.sort()).toEqual([...played.matchIds].sort());
    process.kill(victim.pid, 'SIGKILL');
    const standings = await finish(played, { afterCrash: true });

    expect(standings).toEqual(baseline);
    // Scores are the script's: 1000 per correct answer, nothing counted twice.
    for (const [k] of Array.from({ length: PLAYERS }).entries()) {
      for (const s of standings) expect(s.find((r) => r.name.endsWith(`p${k}`))!.correct).toBe(scriptCorrect(k));
    }
    for (const ps of played.players) {
      for (const [k, p] of ps.entries()) {
        expect(p.resumes, p.name).toBeGreaterThanOrEqual(1);
        // The resumed welcome still held the answer acknowledged before the crash.
        const after = p.welcomes.at(-1)!;
        if (!HELD.includes(k)) expect(after.state.you?.answer).toEqual({ questionIndex: CRASH_Q, choice: script(k)(CRASH_Q) });
      }
    }
    const stats = await fetchWorkerStats(svc.url);
    expect(stats.workers.find((w) => w.workerId === victim.workerId)).toMatchObject({ restarts: 1 });
    expect(svc.proc.lines.filter((l) => l.includes('"Match restored on worker"'))).toHaveLength(3);
  });

  it('a hung worker (SIGSTOP) is detected, killed, and its matches restored; players resume', async () => {
    const env = { ...POOL_ENV, ...(await redisFor(mode)) };
    const svc = await startMatchService(group, 'pool', env);
    const baseline = await finish(await playToCrashQuestion(svc, 1));
    await baselineGone(svc);
    const played = await playToCrashQuestion(svc, 1);
    const victim = await ownerOf(svc, played.matchIds[0]!);
    process.kill(victim.pid, 'SIGSTOP');
    const standings = await finish(played, { afterCrash: true });
    expect(standings).toEqual(baseline);
    expect(svc.proc.lines.some((l) => l.includes('"Worker died; replacing it"') && l.includes('"reason":"hung"'))).toBe(true);
    await eventually(() => (!alive(victim.pid) ? true : undefined), 5000, 'hung worker to be killed');
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    // With Redis this is a host of a possible several: its id labels every series.
    const host = mode === 'redis' ? ',host="[^"]+"' : '';
    expect(metrics).toMatch(new RegExp(`^matchserver_worker_restarts_total\\{reason="hung"${host}\\} 1$`, 'm'));
  });

  it('fencing: a worker declared dead that wakes up cannot write over its successor', async () => {
    // The paused worker must live until it has made its stale write, however long its
    // successor takes to start on a busy machine; stopAll ends it with the master.
    const env = { ...POOL_ENV, HUNG_WORKER_KILL_DELAY_MS: '60000', ...(await redisFor(mode)) };
    const svc = await startMatchService(group, 'pool', env);
    const played = await playToCrashQuestion(svc, 1);
    const matchId = played.matchIds[0]!;
    const victim = await ownerOf(svc, matchId);
    // One held player keeps its socket to the old worker and will answer through it later.
    const stale = played.players[0]![4]!;
    const staleReceivedBefore = stale.received.length;
    process.kill(victim.pid, 'SIGSTOP');
    await svc.proc.waitForLine(new RegExp(`"matchId":"${matchId}".*"Match restored on worker"`), 15_000);
    const newOwner = await ownerOf(svc, matchId);
    expect(newOwner.pid).not.toBe(victim.pid);

    // Wake the old worker: the stale socket still reaches it. Its answer must not count.
    process.kill(victim.pid, 'SIGCONT');
    stale.send({ type: 'answer', questionIndex: CRASH_Q, choice: correctOf(CRASH_Q) });
    await svc.proc.waitForLine('"Store refused a write from an older owner; dropping the match"', 10_000);
    // The stale answer was never acknowledged, and the old worker let go of the socket.
    expect(stale.received.slice(staleReceivedBefore).some((m) => m.type === 'answer_ack')).toBe(false);

    // The player resumes on the new owner, which has no answer from it: the script's wrong answer counts.
    const standings = await finish(played);
    const p4 = standings[0]!.find((r) => r.name === 'm0p4')!;
    expect(p4.correct).toBe(scriptCorrect(4));
    expect(stale.acks.get(CRASH_Q)).toBe(wrongOf(CRASH_Q));
  });
});

describe('Redis trouble', () => {
  it('Redis killed and restarted mid-match: nothing unstored is acked, and play resumes by itself', async () => {
    const redis = await TestRedis.start(group);
    redises.push(redis);
    const svc = await startMatchService(group, 'pool', { ...POOL_ENV, REDIS_URL: redis.url });
    const baseline = await finish(await playToCrashQuestion(svc, 1));
    await baselineGone(svc);
    const played = await playToCrashQuestion(svc, 1);
    await redis.kill();
    // While Redis is down the held players answer: the answers must not be acknowledged.
    for (const [k, p] of played.players[0]!.entries()) if (HELD.includes(k)) p.release(CRASH_Q);
    await sleep(1500);
    for (const [k, p] of played.players[0]!.entries()) if (HELD.includes(k)) expect(p.acks.has(CRASH_Q)).toBe(false);
    const health = await fetch(`${svc.url}/health`);
    expect(health.status).toBe(200);
    await redis.boot();
    for (const [k, p] of played.players[0]!.entries()) if (HELD.includes(k)) await p.waitForAck(CRASH_Q, 20_000);
    const standings = await finish(played);
    expect(standings).toEqual(baseline);
    expect(svc.proc.lines.some((l) => l.includes('Match store write failed; holding acks and retrying'))).toBe(true);
  });

  it('a restarted master finds the live matches in Redis and serves them again', async () => {
    const redis = await TestRedis.start(group);
    redises.push(redis);
    const svc = await startMatchService(group, 'pool', { ...POOL_ENV, REDIS_URL: redis.url });
    const baseline = await finish(await playToCrashQuestion(svc, 2));
    await baselineGone(svc);
    const played = await playToCrashQuestion(svc, 2);
    const workerPids = (await fetchWorkerStats(svc.url)).workers.map((w) => w.pid);
    process.kill(svc.proc.pid, 'SIGKILL');
    await svc.proc.exited;
    await eventually(() => (workerPids.every((p) => !alive(p)) ? true : undefined), 10_000, 'workers to exit with the master');

    const again = await startMatchService(group, 'pool', { ...POOL_ENV, REDIS_URL: redis.url, MATCH_PORT: String(svc.port) });
    await again.proc.waitForLine('"Recovering live matches from the store"');
    const standings = await finish(played, { afterCrash: true });
    expect(standings).toEqual(baseline);
    // The played matches are served again (the baseline's, finished but within their grace, too).
    for (const id of played.matchIds) {
      expect(again.proc.lines.some((l) => l.includes('"Match restored on worker"') && l.includes(`"matchId":"${id}"`))).toBe(true);
    }
  });
});

describe('poison matches', () => {
  it('a match whose workers keep dying is closed with match_closed instead of killing worker after worker', async () => {
    const svc = await startMatchService(group, 'pool', { ...POOL_ENV, MAX_MATCHES: '1', POISON_RESTORE_LIMIT: '3' });
    const played = await playToCrashQuestion(svc, 1);
    const matchId = played.matchIds[0]!;
    const killed: number[] = [];
    for (let death = 1; death <= 3; death++) {
      const owner = await eventually(async () => {
        const o = (await fetchWorkerStats(svc.url)).workers.find((w) => w.matches.includes(matchId) && w.state === 'ready');
        return o && !killed.includes(o.pid) ? o : undefined;
      }, 15_000, `owner #${death}`);
      killed.push(owner.pid);
      process.kill(owner.pid, 'SIGKILL');
      await eventually(() => (!alive(owner.pid) ? true : undefined));
    }
    await svc.proc.waitForLine('"Closing poison match"', 15_000);
    for (const p of played.players[0]!) await eventually(() => (p.closedReason ? true : undefined), 15_000, `${p.name} to see match_closed`);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/^matchserver_poison_matches_total 1$/m);
    expect((await fetchWorkerStats(svc.url)).totalMatches).toBe(0);
    for (const p of played.players[0]!) void p.stop();
  });
});

describe('poison, precisely', () => {
  it('only the match whose restores kill its worker is closed; two innocent neighbours on its worker finish with the right standings', async () => {
    // One worker: every restore lands beside the others, so only the blame rule can tell them apart.
    const svc = await startMatchService(group, 'pool', { ...POOL_ENV, MAX_WORKERS: '1', POISON_RESTORE_LIMIT: '3' });
    const played = await playToCrashQuestion(svc, 3);
    const [poison, ...innocent] = played.matchIds as [string, string, string];
    const first = await ownerOf(svc, poison);
    expect(first.matches.sort(), 'all three share one worker').toEqual([...played.matchIds].sort());
    // The poison match kills whichever worker it is on, as soon as it is there (on restore).
    const killed: number[] = [];
    const closed = () => svc.proc.lines.some((l) => l.includes('"Closing poison match"'));
    while (!closed() && killed.length < 8) {
      const owner = await eventually(async () => {
        if (closed()) return null;
        const o = (await fetchWorkerStats(svc.url)).workers.find((w) => w.matches.includes(poison) && w.state === 'ready');
        return o && !killed.includes(o.pid) ? o : undefined;
      }, 30_000, `owner #${killed.length + 1} of the poison match`);
      if (!owner) break;
      killed.push(owner.pid);
      process.kill(owner.pid, 'SIGKILL');
      await eventually(() => (!alive(owner.pid) ? true : undefined));
    }
    await svc.proc.waitForLine(new RegExp(`"matchId":"${poison}".*"Closing poison match"|"Closing poison match".*"matchId":"${poison}"`), 15_000);
    for (const p of played.players[0]!) await eventually(() => (p.closedReason ? true : undefined), 15_000, `${p.name} to see match_closed`);
    for (const p of played.players[0]!) void p.stop();

    // The neighbours were never closed, and finish as a fault-free run would.
    const standings = await finish({ matchIds: innocent, players: played.players.slice(1) }, { afterCrash: true });
    for (const s of standings) for (const [k] of Array.from({ length: PLAYERS }).entries()) expect(s.find((r) => r.name.endsWith(`p${k}`))!.correct).toBe(scriptCorrect(k));
    expect(svc.proc.lines.filter((l) => l.includes('"Closing poison match"'))).toHaveLength(1);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/^matchserver_poison_matches_total 1$/m);
  });
});

describe('reconnects during a restore', () => {
  it('an upgrade for a match being restored waits for it and is handed to the new owner, not refused', async () => {
    // The hold outlasts a replacement worker's start however busy the machine is.
    const svc = await startMatchService(group, 'pool', { ...POOL_ENV, MAX_WORKERS: '1', UPGRADE_HOLD_MS: '30000' });
    const match = await createMatch(svc, { quiz });
    const first = await MatchSocket.connect(svc.wsUrl + match.wsPath);
    first.send({ type: 'join', name: 'Waits' });
    const welcome = await first.next('welcome');
    const owner = await ownerOf(svc, match.matchId);
    process.kill(owner.pid, 'SIGKILL');
    // The master logs the death and marks the match moving in one turn; with one worker
    // allowed, the match can only come back once the replacement process has started.
    await svc.proc.waitForLine('"Worker died; replacing it"');
    const again = await MatchSocket.connect(svc.wsUrl + match.wsPath); // rejects on a 503
    again.send({ type: 'resume', token: welcome.token });
    expect((await again.next('welcome')).you).toMatchObject({ name: 'Waits', role: 'player' });
    const replacement = await ownerOf(svc, match.matchId);
    expect(replacement.pid).not.toBe(owner.pid);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/^matchserver_socket_handoffs_total\{outcome="held"\} [1-9]/m);
    again.close();
  });

  it('with UPGRADE_HOLD_MS=0 the same upgrade gets PROTOCOL.md\'s 503 with Retry-After at once', async () => {
    const svc = await startMatchService(group, 'pool', { ...POOL_ENV, MAX_WORKERS: '1', UPGRADE_HOLD_MS: '0' });
    const match = await createMatch(svc, { quiz });
    const owner = await ownerOf(svc, match.matchId);
    process.kill(owner.pid, 'SIGKILL');
    await svc.proc.waitForLine('"Worker died; replacing it"');
    await expect(MatchSocket.connect(svc.wsUrl + match.wsPath)).rejects.toMatchObject({ status: 503, headers: { 'retry-after': '1' } });
  });
});
