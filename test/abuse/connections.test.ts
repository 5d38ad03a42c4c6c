/**
 * Abuse of WebSocket connections, against the single process and the pool (a pool worker
 * reads the client address from a socket the master handed it, the single process from its
 * own upgrade): sockets that never join, budgets that must survive reconnects, one address
 * holding too many connections, and a client that stops reading. Addresses are simulated
 * with TRUST_PROXY=loopback and X-Forwarded-For; an honest match plays beside every attack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { ProcessGroup, eventually } from '../helpers/processes';
import { type RunningService, startMatchService, tinyQuiz } from '../helpers/servers';
import { createMatchFrom, from, playHonestMatch } from '../helpers/honestMatch';
import { clientTextFrame, rawWebSocket } from '../helpers/rawUpgrade';
import { MatchSocket, UpgradeRefused } from '../../scripts/lib/matchSocket';
import { fetchWorkerStats } from '../../scripts/lib/matchServiceApi';
import { readRssKiB } from '../../scripts/lib/procfs';

const JOIN_DEADLINE_MS = 1500;
const LIMITS = {
  TRUST_PROXY: 'loopback',
  JOIN_DEADLINE_MS: String(JOIN_DEADLINE_MS),
  ADDRESS_MSG_RATE_PER_SEC: '5',
  ADDRESS_MSG_BURST: '20',
  ADDRESS_BAD_MESSAGES_PER_MIN: '10',
  MAX_CONNECTIONS_PER_IP: '4',
};

interface Created {
  matchId: string;
  hostToken: string;
  wsPath: string;
  workerId: number;
}

async function newMatch(service: RunningService, addr: string, body: object = { quiz: tinyQuiz(2, 30) }): Promise<Created> {
  const res = await createMatchFrom(service, addr, body);
  expect(res.status).toBe(201);
  return (await res.json()) as Created;
}

const DRAIN_PING_T = -1;

/**
 * Resolves once the server has answered everything sent on `c` so far, or closed it. It answers
 * in order, but only one in ten rate-limited messages, so the burst's replies cannot be counted
 * to their end: a marker ping is sent (again every 300 ms while the budget refuses it, at most
 * 50 times) and its pong comes after every reply to the burst.
 */
async function drained(c: MatchSocket): Promise<void> {
  for (let i = 0; i < 50 && c.isOpen; i++) {
    c.send({ type: 'ping', t: DRAIN_PING_T });
    const answered = c.next('pong', (m) => m.t === DRAIN_PING_T, 300).then(() => true, () => false);
    if (await Promise.race([answered, c.closed.then(() => true)])) return;
  }
}

/** Sends `count` pings at once on a fresh connection from `addr`; resolves with the pongs and RATE_LIMITED errors it got. */
async function pingBurst(url: string, addr: string, count: number): Promise<{ pongs: number; limited: number }> {
  const c = await MatchSocket.connect(url, { headers: from(addr) });
  for (let i = 0; i < count; i++) c.send({ type: 'ping', t: i });
  await drained(c);
  const result = {
    pongs: c.all('pong').filter((m) => m.t !== DRAIN_PING_T).length,
    limited: c.all('error').filter((e) => e.code === 'RATE_LIMITED').length,
  };
  c.terminate();
  return result;
}

describe.each(['single', 'pool'] as const)('%s: connections', (mode) => {
  const group = new ProcessGroup();
  let service: RunningService;
  beforeAll(async () => {
    service = await startMatchService(group, mode, { MAX_WORKERS: '2', MAX_MATCHES: '4', ...LIMITS });
  });
  afterAll(() => group.stopAll());

  it('closes sockets that neither join nor resume within JOIN_DEADLINE_MS (4004); a joined one stays', async () => {
    const m = await newMatch(service, '203.0.113.20');
    const url = service.wsUrl + m.wsPath;
    const honest = playHonestMatch(service, '198.51.100');
    const idle = await Promise.all([1, 2, 3].map((i) => MatchSocket.connect(url, { headers: from(`203.0.113.${30 + i}`) })));
    const opened = Date.now();
    const joined = await MatchSocket.connect(url, { headers: from('203.0.113.40') });
    joined.send({ type: 'join', name: 'Patient' });
    await joined.next('welcome');
    const closes = await Promise.all(idle.map((c) => c.closed));
    const took = Date.now() - opened;
    expect(closes).toEqual(idle.map(() => ({ code: 4004, reason: 'no join or resume in time' })));
    expect(took).toBeGreaterThanOrEqual(JOIN_DEADLINE_MS - 200);
    expect(took).toBeLessThan(JOIN_DEADLINE_MS + 10_000);
    await sleep(500);
    expect(joined.isOpen).toBe(true);
    await honest;
    joined.close();
  });

  it('holds the per-address message budget across reconnects, while another address is not limited', async () => {
    const m = await newMatch(service, '203.0.113.50');
    const url = service.wsUrl + m.wsPath;
    const honest = playHonestMatch(service, '198.51.101');
    // Each connection alone may burst 40 (MSG_BURST); the address may burst 20 in all.
    const started = Date.now();
    const rounds = [];
    for (let i = 0; i < 4; i++) {
      const t0 = Date.now();
      rounds.push({ ...(await pingBurst(url, '203.0.113.51', 30)), sec: (Date.now() - t0) / 1000 });
    }
    const elapsedSec = (Date.now() - started) / 1000;
    const pongs = rounds.reduce((n, r) => n + r.pongs, 0);
    // The burst plus what 5/s refilled meanwhile: reconnecting refilled nothing.
    expect(pongs).toBeLessThanOrEqual(20 + Math.ceil(5 * elapsedSec) + 1);
    expect(rounds[0]!.pongs).toBeGreaterThanOrEqual(15);
    // A later connection gets only what refilled since the one before it (5/s, over both
    // connections' time), never a fresh burst.
    for (const [i, r] of rounds.entries()) {
      if (i > 0) expect(r.pongs, JSON.stringify(rounds)).toBeLessThanOrEqual(Math.ceil(5 * (r.sec + rounds[i - 1]!.sec)) + 1);
    }
    expect(rounds.reduce((n, r) => n + r.limited, 0)).toBeGreaterThan(0);
    // Another address still gets its own budget.
    expect((await pingBurst(url, '203.0.113.52', 15)).pongs).toBe(15);
    await honest;
  });

  it('holds the per-address bad-message budget across reconnects: the next socket that sends one is closed (1008)', async () => {
    const m = await newMatch(service, '203.0.113.60');
    const url = service.wsUrl + m.wsPath;
    const honest = playHonestMatch(service, '198.51.102');
    const addr = '203.0.113.61';
    // 8 bad messages: under both the connection's budget (10) and the address's (10 a minute).
    const first = await MatchSocket.connect(url, { headers: from(addr) });
    for (let i = 0; i < 8; i++) first.sendRaw('not json');
    await eventually(async () => (first.all('error').length === 8 ? true : undefined), 15_000, 'errors for the first 8');
    expect(first.isOpen).toBe(true);
    first.terminate();
    // A fresh connection has a fresh connection budget, but the address has 2 bad messages left.
    const second = await MatchSocket.connect(url, { headers: from(addr) });
    for (let i = 0; i < 5; i++) second.sendRaw('not json');
    expect(await second.closed).toEqual({ code: 1008, reason: 'too many bad messages' });
    // The same address may still play honestly: only sockets that send bad input are closed.
    const third = await MatchSocket.connect(url, { headers: from(addr) });
    third.send({ type: 'join', name: 'Reformed' });
    await third.next('welcome');
    expect(third.isOpen).toBe(true);
    third.close();
    await honest;
  });

  it('caps open connections per address (429 RATE_LIMITED) while another address connects', async () => {
    const m = await newMatch(service, '203.0.113.70');
    const url = service.wsUrl + m.wsPath;
    const honest = playHonestMatch(service, '198.51.103');
    const addr = '203.0.113.71';
    const held: MatchSocket[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await MatchSocket.connect(url, { headers: from(addr) });
      c.send({ type: 'join', name: `Holder ${i}` });
      await c.next('welcome');
      held.push(c);
    }
    const refused = await MatchSocket.connect(url, { headers: from(addr) }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(UpgradeRefused);
    expect((refused as UpgradeRefused).status).toBe(429);
    expect((refused as UpgradeRefused).headers['retry-after']).toMatch(/^\d+$/);
    // Another address is not affected.
    const other = await MatchSocket.connect(url, { headers: from('203.0.113.72') });
    other.send({ type: 'join', name: 'Neighbour' });
    await other.next('welcome');
    // A closed connection is counted down: the address may connect again.
    held[0]!.close();
    await held[0]!.closed;
    const again = await eventually(
      async () => MatchSocket.connect(url, { headers: from(addr) }).catch(() => undefined),
      15_000,
      'a connection after one closed',
    );
    expect(again.isOpen).toBe(true);
    for (const c of [...held, other, again]) c.close();
    await honest;
  });
});

/**
 * A client that joins and then never reads, in a match whose every `players` broadcast is
 * ~17 KB (250 dropped players with 20-character names stay listed once it runs) and whose host
 * toggles the lock until the host has read more than 30 MiB of broadcasts (about 2,000 toggles
 * on a calm machine). Toggles merged into one store write send one `players` broadcast, and a
 * busy machine merges more of them, so the test counts bytes, not toggles. Measured without the
 * bound (SEND_BUFFER_LIMIT_BYTES=1e9), the single process grew by 45 MiB; with it, by 10 MiB.
 */
describe.each(['single', 'pool'] as const)('%s: a client that does not read', (mode) => {
  const group = new ProcessGroup();
  let service: RunningService;
  const BUSY_BYTES = 30 * 1024 * 1024;
  /** Far more than a calm machine needs (about 2,000 toggles in 5 s); only bound the loop. */
  const MAX_TOGGLES = 100_000;
  const MAX_TOGGLING_MS = 60_000;
  beforeAll(async () => {
    service = await startMatchService(group, mode, {
      MAX_WORKERS: '1',
      MAX_MATCHES: '4',
      MAX_PLAYERS: '300',
      TRUST_PROXY: 'loopback',
      // The host's toggles are the match being busy, not the attack: let them through.
      MSG_RATE_PER_SEC: '100000',
      MSG_BURST: '100000',
      ADDRESS_MSG_RATE_PER_SEC: '100000',
      ADDRESS_MSG_BURST: '100000',
      MAX_CONNECTIONS_PER_IP: '1000',
      SEND_BUFFER_LIMIT_BYTES: '65536',
      // The send buffer must hold a question's picture three times (config.ts checks it).
      MAX_IMAGE_BYTES: '16384',
      // 250 players stay below the big-match limit, so every lock toggle still broadcasts the
      // whole player list (a big match would send players counts instead).
      PLAYER_LIST_MAX: '1000',
      // Slower clock than FAST_ENV: the match must still be running when the toggles end,
      // and the dropped players keep their lobby seats (30 s grace) until it starts.
      MATCH_TIME_SCALE: '0.5',
      RECONNECT_GRACE_MS: '60000',
    });
  });
  afterAll(() => group.stopAll());

  it('is closed once its send buffer passes the bound, and the server’s memory stays bounded', async () => {
    const m = await newMatch(service, '203.0.113.80', { quiz: tinyQuiz(1, 240) });
    const url = service.wsUrl + m.wsPath;
    // 250 players join and drop: they stay listed (dropped) in every `players` broadcast.
    for (let i = 0; i < 250; i += 25) {
      await Promise.all(
        Array.from({ length: 25 }, async (_, j) => {
          const c = await MatchSocket.connect(url, { headers: from(`10.1.${i}.${j + 1}`) });
          c.send({ type: 'join', name: `Player ${String(i + j).padStart(3, '0')} xxxxxxxx` });
          await c.next('welcome');
          c.terminate();
        }),
      );
    }
    const slow = await rawWebSocket(service.port, m.wsPath, from('203.0.113.81'));
    slow.write(clientTextFrame(JSON.stringify({ type: 'join', name: 'Never Reads' })));
    // The host reads without parsing (a raw ws): the test process must keep up with 50 MB.
    const host = new WebSocket(url, { headers: from('203.0.113.80'), perMessageDeflate: false });
    let hostBytes = 0;
    let lastPong = -1;
    const welcomed = new Promise<void>((resolve) => host.once('message', () => resolve()));
    host.on('message', (data: Buffer) => {
      hostBytes += data.length;
      const pong = /^\{"type":"pong","t":(\d+)/.exec(data.toString('latin1', 0, 40));
      if (pong) lastPong = Number(pong[1]);
    });
    await new Promise<void>((resolve) => host.once('open', () => resolve()));
    host.send(JSON.stringify({ type: 'resume', token: m.hostToken }));
    await welcomed;
    host.send(JSON.stringify({ type: 'start' }));
    await sleep(300);

    const serverPid = mode === 'single' ? service.proc.pid : (await fetchWorkerStats(service.url)).workers.find((w) => w.workerId === m.workerId)!.pid;
    const rssBefore = readRssKiB(serverPid)!;
    const honest = playHonestMatch(service, '198.51.104');
    const togglingUntil = Date.now() + MAX_TOGGLING_MS;
    for (let i = 0; hostBytes <= BUSY_BYTES && i < MAX_TOGGLES && Date.now() < togglingUntil; i++) {
      host.send(JSON.stringify({ type: 'lock', locked: i % 2 === 0 }));
      await sleep(1);
    }
    // A pong comes after every broadcast sent before it: the host has seen them all.
    host.send(JSON.stringify({ type: 'ping', t: 7 }));
    await eventually(async () => (lastPong === 7 ? true : undefined), 60_000, 'the host to read every broadcast');
    expect(hostBytes, 'the match really was busy').toBeGreaterThan(BUSY_BYTES);
    await service.proc.waitForLine('Closing a client that does not read its messages', 5_000);
    const rssAfter = readRssKiB(serverPid)!;
    expect(rssAfter - rssBefore, `RSS ${rssBefore} → ${rssAfter} KiB`).toBeLessThan(25 * 1024);

    // Reading again, the client finds what the kernel held, then the end of the connection.
    const ended = new Promise<void>((resolve) => slow.once('close', () => resolve()));
    slow.on('data', () => {});
    slow.resume();
    await Promise.race([ended, sleep(10_000).then(() => Promise.reject(new Error('the slow client was not disconnected')))]);
    await honest;
    host.close();
  }, 180_000);
});
