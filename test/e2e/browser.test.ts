/**
 * The browser quiz in real Chromium (Debian's /usr/bin/driven by playwright-core)
 * against the real API server and the real worker pool: a host and two players in separate
 * browser contexts play to the podium; the same with the worker killed mid-question; a hostile
 * name; and the operators' dashboard. Screenshots of every screen go to test-artifacts/.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchWorkerStats } from '../../scripts/lib/matchServiceApi';
import { freePort } from '../../scripts/lib/ports';
import { ROOT } from '../../scripts/lib/repoRoot';
import { eventually, ProcessGroup } from '../helpers/processes';
import { byTestId, launchChromium, screen, startApiServer, watchCsp } from '../helpers/browser';
import { json, type MatchResults, type RunningService, startMatchService } from '../helpers/servers';

const ARTIFACTS = path.join(ROOT, 'test-artifacts');
const group = new ProcessGroup();
let browser: Browser;
let svc: RunningService;
let app: string;
const contexts: BrowserContext[] = [];
/** What any page logged about the Content-Security-Policy refusing something (must stay empty). */
const cspViolations: string[] = [];
const OPS_TOKEN = 'browser-test-ops-token-0123';

// Every player answers every question, so each closes early; the long limits (30 s at the 0.3
// time scale) only keep a busy machine, or the worker killed mid-question, from closing one
// before the test's last answer.
const quiz = {
  title: 'Browser test quiz',
  questions: [
    { text: 'Which planet is known as the Red Planet?', choices: ['Venus', 'Mars', 'Jupiter', 'Mercury'], correct: 1, timeLimitSec: 100 },
    { text: 'What is 7 × 6?', choices: ['42', '36', '48'], correct: 0, timeLimitSec: 100 },
    { text: 'Which ocean is the largest?', choices: ['Atlantic', 'Indian', 'Arctic', 'Pacific'], correct: 3, timeLimitSec: 100 },
  ],
};

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const apiPort = await freePort();
  app = `http://127.0.0.1:${apiPort}`;
  svc = await startMatchService(group, 'pool', {
    MATCH_TIME_SCALE: '0.3',
    MAX_WORKERS: '2',
    ALLOWED_ORIGINS: app,
    PUBLIC_APP_URL: app,
    // Browsers here are on loopback (local, no token needed) unless a test gives its context an
    // X-Forwarded-For: then it is a stranger behind a trusted proxy, as on the internet.
    TRUST_PROXY: 'loopback',
    OPS_TOKEN,
  });
  const api = await startApiServer(group, apiPort, svc.url);
  expect(api.pid).toBeGreaterThan(0);
  browser = await launchChromium();
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await group.stopAll();
});

async function newPage(viewport: { width: number; height: number }, opts: { forwardedFor?: string } = {}): Promise<Page> {
  const context = await browser.newContext({ viewport });
  contexts.push(context);
  const forwardedFor = opts.forwardedFor;
  if (forwardedFor) {
    // What a trusted proxy in front of the match service does: the browser's requests reach it
    // carrying the client's address (added on the way, so CORS never sees the header).
    await context.route(`${svc.url}/**`, (route) => route.continue({ headers: { ...route.request().headers(), 'x-forwarded-for': forwardedFor } }));
  }
  const page = await context.newPage();
  watchCsp(page, cspViolations);
  page.on('dialog', (d) => {
    throw new Error(`unexpected dialog: ${d.message()}`);
  });
  return page;
}

/** Screens fade in; a short settle makes the picture show what a person sees. */
async function shot(page: Page, name: string): Promise<void> {
  await page.waitForTimeout(350);
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Host creates a match from the pasted quiz JSON and lands in the lobby; returns the join code. */
async function hostCreates(host: Page, screenshotName?: string): Promise<string> {
  await host.goto(app);
  await screen(host, 'home').waitFor();
  await byTestId(host, 'quiz-select').selectOption('__custom');
  await byTestId(host, 'quiz-json').fill(JSON.stringify(quiz));
  if (screenshotName) await shot(host, screenshotName);
  await byTestId(host, 'create-match').click();
  await screen(host, 'lobby').waitFor();
  const code = (await byTestId(host, 'lobby-code').innerText()).trim();
  expect(code).toMatch(/^[A-Z2-9]{6}$/);
  return code;
}

async function playerJoins(page: Page, code: string, name: string): Promise<void> {
  await page.goto(`${app}/?join=${code}`);
  await screen(page, 'home').waitFor();
  expect(await byTestId(page, 'join-code').inputValue()).toBe(code);
  await byTestId(page, 'player-name').fill(name);
  await byTestId(page, 'join-button').click();
  await screen(page, 'lobby').waitFor();
}

/** Clicks a choice; done when it is locked in, or when it closed the question (the last answer does). */
async function answer(page: Page, questionIndex: number, choice: number): Promise<void> {
  await page.locator(`[data-screen="question"][data-question-index="${questionIndex}"]`).waitFor();
  await byTestId(page, `choice-${choice}`).click();
  await page.locator('[data-testid="answer-locked"], [data-screen="reveal"]').first().waitFor();
}

async function serverStandings(code: string): Promise<Map<string, number>> {
  const results = await eventually(async () => {
    const res = await fetch(`${svc.url}/matches/${code}/results`);
    return res.ok ? json<MatchResults>(res) : undefined;
  });
  return new Map(results.standings.map((s) => [s.name, s.score]));
}

async function shownScore(page: Page): Promise<number> {
  return Number((await byTestId(page, 'your-score').first().innerText()).replace(/[^\d]/g, ''));
}

describe('browser quiz', () => {
  it('a host and two players play to the podium; the scores shown are the server standings', async () => {
    const host = await newPage({ width: 1280, height: 800 });
    const ann = await newPage({ width: 360, height: 640 });
    const bo = await newPage({ width: 390, height: 844 });
    const code = await hostCreates(host, 'home');
    await playerJoins(ann, code, 'Ann');
    await playerJoins(bo, code, 'Bo');
    await expect.poll(() => host.locator('[data-testid^="player-p"]').count()).toBe(2);
    await shot(host, 'lobby');
    await shot(ann, 'lobby-phone');
    await byTestId(host, 'start-match').click();

    // Ann is always right; Bo is right only on the second question.
    const picks: Array<[number, number]> = [
      [1, 2],
      [0, 0],
      [3, 1],
    ];
    for (const [i, [a, b]] of picks.entries()) {
      await screen(ann, 'question').waitFor();
      await answer(ann, i, a);
      if (i === 0) await shot(ann, 'question');
      await answer(bo, i, b);
      await screen(ann, 'reveal').waitFor();
      if (i === 0) {
        await shot(ann, 'reveal');
        await shot(host, 'reveal-host');
      }
      await screen(ann, 'leaderboard').waitFor();
      if (i === 0) await shot(ann, 'leaderboard');
    }
    await screen(ann, 'finished').waitFor({ timeout: 30_000 });
    await screen(bo, 'finished').waitFor();
    await screen(host, 'finished').waitFor();
    await shot(ann, 'podium');
    await shot(host, 'podium-host');

    const standings = await serverStandings(code);
    expect(await shownScore(ann)).toBe(standings.get('Ann'));
    expect(await shownScore(bo)).toBe(standings.get('Bo'));
    expect(standings.get('Ann')!).toBeGreaterThan(standings.get('Bo')!);
    await expect.poll(() => host.locator('[data-testid^="standing-"]').count()).toBeGreaterThanOrEqual(2);
  });

  it('the worker dies mid-question: pages show the banner, resume on their own and keep the points', async () => {
    const host = await newPage({ width: 1280, height: 800 });
    const ann = await newPage({ width: 360, height: 640 });
    const bo = await newPage({ width: 360, height: 640 });
    const code = await hostCreates(host);
    await playerJoins(ann, code, 'Ann');
    await playerJoins(bo, code, 'Bo');
    await expect.poll(() => host.locator('[data-testid^="player-p"]').count()).toBe(2);
    await byTestId(host, 'start-match').click();

    await answer(ann, 0, 1);
    await answer(bo, 0, 1);
    await screen(ann, 'leaderboard').waitFor();
    const annBefore = await shownScore(ann);
    expect(annBefore).toBeGreaterThan(0);

    await screen(ann, 'question').waitFor();
    await answer(ann, 1, 0); // acknowledged, hence durable, before the crash
    const owner = (await fetchWorkerStats(svc.url)).workers.find((w) => w.matches.includes(code))!;
    // Ann's phone also loses its network as the worker dies, so her page stays on
    // "reconnecting" until it is back ('online'); otherwise the restore is over before a
    // screenshot could show the banner.
    await ann.context().setOffline(true);
    process.kill(owner.pid, 'SIGKILL');
    await byTestId(ann, 'reconnecting').waitFor({ state: 'visible' });
    await shot(ann, 'reconnecting');
    expect(await byTestId(ann, 'reconnecting').isVisible()).toBe(true);
    await ann.context().setOffline(false);
    await byTestId(ann, 'reconnecting').waitFor({ state: 'hidden', timeout: 20_000 });
    await byTestId(bo, 'reconnecting').waitFor({ state: 'hidden', timeout: 20_000 });
    // Restored from welcome: Ann's answer is still locked in; Bo can still answer.
    await screen(ann, 'question').waitFor();
    await byTestId(ann, 'answer-locked').waitFor();
    await answer(bo, 1, 2);
    await answer(ann, 2, 3);
    await answer(bo, 2, 3);
    await screen(ann, 'finished').waitFor({ timeout: 30_000 });
    await screen(bo, 'finished').waitFor();

    const standings = await serverStandings(code);
    expect(await shownScore(ann)).toBe(standings.get('Ann'));
    expect(await shownScore(bo)).toBe(standings.get('Bo'));
    // Points from before the crash are intact, and the answer acked before it counted.
    expect(standings.get('Ann')!).toBeGreaterThan(annBefore + 500 * 2 - 1);
    expect((await fetchWorkerStats(svc.url)).workers.find((w) => w.workerId === owner.workerId)!.restarts).toBeGreaterThanOrEqual(1);
  });

  it('names and quiz text with HTML are shown as literal text everywhere', async () => {
    // The name is 27 characters; PROTOCOL.md caps names at 20, so the server refuses
    // it (INVALID_NAME). The same string as the quiz title is shown on every screen, and a
    // 20-character hostile name plays the match.
    const evil = '<img src=x onerror=alert(1)>';
    const evilName = '<svg onload=alert()>';
    const host = await newPage({ width: 1280, height: 800 });
    const mallory = await newPage({ width: 360, height: 640 });
    await host.goto(app);
    await screen(host, 'home').waitFor();
    await byTestId(host, 'quiz-select').selectOption('__custom');
    await byTestId(host, 'quiz-json').fill(JSON.stringify({ ...quiz, title: evil }));
    await byTestId(host, 'create-match').click();
    await screen(host, 'lobby').waitFor();
    const code = (await byTestId(host, 'lobby-code').innerText()).trim();

    await mallory.goto(`${app}/?join=${code}`);
    await byTestId(mallory, 'player-name').fill(evil);
    await byTestId(mallory, 'join-button').click();
    await byTestId(mallory, 'error-message').waitFor({ state: 'visible' });
    expect(await byTestId(mallory, 'error-message').innerText()).toMatch(/name/i);

    await playerJoins(mallory, code, evilName);
    const item = host.locator('[data-testid^="player-p"]').first();
    await expect.poll(() => item.innerText()).toBe(evilName);
    await byTestId(host, 'start-match').click();
    await answer(mallory, 0, 1);
    await screen(mallory, 'leaderboard').waitFor();
    for (const page of [host, mallory]) {
      const text = await page.locator('body').innerText();
      expect(text).toContain(evil);
      if (page === mallory) expect(text).toContain(evilName);
      expect(await page.locator('img[src="x"], svg[onload]').count()).toBe(0);
    }
    await shot(mallory, 'hostile-name');
  });

  it('the operators dashboard shows the pool', async () => {
    const ops = await newPage({ width: 1280, height: 800 });
    await ops.goto(`${app}/ops`);
    await screen(ops, 'dashboard').waitFor();
    const stats = await fetchWorkerStats(svc.url);
    await expect.poll(async () => (await byTestId(ops, 'workers-table').innerText()).includes(String(stats.workers[0]!.pid)), { timeout: 10_000 }).toBe(true);
    await ops.waitForTimeout(6000); // a few refreshes, so the chart has points
    await shot(ops, 'dashboard');
  });

  it('the operators dashboard asks a remote operator for the token, then shows the pool', async () => {
    const ops = await newPage({ width: 1280, height: 800 }, { forwardedFor: '203.0.113.50' });
    await ops.goto(`${app}/ops`);
    const form = byTestId(ops, 'token-form');
    await form.waitFor({ state: 'visible' });
    await expect.poll(async () => byTestId(ops, 'service-status').innerText()).toContain('Token needed');
    // A wrong token is refused and the form says so.
    await ops.fill('#ops-token', 'not-the-right-token-at-all');
    await ops.click('#token-form button[type=submit]');
    await expect.poll(async () => ops.locator('#token-error').innerText(), { timeout: 10_000 }).toContain('not accepted');
    await shot(ops, 'dashboard-token');
    await ops.fill('#ops-token', OPS_TOKEN);
    await ops.click('#token-form button[type=submit]');
    await form.waitFor({ state: 'hidden' });
    const stats = await fetchWorkerStats(svc.url);
    await expect.poll(async () => (await byTestId(ops, 'workers-table').innerText()).includes(String(stats.workers[0]!.pid)), { timeout: 10_000 }).toBe(true);
  });

  it('no page broke the Content-Security-Policy (the page has no inline script or style)', async () => {
    const page = await newPage({ width: 800, height: 600 });
    const res = await page.goto(app);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(res?.headers()['x-frame-options']).toBe('DENY');
    expect(res?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res?.headers()['x-content-type-options']).toBe('nosniff');
    expect(res?.headers()['referrer-policy']).toBe('no-referrer');
    expect(cspViolations).toEqual([]);
  });
});
