/**
 * Abuse of seats, names and lobbies against a real pool (the engine's rules, as a client
 * meets them through a worker): join-then-disconnect sockets do not keep their seats, a
 * kicked player cannot walk back in under its name, look-alike names collide, and a lobby
 * never started closes after LOBBY_MAX_MS even with its host connected, freeing its slot.
 * Addresses come from X-Forwarded-For (TRUST_PROXY=loopback); an honest match plays beside each.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessGroup, eventually } from '../helpers/processes';
import { type RunningService, startMatchService, tinyQuiz } from '../helpers/servers';
import { createMatchFrom, from, playHonestMatch } from '../helpers/honestMatch';
import { MatchSocket } from '../../scripts/lib/matchSocket';
import { fetchMatchStatus, fetchWorkerStats } from '../../scripts/lib/matchServiceApi';

interface Created {
  matchId: string;
  hostToken: string;
  wsPath: string;
}

async function newMatch(service: RunningService, addr: string, body: object = { quiz: tinyQuiz(2, 30) }): Promise<Created> {
  const res = await createMatchFrom(service, addr, body);
  expect(res.status).toBe(201);
  return (await res.json()) as Created;
}

async function hostOf(service: RunningService, m: Created, addr: string): Promise<MatchSocket> {
  const host = await MatchSocket.connect(service.wsUrl + m.wsPath, { headers: from(addr) });
  host.send({ type: 'resume', token: m.hostToken });
  await host.next('welcome');
  return host;
}

/** Sends `join` as `name` on a fresh socket from `addr`; resolves with the welcome or the error code. */
async function tryJoin(url: string, addr: string, name: string): Promise<{ socket: MatchSocket; code: string | null }> {
  const socket = await MatchSocket.connect(url, { headers: from(addr) });
  socket.send({ type: 'join', name });
  const reply = await Promise.race([socket.next('welcome').then(() => null), socket.next('error').then((e) => e.code)]);
  return { socket, code: reply };
}

describe('seats and names (pool)', () => {
  const group = new ProcessGroup();
  let service: RunningService;
  beforeAll(async () => {
    // FAST_ENV's time scale makes the reconnect grace 100 000 × 0.05 = 5 s: long enough that
    // the first ghost's seat is still held while a busy machine hands the other sockets over.
    service = await startMatchService(group, 'pool', {
      MAX_WORKERS: '2',
      MAX_MATCHES: '4',
      TRUST_PROXY: 'loopback',
      MAX_PLAYERS: '5',
      RECONNECT_GRACE_MS: '100000',
    });
  });
  afterAll(() => group.stopAll());

  it('ghost seats come back: join-then-disconnect sockets fill a lobby only for the reconnect grace', async () => {
    const m = await newMatch(service, '203.0.113.90');
    const url = service.wsUrl + m.wsPath;
    const host = await hostOf(service, m, '203.0.113.90');
    const honest = playHonestMatch(service, '198.51.110');
    for (let i = 0; i < 5; i++) {
      const { socket, code } = await tryJoin(url, `203.0.113.${100 + i}`, `Ghost ${i}`);
      expect(code).toBeNull();
      socket.terminate();
    }
    expect((await tryJoin(url, '203.0.113.120', 'Latecomer')).code).toBe('MATCH_FULL');
    // The grace runs out: every ghost is removed, announced to the host.
    await host.next('players', (p) => p.players.length === 0, 30_000);
    const { socket: late, code } = await tryJoin(url, '203.0.113.121', 'Latecomer');
    expect(code).toBeNull();
    const seen = await host.next('players', (p) => p.players.some((x) => x.name === 'Latecomer'));
    expect(seen.players.map((p) => p.name)).toEqual(['Latecomer']);
    late.close();
    host.close();
    await honest;
  });

  it('kicked names stay out, look-alikes included, for the rest of the match', async () => {
    const m = await newMatch(service, '203.0.113.91');
    const url = service.wsUrl + m.wsPath;
    const host = await hostOf(service, m, '203.0.113.91');
    const honest = playHonestMatch(service, '198.51.111');
    const { socket: mallory } = await tryJoin(url, '203.0.113.130', 'Mallory');
    const welcome = mallory.all('welcome')[0]!;
    host.send({ type: 'kick', playerId: welcome.you.playerId! });
    expect((await mallory.closed).code).toBe(4003);
    for (const name of ['Mallory', 'MALLORY', ' mallory ', 'Ｍａｌｌｏｒｙ']) {
      const attempt = await tryJoin(url, '203.0.113.131', name);
      expect(attempt.code, name).toBe('NAME_TAKEN');
      attempt.socket.close();
    }
    // Its token is revoked too.
    const back = await MatchSocket.connect(url, { headers: from('203.0.113.130') });
    back.send({ type: 'resume', token: welcome.token });
    expect((await back.next('error')).code).toBe('TOKEN_INVALID');
    back.close();
    host.close();
    await honest;
  });

  it('look-alike names collide (Ａｎｎ vs ann) and invisible names are refused', async () => {
    const m = await newMatch(service, '203.0.113.92');
    const url = service.wsUrl + m.wsPath;
    const honest = playHonestMatch(service, '198.51.112');
    const { socket: ann, code } = await tryJoin(url, '203.0.113.140', 'ann');
    expect(code).toBeNull();
    for (const name of ['Ａｎｎ', 'ANN', 'ａｎｎ']) {
      const attempt = await tryJoin(url, '203.0.113.141', name);
      expect(attempt.code, name).toBe('NAME_TAKEN');
      attempt.socket.close();
    }
    for (const name of ['\u3164', 'ann\u200b', '\u2800\u2800', 'Ann\u0007']) {
      const attempt = await tryJoin(url, '203.0.113.142', name);
      expect(attempt.code, JSON.stringify(name)).toBe('INVALID_NAME');
      attempt.socket.close();
    }
    ann.close();
    await honest;
  });
});

describe('LOBBY_MAX_MS (pool)', () => {
  const group = new ProcessGroup();
  let service: RunningService;
  const LOBBY_MAX_MS = 4000;
  beforeAll(async () => {
    service = await startMatchService(group, 'pool', { MAX_WORKERS: '1', MAX_MATCHES: '2', TRUST_PROXY: 'loopback', LOBBY_MAX_MS: String(LOBBY_MAX_MS) });
  });
  afterAll(() => group.stopAll());

  it('closes a lobby never started, its host connected, with a reason and 4002, and frees its slot', async () => {
    const created = Date.now();
    const m = await newMatch(service, '203.0.113.150');
    const host = await hostOf(service, m, '203.0.113.150');
    const { socket: player } = await tryJoin(service.wsUrl + m.wsPath, '203.0.113.151', 'Waiting');
    // The honest match starts at once, so the limit never reaches it; it takes the other slot.
    await playHonestMatch(service, '198.51.113');
    const closed = await host.next('match_closed', () => true, LOBBY_MAX_MS + 5000);
    expect(Date.now() - created).toBeGreaterThanOrEqual(LOBBY_MAX_MS - 200);
    expect(closed.reason).toBe('The match was not started within 4 seconds of being created');
    expect(await host.closed).toEqual({ code: 4002, reason: 'match closed' });
    expect((await player.closed).code).toBe(4002);
    // The slot is free: the match is gone from its worker, and a new one fits.
    await eventually(async () => ((await fetchWorkerStats(service.url)).workers.every((w) => !w.matches.includes(m.matchId)) ? true : undefined), 10_000, 'the slot to free');
    expect(await fetchMatchStatus(service.url, m.matchId)).not.toBe('lobby');
    await newMatch(service, '203.0.113.152');
  });
});
