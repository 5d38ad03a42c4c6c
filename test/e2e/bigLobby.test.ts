/**
 * The browser page in a big match (PROTOCOL.md Part 2, "Big matches"), in real Chromium: the
 * lobby shows how many are in and the newest few names, not a list of everyone. PLAYER_LIST_MAX
 * is set low (3) so that a few scripted players make the match big.
 */
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MatchSocket } from '../../scripts/lib/matchSocket';
import { freePort } from '../../scripts/lib/ports';
import { eventually, ProcessGroup } from '../helpers/processes';
import { byTestId, launchChromium, screen, startApiServer } from '../helpers/browser';
import { type RunningService, startMatchService } from '../helpers/servers';

const LIST_MAX = 3;
const SCRIPTED = 20;
const group = new ProcessGroup();
let browser: Browser;
let svc: RunningService;
let app: string;
const contexts: BrowserContext[] = [];
const sockets: MatchSocket[] = [];

beforeAll(async () => {
  const apiPort = await freePort();
  app = `http://127.0.0.1:${apiPort}`;
  svc = await startMatchService(group, 'pool', { MAX_WORKERS: '1', ALLOWED_ORIGINS: app, PUBLIC_APP_URL: app, PLAYER_LIST_MAX: String(LIST_MAX) });
  await startApiServer(group, apiPort, svc.url);
  browser = await launchChromium();
});

afterAll(async () => {
  for (const s of sockets) s.close();
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await group.stopAll();
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  return context.newPage();
}


describe('the lobby of a big match', () => {
  it('shows the host and the players counts and the newest names, not everyone', async () => {
    const host = await newPage();
    await host.goto(app);
    await screen(host, 'home').waitFor();
    await byTestId(host, 'quiz-select').selectOption('__custom');
    await byTestId(host, 'quiz-json').fill(JSON.stringify({ title: 'Big lobby', questions: [{ text: 'Q?', choices: ['a', 'b'], correct: 0, timeLimitSec: 20 }] }));
    await byTestId(host, 'create-match').click();
    await screen(host, 'lobby').waitFor();
    const code = (await byTestId(host, 'lobby-code').innerText()).trim();

    for (let k = 0; k < SCRIPTED; k++) {
      const s = await MatchSocket.connect(`${svc.wsUrl}/ws/matches/${code}`, { keepMessages: false });
      s.send({ type: 'join', name: `Scripted ${k}` });
      sockets.push(s);
    }
    // The counts arrive throttled: wait for the last of them.
    await host.getByText(`${SCRIPTED} players, ${SCRIPTED} connected. Newest:`).waitFor({ timeout: 15_000 });
    const names = await host.locator('.player-name').allInnerTexts();
    expect(names, 'the newest names first, as many as the server lists').toEqual(
      Array.from({ length: LIST_MAX }, (_, i) => `Scripted ${SCRIPTED - 1 - i}`),
    );
    await host.getByText(`…and ${SCRIPTED - LIST_MAX} more`).waitFor();
    expect(await host.locator('.player-count').innerText()).toBe(`(${SCRIPTED})`);
    expect(await host.locator('.start-hint').innerText()).toBe(`${SCRIPTED} players ready.`);

    const player = await newPage();
    await player.goto(`${app}/?join=${code}`);
    await byTestId(player, 'player-name').fill('Browser');
    await byTestId(player, 'join-button').click();
    await screen(player, 'lobby').waitFor();
    expect(await player.locator('.player-count').innerText()).toBe(`(${SCRIPTED + 1})`);
    await player.getByText(`${SCRIPTED + 1} players`, { exact: false }).first().waitFor();
    await eventually(async () => ((await host.locator('.player-count').innerText()) === `(${SCRIPTED + 1})` ? true : undefined), 15_000, 'the host to count the browser player');
    expect(await host.locator('.player-name').first().innerText()).toBe('Browser');
  });
});
