/**
 * The first hour of a new user, on real processes: `.env` is read when present (an exported
 * variable wins), moving the ports moves the addresses derived from them (the page finds the
 * match service, join links point at the API server), and one request id follows a match
 * from its `POST /matches` to the log lines of the worker that hosts it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, ProcessGroup } from '../helpers/processes';
import { freePort } from '../../scripts/lib/ports';
import { ROOT } from '../../scripts/lib/repoRoot';
import { createMatch, json, startMatchService } from '../helpers/servers';

const group = new ProcessGroup();
const dirs: string[] = [];
afterAll(async () => {
  await group.stopAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function waitFor(url: string, what: string): Promise<void> {
  await eventually(async () => ((await fetch(url)).status === 200 ? true : undefined), 30_000, what);
}

/** The JSON log lines of a process that carry `reqId`. */
function linesWithReqId(lines: string[], reqId: string): Array<Record<string, unknown>> {
  return lines.flatMap((l) => {
    try {
      const o = JSON.parse(l) as Record<string, unknown>;
      return o.reqId === reqId ? [o] : [];
    } catch {
      return [];
    }
  });
}

describe('.env', () => {
  it('is read from the working directory, and an exported variable wins over it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'quiz-dotenv-'));
    dirs.push(dir);
    const port = await freePort();
    writeFileSync(
      path.join(dir, '.env'),
      [
        `MATCH_PORT=${port}          # a comment, as in .env.example`,
        'HOST=127.0.0.1',
        'PUBLIC_APP_URL=https://quiz.from-dotenv.example',
        'MAX_PLAYERS=5',
        'MAX_WORKERS=',
      ].join('\n'),
    );
    // Started from another directory, as `node /path/to/dist/matchServer.js` would be.
    const proc = group.spawn(process.execPath, [path.join(ROOT, 'dist', 'matchServer.js')], { cwd: dir, env: { MAX_PLAYERS: '9' } });
    const url = `http://127.0.0.1:${port}`;
    await waitFor(`${url}/health`, `the single process on MATCH_PORT=${port} from .env (output: ${proc.lines.join('\n')})`);
    const match = await createMatch({ url }, { quizId: 'world-capitals', settings: { maxPlayers: 9 } });
    expect(match.joinUrl).toBe(`https://quiz.from-dotenv.example/?join=${match.matchId}`);
  });
});

describe('derived addresses', () => {
  it('follow MATCH_PORT and API_PORT when only the ports are set', async () => {
    const [matchPort, apiPort] = [await freePort(), await freePort()];
    const env = { MATCH_PORT: String(matchPort), API_PORT: String(apiPort), HOST: '127.0.0.1' };
    const service = await startMatchService(group, 'single', env);
    group.spawn(process.execPath, ['dist/apiServer.js'], { env });
    await waitFor(`http://127.0.0.1:${apiPort}/healthz`, 'API server');

    const config = await json<{ matchServiceUrl: string }>(fetch(`http://127.0.0.1:${apiPort}/api/config`));
    expect(config.matchServiceUrl).toBe(`http://localhost:${matchPort}`);
    const match = await createMatch(service);
    expect(match.joinUrl).toBe(`http://localhost:${apiPort}/?join=${match.matchId}`);
    // The page (on API_PORT) may call the match service: its origin is allowed by default.
    const preflight = await fetch(`${service.url}/matches`, {
      method: 'OPTIONS',
      headers: { Origin: `http://localhost:${apiPort}`, 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe(`http://localhost:${apiPort}`);
  });
});

describe('request ids', () => {
  it('echo X-Request-Id and carry it from POST /matches to the master\'s and the worker\'s log lines', async () => {
    const pool = await startMatchService(group, 'pool', { MAX_WORKERS: '1' });
    const reqId = 'trace-4f2a9c';
    const res = await fetch(`${pool.url}/matches`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-Request-Id': reqId },
      body: JSON.stringify({ quizId: 'world-capitals' }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-request-id')).toBe(reqId);
    const { matchId } = (await res.json()) as { matchId: string };

    const lines = await eventually(() => {
      const found = linesWithReqId(pool.proc.lines, reqId);
      return found.some((o) => o.role === 'worker') && found.some((o) => o.msg === 'request completed') ? found : undefined;
    }, 10_000, `log lines with reqId ${reqId}`);
    expect(lines.find((o) => o.role === 'worker')).toMatchObject({ msg: 'Match created', matchId, workerId: 1 });
    expect(lines.find((o) => o.msg === 'Match assigned to worker')).toMatchObject({ role: 'master', matchId });
    expect(lines.find((o) => o.msg === 'request completed')).toMatchObject({ role: 'master', res: { statusCode: 201 } });
  });

  it('are made up when missing or unsafe, and echoed', async () => {
    const single = await startMatchService(group, 'single');
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    expect((await fetch(`${single.url}/health`)).headers.get('x-request-id')).toMatch(uuid);
    const unsafe = await fetch(`${single.url}/health`, { headers: { 'X-Request-Id': 'has spaces "and quotes"' } });
    expect(unsafe.headers.get('x-request-id')).toMatch(uuid);
    // Error answers carry it too.
    const missing = await fetch(`${single.url}/matches/ZZZZZZ`, { headers: { 'X-Request-Id': 'abc-123' } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-request-id')).toBe('abc-123');
  });
});
