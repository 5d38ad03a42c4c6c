/**
 * Several hosts on one Redis (WORKER_POOL_ARCHITECTURE.md "Several hosts"): three real hosts
 * (each a pool master with its own cluster worker, on its own port, HOST_ID h1..h3) and a real
 * redis-server started here. Each host holds one match (MAX_MATCHES 1), so a host that is full
 * places the next match on another. Players connect through hosts that do not own their match:
 * their WebSockets are relayed as byte pipes to the owner.
 *
 * Moves and chaos, each mid-question and each ending with the standings of a fault-free run
 * of the same script (no acknowledged answer lost, none counted twice): an operator moves a
 * match to another host; a host drains on SIGTERM (its matches move, it exits, and it comes
 * back under the same HOST_ID: one step of a rolling restart); a host loses its whole process
 * group to SIGKILL, and once its lease runs out another host takes its match over.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MatchSocket } from '../../scripts/lib/matchSocket';
import { freePort } from '../../scripts/lib/ports';
import { descendants, pidAlive } from '../../scripts/lib/processTree';
import { CRASH_Q, finish, HELD, PLAYERS, playToCrashQuestion, script, scriptCorrect } from '../helpers/chaosScript';
import { eventually, ProcessGroup } from '../helpers/processes';
import { TestRedis } from '../helpers/redis';
import { json, type RunningService, startMatchService, tinyQuiz } from '../helpers/servers';

const HOST_ENV = {
  MATCH_TIME_SCALE: '1',
  REVEAL_MS: '150',
  LEADERBOARD_MS: '150',
  FINISH_GRACE_MS: '3000',
  MIN_WORKERS: '1',
  MAX_WORKERS: '1',
  MAX_MATCHES: '1',
  // A worker is late (upgrades to it refused as moving) after 1.5 s of silence, hung after 3 s.
  HEARTBEAT_INTERVAL_MS: '500',
  HEARTBEAT_TIMEOUT_MS: '3000',
  // Trusted for 2.4 s after each renewal: short for the takeover tests, long enough that a
  // master a busy machine stalls for a second keeps its matches in the tests that move them.
  HOST_LEASE_MS: '3000',
};

interface Host {
  id: string;
  svc: RunningService;
}

interface Created {
  matchId: string;
  hostToken: string;
  wsPath: string;
  hostId: string;
  wsUrl: string;
}

interface HostsBody {
  hosts: Array<{ hostId: string; publicUrl: string; state: string; matches: number; freeSlots: number; leaseAgeMs: number }>;
}

const group = new ProcessGroup();
let redis: TestRedis;
const hosts: Host[] = [];

async function startHost(id: string): Promise<Host> {
  const port = await freePort();
  const svc = await startMatchService(group, 'pool', {
    ...HOST_ENV,
    REDIS_URL: redis.url,
    HOST_ID: id,
    PUBLIC_MATCH_URL: `http://127.0.0.1:${port}`,
    MATCH_PORT: String(port),
  });
  await svc.proc.waitForLine('"Host joined the cluster"');
  return { id, svc };
}

const byId = (id: string) => hosts.find((h) => h.id === id)!;

/** Starts a host that exited again, on its port and under its HOST_ID, and waits until every host sees three. */
async function startAgain(h: Host): Promise<void> {
  const port = h.svc.port;
  const again = await startMatchService(group, 'pool', { ...HOST_ENV, REDIS_URL: redis.url, HOST_ID: h.id, PUBLIC_MATCH_URL: `http://127.0.0.1:${port}`, MATCH_PORT: String(port) });
  await again.proc.waitForLine('"Host joined the cluster"');
  h.svc = again;
  for (const x of hosts) {
    await eventually(async () => ((await json<HostsBody>(fetch(`${x.svc.url}/hosts`))).hosts.length === 3 ? true : undefined), 10_000, `${x.id} to see ${h.id} back`);
  }
}

async function create(via: Host, body: object = { quiz: tinyQuiz(2, 30) }): Promise<Response> {
  return fetch(`${via.svc.url}/matches`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** Waits until every host's matches have left (finished and past FINISH_GRACE_MS). */
async function allEmpty(): Promise<void> {
  for (const h of hosts.filter((x) => pidAlive(x.svc.proc.pid))) {
    await eventually(async () => ((await json<HostsBody>(fetch(`${h.svc.url}/hosts`))).hosts.every((x) => x.matches === 0) ? true : undefined), 30_000, `${h.id}'s matches to leave`);
  }
}

beforeAll(async () => {
  redis = await TestRedis.start(group);
  for (const id of ['h1', 'h2', 'h3']) hosts.push(await startHost(id));
  // Every host sees the three leases.
  for (const h of hosts) {
    await eventually(async () => ((await json<HostsBody>(fetch(`${h.svc.url}/hosts`))).hosts.length === 3 ? true : undefined), 10_000, `${h.id} to see 3 hosts`);
  }
});

afterAll(async () => {
  await group.stopAll();
  redis?.cleanup();
});

let baselineRun: Awaited<ReturnType<typeof finish>> | null = null;

/** The standings of a fault-free run of the script (played once, on whichever host has room). */
async function baseline(): Promise<Awaited<ReturnType<typeof finish>>> {
  baselineRun ??= await finish(await playToCrashQuestion(hosts[0]!.svc, 1));
  await allEmpty();
  return baselineRun;
}

/** Every player resumed, and the welcome after it still held the answer acknowledged before. */
function expectResumedWithAcks(played: Awaited<ReturnType<typeof playToCrashQuestion>>): void {
  for (const [k, p] of played.players[0]!.entries()) {
    expect(p.resumes, p.name).toBeGreaterThanOrEqual(1);
    if (!HELD.includes(k)) expect(p.welcomes.at(-1)!.state.you?.answer).toEqual({ questionIndex: CRASH_Q, choice: script(k)(CRASH_Q) });
  }
}

describe('three hosts on one Redis', () => {
  it('a full host places matches on the others; any host describes any match; players through other hosts play to the end', async () => {
    const created: Created[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await create(byId('h1'));
      expect(res.status).toBe(201);
      created.push((await res.json()) as Created);
    }
    // h1 first (it has room), then the two others: every host holds one.
    expect(created[0]!.hostId).toBe('h1');
    expect(new Set(created.map((c) => c.hostId))).toEqual(new Set(['h1', 'h2', 'h3']));
    for (const c of created) expect(c.wsUrl).toBe(`${byId(c.hostId).svc.wsUrl}/ws/matches/${c.matchId}`);
    // Every host is full now: 503 CAPACITY from any of them.
    const full = await create(byId('h2'));
    expect(full.status).toBe(503);
    expect(((await full.json()) as { error: { code: string } }).error.code).toBe('CAPACITY');

    // Any host answers for any match, naming its owner.
    for (const c of created) {
      for (const h of hosts) {
        const info = await json<{ matchId: string; hostId: string; status: string }>(fetch(`${h.svc.url}/matches/${c.matchId}`));
        expect(info).toMatchObject({ matchId: c.matchId, hostId: c.hostId, status: 'lobby' });
      }
    }
    // Each host's load reaches the others with its next lease renewal.
    const listed = await eventually(async () => {
      const body = await json<HostsBody>(fetch(`${byId('h3').svc.url}/hosts`));
      return body.hosts.every((h) => h.matches === 1) ? body : undefined;
    }, 10_000, 'every host to report its match');
    expect(listed.hosts.map((h) => h.hostId).sort()).toEqual(['h1', 'h2', 'h3']);
    for (const h of listed.hosts) expect(h).toMatchObject({ state: 'ready', matches: 1, freeSlots: 0, publicUrl: byId(h.hostId).svc.url });

    // Each match is played by a host on one other host and players on the third.
    const played = created.map(async (c) => {
      const others = hosts.filter((h) => h.id !== c.hostId);
      const host = await MatchSocket.connect(others[0]!.svc.wsUrl + c.wsPath);
      host.send({ type: 'resume', token: c.hostToken });
      await host.next('welcome');
      const players: MatchSocket[] = [];
      for (const name of ['Ann', 'Ben', 'Cat']) {
        const p = await MatchSocket.connect(others[1]!.svc.wsUrl + c.wsPath);
        p.send({ type: 'join', name });
        await p.next('welcome');
        players.push(p);
      }
      host.send({ type: 'start' });
      // tinyQuiz: question q's right choice is q % 4. Ann always right, Ben once, Cat never.
      const choice = (k: number, q: number) => (k === 0 ? q : k === 1 ? (q === 0 ? 0 : 3) : 3);
      for (let q = 0; q < 2; q++) {
        for (const [k, p] of players.entries()) {
          await p.next('question', (m) => m.index === q, 30_000);
          p.send({ type: 'answer', questionIndex: q, choice: choice(k, q) });
          await p.next('answer_ack', (a) => a.questionIndex === q);
        }
      }
      const finished = await players[0]!.next('finished', () => true, 30_000);
      expect(finished.standings.map((s) => s.name)).toEqual(['Ann', 'Ben', 'Cat']);
      for (const s of [host, ...players]) s.close();
    });
    await Promise.all(played);

    // The relays were counted where they happened, and every series says which host it is from.
    for (const h of hosts) {
      const metrics = await (await fetch(`${h.svc.url}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`^matchserver_relayed_connections_total\\{outcome="relayed",host="${h.id}"\\} [1-9]`, 'm'));
      const samples = metrics.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
      expect(samples.length).toBeGreaterThan(50);
      expect(samples.filter((l) => !l.includes(`host="${h.id}"`))).toEqual([]);
    }
    await allEmpty();
  });

  it('an operator moves a match mid-question: its players reconnect through any host and resume with every acked answer', async () => {
    const expected = await baseline();
    const played = await playToCrashQuestion(byId('h2').svc, 1, byId('h1').svc);
    const matchId = played.matchIds[0]!;
    expect((await json<{ hostId: string }>(fetch(`${byId('h1').svc.url}/matches/${matchId}`))).hostId).toBe('h2');

    const res = await fetch(`${byId('h2').svc.url}/admin/matches/${matchId}/move`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ hostId: 'h3' }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ matchId, hostId: 'h3' });
    expect((await json<{ hostId: string }>(fetch(`${byId('h1').svc.url}/matches/${matchId}`))).hostId).toBe('h3');

    const standings = await finish(played, { afterCrash: true });
    expect(standings).toEqual(expected);
    expectResumedWithAcks(played);
    expect(byId('h2').svc.proc.lines.some((l) => l.includes('"Match moved to another host"') && l.includes(`"matchId":"${matchId}"`))).toBe(true);
    // Moving a match that is not here, or to a host that does not exist: clear errors.
    expect((await fetch(`${byId('h2').svc.url}/admin/matches/${matchId}/move`, { method: 'POST' })).status).toBe(404);
    await allEmpty();
  });

  it('SIGTERM drains a host mid-question: its match moves, it exits, and it comes back under the same HOST_ID', async () => {
    const expected = await baseline();
    const played = await playToCrashQuestion(byId('h3').svc, 1, byId('h1').svc);
    const matchId = played.matchIds[0]!;
    const h3 = byId('h3');
    process.kill(h3.svc.proc.pid, 'SIGTERM');
    expect(await h3.svc.proc.exited).toBe(0);
    expect(h3.svc.proc.lines.some((l) => l.includes('"Drained: every match moved to another host"'))).toBe(true);
    const standings = await finish(played, { afterCrash: true });
    expect(standings).toEqual(expected);
    expectResumedWithAcks(played);
    const owner = (await json<{ hostId: string }>(fetch(`${byId('h1').svc.url}/matches/${matchId}`).catch(() => fetch(`${byId('h2').svc.url}/matches/${matchId}`)))).hostId;
    expect(['h1', 'h2']).toContain(owner);

    // Back on the same port and HOST_ID: the next step of a rolling restart.
    await startAgain(h3);
    await allEmpty();
  });

  it('a rolling restart of all three hosts mid-match costs the players nothing but reconnects', async () => {
    const expected = await baseline();
    // Created on h1, played through h2: every restart below moves the match or cuts its relay.
    const played = await playToCrashQuestion(byId('h1').svc, 1, byId('h2').svc);
    const matchId = played.matchIds[0]!;
    const owners: string[] = [];
    for (const h of [...hosts]) {
      process.kill(h.svc.proc.pid, 'SIGTERM');
      expect(await h.svc.proc.exited, `${h.id} drained and exited`).toBe(0);
      await startAgain(h);
      owners.push((await json<{ hostId: string }>(fetch(`${h.svc.url}/matches/${matchId}`))).hostId);
    }
    // The match moved at least once (off h1 when h1 restarted).
    expect(owners[0]).not.toBe('h1');
    const standings = await finish(played, { afterCrash: true });
    expect(standings).toEqual(expected);
    expectResumedWithAcks(played);
    await allEmpty();
  });

  it('SIGKILL of the owning host mid-question: another host takes the match over; players through a surviving host resume with every acked answer', async () => {
    const expected = await baseline();

    // The match is created on h1 (it has room); its players and host connect through h2.
    const played = await playToCrashQuestion(byId('h1').svc, 1, byId('h2').svc);
    const matchId = played.matchIds[0]!;
    const owner = await json<{ hostId: string }>(fetch(`${byId('h2').svc.url}/matches/${matchId}`));
    expect(owner.hostId).toBe('h1');

    // The whole host: its master and its workers, at once.
    const victim = byId('h1').svc.proc;
    const pids = [victim.pid, ...descendants(victim.pid).map((d) => d.pid)];
    expect(pids.length).toBeGreaterThanOrEqual(2);
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await victim.exited;
    // While it has no owner (h1's lease has not run out yet), any host still describes it.
    const between = await fetch(`${byId('h3').svc.url}/matches/${matchId}`);
    expect(between.status).toBe(200);
    expect(((await between.json()) as { status: string }).status).toBe('running');

    // Once h1's lease has run out, h2 or h3 claims the match.
    const taker = await Promise.race(
      ['h2', 'h3'].map((id) => byId(id).svc.proc.waitForLine(new RegExp(`"matchId":"${matchId}".*"Match restored on worker"`), 30_000).then(() => id)),
    );
    const standings = await finish(played, { afterCrash: true });
    expect(standings).toEqual(expected);
    for (const [k] of Array.from({ length: PLAYERS }).entries()) expect(standings[0]!.find((r) => r.name.endsWith(`p${k}`))!.correct).toBe(scriptCorrect(k));
    expectResumedWithAcks(played);
    // Exactly one host took it: the other one never restored it.
    const other = ['h2', 'h3'].find((id) => id !== taker)!;
    expect(byId(other).svc.proc.lines.some((l) => l.includes('"Match restored on worker"') && l.includes(`"matchId":"${matchId}"`))).toBe(false);
    // The dead host leaves the cluster view.
    await eventually(async () => {
      const listed = await json<HostsBody>(fetch(`${byId(taker).svc.url}/hosts`));
      return listed.hosts.map((h) => h.hostId).sort().join() === 'h2,h3' ? true : undefined;
    }, 10_000, 'h1 to leave /hosts');
  });

  it('SIGSTOP of the owning host past its lease, then SIGCONT: another host took the match; the stale host lets it go and its players resume there', async () => {
    const expected = await baseline();
    const live = hosts.filter((h) => pidAlive(h.svc.proc.pid));
    expect(live.length).toBeGreaterThanOrEqual(2);
    const [owner, other] = live as [Host, Host];
    const played = await playToCrashQuestion(owner.svc, 1, other.svc);
    const matchId = played.matchIds[0]!;
    const pids = [owner.svc.proc.pid, ...descendants(owner.svc.proc.pid).map((d) => d.pid)];
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    let taker: Host;
    try {
      const others = live.filter((h) => h !== owner);
      taker = await Promise.race(others.map((h) => h.svc.proc.waitForLine(new RegExp(`"matchId":"${matchId}".*"Match restored on worker"`), 30_000).then(() => h)));
      // The held players answer now, into sockets that still lead to the paused host.
      for (const [k, p] of played.players[0]!.entries()) if (HELD.includes(k)) p.release(CRASH_Q);
    } finally {
      for (const pid of pids) process.kill(pid, 'SIGCONT');
    }
    // Woken, the stale host lets the match go, whichever it notices first: its worker's write
    // carries the old epoch and is refused, or its master, finding the worker silent for the
    // whole pause, declares it dead and its restore's claim at the old epoch is refused.
    await owner.svc.proc.waitForLine(/"Store refused a write from an older owner; dropping the match"|"Another host took the match over first"/, 15_000);
    await owner.svc.proc.waitForLine('This host lost its lease', 15_000);
    const standings = await finish(played, { afterCrash: true });
    expect(standings).toEqual(expected);
    for (const [k, p] of played.players[0]!.entries()) {
      expect(p.resumes, p.name).toBeGreaterThanOrEqual(1);
      if (!HELD.includes(k)) expect(p.welcomes.at(-1)!.state.you?.answer).toEqual({ questionIndex: CRASH_Q, choice: script(k)(CRASH_Q) });
    }
    // Waking, the stale host found its worker silent and declared it dead, but its restore
    // claims only at the epoch it held: it never took the match back.
    expect(owner.svc.proc.lines.some((l) => l.includes('"Match restored on worker"') && l.includes(`"matchId":"${matchId}"`))).toBe(false);
    // The match is the taker's, as every host says.
    for (const h of live) expect((await json<{ hostId: string }>(fetch(`${h.svc.url}/matches/${matchId}`))).hostId).toBe(taker.id);
  });
});
