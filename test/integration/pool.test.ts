/**
 * The worker pool with a real master and real cluster workers: the seed's scenarios 1–4
 * (WORKER_POOL_SUMMARY.md "Testing Scenarios"), capacity, socket routing and worker death,
 * all checked through /workers/stats, /metrics and the OS.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { fetchWorkerStats } from '../../scripts/lib/matchServiceApi';
import { setTimeout as sleep } from 'node:timers/promises';
import { pidAlive as alive } from '../../scripts/lib/processTree';
import { eventually, ProcessGroup } from '../helpers/processes';
import { resetUpgrades } from '../helpers/rawUpgrade';
import { MatchSocket } from '../../scripts/lib/matchSocket';
import { pidsHoldingConnection } from '../helpers/sockets';
import { connectHost, createMatch, type ErrorBody, type HealthBody, joinPlayers, json, startMatchService, tinyQuiz } from '../helpers/servers';

const group = new ProcessGroup();
afterEach(() => group.stopAll());
afterAll(() => group.stopAll());

const long = { quiz: tinyQuiz(2, 60) };

describe('worker pool', () => {
  it('scenario 1: a single match is hosted and played on worker 1, its sockets held by that worker', async () => {
    const svc = await startMatchService(group, 'pool', { MAX_WORKERS: '4' });
    const health = await json<HealthBody>(fetch(`${svc.url}/health`));
    expect(health).toMatchObject({
      status: 'OK',
      service: 'Match Service Master',
      mode: 'Worker Pool Architecture',
      workerPool: { totalWorkers: 1, activeWorkers: 1, totalMatches: 0 },
    });
    await svc.proc.waitForLine('"Match Service Master started"');
    const started = JSON.parse(await svc.proc.waitForLine('"Match Service Master started"'));
    expect(started).toMatchObject({ port: svc.port, mode: 'Worker Pool Architecture' });
    const spawned = JSON.parse(await svc.proc.waitForLine('"Spawned new worker"'));
    expect(spawned).toMatchObject({ workerId: 1, pid: expect.any(Number), totalWorkers: 1 });

    const match = await createMatch(svc, { quiz: tinyQuiz(2, 20) });
    expect(match.workerId).toBe(1);
    const host = await connectHost(svc, match);
    const players = await joinPlayers(svc, match, ['P1', 'P2', 'P3']);

    const stats = await eventually(async () => {
      const s = await fetchWorkerStats(svc.url);
      return s.workers[0]?.players === 3 ? s : undefined;
    });
    expect(stats.totalWorkers).toBe(1);
    expect(stats.workers[0]).toMatchObject({ workerId: 1, state: 'ready', matches: [match.matchId], restarts: 0 });
    const workerPid = stats.workers[0]!.pid;
    for (const c of [host, ...players]) {
      expect(pidsHoldingConnection(svc.port, c.localPort, [svc.proc.pid, workerPid])).toEqual([workerPid]);
    }

    host.send({ type: 'start' });
    for (let i = 0; i < 2; i++) {
      for (const p of players) {
        const q = await p.next('question', (m) => m.index === i);
        p.send({ type: 'answer', questionIndex: q.index, choice: 0 });
      }
    }
    const finished = await players[0]!.next('finished', () => true, 30_000);
    expect(finished.standings).toHaveLength(3);
  });

  it('scenarios 2 and 3: matches pack 3 per worker, the 4th forks worker 2, 9 spread 3/3/3, the 13th gets 503', async () => {
    const svc = await startMatchService(group, 'pool', { MAX_WORKERS: '4', MAX_MATCHES: '3' });
    const ids: string[] = [];
    for (let i = 1; i <= 12; i++) {
      const m = await createMatch(svc, long);
      ids.push(m.matchId);
      expect(m.workerId, `match ${i}`).toBe(Math.ceil(i / 3));
      if (i === 4) {
        const s = await fetchWorkerStats(svc.url);
        expect(s.workers.map((w) => w.matches.length)).toEqual([3, 1]);
      }
      if (i === 9) {
        const s = await fetchWorkerStats(svc.url);
        expect(s.totalWorkers).toBe(3);
        expect(s.workers.map((w) => w.matches.length)).toEqual([3, 3, 3]);
        expect(s.totalMatches).toBe(9);
      }
    }
    const s = await fetchWorkerStats(svc.url);
    expect(s).toMatchObject({ totalWorkers: 4, totalMatches: 12, maxWorkers: 4, maxMatchesPerWorker: 3 });
    expect(s.workers.map((w) => w.workerId)).toEqual([1, 2, 3, 4]);
    expect(s.workers.flatMap((w) => w.matches).sort()).toEqual([...ids].sort());

    const res = await fetch(`${svc.url}/matches`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(long),
    });
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await json<ErrorBody>(res)).error.code).toBe('CAPACITY');
    expect(svc.proc.lines.filter((l) => l.includes('"Spawned new worker"'))).toHaveLength(4);

    // Each player's socket is held by the worker that /workers/stats says owns the match.
    const onWorker3 = s.workers.find((w) => w.workerId === 3)!;
    const matchOn3 = onWorker3.matches[0]!;
    const players = await joinPlayers(svc, { wsPath: `/ws/matches/${matchOn3}` }, ['X', 'Y']);
    const allPids = [svc.proc.pid, ...s.workers.map((w) => w.pid)];
    // The master closes its copy of a handed-off socket when the worker's ack reaches it, which
    // a busy master may do after the player already has its welcome.
    for (const p of players) {
      await eventually(() => (pidsHoldingConnection(svc.port, p.localPort, allPids).join() === String(onWorker3.pid) ? true : undefined), 10_000, 'only worker 3 to hold the socket');
    }
    await eventually(async () => {
      const now = await fetchWorkerStats(svc.url);
      return now.workers.map((w) => w.players).join() === '0,0,2,0' ? true : undefined;
    });
  });

  it('seed table: match A completes and match H reuses worker 1', async () => {
    const svc = await startMatchService(group, 'pool', { MAX_WORKERS: '4', MAX_MATCHES: '3', FINISH_GRACE_MS: '1000' });
    const a = await createMatch(svc, { quiz: tinyQuiz(1, 5) });
    const rest = [];
    for (let i = 0; i < 6; i++) rest.push(await createMatch(svc, long));
    expect([a, ...rest].map((m) => m.workerId)).toEqual([1, 1, 1, 2, 2, 2, 3]);
    const host = await connectHost(svc, a);
    host.send({ type: 'start' });
    await host.next('finished', () => true, 20_000);
    await eventually(async () => ((await fetchWorkerStats(svc.url)).workers[0]!.matches.length === 2 ? true : undefined));
    const h = await createMatch(svc, long);
    expect(h.workerId).toBe(1);
    expect((await fetchWorkerStats(svc.url)).workers.map((w) => w.matches.length)).toEqual([3, 3, 1]);
  });

  it('scenario 4: idle workers are suspended, worker 1 stays', async () => {
    const svc = await startMatchService(group, 'pool', {
      MAX_WORKERS: '3',
      MAX_MATCHES: '3',
      WORKER_IDLE_TIMEOUT_MS: '1500',
      // Long enough that no lobby closes while the seven are still being created (two of them
      // wait for a worker to start): a closed lobby would free a seat on worker 1 early.
      LOBBY_IDLE_TIMEOUT_MS: '8000',
    });
    for (let i = 0; i < 7; i++) await createMatch(svc, long);
    const full = await fetchWorkerStats(svc.url);
    expect(full.totalWorkers).toBe(3);
    const pids = full.workers.map((w) => w.pid);
    // Nobody joins: the lobbies close, the workers go idle, then 2 and 3 are suspended.
    const after = await eventually(async () => {
      const s = await fetchWorkerStats(svc.url);
      return s.totalWorkers === 1 && s.totalMatches === 0 ? s : undefined;
    }, 40_000);
    expect(after.workers[0]).toMatchObject({ workerId: 1, pid: pids[0], restarts: 0 });
    const suspended = svc.proc.lines.filter((l) => l.includes('"Suspending idle worker"')).map((l) => JSON.parse(l).workerId);
    expect(suspended.sort()).toEqual([2, 3]);
    await eventually(() => (!alive(pids[1]!) && !alive(pids[2]!) ? true : undefined), 10_000, 'suspended workers to exit');
    const health = await json<HealthBody>(fetch(`${svc.url}/health`));
    expect(health.workerPool).toMatchObject({ totalWorkers: 1, totalMatches: 0, idleWorkers: 1 });
    // A worker is forked again when needed.
    for (let i = 0; i < 4; i++) await createMatch(svc, long);
    expect((await fetchWorkerStats(svc.url)).workers.map((w) => w.workerId)).toEqual([1, 2]);
  });

  it('a worker killed with SIGKILL is replaced and counted in /workers/stats and /metrics', async () => {
    const svc = await startMatchService(group, 'pool', { MAX_WORKERS: '2' });
    const before = await fetchWorkerStats(svc.url);
    const oldPid = before.workers[0]!.pid;
    process.kill(oldPid, 'SIGKILL');
    const after = await eventually(async () => {
      const s = await fetchWorkerStats(svc.url);
      const w = s.workers[0];
      return w && w.pid !== oldPid && w.state === 'ready' ? s : undefined;
    });
    expect(after.workers[0]).toMatchObject({ workerId: 1, restarts: 1 });
    expect(svc.proc.lines.some((l) => l.includes('"Worker died; replacing it"') && l.includes(`"pid":${oldPid}`))).toBe(true);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/^matchserver_worker_restarts_total\{reason="crash"\} 1$/m);
    expect(metrics).toMatch(/^matchserver_active_workers 1$/m);
    expect(metrics).toMatch(/^matchserver_idle_workers 1$/m);
    expect(metrics).toMatch(/^matchserver_active_matches_total 0$/m);
    // The replacement serves matches.
    const m = await createMatch(svc, long);
    expect(m.workerId).toBe(1);
    await sleep(50);
  });

  it('survives clients that reset their connection during an upgrade, refused or handed off', async () => {
    const svc = await startMatchService(group, 'pool', { MAX_WORKERS: '2' });
    const match = await createMatch(svc, long);
    const player = (await joinPlayers(svc, match, ['Steady']))[0]!;
    const workerPid = (await fetchWorkerStats(svc.url)).workers[0]!.pid;
    await resetUpgrades(svc.port, '/ws/matches/ZZZZZZ', 60);
    await resetUpgrades(svc.port, match.wsPath, 60);
    expect(svc.proc.child.exitCode).toBeNull();
    expect((await fetch(`${svc.url}/health`)).status).toBe(200);
    const stats = await fetchWorkerStats(svc.url);
    expect(stats.workers[0]).toMatchObject({ pid: workerPid, restarts: 0, matches: [match.matchId] });
    player.send({ type: 'ping', t: 7 });
    expect((await player.next('pong')).t).toBe(7);
  });

  it("every client's first message is its own welcome, even when 40 join a lobby at once", async () => {
    const svc = await startMatchService(group, 'pool', { MAX_WORKERS: '2' });
    const match = await createMatch(svc, { ...long, settings: { maxPlayers: 60 } });
    const clients = await Promise.all(Array.from({ length: 40 }, () => MatchSocket.connect(svc.wsUrl + match.wsPath)));
    clients.forEach((c, i) => c.send({ type: 'join', name: `P${i}` }));
    await Promise.all(clients.map((c) => c.next('welcome')));
    // The last join's `players` reaches everyone; by then every earlier broadcast has too.
    await Promise.all(clients.map((c) => c.next('players', (p) => p.players.length === 40)));
    expect(clients.map((c) => c.messages[0]!.type)).toEqual(clients.map(() => 'welcome'));
    for (const c of clients) c.close();
  });

  it('/metrics aggregates master and workers, and still answers when a worker is stuck', async () => {
    const svc = await startMatchService(group, 'pool', { MAX_WORKERS: '2', MAX_MATCHES: '1', HEARTBEAT_TIMEOUT_MS: '30000' });
    await createMatch(svc, long);
    await createMatch(svc, long);
    const s = await fetchWorkerStats(svc.url);
    expect(s.totalWorkers).toBe(2);
    const text = await (await fetch(`${svc.url}/metrics`)).text();
    for (const name of [
      'matchserver_active_workers',
      'matchserver_idle_workers',
      'matchserver_active_matches_total',
      'matchserver_connected_players',
      'matchserver_messages_in_total',
      'matchserver_messages_out_total',
      'matchserver_answer_ack_seconds_bucket',
      'matchserver_event_loop_delay_seconds',
      'matchserver_worker_restarts_total',
    ]) {
      expect(text, name).toContain(name);
    }
    expect(text).toMatch(/matchserver_hosted_matches\{worker="1"\} 1/);
    expect(text).toMatch(/matchserver_hosted_matches\{worker="2"\} 1/);
    // prom-client's process metrics, one series per process.
    for (const w of ['master', '1', '2']) expect(text).toMatch(new RegExp(`^process_resident_memory_bytes\\{worker="${w}"\\} [1-9]\\d*$`, 'm'));

    const stuck = s.workers[1]!.pid;
    process.kill(stuck, 'SIGSTOP');
    try {
      const res = await fetch(`${svc.url}/metrics`, { signal: AbortSignal.timeout(4000) });
      expect(res.status).toBe(200);
      const body = await res.text();
      expect(body).toMatch(/matchserver_hosted_matches\{worker="1"\} 1/);
      expect(body).not.toMatch(/worker="2"/);
      expect(body).toMatch(/^matchserver_metrics_missing_workers 1$/m);
    } finally {
      process.kill(stuck, 'SIGCONT');
    }
  });

  it('SIGTERM stops the master and every worker; SIGKILL of the master leaves no orphan either', async () => {
    const svc = await startMatchService(group, 'pool', { MAX_WORKERS: '2', MAX_MATCHES: '1' });
    await createMatch(svc, long);
    await createMatch(svc, long);
    const pids = (await fetchWorkerStats(svc.url)).workers.map((w) => w.pid);
    expect(pids).toHaveLength(2);
    process.kill(svc.proc.pid, 'SIGTERM');
    expect(await svc.proc.exited).toBe(0);
    await eventually(() => (pids.every((p) => !alive(p)) ? true : undefined), 10_000, 'workers to exit after SIGTERM');

    const svc2 = await startMatchService(group, 'pool', { MAX_WORKERS: '2', MAX_MATCHES: '1' });
    await createMatch(svc2, long);
    await createMatch(svc2, long);
    const pids2 = (await fetchWorkerStats(svc2.url)).workers.map((w) => w.pid);
    process.kill(svc2.proc.pid, 'SIGKILL');
    await eventually(() => (pids2.every((p) => !alive(p)) ? true : undefined), 10_000, 'workers to exit after master SIGKILL');
  });
});
