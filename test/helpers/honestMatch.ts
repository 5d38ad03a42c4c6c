/**
 * An honest match played beside an attack: a host and three players from their own
 * addresses answer a scripted quiz, and the standings must come out as the script says.
 * Every abuse test runs one, so a limit that hurts honest players fails the test.
 */
import { expect } from 'vitest';
import { MatchSocket } from '../../scripts/lib/matchSocket';
import { type RunningService, tinyQuiz } from './servers';

/** Headers that make a request come from `addr` when the service trusts loopback proxies. */
export function from(addr: string | undefined): Record<string, string> {
  return addr ? { 'x-forwarded-for': addr } : {};
}

export async function createMatchFrom(service: RunningService, addr: string | undefined, body: object = { quizId: 'world-capitals' }): Promise<Response> {
  return fetch(`${service.url}/matches`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...from(addr) },
    body: JSON.stringify(body),
  });
}

/**
 * Creates and plays a 2-question match, its host at `${net}.10` and its players at
 * `${net}.11` to `.13`: Ann always right, Ben right once, Cat never. Returns when the
 * standings are checked.
 */
export function playHonestMatch(service: RunningService, net = '198.51.100'): Promise<void> {
  const played = playScripted(service, net);
  // Tests start it beside an attack and await it at the end: a failure is reported there,
  // not as an unhandled rejection while the test is still busy with the attack.
  played.catch(() => {});
  return played;
}

async function playScripted(service: RunningService, net: string): Promise<void> {
  const addr = `${net}.10`;
  // Everyone answers, so the question closes early: the longest limit costs nothing and keeps a
  // busy machine from closing it before the last answer.
  const res = await createMatchFrom(service, addr, { quiz: tinyQuiz(2, 240) });
  expect(res.status, 'the honest host could create its match').toBe(201);
  const match = (await res.json()) as { wsPath: string; hostToken: string };
  const url = service.wsUrl + match.wsPath;
  const host = await MatchSocket.connect(url, { headers: from(addr) });
  host.send({ type: 'resume', token: match.hostToken });
  await host.next('welcome');
  const names = ['Ann', 'Ben', 'Cat'];
  const players: MatchSocket[] = [];
  for (const [i, name] of names.entries()) {
    const p = await MatchSocket.connect(url, { headers: from(`${net}.${11 + i}`) });
    p.send({ type: 'join', name });
    await p.next('welcome');
    players.push(p);
  }
  host.send({ type: 'start' });
  // tinyQuiz: question i's correct choice is i % 4.
  const choice = (player: number, q: number) => (player === 0 ? q : player === 1 ? (q === 0 ? 0 : 3) : 3);
  for (let q = 0; q < 2; q++) {
    for (const [i, p] of players.entries()) {
      await p.next('question', (m) => m.index === q, 30_000);
      p.send({ type: 'answer', questionIndex: q, choice: choice(i, q) });
      await p.next('answer_ack', (a) => a.questionIndex === q);
    }
  }
  const finished = await players[0]!.next('finished', () => true, 30_000);
  expect(finished.standings.map((s) => s.name)).toEqual(['Ann', 'Ben', 'Cat']);
  expect(finished.standings[2]!.score).toBe(0);
  for (const c of [host, ...players]) c.close();
}
