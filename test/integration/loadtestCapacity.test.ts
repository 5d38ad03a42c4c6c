/**
 * The README's load-test command against a pool the size a 2-CPU machine gets by default
 * (2 workers × MAX_MATCHES=3): it asks for 10 matches, runs the 6 that fit and says what to
 * change, and however it stops, no match it created is left in a lobby or running.
 *
 * The command is read from README.md so the two cannot drift; only its --url is pointed at
 * this test's pool, on a free port (another server on the machine may hold 3001).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { fetchMatchStatus, fetchWorkerStats } from '../../scripts/lib/matchServiceApi';
import { ROOT } from '../../scripts/lib/repoRoot';
import { eventually, ProcessGroup } from '../helpers/processes';
import { createMatch, type RunningService, startMatchService } from '../helpers/servers';

const group = new ProcessGroup();
afterEach(() => group.stopAll());
afterAll(() => group.stopAll());

/** The arguments of README.md's `npm run loadtest -- …` line, with --url set to `url`. */
function readmeLoadtestArgs(url: string): string[] {
  const line = /^npm run loadtest -- (.+)$/m.exec(readFileSync(path.join(ROOT, 'README.md'), 'utf8'))?.[1];
  if (!line) throw new Error('README.md has no `npm run loadtest -- …` line');
  const args = line.trim().split(/\s+/);
  const at = args.indexOf('--url');
  expect(args[at + 1]).toBe('http://127.0.0.1:3001');
  args[at + 1] = url;
  return args;
}

/** A pool as on a 2-CPU machine, with short reveal and leaderboard so a match takes seconds. */
function startPool(env: Record<string, string> = {}): Promise<RunningService> {
  return startMatchService(group, 'pool', { MAX_WORKERS: '2', MAX_MATCHES: '3', MATCH_TIME_SCALE: '1', REVEAL_MS: '200', LEADERBOARD_MS: '200', ...env });
}

/** Every match the pool hosts, with its status: none may be a lobby or running. */
async function liveMatches(svc: RunningService): Promise<string[]> {
  const ids = (await fetchWorkerStats(svc.url)).workers.flatMap((w) => w.matches);
  const statuses = await Promise.all(ids.map(async (id) => `${id}:${await fetchMatchStatus(svc.url, id)}`));
  return statuses.filter((s) => s.endsWith(':lobby') || s.endsWith(':running'));
}

it('the README command fits itself to 2 workers × 3 matches, succeeds, ends its matches, and runs again at once', async () => {
  const svc = await startPool({ FINISH_GRACE_MS: '1000' });
  const args = readmeLoadtestArgs(svc.url);
  for (const attempt of [1, 2]) {
    const run = group.spawn('npm', ['run', '--silent', 'loadtest', '--', ...args]);
    expect(await run.exited, run.lines.join('\n')).toBe(0);
    expect(run.lines.some((l) => l.includes('running 6 of the 10 matches asked for') && l.includes('MAX_MATCHES=5'))).toBe(true);
    expect(run.lines.some((l) => l.startsWith('Outcome   finished'))).toBe(true);
    expect(run.lines.find((l) => l.startsWith('Matches '))).toMatch(/created 6\/10 {2}started 6 {2}finished 6/);
    expect(run.lines.find((l) => l.startsWith('Players '))).toMatch(/joined 120\/120 {2}failed 0/);
    expect(await liveMatches(svc), `after run ${attempt}`).toEqual([]);
    // The finished matches leave after FINISH_GRACE_MS; then the same command has the room again.
    await eventually(async () => ((await fetchWorkerStats(svc.url)).totalMatches === 0 ? true : undefined), 20_000, 'finished matches to leave');
  }
}, 180_000);

it('stopped by SIGTERM mid-run, it plays every match it created to the end before it exits', async () => {
  // Reveal and leaderboard as shipped (5 s each): the matches are still running at the signal.
  const svc = await startPool({ REVEAL_MS: '5000', LEADERBOARD_MS: '5000' });
  const tool = group.spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join('scripts', 'loadtest.ts'), ...readmeLoadtestArgs(svc.url)]);
  await tool.waitForLine(/matches started 6 /, 60_000);
  expect(await liveMatches(svc)).toHaveLength(6);
  process.kill(tool.pid, 'SIGTERM');
  expect(await tool.exited, tool.lines.join('\n')).toBe(0);
  expect(tool.lines.some((l) => l.startsWith('Outcome   interrupted'))).toBe(true);
  expect(tool.lines.find((l) => l.startsWith('Cleanup '))).toMatch(/played to the end 6 {2}already over 0$/);
  expect(await liveMatches(svc)).toEqual([]);
});

it('with no room at all it creates nothing, says what to change, and exits 1', async () => {
  const svc = await startPool({ MAX_WORKERS: '1', MAX_MATCHES: '1' });
  const mine = await createMatch(svc, { quizId: 'world-capitals' });
  const run = group.spawn('npm', ['run', '--silent', 'loadtest', '--', ...readmeLoadtestArgs(svc.url)]);
  expect(await run.exited).toBe(1);
  expect(run.lines.some((l) => l.includes('nothing to run: the match service has room for 0 more matches') && l.includes('MAX_MATCHES=11'))).toBe(true);
  expect((await fetchWorkerStats(svc.url)).workers.flatMap((w) => w.matches)).toEqual([mine.matchId]);
});
