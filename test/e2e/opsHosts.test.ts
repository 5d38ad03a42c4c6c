/**
 * The operators' page with several hosts, in real Chromium: two hosts on a redis-server this
 * test starts, the API server pointing at the first. /ops shows a Hosts card listing both,
 * the one it talks to marked, with each host's load; a standalone pool shows no such card
 * (browser.test.ts's dashboard test runs against one without Redis).
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/ports';
import { launchChromium, startApiServer } from '../helpers/browser';
import { ProcessGroup } from '../helpers/processes';
import { TestRedis } from '../helpers/redis';
import { createMatch, type RunningService, startMatchService } from '../helpers/servers';

const group = new ProcessGroup();
let redis: TestRedis;
let browser: Browser;
let app: string;
const hosts: RunningService[] = [];

beforeAll(async () => {
  redis = await TestRedis.start(group);
  const apiPort = await freePort();
  app = `http://127.0.0.1:${apiPort}`;
  for (const id of ['ops-a', 'ops-b']) {
    const port = await freePort();
    const svc = await startMatchService(group, 'pool', {
      REDIS_URL: redis.url,
      HOST_ID: id,
      MATCH_PORT: String(port),
      PUBLIC_MATCH_URL: `http://127.0.0.1:${port}`,
      HOST_LEASE_MS: '1500',
      MAX_WORKERS: '1',
      ALLOWED_ORIGINS: app,
    });
    await svc.proc.waitForLine('"Host joined the cluster"');
    hosts.push(svc);
  }
  await startApiServer(group, apiPort, hosts[0]!.url);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await group.stopAll();
  redis?.cleanup();
});

describe('the operators page with several hosts', () => {
  it('lists every host with its load, and marks the one it talks to', async () => {
    await createMatch(hosts[1]!, { quizId: 'world-capitals' });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${app}/ops`);
    const table = page.getByTestId('hosts-table');
    await table.waitFor({ state: 'visible', timeout: 15_000 });
    await expect.poll(async () => page.getByTestId('host-ops-b').innerText(), { timeout: 15_000 }).toMatch(/ops-b\s+●\s*ready\s+1\s+1\s/);
    expect(await page.getByTestId('host-ops-a').innerText()).toContain('ops-a (this one)');
    expect(await page.getByTestId('host-ops-b').innerText()).not.toContain('this one');
    await page.close();
  });
});
