/**
 * The API server's pages as a phone gets them, against the real API server and a real match
 * service: page scripts and styles are gzip-compressed when the browser asks for it (and
 * served as they are when it does not), and the operators' dashboard neither jumps when its
 * first poll fills it in (Cumulative Layout Shift measured in Chromium) nor hides its wide
 * table from keyboard users (the scroller is a focusable, named region).
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/ports';
import { ROOT } from '../../scripts/lib/repoRoot';
import { eventually, ProcessGroup } from '../helpers/processes';
import { launchChromium, startApiServer } from '../helpers/browser';
import { type RunningService, startMatchService } from '../helpers/servers';

const group = new ProcessGroup();
let svc: RunningService;
let app: string;
let browser: Browser | undefined;

beforeAll(async () => {
  const apiPort = await freePort();
  app = `http://127.0.0.1:${apiPort}`;
  svc = await startMatchService(group, 'single', { ALLOWED_ORIGINS: app, PUBLIC_APP_URL: app, LOG_LEVEL: 'warn' });
  await startApiServer(group, apiPort, svc.url);
});

afterAll(async () => {
  await browser?.close();
  await group.stopAll();
});

/** A raw GET (fetch would undo the compression before the test could see it). */
function get(url: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

describe('API server pages', () => {
  it.each(['/app.js', '/style.css', '/ops.js', '/editor.js', '/js/api.js'])('%s is gzip-compressed for a browser that accepts it', async (file) => {
    const onDisk = readFileSync(path.join(ROOT, 'public', file));
    const zipped = await get(`${app}${file}`, { 'Accept-Encoding': 'gzip' });
    expect(zipped.status).toBe(200);
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.vary).toMatch(/Accept-Encoding/i);
    expect(zipped.body.length).toBeLessThan(onDisk.length);
    expect(gunzipSync(zipped.body).equals(onDisk)).toBe(true);

    const plain = await get(`${app}${file}`, { 'Accept-Encoding': 'identity' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.equals(onDisk)).toBe(true);
  });

  it.each([
    { device: 'a phone', viewport: { width: 360, height: 640 }, mobile: true },
    { device: 'a desktop', viewport: { width: 1280, height: 800 }, mobile: false },
  ])('/ops on $device: no layout shift as the first poll fills it in', async ({ viewport, mobile }) => {
    const page = await openOps(viewport, mobile);
    const shifts = await layoutShifts(page);
    const cls = shifts.reduce((sum, s) => sum + s.value, 0);
    expect(cls, `layout shifts: ${JSON.stringify(shifts)}`).toBeLessThan(0.1);
    await page.context().close();
  });

  it('/ops on a phone: the wide workers table scrolls from the keyboard (a focusable, named region)', async () => {
    const page = await openOps({ width: 360, height: 640 }, true);
    const scroller = page.locator('.table-scroll[aria-label^="Workers"]');
    expect(await scroller.getAttribute('tabindex')).toBe('0');
    expect(await scroller.getAttribute('role')).toBe('region');
    expect(await scroller.getAttribute('aria-label')).toMatch(/workers/i);
    expect(await scroller.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
    // Tab reaches it from the section before it, and the arrow keys scroll it.
    const heading = page.locator('#chart-heading');
    await heading.evaluate((el) => el.setAttribute('tabindex', '-1'));
    await heading.focus();
    const focused = () => scroller.evaluate((el) => el === el.ownerDocument.activeElement);
    for (let tabs = 0; tabs < 10 && !(await focused()); tabs++) await page.keyboard.press('Tab');
    expect(await focused()).toBe(true);
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => scroller.evaluate((el) => el.scrollLeft)).toBeGreaterThan(0);
    await page.context().close();
  });
});

/** /ops, once its first poll has filled it in and two more have come and gone. */
async function openOps(viewport: { width: number; height: number }, mobile: boolean): Promise<Page> {
  browser ??= await launchChromium();
  const context = await browser.newContext({ viewport, deviceScaleFactor: mobile ? 2 : 1, isMobile: mobile, hasTouch: mobile });
  // A phone's network: the match service's answers arrive well after the page is painted
  // (on loopback the first poll could beat the first paint and hide any shift).
  await context.route(`${svc.url}/**`, async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 600));
    await route.continue();
  });
  const page = await context.newPage();
  await page.goto(`${app}/ops`);
  // The first poll is in when the worker's row is (the single process is worker 0, with its pid).
  const stats = (await (await fetch(`${svc.url}/workers/stats`)).json()) as { workers: Array<{ pid: number }> };
  const table = page.locator('[data-testid="workers-table"]');
  await expect.poll(async () => (await table.innerText()).includes(String(stats.workers[0]!.pid)), { timeout: 10_000 }).toBe(true);
  await page.waitForTimeout(3500); // two more polls (every 1.5 s): what they change must not move things either
  return page;
}

/** Every layout shift of the page so far that no input caused (what CLS adds up), with what moved. */
function layoutShifts(page: Page): Promise<Array<{ value: number; sources: string[] }>> {
  // Runs in the page (a string: the tests are compiled without the DOM's types).
  return page.evaluate(`new Promise((resolve) => {
    const seen = [];
    const name = (n) => n && n.tagName ? n.tagName.toLowerCase() + (n.id ? '#' + n.id : '') + [...n.classList].map((c) => '.' + c).join('') : String(n && n.nodeName);
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (!e.hadRecentInput) seen.push({ value: e.value, sources: (e.sources || []).map((src) => name(src.node)) });
      }
    }).observe({ type: 'layout-shift', buffered: true });
    // Buffered entries come in the observer's first callback; none at all means no shift.
    setTimeout(() => resolve(seen), 300);
  })`);
}
