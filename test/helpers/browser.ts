/**
 * What every browser test starts besides the match service: the API server that serves the
 * page, and the machine's Chromium with nothing that reaches out to the network on its own.
 */
import { type Browser, chromium, type Page } from 'playwright-core';
import { type ProcessGroup, type Started, eventually } from './processes';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** The API server on 127.0.0.1:`port` in front of `matchServiceUrl`; resolves once it serves the quiz catalog. */
export async function startApiServer(group: ProcessGroup, port: number, matchServiceUrl: string): Promise<Started> {
  const api = group.spawn(process.execPath, ['dist/apiServer.js'], {
    env: { API_PORT: String(port), HOST: '127.0.0.1', MATCH_SERVICE_URL: matchServiceUrl, LOG_LEVEL: 'warn' },
  });
  await eventually(async () => ((await fetch(`http://127.0.0.1:${port}/api/quizzes`)).ok ? true : undefined), 20_000, 'API server');
  return api;
}

/** A page's screen by its `data-screen` name (public/app.js renders one at a time). */
export const screen = (page: Page, name: string) => page.locator(`[data-screen="${name}"]`);
export const byTestId = (page: Page, id: string) => page.locator(`[data-testid="${id}"]`);

/** Collects, into `problems`, what the page logs about the Content-Security-Policy refusing something. */
export function watchCsp(page: Page, problems: string[]): void {
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) problems.push(`${page.url()}: ${msg.text()}`);
  });
}
