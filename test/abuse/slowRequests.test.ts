/**
 * Half-sent requests do not hold descriptors: every server we listen with (pool master,
 * single process, API server) closes a connection whose request head never completes within
 * HTTP_HEADERS_TIMEOUT_MS, and one whose body never completes within HTTP_REQUEST_TIMEOUT_MS.
 * Timings are asserted only against a generous bound (a loaded machine is slow, not wrong).
 */
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/ports';
import { eventually, ProcessGroup } from '../helpers/processes';
import { startMatchService } from '../helpers/servers';

const TIMEOUTS = { HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '2000' };
/** Well past the 1–2 s limits (Node checks them every quarter of the headers timeout), far below Node's defaults (60 s / 300 s). */
const BOUND_MS = 12_000;
const group = new ProcessGroup();
afterAll(() => group.stopAll());

/** Sends `data` and never anything more; resolves with how long the server took to close. */
function halfRequest(port: number, data: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1', () => socket.write(data));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`still open after ${BOUND_MS} ms`));
    }, BOUND_MS);
    socket.on('data', () => {});
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}

const HALF_HEAD = 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ';
const HALF_BODY = 'POST /matches HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"quizId":';

async function startApi(): Promise<number> {
  const port = await freePort();
  group.spawn(process.execPath, ['dist/apiServer.js'], { env: { ...TIMEOUTS, API_PORT: String(port), HOST: '127.0.0.1' } });
  await eventually(async () => ((await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200 ? true : undefined), 30_000, 'API server');
  return port;
}

describe('half-sent requests are closed', () => {
  it.each(['pool', 'single'] as const)('the %s match service closes a half-sent head and a half-sent body', async (mode) => {
    const svc = await startMatchService(group, mode, TIMEOUTS);
    const [head, body] = await Promise.all([halfRequest(svc.port, HALF_HEAD), halfRequest(svc.port, HALF_BODY)]);
    expect(head).toBeLessThan(BOUND_MS);
    expect(body).toBeLessThan(BOUND_MS);
    // Not closed at once, either: a slow but legitimate client gets its second.
    expect(head).toBeGreaterThanOrEqual(900);
    // And the server still serves everyone else.
    expect((await fetch(`${svc.url}/health`)).status).toBe(200);
  });

  it('the API server closes a half-sent head', async () => {
    const port = await startApi();
    expect(await halfRequest(port, HALF_HEAD.replace('/health', '/healthz'))).toBeLessThan(BOUND_MS);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });
});
