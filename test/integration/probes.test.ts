/**
 * Probes as an orchestrator uses them, on real processes: `/livez` and `/readyz` on both
 * match service architectures (the pool with a real Redis that the test kills and starts
 * again), `/healthz` on the API server, and `/health` keeping PROTOCOL.md's fields while
 * naming the process that really answers.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, ProcessGroup } from '../helpers/processes';
import { freePort } from '../../scripts/lib/ports';
import { TestRedis } from '../helpers/redis';
import { type HealthBody, json, type RunningService, startMatchService } from '../helpers/servers';
import { probeRoutes, type ReadyzBody } from '../../src/http/probes';
import type { Lifecycle } from '../../src/http/matchService';

const group = new ProcessGroup();
afterAll(() => group.stopAll());

async function get(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

describe('the pool master with a Redis store', () => {
  let redis: TestRedis;
  let pool: RunningService;
  beforeAll(async () => {
    redis = await TestRedis.start(group);
    pool = await startMatchService(group, 'pool', { REDIS_URL: redis.url, MAX_WORKERS: '1' });
  });
  afterAll(() => redis?.cleanup());

  it('is alive and ready, and /health keeps the seed fields and names the master', async () => {
    expect(await get(`${pool.url}/livez`)).toEqual({ status: 200, body: { status: 'ALIVE' } });
    expect(await get(`${pool.url}/readyz`)).toEqual({ status: 200, body: { status: 'READY', lifecycle: 'ready', store: 'reachable' } });
    const health = await json<HealthBody>(fetch(`${pool.url}/health`));
    expect(health).toMatchObject({
      status: 'OK',
      service: 'Match Service Master',
      version: '3.0.0 (Worker Pool)',
      workerPool: { totalWorkers: 1, activeWorkers: 1, idleWorkers: 1, totalMatches: 0 },
      server: { name: 'Match Service Master', role: 'master' },
    });
  });

  it('stops being ready while Redis is down, stays alive, and is ready again when Redis is back', async () => {
    await redis.kill();
    const down = await eventually(async () => {
      const r = await get(`${pool.url}/readyz`);
      return r.status === 503 ? r : undefined;
    }, 20_000, '/readyz to answer 503 with Redis down');
    expect(down.body).toEqual({ status: 'NOT_READY', lifecycle: 'ready', store: 'unreachable' } satisfies ReadyzBody);
    // Liveness never looks at the store: a Redis outage must not get the master restarted.
    expect(await get(`${pool.url}/livez`)).toEqual({ status: 200, body: { status: 'ALIVE' } });

    await redis.boot();
    await eventually(async () => ((await get(`${pool.url}/readyz`)).status === 200 ? true : undefined), 30_000, '/readyz to answer 200 with Redis back');
  });
});

describe('the single process', () => {
  it('is alive and ready, and /health says it is a single process while keeping PROTOCOL.md\'s service name', async () => {
    const single = await startMatchService(group, 'single');
    expect(await get(`${single.url}/livez`)).toEqual({ status: 200, body: { status: 'ALIVE' } });
    expect(await get(`${single.url}/readyz`)).toEqual({ status: 200, body: { status: 'READY', lifecycle: 'ready', store: 'reachable' } });
    const health = await json<HealthBody>(fetch(`${single.url}/health`));
    expect(health).toMatchObject({
      status: 'OK',
      service: 'Match Service Master',
      mode: 'Single Process',
      server: { name: 'Match Service (single process)', role: 'single' },
      workerPool: { totalWorkers: 1, totalMatches: 0 },
    });
  });
});

describe('the API server', () => {
  it('answers /healthz', async () => {
    const port = await freePort();
    group.spawn(process.execPath, ['dist/apiServer.js'], { env: { API_PORT: String(port), HOST: '127.0.0.1' } });
    const res = await eventually(async () => {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      return r.status === 200 ? r : undefined;
    }, 30_000, 'API server /healthz');
    expect(await res.json()).toEqual({ status: 'OK', service: 'API Server' });
  });
});

describe('/readyz follows the lifecycle', () => {
  it.each<[Lifecycle, boolean, number, ReadyzBody['status']]>([
    ['starting', true, 503, 'NOT_READY'],
    ['ready', true, 200, 'READY'],
    ['draining', true, 503, 'NOT_READY'],
    ['ready', false, 503, 'NOT_READY'],
  ])('%s with the store reachable=%s answers %d', async (lifecycle, reachable, status, word) => {
    const app = express().use(probeRoutes({ lifecycle: () => lifecycle, storeReachable: async () => reachable }));
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const r = await get(`http://127.0.0.1:${port}/readyz`);
      expect(r).toEqual({ status, body: { status: word, lifecycle, store: reachable ? 'reachable' : 'unreachable' } });
      // Liveness is the same in every state.
      expect((await get(`http://127.0.0.1:${port}/livez`)).status).toBe(200);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
