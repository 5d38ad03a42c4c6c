/**
 * Game night in real Chromium (/usr/bin/chromium through playwright-core) against the real
 * API server and match server: the host's big screen (a 1920×1080 window) and players'
 * phones (390×844, touch). The QR code on the big screen is decoded back into the join link;
 * players pop in; a question shows its answer count; the reveal is a bar chart; the podium
 * puts tied players on the same block; the host's `next` names the phase it ends; sound and
 * the screen wake lock behave. Screenshots go to test-artifacts/screens/ for people to look at.
 *
 * The tests in the second `describe` need the server side of issue 15 (the intro phase,
 * settings.phoneView, question kinds and pictures, PHASE_PASSED): they fail against a server
 * without it.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/ports';
import { ROOT } from '../../scripts/lib/repoRoot';
import { eventually, ProcessGroup } from '../helpers/processes';
import { byTestId, launchChromium, screen, startApiServer, watchCsp } from '../helpers/browser';
import { json, type MatchResults, type RunningService, startMatchService } from '../helpers/servers';

const SCREENS = path.join(ROOT, 'test-artifacts', 'screens');
const group = new ProcessGroup();
let browser: Browser;
let svc: RunningService;
let app: string;
const contexts: BrowserContext[] = [];
/** Anything a page logged about the Content-Security-Policy refusing something, or a script error. */
const pageProblems: string[] = [];

const BIG: BrowserContextOptions = { viewport: { width: 1920, height: 1080 } };
const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

const quiz = {
  title: 'Game night quiz',
  questions: [
    // The first two end when everyone has answered or the host says next, never on their
    // clock while the test takes screenshots (60 s at the 0.3 time scale); the third runs out.
    { text: 'Which planet is known as the Red Planet?', choices: ['Venus', 'Mars', 'Jupiter', 'Mercury'], correct: 1, timeLimitSec: 200 },
    { text: 'The Pacific is the largest ocean on Earth.', choices: ['True', 'False'], correct: 0, timeLimitSec: 200 },
    { text: 'What is 7 × 6?', choices: ['36', '42', '48'], correct: 1, timeLimitSec: 40 },
  ],
};

beforeAll(async () => {
  mkdirSync(SCREENS, { recursive: true });
  const apiPort = await freePort();
  app = `http://127.0.0.1:${apiPort}`;
  svc = await startMatchService(group, 'single', {
    MATCH_TIME_SCALE: '0.3',
    ALLOWED_ORIGINS: app,
    PUBLIC_APP_URL: app,
    // Long enough that the host's `next` (not the timer) moves the match on while the test
    // looks; 4.5 s of suspense before each question once the server has the intro phase.
    REVEAL_MS: '200000',
    LEADERBOARD_MS: '200000',
    QUESTION_INTRO_MS: '15000',
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

interface Tab {
  page: Page;
  /** Every WebSocket frame the page sent and received, parsed. */
  sent: Array<Record<string, unknown>>;
  received: Array<Record<string, unknown>>;
}

/**
 * Code run inside the page is written as strings: this test program has Node's types, not the
 * DOM's, and adding the DOM's would hide DOM use in src/ from the type check.
 */
function inPage<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate<T>(expression);
}

/** A `data-*` value of the page's root element (sound, soundMusic, soundCue, wakeLock). */
function rootData(page: Page, key: string): Promise<string | undefined> {
  return inPage(page, `document.documentElement.dataset.${key}`);
}

async function open(options: BrowserContextOptions, init?: string): Promise<Tab> {
  const context = await browser.newContext(options);
  contexts.push(context);
  if (init) await context.addInitScript({ content: init });
  const page = await context.newPage();
  const tab: Tab = { page, sent: [], received: [] };
  watchCsp(page, pageProblems);
  page.on('pageerror', (err) => pageProblems.push(`${page.url()}: ${err.message}`));
  page.on('websocket', (ws) => {
    const parse = (payload: string | Buffer) => {
      try {
        return JSON.parse(String(payload)) as Record<string, unknown>;
      } catch {
        return { unparsed: String(payload) };
      }
    };
    ws.on('framesent', (f) => tab.sent.push(parse(f.payload)));
    ws.on('framereceived', (f) => tab.received.push(parse(f.payload)));
  });
  return tab;
}

const questionScreen = (page: Page, index: number) => page.locator(`[data-screen="question"][data-question-index="${index}"]`);

/**
 * The screen as a person sees it once it settles: a page that is not in front may not have
 * run its animations yet, so the screenshot finishes them (`animations: 'disabled'`).
 *
 * Phones are shot one viewport at a time (the top, then the end if the page is longer):
 * Chromium's full-page capture briefly drops touch emulation, and the page, which watches
 * `(pointer: fine)` to decide on keyboard hints, would be caught showing them.
 */
async function shot(page: Page, name: string): Promise<void> {
  const file = (suffix = '') => path.join(SCREENS, `${name}${suffix}.png`);
  const touch = await inPage<boolean>(page, "matchMedia('(pointer: coarse)').matches");
  if (!touch) {
    await page.screenshot({ path: file(), fullPage: true, animations: 'disabled' });
    return;
  }
  await page.screenshot({ path: file(), animations: 'disabled' });
  if (await inPage<boolean>(page, 'document.documentElement.scrollHeight > innerHeight + 2')) {
    await inPage(page, 'window.scrollTo(0, document.documentElement.scrollHeight)');
    await page.screenshot({ path: file('-end'), animations: 'disabled' });
    await inPage(page, 'window.scrollTo(0, 0)');
  }
}

/**
 * The big screen is read from across the room, never scrolled: everything fits the window
 * (measured once the screen's entrance animations are over, as a person would see it).
 */
function fitsWindow(page: Page): Promise<boolean> {
  return inPage(
    page,
    `(() => {
      for (const a of document.getAnimations()) if (a.effect?.getTiming().iterations !== Infinity) a.finish();
      const root = document.documentElement;
      return root.scrollHeight <= innerHeight && root.scrollWidth <= innerWidth;
    })()`,
  );
}

/** The text a sighted person sees on the current screen: no visually hidden text for screen readers. */
function visibleText(page: Page): Promise<string> {
  return inPage(
    page,
    `(() => {
      const root = document.querySelector('[data-screen]');
      if (!root) return '';
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      let text = '';
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const el = node.parentElement;
        if (!el || el.closest('.visually-hidden')) continue;
        const box = el.getBoundingClientRect();
        if (box.width > 1 && box.height > 1 && getComputedStyle(el).visibility !== 'hidden') text += node.textContent + ' ';
      }
      return text;
    })()`,
  );
}

/** Collects every value the root's `data-<attribute>` takes from now on, in `window[name]`. */
function recordRootData(page: Page, attribute: string, name: string): Promise<void> {
  return inPage(
    page,
    `(() => {
      const seen = (window.${name} = []);
      new MutationObserver(() => seen.push(document.documentElement.getAttribute('data-${attribute}'))).observe(document.documentElement, {
        attributes: true,
        attributeFilter: ['data-${attribute}'],
      });
    })()`,
  );
}

/** Computed style properties of the first element matching `selector`. */
function styleOf(page: Page, selector: string, props: string[]): Promise<string[]> {
  return inPage(page, `(() => { const s = getComputedStyle(document.querySelector(${JSON.stringify(selector)})); return ${JSON.stringify(props)}.map((p) => s[p]); })()`);
}

async function hostCreates(host: Tab, game: object, { phoneView }: { phoneView?: 'full' | 'shapes' } = {}): Promise<string> {
  const page = host.page;
  await page.goto(app);
  await screen(page, 'home').waitFor();
  await byTestId(page, 'quiz-select').selectOption('__custom');
  await byTestId(page, 'quiz-json').fill(JSON.stringify(game));
  if (phoneView) await byTestId(page, `phone-view-${phoneView}`).check();
  await byTestId(page, 'create-match').click();
  await screen(page, 'lobby').waitFor();
  const code = (await byTestId(page, 'lobby-code').innerText()).trim();
  expect(code).toMatch(/^[A-Z2-9]{6}$/);
  return code;
}

async function playerJoins(phone: Tab, code: string, name: string): Promise<void> {
  const page = phone.page;
  await page.goto(`${app}/?join=${code}`);
  await screen(page, 'home').waitFor();
  await byTestId(page, 'player-name').fill(name);
  await byTestId(page, 'join-button').tap();
  await screen(page, 'lobby').waitFor();
}

/** Taps a choice; done when it is locked in, or when it closed the question (the last answer does). */
async function tapAnswer(phone: Tab, questionIndex: number, choice: number): Promise<void> {
  await questionScreen(phone.page, questionIndex).waitFor();
  await byTestId(phone.page, `choice-${choice}`).tap();
  await phone.page.locator('[data-testid="answer-locked"], [data-screen="reveal"]').first().waitFor();
}

function nextsSent(host: Tab): Array<Record<string, unknown>> {
  return host.sent.filter((m) => m.type === 'next');
}

async function decodeQr(page: Page): Promise<string> {
  const qr = byTestId(page, 'join-qr').locator('svg');
  await qr.waitFor();
  const png = PNG.sync.read(await qr.screenshot());
  const found = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  if (!found) throw new Error('the QR code on the big screen did not decode');
  return found.data;
}

/** A small PNG as a data URL (a red square with a white stripe), made here with pngjs. */
function pngDataUrl(): string {
  const png = new PNG({ width: 48, height: 32 });
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 48; x++) {
      const i = (y * 48 + x) * 4;
      const stripe = y >= 14 && y < 18;
      png.data[i] = stripe ? 255 : 208;
      png.data[i + 1] = stripe ? 255 : 20;
      png.data[i + 2] = stripe ? 255 : 55;
      png.data[i + 3] = 255;
    }
  }
  return `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
}

describe('big screen and phones (any server)', () => {
  it('lobby QR code, players popping in, a question with counts, the reveal chart, and a podium with a tie on silver', { timeout: 180_000 }, async () => {
    const host = await open(BIG);
    const ann = await open(PHONE);
    const bo = await open(PHONE);
    const cy = await open(PHONE);

    const code = await hostCreates(host, quiz);
    const shareLink = await byTestId(host.page, 'share-link').inputValue();
    expect(shareLink).toBe(`${app}/?join=${code}`);
    // What a phone's camera reads off the big screen is exactly the join link.
    expect(await decodeQr(host.page)).toBe(shareLink);
    // The QR encoder is our own server's copy, as a JavaScript module.
    const vendor = await fetch(`${app}/vendor/qrcode.mjs`);
    expect(vendor.status).toBe(200);
    expect(vendor.headers.get('content-type')).toMatch(/^text\/javascript/);

    // Record every row that pops in (the class is removed again once its animation ends).
    await inPage(
      host.page,
      `(() => {
        const popped = (window.popped = []);
        new MutationObserver((records) => {
          for (const r of records)
            for (const n of r.addedNodes) if (n instanceof Element && n.classList.contains('pop-in')) popped.push(n.querySelector('.player-name').textContent);
        }).observe(document.body, { subtree: true, childList: true });
      })()`,
    );
    await playerJoins(ann, code, 'Ann');
    await playerJoins(bo, code, 'Bo');
    await playerJoins(cy, code, 'Cy');
    await expect.poll(() => host.page.locator('[data-testid^="player-p"]').allInnerTexts()).toEqual(['Ann', 'Bo', 'Cy']);
    expect(await inPage(host.page, 'window.popped')).toEqual(['Ann', 'Bo', 'Cy']);
    // The host clicked "Create match", so the lobby music may play (on the host only by default).
    await expect.poll(() => rootData(host.page, 'sound')).toBe('on');
    expect(await rootData(host.page, 'soundMusic')).toBe('lobby');
    expect(await rootData(ann.page, 'sound')).toBe('off');
    expect(await fitsWindow(host.page)).toBe(true);
    await shot(host.page, 'big-lobby');
    await shot(ann.page, 'phone-lobby');

    // Keyboard: the host reaches "Start game" with Tab alone and presses Enter.
    for (let i = 0; i < 40; i++) {
      if ((await inPage(host.page, "document.activeElement?.getAttribute('data-testid')")) === 'start-match') break;
      await host.page.keyboard.press('Tab');
    }
    expect(await inPage(host.page, "document.activeElement?.getAttribute('data-testid')")).toBe('start-match');
    await host.page.keyboard.press('Enter');

    // ---- question 1: text large, four shapes with their choices, countdown, answer count ----
    await questionScreen(host.page, 0).waitFor({ timeout: 20_000 });
    expect(await rootData(host.page, 'soundMusic')).toBe('none');
    const title = byTestId(host.page, 'question-title');
    expect(await title.innerText()).toBe(quiz.questions[0]!.text);
    const titlePx = parseFloat((await styleOf(host.page, '[data-testid="question-title"]', ['fontSize']))[0]!);
    expect(titlePx).toBeGreaterThanOrEqual(48);
    const choices = host.page.locator('[data-screen="question"] .choice');
    expect(await choices.count()).toBe(4);
    expect(await choices.locator('.choice-shape').allInnerTexts()).toEqual(['▲', '◆', '●', '■']);
    expect(await choices.locator('.choice-text').allInnerTexts()).toEqual(quiz.questions[0]!.choices);
    await expect.poll(async () => Number(await host.page.locator('.countdown-seconds').innerText())).toBeGreaterThan(0);

    // Phones ("full", the default): the question and answers, no talk of keys on a touch screen.
    await questionScreen(ann.page, 0).waitFor();
    expect(await byTestId(ann.page, 'question-title').innerText()).toBe(quiz.questions[0]!.text);
    expect(await byTestId(ann.page, 'answer-prompt').innerText()).not.toMatch(/key/i);
    expect(await ann.page.locator('.choice-key').first().isVisible()).toBe(false);
    await shot(ann.page, 'phone-question-full');

    await tapAnswer(ann, 0, 1);
    await expect.poll(() => byTestId(host.page, 'answer-count').innerText()).toBe('1 / 3 answered');
    await tapAnswer(bo, 0, 2);
    await expect.poll(() => byTestId(host.page, 'answer-count').innerText()).toBe('2 / 3 answered');
    expect(await fitsWindow(host.page)).toBe(true);
    await shot(host.page, 'big-question');
    await tapAnswer(cy, 0, 2);

    // ---- the reveal chart ----
    await screen(host.page, 'reveal').waitFor();
    const chart = host.page.locator('ul.reveal-chart');
    await chart.waitFor();
    expect(await chart.locator('li').count()).toBe(4);
    expect(await byTestId(host.page, 'reveal-count-1').innerText()).toBe('1 vote');
    expect(await byTestId(host.page, 'reveal-count-2').innerText()).toBe('2 votes');
    expect(await byTestId(host.page, 'reveal-count-0').innerText()).toBe('0 votes');
    expect(await byTestId(host.page, 'reveal-choice-1').getAttribute('data-correct')).toBe('true');
    expect(await byTestId(host.page, 'reveal-choice-1').innerText()).toContain('Correct');
    // Bar heights follow the votes: the most voted choice is the tallest.
    const heights = await chart.locator('.chart-bar').evaluateAll((bars) => bars.map((b) => b.getBoundingClientRect().height));
    expect(heights[2]).toBeGreaterThan(heights[1]!);
    expect(heights[1]).toBeGreaterThan(heights[0]!);
    await expect.poll(() => rootData(host.page, 'soundCue')).toBe('reveal');
    await screen(ann.page, 'reveal').waitFor();
    expect(await fitsWindow(host.page)).toBe(true);
    await shot(host.page, 'big-reveal');
    await shot(ann.page, 'phone-reveal');

    // The host's next names the phase and question it ends.
    await byTestId(host.page, 'next-phase').click();
    await screen(host.page, 'leaderboard').waitFor();
    expect(nextsSent(host).at(-1)).toEqual({ type: 'next', phase: 'reveal', questionIndex: 0 });
    await shot(host.page, 'big-leaderboard');
    await byTestId(host.page, 'next-phase').focus();
    await host.page.keyboard.press('Enter');
    await questionScreen(host.page, 1).waitFor({ timeout: 20_000 });
    expect(nextsSent(host).at(-1)).toEqual({ type: 'next', phase: 'leaderboard', questionIndex: 0 });

    // ---- question 2 (two choices): the host ends it before anyone answers ----
    expect(await host.page.locator('[data-screen="question"] .choice').count()).toBe(2);
    await questionScreen(ann.page, 1).waitFor();
    expect(await ann.page.locator('[data-screen="question"] button.choice').count()).toBe(2);
    await byTestId(host.page, 'next-phase').click();
    await screen(host.page, 'reveal').waitFor();
    expect(nextsSent(host).at(-1)).toEqual({ type: 'next', phase: 'question', questionIndex: 1 });
    await byTestId(host.page, 'next-phase').click();
    await screen(host.page, 'leaderboard').waitFor();
    await byTestId(host.page, 'next-phase').click();

    // ---- question 3: only Ann answers, so it runs out: the last ten seconds are announced
    // once, and the host's screen ticks through the last five ----
    await questionScreen(host.page, 2).waitFor({ timeout: 20_000 });
    await recordRootData(host.page, 'sound-cue', 'cues');
    await tapAnswer(ann, 2, 1);
    await expect.poll(() => host.page.locator('#announcer').innerText(), { timeout: 15_000 }).toBe('10 seconds left.');
    await screen(host.page, 'reveal').waitFor({ timeout: 20_000 });
    const cues = await inPage<string[]>(host.page, 'window.cues');
    expect(cues).toContain('tick');
    expect(cues.indexOf('lastTick')).toBeGreaterThan(cues.indexOf('tick'));
    expect(cues.at(-1)).toBe('reveal');
    await byTestId(host.page, 'next-phase').click();
    await screen(host.page, 'leaderboard').waitFor();
    await byTestId(host.page, 'next-phase').click();

    // ---- the podium: Bo and Cy tie second (0 points each), so both stand on silver ----
    await screen(host.page, 'finished').waitFor({ timeout: 20_000 });
    const results = await eventually(async () => {
      const res = await fetch(`${svc.url}/matches/${code}/results`);
      return res.ok ? json<MatchResults>(res) : undefined;
    });
    const rankOf = new Map(results.standings.map((s) => [s.name, s.rank]));
    expect([rankOf.get('Ann'), rankOf.get('Bo'), rankOf.get('Cy')]).toEqual([1, 2, 2]);
    const gold = byTestId(host.page, 'podium-rank-1');
    const silver = byTestId(host.page, 'podium-rank-2');
    expect(await gold.locator('.podium-name').allInnerTexts()).toEqual(['Ann']);
    expect((await silver.locator('.podium-name').allInnerTexts()).sort()).toEqual(['Bo', 'Cy']);
    expect(await silver.getAttribute('class')).toContain('podium-silver');
    expect(await byTestId(host.page, 'podium-rank-3').count()).toBe(0);
    expect(await host.page.locator('.podium-bronze').count()).toBe(0);
    await expect.poll(() => rootData(host.page, 'soundCue')).toBe('fanfare');
    await shot(host.page, 'big-podium');
    await screen(bo.page, 'finished').waitFor();
    expect(await byTestId(bo.page, 'your-rank').innerText()).toMatch(/You finished 2nd/);
    await shot(bo.page, 'phone-podium');

    // The podium's motion is only for those who have not asked for less.
    const riseMs = async () => parseFloat((await styleOf(host.page, '.podium-gold .podium-block', ['animationDuration']))[0]!) * 1000;
    expect(await riseMs()).toBeGreaterThan(100);
    await host.page.emulateMedia({ reducedMotion: 'reduce' });
    expect(await riseMs()).toBeLessThan(1);

    // Rank badges: dark digits on the gold and silver badges (white on them failed contrast).
    const badge = (rank: number) => styleOf(host.page, `.standing.top-${rank} .standing-rank`, ['color', 'backgroundColor']);
    expect(await badge(1)).toEqual(['rgb(27, 16, 53)', 'rgb(255, 210, 63)']);
    expect(await badge(2)).toEqual(['rgb(27, 16, 53)', 'rgb(223, 228, 234)']);
  });

  it('the mute toggle is remembered; the screen is kept on, or the page says to keep it on', async () => {
    const host = await open(BIG);
    // A phone whose browser has no Screen Wake Lock API.
    const dana = await open(PHONE, "Object.defineProperty(Navigator.prototype, 'wakeLock', { get: () => undefined, configurable: true });");
    const code = await hostCreates(host, quiz);
    await playerJoins(dana, code, 'Dana');

    await expect.poll(() => rootData(dana.page, 'wakeLock')).toBe('unsupported');
    const note = byTestId(dana.page, 'wake-note');
    await note.waitFor({ state: 'visible' });
    expect(await note.innerText()).toMatch(/keep your screen on/i);
    // Where the API exists the lock is held, or (if the browser says no) the note says so.
    const hostLock = await eventually(async () => {
      const state = await rootData(host.page, 'wakeLock');
      return state === 'held' || state === 'refused' ? state : undefined;
    });
    expect(await byTestId(host.page, 'wake-note').isVisible()).toBe(hostLock === 'refused');

    // Players' phones start muted; the choice survives a reload (which lands back in the game).
    const toggle = byTestId(dana.page, 'sound-toggle');
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    await toggle.tap();
    expect(await toggle.getAttribute('aria-pressed')).toBe('true');
    await expect.poll(() => rootData(dana.page, 'sound')).toBe('on');
    await dana.page.reload();
    await screen(dana.page, 'lobby').waitFor();
    expect(await byTestId(dana.page, 'sound-toggle').getAttribute('aria-pressed')).toBe('true');
    // After a reload sound is on, or waits for the next touch: whether Chromium still counts
    // the earlier tap as this page's activation (it may carry it across a same-origin reload)
    // and how soon its audio starts are the browser's business. Either way a touch starts it.
    await expect.poll(() => rootData(dana.page, 'sound')).toMatch(/^(on|waiting)$/);
    await dana.page.locator('[data-screen] .screen-title').first().tap();
    await expect.poll(() => rootData(dana.page, 'sound'), { timeout: 10_000 }).toBe('on');
    await shot(dana.page, 'phone-lobby-no-wake-lock');

    // The host mutes; the big screen stays muted after a reload too.
    await byTestId(host.page, 'sound-toggle').click();
    expect(await byTestId(host.page, 'sound-toggle').getAttribute('aria-pressed')).toBe('false');
    await host.page.reload();
    await screen(host.page, 'lobby').waitFor();
    expect(await byTestId(host.page, 'sound-toggle').getAttribute('aria-pressed')).toBe('false');
    expect(await rootData(host.page, 'sound')).toBe('off');
  });
});

describe('issue 15 server side: intro, phoneView, kinds, pictures, PHASE_PASSED (pass once the server has them)', () => {
  it('the suspense moment, and phones that show only the shapes', { timeout: 180_000 }, async () => {
    const host = await open(BIG);
    const eve = await open(PHONE);
    const code = await hostCreates(host, quiz, { phoneView: 'shapes' });
    await playerJoins(eve, code, 'Eve');
    await expect.poll(() => host.page.locator('[data-testid^="player-p"]').count()).toBe(1);
    await byTestId(host.page, 'start-match').click();

    // The first intro: the host opens the answers at once; `next` names the intro it ends.
    await screen(host.page, 'intro').waitFor();
    await byTestId(host.page, 'next-phase').click();
    await questionScreen(host.page, 0).waitFor();
    expect(nextsSent(host).at(-1)).toEqual({ type: 'next', phase: 'intro', questionIndex: 0 });
    expect(await byTestId(host.page, 'question-title').innerText()).toBe(quiz.questions[0]!.text);

    // The phone: four big shapes named "Choice 1: triangle"…, none of the text.
    await questionScreen(eve.page, 0).waitFor();
    const names = await eve.page.locator('[data-screen="question"] button.choice').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
    expect(names).toEqual(['Choice 1: triangle', 'Choice 2: diamond', 'Choice 3: circle', 'Choice 4: square']);
    expect(await eve.page.getByRole('button', { name: 'Choice 2: diamond' }).count()).toBe(1);
    const seen = await visibleText(eve.page);
    expect(seen).not.toContain(quiz.questions[0]!.text);
    for (const choice of quiz.questions[0]!.choices) expect(seen).not.toContain(choice);
    await shot(eve.page, 'phone-question-shapes');
    await tapAnswer(eve, 0, 1);
    await screen(eve.page, 'reveal').waitFor();
    expect(await byTestId(eve.page, 'reveal-title').innerText()).toMatch(/diamond/);
    expect(await visibleText(eve.page)).not.toContain('Mars');
    await shot(eve.page, 'phone-reveal-shapes');
    await screen(host.page, 'reveal').waitFor();
    await byTestId(host.page, 'next-phase').click();
    await screen(host.page, 'leaderboard').waitFor();
    await byTestId(host.page, 'next-phase').click();

    // The second intro runs its course: the question alone on the big screen with a
    // countdown, no choices anywhere yet, and the phone says where to look.
    await screen(host.page, 'intro').waitFor();
    expect(await byTestId(host.page, 'intro-title').innerText()).toBe(quiz.questions[1]!.text);
    expect(Number(await byTestId(host.page, 'intro-countdown').innerText())).toBeGreaterThan(0);
    expect(await host.page.locator('.choice').count()).toBe(0);
    await screen(eve.page, 'intro').waitFor();
    expect(await visibleText(eve.page)).not.toContain(quiz.questions[1]!.text);
    expect(await visibleText(eve.page)).toMatch(/look at the big screen/i);
    expect(await fitsWindow(host.page)).toBe(true);
    await shot(host.page, 'big-intro');
    await shot(eve.page, 'phone-intro-shapes');
    await questionScreen(host.page, 1).waitFor({ timeout: 20_000 });
    await questionScreen(eve.page, 1).waitFor();
    expect(await eve.page.locator('[data-screen="question"] button.choice').count()).toBe(2);
    expect(nextsSent(host).at(-1)).toEqual({ type: 'next', phase: 'leaderboard', questionIndex: 0 });
  });

  it('true/false shows two choices, a picture is shown, a poll reveals votes without a right answer', { timeout: 180_000 }, async () => {
    const picture = pngDataUrl();
    const kinds = {
      title: 'Kinds quiz',
      questions: [
        { kind: 'truefalse', text: 'Mars is red.', choices: ['True', 'False'], correct: 0, timeLimitSec: 200 },
        { text: 'What colour is this square?', image: picture, choices: ['Red', 'Blue', 'Green'], correct: 0, timeLimitSec: 200 },
        { kind: 'poll', text: 'Which planet would you visit?', choices: ['Mars', 'Venus', 'Saturn'], timeLimitSec: 200 },
      ],
    };
    const host = await open(BIG);
    const fay = await open(PHONE);
    const gus = await open(PHONE);
    const code = await hostCreates(host, kinds);
    await playerJoins(fay, code, 'Fay');
    await playerJoins(gus, code, 'Gus');
    await expect.poll(() => host.page.locator('[data-testid^="player-p"]').count()).toBe(2);
    await byTestId(host.page, 'start-match').click();

    await questionScreen(host.page, 0).waitFor({ timeout: 20_000 });
    expect(await host.page.locator('[data-screen="question"] .choice').count()).toBe(2);
    expect(await byTestId(host.page, 'kind-tag').innerText()).toMatch(/true or false/i);
    await tapAnswer(fay, 0, 0);
    await tapAnswer(gus, 0, 1);
    await screen(host.page, 'reveal').waitFor();
    await byTestId(host.page, 'next-phase').click();
    await screen(host.page, 'leaderboard').waitFor();
    await byTestId(host.page, 'next-phase').click();

    // The picture: shown (and loaded: the CSP allows data: images) on the big screen and phones.
    await questionScreen(host.page, 1).waitFor({ timeout: 20_000 });
    const img = byTestId(host.page, 'question-image');
    expect(await img.getAttribute('src')).toBe(picture);
    await expect.poll(() => inPage(host.page, `document.querySelector('[data-testid="question-image"]').naturalWidth`)).toBe(48);
    await questionScreen(fay.page, 1).waitFor();
    expect(await byTestId(fay.page, 'question-image').count()).toBe(1);
    expect(await fitsWindow(host.page)).toBe(true);
    await shot(host.page, 'big-question-image');
    await tapAnswer(fay, 1, 0);
    await tapAnswer(gus, 1, 0);
    await screen(host.page, 'reveal').waitFor();
    await byTestId(host.page, 'next-phase').click();
    await screen(host.page, 'leaderboard').waitFor();
    const scoresBefore = await byTestId(fay.page, 'your-score').innerText();
    await byTestId(host.page, 'next-phase').click();

    // The poll: votes, no right answer, no points.
    await questionScreen(host.page, 2).waitFor({ timeout: 20_000 });
    expect(await byTestId(host.page, 'kind-tag').innerText()).toMatch(/poll/i);
    await tapAnswer(fay, 2, 2);
    await tapAnswer(gus, 2, 2);
    await screen(host.page, 'reveal').waitFor();
    expect(await byTestId(host.page, 'reveal-title').innerText()).toMatch(/poll results/i);
    expect(await host.page.locator('[data-correct="true"]').count()).toBe(0);
    expect(await host.page.locator('.tag-correct').count()).toBe(0);
    expect(await byTestId(host.page, 'reveal-count-2').innerText()).toBe('2 votes');
    expect(await fitsWindow(host.page)).toBe(true);
    await shot(host.page, 'big-reveal-poll');
    await screen(fay.page, 'reveal').waitFor();
    expect(await byTestId(fay.page, 'verdict').innerText()).toMatch(/thanks for voting/i);
    expect(await byTestId(fay.page, 'verdict').innerText()).toMatch(/no points/i);
    expect(await byTestId(fay.page, 'your-score').innerText()).toBe(scoresBefore);
    await shot(fay.page, 'phone-reveal-poll');
  });

  it('a double click on next ends one phase only: the second is PHASE_PASSED, and nothing shows', { timeout: 120_000 }, async () => {
    const host = await open(BIG);
    const hal = await open(PHONE);
    const code = await hostCreates(host, quiz);
    await playerJoins(hal, code, 'Hal');
    await expect.poll(() => host.page.locator('[data-testid^="player-p"]').count()).toBe(1);
    await byTestId(host.page, 'start-match').click();
    await tapAnswer(hal, 0, 1);
    await screen(host.page, 'reveal').waitFor({ timeout: 20_000 });
    // Two clicks before the server's answer to the first can arrive.
    const before = nextsSent(host).length;
    await inPage(host.page, `(() => { const button = document.querySelector('[data-testid="next-phase"]'); button.click(); button.click(); })()`);
    await expect.poll(() => nextsSent(host).length).toBe(before + 2);
    expect(nextsSent(host).slice(-2)).toEqual([
      { type: 'next', phase: 'reveal', questionIndex: 0 },
      { type: 'next', phase: 'reveal', questionIndex: 0 },
    ]);
    await expect.poll(() => host.received.filter((m) => m.type === 'error').map((m) => m.code)).toEqual(['PHASE_PASSED']);
    // One phase ended, not two: the leaderboard is up (not the next question), and no error shows.
    await screen(host.page, 'leaderboard').waitFor();
    expect(host.received.some((m) => m.type === 'question' && m.index === 1)).toBe(false);
    expect(await byTestId(host.page, 'error-message').isVisible()).toBe(false);
  });
});

describe('the pages', () => {
  it('broke no Content-Security-Policy rule and threw no script error', () => {
    expect(pageProblems).toEqual([]);
  });
});
