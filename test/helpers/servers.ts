/** Starts the real servers as child processes on free ports, through a `ProcessGroup`. */
import { freePort } from '../../scripts/lib/ports';
import { MatchSocket } from '../../scripts/lib/matchSocket';
import { eventually, type ProcessGroup, type Started } from './processes';
import type { HealthBody, MatchSummary } from '../../src/http/matchService';
import type { MatchResults } from '../../src/store/store';

export interface ErrorBody {
  error: { code: string; message: string };
}

/** Typed JSON of a response (the types are the service's own). */
export async function json<T>(res: Response | Promise<Response>): Promise<T> {
  return (await (await res).json()) as T;
}
export type { HealthBody, MatchSummary, MatchResults };

export interface RunningService {
  url: string;
  wsUrl: string;
  port: number;
  proc: Started;
}

/**
 * Short phases so a whole match plays in a few seconds. No suspense moment before questions
 * (QUESTION_INTRO_MS=0): tests that play matches expect `question` right after `start` and
 * each leaderboard, as in v1; the tests of the intro turn it on.
 */
export const FAST_ENV = {
  MATCH_TIME_SCALE: '0.05',
  QUESTION_INTRO_MS: '0',
  LOG_LEVEL: 'info',
  // The production values: a worker a busy machine starves for a second must not be taken for
  // hung (replaced, or refused its upgrades as late). Tests of hang detection set their own.
  HEARTBEAT_INTERVAL_MS: '1000',
  HEARTBEAT_TIMEOUT_MS: '5000',
};

export async function startMatchService(
  group: ProcessGroup,
  mode: 'single' | 'pool',
  env: Record<string, string> = {},
): Promise<RunningService> {
  const port = env.MATCH_PORT ? Number(env.MATCH_PORT) : await freePort();
  const entry = mode === 'single' ? 'dist/matchServer.js' : 'dist/matchServerMaster.js';
  const proc = group.spawn(process.execPath, [entry], { env: { ...FAST_ENV, ...env, MATCH_PORT: String(port), HOST: '127.0.0.1' } });
  const url = `http://127.0.0.1:${port}`;
  await eventually(async () => ((await fetch(`${url}/health`)).status === 200 ? true : undefined), 30_000, `${mode} server health`);
  return { url, wsUrl: `ws://127.0.0.1:${port}`, port, proc };
}

export async function createMatch(service: { url: string }, body: object = { quizId: 'world-capitals' }) {
  const res = await fetch(`${service.url}/matches`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { matchId: string; hostToken: string; wsPath: string; workerId: number; joinUrl: string };
  if (res.status !== 201) throw new Error(`POST /matches answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

/** A quiz whose questions are short, so matches end quickly. */
export function tinyQuiz(questions = 2, timeLimitSec = 20) {
  return {
    title: 'Tiny quiz',
    questions: Array.from({ length: questions }, (_, i) => ({
      text: `Question ${i + 1}: which is A?`,
      choices: ['A', 'B', 'C', 'D'],
      correct: i % 4,
      timeLimitSec,
    })),
  };
}

export async function joinPlayers(service: RunningService, match: { wsPath: string }, names: string[]): Promise<MatchSocket[]> {
  const players: MatchSocket[] = [];
  for (const name of names) {
    const c = await MatchSocket.connect(service.wsUrl + match.wsPath);
    c.send({ type: 'join', name });
    await c.next('welcome');
    players.push(c);
  }
  return players;
}

export async function connectHost(service: RunningService, match: { wsPath: string; hostToken: string }): Promise<MatchSocket> {
  const host = await MatchSocket.connect(service.wsUrl + match.wsPath);
  host.send({ type: 'resume', token: match.hostToken });
  await host.next('welcome');
  return host;
}
