/**
 * The single-process match server as a child process, played with real `ws` clients: a full
 * match with a host and three players, then every bad input of PROTOCOL.md.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_BODY_BYTES } from '../../src/http/matchRoutes';
import { ProcessGroup } from '../helpers/processes';
import { resetUpgrades } from '../helpers/rawUpgrade';
import { MatchSocket } from '../../scripts/lib/matchSocket';
import { connectHost, createMatch, type ErrorBody, type HealthBody, joinPlayers, json, type MatchResults, type MatchSummary, type RunningService, startMatchService, tinyQuiz } from '../helpers/servers';

const group = new ProcessGroup();
let service: RunningService;

beforeAll(async () => {
  service = await startMatchService(group, 'single', { MSG_RATE_PER_SEC: '20', MSG_BURST: '40', BAD_MESSAGE_BUDGET: '10' });
});
afterAll(() => group.stopAll());

/**
 * Every message the server sent `client` before now has arrived: the server answers a `ping`
 * on the same connection after everything it sent before, and TCP keeps the order.
 */
async function drained(client: MatchSocket): Promise<void> {
  const t = Math.random();
  client.send({ type: 'ping', t });
  await client.next('pong', (m) => m.t === t);
}

/** Nothing new reached `clients` while `action` ran (plus a moment for stray messages). */
async function expectSilence(clients: MatchSocket[], action: () => Promise<void>): Promise<void> {
  // A broadcast of the previous step can still be on its way to one client while another
  // has already seen it; counting before it lands blamed `action` for it (a flaky [7] vs [8]).
  await Promise.all(clients.map(drained));
  const before = clients.map((c) => c.messages.length);
  await action();
  await sleep(150);
  expect(clients.map((c) => c.messages.length)).toEqual(before);
}

describe('single-process match server', () => {
  it('plays a built-in quiz to the end with a host and three players, scored by the formula', async () => {
    const match = await createMatch(service, { quizId: 'space-and-planets' });
    expect(match.matchId).toMatch(/^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{6}$/);
    expect(match.wsPath).toBe(`/ws/matches/${match.matchId}`);

    const host = await connectHost(service, match);
    const players = await joinPlayers(service, match, ['Ada', 'Brian', 'Chen']);
    const info = await json<MatchSummary>(fetch(`${service.url}/matches/${match.matchId.toLowerCase()}`));
    expect(info).toMatchObject({ matchId: match.matchId, status: 'lobby', players: 3, quiz: { title: expect.any(String) } });
    host.send({ type: 'start' });

    // Ada always right, Brian always wrong, Chen right on even questions only.
    const total = info.quiz.questionCount;
    const revealPoints = new Map<string, number>();
    for (let i = 0; i < total; i++) {
      const qs = await Promise.all(players.map((p) => p.next('question', (q) => q.index === i)));
      const q = qs[0]!;
      expect(q).not.toHaveProperty('correct');
      expect(q.endsAt - q.startsAt).toBeGreaterThan(0);
      // The host's view of the question carries no answer either.
      expect(await host.next('question', (m) => m.index === i)).not.toHaveProperty('correct');
      // Players answer; we learn the correct choice only at reveal, so answer 0 and 1 and 2.
      players[0]!.send({ type: 'answer', questionIndex: i, choice: 0 });
      players[1]!.send({ type: 'answer', questionIndex: i, choice: 1 });
      players[2]!.send({ type: 'answer', questionIndex: i, choice: i % 2 === 0 ? 0 : 1 });
      for (const p of players) await p.next('answer_ack', (a) => a.questionIndex === i);
      const reveals = await Promise.all(players.map((p) => p.next('reveal', (r) => r.questionIndex === i)));
      const correct = reveals[0]!.correct;
      for (const [k, r] of reveals.entries()) {
        const you = r.you!;
        const chose = [0, 1, i % 2 === 0 ? 0 : 1][k]!;
        expect(you.choice).toBe(chose);
        if (chose === correct) {
          // round(1000 × (1 − (t/T)/2)) with 0 ≤ t ≤ T
          expect(you.points).toBeGreaterThanOrEqual(500);
          expect(you.points).toBeLessThanOrEqual(1000);
        } else {
          expect(you.points).toBe(0);
          expect(you.streak).toBe(0);
        }
        const name = ['Ada', 'Brian', 'Chen'][k]!;
        revealPoints.set(name, (revealPoints.get(name) ?? 0) + you.points);
        expect(you.score).toBe(revealPoints.get(name));
      }
      expect(reveals[0]!.counts.reduce((a, b) => a + b, 0)).toBe(3);
      await players[0]!.next('leaderboard');
    }
    const finished = await host.next('finished', () => true, 30_000);
    expect(finished.standings).toHaveLength(3);
    for (const s of finished.standings) expect(s.score).toBe(revealPoints.get(s.name));
    const sorted = [...finished.standings].sort((a, b) => b.score - a.score);
    expect(finished.standings.map((s) => s.score)).toEqual(sorted.map((s) => s.score));
    expect(finished.standings[0]!.rank).toBe(1);

    const results = await json<MatchResults>(fetch(`${service.url}/matches/${match.matchId}/results`));
    expect(results.standings).toEqual(finished.standings);
    for (const c of [host, ...players]) c.close();
  });

  it('answers every bad input with its PROTOCOL.md code and changes nothing for others', async () => {
    // The host closes the question itself (`next`); the long limit keeps a busy machine from doing it first.
    const match = await createMatch(service, { quiz: tinyQuiz(3, 240), settings: { maxPlayers: 3 } });
    const host = await connectHost(service, match);
    const [alice, bob] = await joinPlayers(service, match, ['Alice', 'Bob']);
    const watchers = [host, alice!];
    const probe = await MatchSocket.connect(service.wsUrl + match.wsPath);

    const expectError = async (client: MatchSocket, msg: object | string, code: string, ref?: string) => {
      await expectSilence(watchers.filter((w) => w !== client), async () => {
        if (typeof msg === 'string') client.sendRaw(msg);
        else client.sendRaw(JSON.stringify(msg)); // deliberately outside the protocol's types
        const err = await client.next('error');
        expect(err.code).toBe(code);
        expect(typeof err.message).toBe('string');
        if (ref) expect(err.ref).toBe(ref);
      });
    };

    await expectError(probe, 'not json', 'BAD_MESSAGE');
    await expectError(probe, '[1,2]', 'BAD_MESSAGE');
    await expectError(probe, { type: 42 }, 'BAD_MESSAGE');
    await expectError(probe, { type: 'dance' }, 'UNKNOWN_TYPE', 'dance');
    await expectError(probe, { type: 'answer', questionIndex: 'zero', choice: 0 }, 'BAD_MESSAGE', 'answer');
    await expectError(probe, { type: 'answer', questionIndex: 0, choice: 0 }, 'NOT_JOINED', 'answer');
    await expectError(probe, { type: 'join', name: '   ' }, 'INVALID_NAME', 'join');
    await expectError(probe, { type: 'join', name: 'x'.repeat(21) }, 'INVALID_NAME', 'join');
    await expectError(probe, { type: 'join', name: 'x'.repeat(1000) }, 'INVALID_NAME', 'join');
    await expectError(probe, { type: 'join', name: 'a\u200bb' }, 'INVALID_NAME', 'join');
    await expectError(probe, { type: 'join', name: ' ALICE ' }, 'NAME_TAKEN', 'join');
    await expectError(probe, { type: 'resume', token: 'not-a-token' }, 'TOKEN_INVALID', 'resume');
    await expectError(probe, { type: 'resume', token: '' }, 'TOKEN_INVALID', 'resume');
    await expectError(probe, { type: 'resume', token: 7 }, 'BAD_MESSAGE', 'resume');
    await expectError(bob!, { type: 'start' }, 'NOT_HOST', 'start');
    await expectError(bob!, { type: 'kick', playerId: 'p1' }, 'NOT_HOST', 'kick');
    await expectError(bob!, { type: 'lock', locked: true }, 'NOT_HOST', 'lock');

    host.send({ type: 'lock', locked: true });
    await alice!.next('players', (m) => m.locked);
    await expectError(probe, { type: 'join', name: 'Carol' }, 'LOBBY_LOCKED', 'join');
    host.send({ type: 'lock', locked: false });
    await alice!.next('players', (m) => !m.locked);

    const carol = await MatchSocket.connect(service.wsUrl + match.wsPath);
    carol.send({ type: 'join', name: 'Carol' });
    await carol.next('welcome');
    await alice!.next('players', (m) => m.players.length === 3);
    await expectError(probe, { type: 'join', name: 'Dave' }, 'MATCH_FULL', 'join');

    host.send({ type: 'start' });
    const q = await alice!.next('question', (m) => m.index === 0);
    await expectError(probe, { type: 'join', name: 'Eve' }, 'MATCH_STARTED', 'join');
    await expectError(alice!, { type: 'answer', questionIndex: 1, choice: 0 }, 'WRONG_QUESTION', 'answer');
    await expectError(alice!, { type: 'answer', questionIndex: -1, choice: 0 }, 'WRONG_QUESTION', 'answer');
    await expectError(alice!, { type: 'answer', questionIndex: '0', choice: 0 }, 'BAD_MESSAGE', 'answer');
    await expectError(alice!, { type: 'answer', questionIndex: 0, choice: 7 }, 'BAD_MESSAGE', 'answer');

    alice!.send({ type: 'answer', questionIndex: q.index, choice: 2 });
    await alice!.next('answer_ack');
    alice!.send({ type: 'answer', questionIndex: q.index, choice: 2 });
    const again = await alice!.next('answer_ack');
    expect(again).toEqual({ type: 'answer_ack', questionIndex: 0, choice: 2 });
    await expectError(alice!, { type: 'answer', questionIndex: 0, choice: 3 }, 'ALREADY_ANSWERED', 'answer');
    // Nothing of the above changed what others see: one answer counted.
    expect(host.all('answer_count').at(-1)).toMatchObject({ answered: 1, total: 3 });

    host.send({ type: 'next' });
    await alice!.next('reveal');
    await expectError(bob!, { type: 'answer', questionIndex: 0, choice: 0 }, 'QUESTION_CLOSED', 'answer');
    for (const c of [host, alice!, bob!, carol, probe]) c.close();
  });

  it('refuses a join after the start unless late join is on', async () => {
    const match = await createMatch(service, { quiz: tinyQuiz(2, 60) });
    const host = await connectHost(service, match);
    await joinPlayers(service, match, ['One']);
    host.send({ type: 'start' });
    await host.next('question');
    const late = await MatchSocket.connect(service.wsUrl + match.wsPath);
    late.send({ type: 'join', name: 'Late' });
    expect((await late.next('error')).code).toBe('MATCH_STARTED');

    const open = await createMatch(service, { quiz: tinyQuiz(2, 60), settings: { lateJoin: true } });
    const host2 = await connectHost(service, open);
    await joinPlayers(service, open, ['One']);
    host2.send({ type: 'start' });
    await host2.next('question');
    const late2 = await MatchSocket.connect(service.wsUrl + open.wsPath);
    late2.send({ type: 'join', name: 'Late' });
    const welcome = await late2.next('welcome');
    expect(welcome.state.phase).toBe('question');
    expect(welcome.state.question).not.toHaveProperty('correct');
  });

  it('closes a connection that sends a frame over 4 KiB with 1009', async () => {
    const match = await createMatch(service);
    const c = await MatchSocket.connect(service.wsUrl + match.wsPath);
    c.sendRaw(JSON.stringify({ type: 'join', name: 'x'.repeat(5000) }));
    expect((await c.closed).code).toBe(1009);
  });

  it('closes a client that keeps sending bad messages with 1008', async () => {
    const match = await createMatch(service);
    const host = await connectHost(service, match);
    const c = await MatchSocket.connect(service.wsUrl + match.wsPath);
    await expectSilence([host], async () => {
      for (let i = 0; i < 15; i++) c.sendRaw('garbage');
      expect((await c.closed).code).toBe(1008);
    });
  });

  it('rate-limits a flooding client with RATE_LIMITED and then closes it with 1008', async () => {
    const match = await createMatch(service);
    const c = await MatchSocket.connect(service.wsUrl + match.wsPath);
    for (let i = 0; i < 200; i++) c.send({ type: 'ping', t: i });
    const err = await c.next('error', (e) => e.code === 'RATE_LIMITED');
    expect(err.code).toBe('RATE_LIMITED');
    expect((await c.closed).code).toBe(1008);
    // The burst allowance was answered before limiting began.
    expect(c.all('pong').length).toBeGreaterThanOrEqual(20);
  });

  it('kick closes the player, revokes its token, and others see the new list', async () => {
    const match = await createMatch(service);
    const host = await connectHost(service, match);
    const [keep, gone] = await joinPlayers(service, match, ['Keep', 'Gone']);
    const goneId = gone!.all('welcome')[0]!.you.playerId!;
    const goneToken = gone!.all('welcome')[0]!.token;
    host.send({ type: 'kick', playerId: goneId });
    expect((await gone!.next('kicked')).reason).toBeTruthy();
    await gone!.closed;
    const list = await keep!.next('players', (m) => m.players.length === 1);
    expect(list.players.map((p) => p.name)).toEqual(['Keep']);
    const retry = await MatchSocket.connect(service.wsUrl + match.wsPath);
    retry.send({ type: 'resume', token: goneToken });
    expect((await retry.next('error')).code).toBe('TOKEN_INVALID');
  });

  it('a newer connection for the same token replaces the older one', async () => {
    const match = await createMatch(service);
    const [p] = await joinPlayers(service, match, ['Twice']);
    const token = p!.all('welcome')[0]!.token;
    const second = await MatchSocket.connect(service.wsUrl + match.wsPath);
    second.send({ type: 'resume', token });
    const w = await second.next('welcome');
    expect(w.you).toMatchObject({ role: 'player', name: 'Twice' });
    await p!.closed;
  });

  it('allows the page origin (CORS) and refuses WebSocket upgrades from other origins', async () => {
    const allowed = 'http://localhost:3000';
    const preflight = await fetch(`${service.url}/matches`, {
      method: 'OPTIONS',
      headers: { origin: allowed, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(allowed);
    const evil = await fetch(`${service.url}/health`, { headers: { origin: 'http://evil.example' } });
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    // Both answers depend on Origin, so shared caches must key on it.
    expect(evil.headers.get('vary')).toMatch(/Origin/);
    expect(preflight.headers.get('vary')).toMatch(/Origin/);
    // PROTOCOL.md's service name, whichever architecture answers.
    expect(await json<HealthBody>(evil)).toMatchObject({ status: 'OK', service: 'Match Service Master', mode: 'Single Process' });

    const match = await createMatch(service);
    await expect(MatchSocket.connect(service.wsUrl + match.wsPath, { headers: { origin: 'http://evil.example' } })).rejects.toMatchObject({ status: 403 });
    const ok = await MatchSocket.connect(service.wsUrl + match.wsPath, { headers: { origin: allowed } });
    ok.send({ type: 'join', name: 'FromPage' });
    expect((await ok.next('welcome')).you.name).toBe('FromPage');
  });

  it('answers bad HTTP input with 4xx and the error shape', async () => {
    const post = (body: string, type = 'application/json') =>
      fetch(`${service.url}/matches`, { method: 'POST', headers: { 'content-type': type }, body });
    const cases: Array<[string, number, string]> = [
      ['{not json', 400, 'BAD_REQUEST'],
      [JSON.stringify({}), 400, 'BAD_REQUEST'],
      [JSON.stringify({ quizId: 'nope' }), 400, 'BAD_REQUEST'],
      [JSON.stringify({ quizId: 'world-capitals', quiz: tinyQuiz() }), 400, 'BAD_REQUEST'],
      [JSON.stringify({ quiz: { title: 'x', questions: [] } }), 400, 'BAD_REQUEST'],
      [JSON.stringify({ quiz: { title: 'x', questions: [{ text: 'q', choices: ['a'], correct: 0, timeLimitSec: 10 }] } }), 400, 'BAD_REQUEST'],
      [JSON.stringify({ quiz: { title: 'x', questions: [{ text: 'q', choices: ['a', 'b'], correct: 2, timeLimitSec: 10 }] } }), 400, 'BAD_REQUEST'],
      [JSON.stringify({ quizId: 'world-capitals', settings: { maxPlayers: 100_000 } }), 400, 'BAD_REQUEST'],
      [JSON.stringify({ quiz: { title: 'x'.repeat(MAX_BODY_BYTES), questions: [] } }), 413, 'TOO_LARGE'],
    ];
    for (const [body, status, code] of cases) {
      const res = await post(body);
      expect(res.status, body.slice(0, 80)).toBe(status);
      const answer = await json<ErrorBody>(res);
      expect(answer.error.code).toBe(code);
      expect(answer.error.message.length).toBeGreaterThan(3);
    }
    // A path that does not decode, and a body in an encoding we do not take: 400, not 500.
    const undecodable = await fetch(`${service.url}/matches/%E0%A4%A`);
    expect(undecodable.status).toBe(400);
    expect((await json<ErrorBody>(undecodable)).error.code).toBe('BAD_REQUEST');
    const brotli = await fetch(`${service.url}/matches`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'br' },
      body: 'not brotli',
    });
    expect(brotli.status).toBeGreaterThanOrEqual(400);
    expect(brotli.status).toBeLessThan(500);
    expect((await json<ErrorBody>(brotli)).error.code).toBe('BAD_REQUEST');
    const badHost = await post(JSON.stringify({ quizId: 'world-capitals', hostName: 'a\u200bb' }));
    expect(badHost.status).toBe(400);
    expect((await json<ErrorBody>(badHost)).error.message).toMatch(/hostName/);
    const named = await createMatch(service, { quizId: 'world-capitals', hostName: '  Quizmaster ' });
    const namedHost = await MatchSocket.connect(service.wsUrl + named.wsPath);
    namedHost.send({ type: 'resume', token: named.hostToken });
    expect((await namedHost.next('welcome')).you).toEqual({ name: 'Quizmaster', role: 'host' });
    namedHost.close();
    const missing = await fetch(`${service.url}/matches/ZZZZZZ`);
    expect(missing.status).toBe(404);
    expect((await json<ErrorBody>(missing)).error.code).toBe('NOT_FOUND');
    expect((await fetch(`${service.url}/matches/ZZZZZZ/results`)).status).toBe(404);
    await expect(MatchSocket.connect(`${service.wsUrl}/ws/matches/ZZZZZZ`)).rejects.toMatchObject({ status: 404 });
  });

  it('survives clients that reset their connection while an upgrade is being refused', async () => {
    const match = await createMatch(service);
    const player = (await joinPlayers(service, match, ['Steady']))[0]!;
    await resetUpgrades(service.port, '/ws/matches/ZZZZZZ', 60);
    await resetUpgrades(service.port, '/nowhere', 20);
    expect(service.proc.child.exitCode).toBeNull();
    expect((await fetch(`${service.url}/health`)).status).toBe(200);
    player.send({ type: 'ping', t: 7 });
    expect((await player.next('pong')).t).toBe(7);
  });
});
