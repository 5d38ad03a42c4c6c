/**
 * Abuse over HTTP, against a real pool that trusts a proxy on loopback (TRUST_PROXY=loopback),
 * so X-Forwarded-For stands for many client addresses: one address cannot fill the pool,
 * operators' endpoints need the token from anywhere else than the machine itself, the API
 * server sends its hardening headers. An honest match plays beside each attack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessGroup } from '../helpers/processes';
import { type ErrorBody, json, type RunningService, startMatchService, tinyQuiz } from '../helpers/servers';
import { createMatchFrom, from, playHonestMatch } from '../helpers/honestMatch';
import { MatchSocket } from '../../scripts/lib/matchSocket';

const OPS_TOKEN = 'test-ops-token-0123456789';
const group = new ProcessGroup();
let service: RunningService;

beforeAll(async () => {
  service = await startMatchService(group, 'pool', {
    // 18 slots: the attacks below hold a few lobbies on purpose, and every case plays an
    // honest match beside its attack, which must never meet a full pool.
    MAX_WORKERS: '3',
    MAX_MATCHES: '6',
    TRUST_PROXY: 'loopback',
    OPS_TOKEN,
    CREATE_RATE_PER_MIN: '5',
    MAX_OPEN_LOBBIES_PER_IP: '2',
  });
});
afterAll(() => group.stopAll());

describe('match creation per address', () => {
  it('one address cannot fill the pool: its open lobbies are capped while another address still creates and plays', async () => {
    const attacker = '203.0.113.66';
    const answers: number[] = [];
    for (let i = 0; i < 6; i++) answers.push((await createMatchFrom(service, attacker)).status);
    expect(answers.slice(0, 2)).toEqual([201, 201]);
    expect(answers.slice(2)).toEqual([429, 429, 429, 429]);
    const refused = await createMatchFrom(service, attacker);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await json<ErrorBody>(refused)).error.code).toBe('RATE_LIMITED');
    // The attacker holds 2 of 18 slots and can take no more: an honest host elsewhere still plays.
    await playHonestMatch(service, '198.51.100');
  });

  it('creates are rate limited per address even when lobbies are started (the bucket does not reset)', async () => {
    const addr = '203.0.113.77';
    let created = 0;
    let limited = 0;
    for (let i = 0; i < 8; i++) {
      const res = await createMatchFrom(service, addr, { quiz: tinyQuiz(1, 5) });
      if (res.status === 201) {
        created++;
        // Start it at once so it no longer counts as an open lobby: only the rate limits.
        const m = (await res.json()) as { matchId: string; hostToken: string; wsPath: string };
        const host = await MatchSocket.connect(service.wsUrl + m.wsPath, { headers: from(addr) });
        host.send({ type: 'resume', token: m.hostToken });
        await host.next('welcome');
        host.send({ type: 'start' });
        await host.next('question');
        host.close();
      } else {
        expect(res.status).toBe(429);
        limited++;
      }
    }
    // A bucket of 5 a minute: at most 5 of 8 quick attempts get through, whatever their lobbies do.
    expect(created).toBeLessThanOrEqual(5);
    expect(created).toBeGreaterThanOrEqual(1);
    expect(limited).toBeGreaterThanOrEqual(3);
  });

  it('does not limit a client on the machine itself (no proxy in between)', async () => {
    const stats = await json<{ totalMatches: number; maxWorkers: number; maxMatchesPerWorker: number }>(fetch(`${service.url}/workers/stats`));
    const free = stats.maxWorkers * stats.maxMatchesPerWorker - stats.totalMatches;
    for (let i = 0; i < Math.min(free, 3); i++) expect((await createMatchFrom(service, undefined)).status).toBe(201);
  });
});

describe('operators’ endpoints', () => {
  it.each(['/workers/stats', '/metrics'])('%s: loopback yes, a remote client only with the token', async (path) => {
    const honest = playHonestMatch(service, path === '/metrics' ? '198.51.104' : '198.51.105');
    expect((await fetch(service.url + path)).status).toBe(200);
    const remote = await fetch(service.url + path, { headers: from('203.0.113.5') });
    expect(remote.status).toBe(403);
    expect((await json<ErrorBody>(remote)).error.code).toBe('FORBIDDEN');
    const wrong = await fetch(service.url + path, { headers: { ...from('203.0.113.5'), authorization: 'Bearer not-the-token-at-all' } });
    expect(wrong.status).toBe(403);
    const ok = await fetch(service.url + path, { headers: { ...from('203.0.113.5'), authorization: `Bearer ${OPS_TOKEN}` } });
    expect(ok.status).toBe(200);
    await honest;
  });

  it('/health stays public and lists no join codes', async () => {
    const created = (await (await createMatchFrom(service, undefined)).json()) as { matchId?: string };
    const res = await fetch(`${service.url}/health`, { headers: from('203.0.113.5') });
    expect(res.status).toBe(200);
    const text = await res.text();
    if (created.matchId) expect(text).not.toContain(created.matchId);
    expect(text).not.toMatch(/"matches"\s*:\s*\[/);
  });
});
