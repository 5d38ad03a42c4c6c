/**
 * `npm run dev:all:pool` booted as a user would (concurrently + ts-node-dev, API server and
 * pool master), and a short match played through it: the match must be served by a forked
 * worker, which proves dev workers compile their own TypeScript instead of spinning.
 */
import { afterAll, expect, it } from 'vitest';
import { fetchWorkerStats } from '../../scripts/lib/matchServiceApi';
import { freePort } from '../../scripts/lib/ports';
import { eventually, ProcessGroup } from '../helpers/processes';
import { pidsHoldingConnection } from '../helpers/sockets';
import { connectHost, createMatch, joinPlayers, json, tinyQuiz } from '../helpers/servers';

const group = new ProcessGroup();
afterAll(() => group.stopAll());

it('npm run dev:all:pool starts both servers and plays a match through a forked worker', async () => {
  const [matchPort, apiPort] = [await freePort(), await freePort()];
  const proc = group.spawn('npm', ['run', 'dev:all:pool'], {
    env: {
      MATCH_PORT: String(matchPort),
      API_PORT: String(apiPort),
      HOST: '127.0.0.1',
      MATCH_SERVICE_URL: `http://127.0.0.1:${matchPort}`,
      MATCH_TIME_SCALE: '0.05',
      MAX_WORKERS: '2',
    },
  });
  const url = `http://127.0.0.1:${matchPort}`;
  const service = { url, wsUrl: `ws://127.0.0.1:${matchPort}`, port: matchPort, proc };
  await eventually(async () => ((await fetch(`${url}/health`)).status === 200 ? true : undefined), 60_000, 'pool master');
  await eventually(async () => ((await fetch(`http://127.0.0.1:${apiPort}/api/quizzes`)).status === 200 ? true : undefined), 60_000, 'API server');
  const config = await json<{ matchServiceUrl: string }>(fetch(`http://127.0.0.1:${apiPort}/api/config`));
  expect(config.matchServiceUrl).toBe(url);

  // Everyone answers, so each question closes early: the long limit only matters when busy.
  const match = await createMatch(service, { quiz: tinyQuiz(2, 240) });
  const host = await connectHost(service, match);
  const players = await joinPlayers(service, match, ['Dev1', 'Dev2']);
  const stats = await fetchWorkerStats(service.url);
  const owner = stats.workers.find((w) => w.matches.includes(match.matchId))!;
  expect(owner.workerId).toBe(match.workerId);
  // The socket is held by the worker process, not by the master or ts-node-dev.
  expect(pidsHoldingConnection(matchPort, players[0]!.localPort, [owner.pid])).toEqual([owner.pid]);

  host.send({ type: 'start' });
  for (let i = 0; i < 2; i++) {
    for (const p of players) {
      const q = await p.next('question', (m) => m.index === i);
      p.send({ type: 'answer', questionIndex: q.index, choice: 0 });
      await p.next('answer_ack', (a) => a.questionIndex === i);
    }
  }
  const finished = await players[0]!.next('finished', () => true, 30_000);
  expect(finished.standings.map((s) => s.name).sort()).toEqual(['Dev1', 'Dev2']);
  // The worker is not spinning: it answered everything above; and the log shows the pool lines.
  expect(proc.lines.some((l) => l.includes('Spawned new worker'))).toBe(true);
  expect(proc.lines.some((l) => l.includes('Match Service Master started'))).toBe(true);
}, 180_000);
