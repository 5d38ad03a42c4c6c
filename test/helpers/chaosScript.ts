/**
 * The chaos tests' scripted match (recovery.test.ts, hosts.test.ts): five players per match
 * answer a four-question quiz by a script; two of them hold their answer to the crash
 * question until everyone is back, so a run with a crash must end with the same counts of
 * correct answers as a fault-free run. See recovery.test.ts for why counts, not points.
 */
import { expect } from 'vitest';
import { type AnswerPolicy } from '../../scripts/lib/answerer';
import { MatchClient } from '../../scripts/lib/matchClient';
import { MatchSocket } from '../../scripts/lib/matchSocket';
import { OUTLIVE_RESTARTS } from '../../scripts/lib/retryPolicy';
import { eventually } from './processes';
import { createMatch } from './servers';

export const QUESTIONS = 4;
export const CRASH_Q = 1;
export const PLAYERS = 5;
export const HELD = [3, 4];
export const quiz = {
  title: 'Chaos quiz',
  questions: Array.from({ length: QUESTIONS }, (_, i) => ({
    text: `Q${i}`,
    choices: ['a', 'b', 'c', 'd'],
    correct: (i * 3 + 1) % 4,
    timeLimitSec: 60,
  })),
};
export const correctOf = (i: number) => quiz.questions[i]!.correct;
export const wrongOf = (i: number) => (correctOf(i) + 1) % 4;
/** Player k's choice at question i. Players held across the crash answer it wrong. */
export const script = (k: number) => (i: number) =>
  i === CRASH_Q && HELD.includes(k) ? wrongOf(i) : (k + i) % 3 !== 0 ? correctOf(i) : wrongOf(i);

/** A player that answers by `choose` on receipt, holds `hold` until released, and outlives crashes of its server. */
function scriptedPlayer(url: string, name: string, choose: (questionIndex: number) => number, hold: number[]): MatchClient {
  const answer: AnswerPolicy = { delayMs: () => 0, choose: (i) => ({ choice: choose(i), intendedCorrect: false }) };
  return new MatchClient({ url, hello: { type: 'join', name }, role: 'player', answer, hold, retry: OUTLIVE_RESTARTS, closeOnFinish: false, keepMessages: true });
}

export interface Played {
  matchIds: string[];
  players: MatchClient[][];
}

/** Creates `n` matches, joins 5 scripted players each, starts them and brings every match to the crash question. */
export async function playToCrashQuestion(svc: { url: string; wsUrl: string }, n: number, via: { wsUrl: string } = svc): Promise<Played> {
  const matchIds: string[] = [];
  const players: MatchClient[][] = [];
  const hosts: MatchSocket[] = [];
  for (let m = 0; m < n; m++) {
    const match = await createMatch(svc, { quiz });
    matchIds.push(match.matchId);
    const ps = Array.from({ length: PLAYERS }, (_, k) => scriptedPlayer(via.wsUrl + match.wsPath, `m${m}p${k}`, script(k), k >= HELD[0]! ? [CRASH_Q] : []));
    for (const p of ps) await p.connectOrThrow();
    players.push(ps);
    const host = await MatchSocket.connect(via.wsUrl + match.wsPath);
    host.send({ type: 'resume', token: match.hostToken });
    await host.next('welcome');
    hosts.push(host);
  }
  for (const h of hosts) h.send({ type: 'start' });
  // Every non-held player's answer to the crash question is acknowledged, hence durable.
  for (const ps of players) for (const p of ps.filter((_, k) => !HELD.includes(k))) await p.waitForAck(CRASH_Q);
  for (const h of hosts) h.close();
  return { matchIds, players };
}

/** Correct answers counted in `score`, for answers sent on receipt (each within 5 % of 1000). */
function correctCount(score: number): number {
  const n = Math.round(score / 1000);
  expect(score).toBeGreaterThanOrEqual(n * 950);
  expect(score).toBeLessThanOrEqual(n * 1000);
  return n;
}

export const scriptCorrect = (k: number) => Array.from({ length: QUESTIONS }, (_, i) => i).filter((i) => script(k)(i) === correctOf(i)).length;

export async function finish(played: Played, opts: { afterCrash?: boolean } = {}): Promise<Array<Array<{ name: string; correct: number }>>> {
  if (opts.afterCrash) {
    // The script: held players answer once everyone is back, so nobody's points depend on
    // how long their own reconnect backoff happened to be.
    for (const ps of played.players) {
      for (const p of ps) await eventually(() => (p.resumes >= 1 && p.welcomes.length >= 2 ? true : undefined), 30_000, `${p.name} to resume`);
    }
  }
  for (const ps of played.players) for (const [k, p] of ps.entries()) if (HELD.includes(k)) p.release(CRASH_Q);
  const standings = [];
  for (const ps of played.players) {
    const all = await Promise.all(ps.map((p) => p.finalStandings));
    // Everyone in a match sees the same standings.
    for (const s of all) expect(s).toEqual(all[0]);
    standings.push(all[0]!.map(({ name, score }) => ({ name, correct: correctCount(score) })).sort((a, b) => a.name.localeCompare(b.name)));
  }
  for (const ps of played.players) for (const p of ps) void p.stop();
  return standings;
}

