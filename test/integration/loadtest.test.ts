/**
 * Keeps the load generator from rotting: `npm run loadtest` against a real pool for a few
 * seconds with small numbers. It asserts that the tool ran and reported, never a speed.
 */
import { afterAll, expect, it } from 'vitest';
import { ProcessGroup } from '../helpers/processes';
import { startMatchService } from '../helpers/servers';
import type { LoadSummary } from '../../scripts/lib/report';

const group = new ProcessGroup();
afterAll(() => group.stopAll());

it('npm run loadtest plays small matches through the pool and reports a summary', async () => {
  const svc = await startMatchService(group, 'pool', { MAX_WORKERS: '2', REVEAL_MS: '200', LEADERBOARD_MS: '200', MATCH_TIME_SCALE: '1' });
  const run = group.spawn('npm', [
    'run', '--silent', 'loadtest', '--',
    '--url', svc.url, '--matches', '4', '--players', '3', '--questions', '2', '--question-time', '5',
    '--answer-time', 'uniform:20-200', '--duration', '40', '--json', '--master-pid', String(svc.proc.pid),
  ]);
  expect(await run.exited).toBe(0);
  const summary = JSON.parse(run.lines.find((l) => l.startsWith('{"target"'))!) as LoadSummary;
  expect(summary.outcome).toBe('finished');
  expect(summary.matches).toMatchObject({ requested: 4, created: 4, started: 4, finished: 4 });
  expect(summary.players).toMatchObject({ requested: 12, joined: 12, failed: 0 });
  expect(summary.answers.sent).toBe(24);
  expect(summary.answers.acked).toBe(24);
  expect(summary.latency.ackMs.count).toBe(24);
  expect(summary.latency.fanoutMs.count).toBeGreaterThanOrEqual(24);
  // A match starts once its own players joined, so the match of the last player to join
  // plays entirely after the ramp: at least its 3 players × 2 answers count there.
  expect(summary.latency.ackAfterRampMs.count).toBeGreaterThanOrEqual(6);
  expect(summary.latency.ackAfterRampMs.count).toBeLessThanOrEqual(24);
  expect(summary.errors).toEqual({});
  // It found and sampled the master and the two workers the 4 matches needed.
  expect(summary.processes.length).toBeGreaterThanOrEqual(3);
});
