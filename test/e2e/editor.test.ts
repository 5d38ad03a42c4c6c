/**
 * The quiz editor, the podium's CSV and the results page in real Chromium, against the real
 * API server and match service. A host writes a quiz in the editor (multiple choice, true or
 * false, a poll, pictures), the draft survives a reload and a round trip through a quiz
 * file, "Start a match" takes the host to the lobby, one player (another browser context)
 * plays it to the podium, and the host's CSV download says what the match service's
 * results say, row by row; the results page lists the match with the same CSV.
 *
 * The poll question and the `questions` part of the results need the match service's side of
 * PROTOCOL.md Part 2 (issue 15: `kind`, `image`, results with answers).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, type Download, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
const cspViolations: string[] = [];
/** Every picture is at most this long as a data: URL (PROTOCOL.md Part 2, MAX_IMAGE_BYTES's default). */
const MAX_IMAGE_BYTES = 131_072;

/** What GET /matches/:id/results adds in Part 2 (the test reads it; src/ types it once it lands). */
interface ResultQuestion {
  index: number;
  text: string;
  kind: string;
  choices: string[];
  correct: number | null;
  answers: Array<{ playerId: string; choice: number; points: number; ms: number }>;
}
type FullResults = MatchResults & { questions?: ResultQuestion[] };

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const apiPort = await freePort();
  app = `http://127.0.0.1:${apiPort}`;
  svc = await startMatchService(group, 'single', { MATCH_TIME_SCALE: '0.3', ALLOWED_ORIGINS: app, PUBLIC_APP_URL: app, LOG_LEVEL: 'warn' });
  await startApiServer(group, apiPort, svc.url);
  browser = await launchChromium();
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await group.stopAll();
});

async function newPage(viewport: { width: number; height: number }): Promise<Page> {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  contexts.push(context);
  const page = await context.newPage();
  watchCsp(page, cspViolations);
  page.on('dialog', (d) => {
    throw new Error(`unexpected dialog: ${d.message()}`);
  });
  return page;
}


async function shot(page: Page, name: string): Promise<void> {
  await page.waitForTimeout(350);
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Clicks and returns the download it starts, with its text. */
async function download(page: Page, click: () => Promise<void>): Promise<{ download: Download; text: string }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), click()]);
  const file = await dl.path();
  return { download: dl, text: readFileSync(file, 'utf8') };
}

async function exportQuiz(page: Page): Promise<{ quiz: Record<string, unknown>; file: string; name: string }> {
  const { download: dl, text } = await download(page, () => byTestId(page, 'export-quiz').click());
  return { quiz: JSON.parse(text) as Record<string, unknown>, file: await dl.path(), name: dl.suggestedFilename() };
}

/** The data-testid of the focused element. */
function focusedTestId(page: Page): Promise<string | null> {
  return page.evaluate('document.activeElement && document.activeElement.getAttribute("data-testid")');
}

/** A PNG of random pixels (does not compress: its size is about width × height × 4 bytes). */
function noisePng(width: number, height: number): Buffer {
  const png = new PNG({ width, height });
  let x = 2463534242; // xorshift32: the same pixels every run
  for (let i = 0; i < png.data.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    png.data[i] = x & 0xff;
  }
  return PNG.sync.write(png);
}

/** RFC 4180 CSV (quoted cells, doubled quotes, CRLF), byte order mark dropped. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const s = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && s[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/** What a text cell must read after CSV escaping: formula starters are defused with a quote. */
const safeCell = (text: string) => (/^[=+\-@\t\r]/.test(text) ? `'${text}` : text);

/** The CSV the host must get for these results: the standings, then every answer. */
function expectedCsvRows(results: FullResults): string[][] {
  const rows = [['rank', 'name', 'score'], ...results.standings.map((s) => [String(s.rank), safeCell(s.name), String(s.score)])];
  const names = new Map(results.standings.map((s) => [s.playerId, s.name]));
  if (results.questions?.length) {
    rows.push([''], ['question', 'text', 'player', 'choice', 'correct', 'points', 'ms']);
    for (const q of results.questions) {
      // A question nobody answered still has its row.
      if (q.answers.length === 0) rows.push([String(q.index + 1), safeCell(q.text), '', '', '', '', '']);
      for (const a of q.answers) {
        rows.push([
          String(q.index + 1),
          safeCell(q.text),
          safeCell(names.get(a.playerId)!),
          safeCell(q.choices[a.choice]!),
          q.correct === null ? '' : a.choice === q.correct ? 'yes' : 'no',
          String(a.points),
          String(a.ms),
        ]);
      }
    }
  }
  return rows;
}

describe('quiz editor', () => {
  // A player name a spreadsheet would run as a formula, with a comma and quotes besides.
  const playerName = '=Ann "A", 1+1';
  let matchCode = '';
  let podiumCsv = '';

  it('writes a quiz, keeps it over a reload and through a quiz file, starts it, plays it, and the host downloads the results as CSV', async () => {
    const host = await newPage({ width: 1100, height: 900 });
    await host.goto(app);
    await screen(host, 'home').waitFor();
    await byTestId(host, 'editor-link').click();
    await screen(host, 'editor').waitFor();
    // A fresh browser starts with one empty multiple-choice question.
    await expect.poll(() => host.locator('[data-testid^="question-text-"]').count()).toBe(1);

    await byTestId(host, 'quiz-title').fill('Editor night, take 1');
    // Question 1: multiple choice with three answers, the second right.
    await byTestId(host, 'question-text-0').fill('Which is bigger, 2 or 3?');
    await byTestId(host, 'choice-0-0').fill('2');
    await byTestId(host, 'choice-0-1').fill('3');
    await byTestId(host, 'choice-add-0').click();
    expect(await focusedTestId(host)).toBe('choice-0-2'); // the new answer's box, ready to type in
    await host.keyboard.type('Neither');
    await byTestId(host, 'correct-0-1').check();
    await byTestId(host, 'question-time-0').fill('20');
    // Question 2: a poll (moved below the next one later, with the keyboard).
    await byTestId(host, 'add-question').click();
    expect(await focusedTestId(host)).toBe('question-text-1');
    await host.keyboard.type('Best pizza topping?');
    await byTestId(host, 'question-kind-1').selectOption('poll');
    expect(await byTestId(host, 'correct-1-0').count()).toBe(0); // a poll has no right answer
    await byTestId(host, 'choice-1-0').fill('Mushrooms');
    await byTestId(host, 'choice-1-1').fill('Pineapple');
    await byTestId(host, 'choice-add-1').click();
    await byTestId(host, 'choice-1-2').fill('Olives');
    await byTestId(host, 'question-time-1').fill('15');
    // Question 3: true or false, prefilled with exactly two answers; False is right.
    await byTestId(host, 'add-question').click();
    await byTestId(host, 'question-text-2').fill('The Moon is bigger than the Earth.');
    await byTestId(host, 'question-kind-2').selectOption('truefalse');
    expect(await byTestId(host, 'choice-2-0').inputValue()).toBe('True');
    expect(await byTestId(host, 'choice-2-1').inputValue()).toBe('False');
    expect(await byTestId(host, 'choice-2-2').count()).toBe(0);
    expect(await byTestId(host, 'choice-add-2').count()).toBe(0);
    await byTestId(host, 'correct-2-1').check();
    // A fourth question, deleted again.
    await byTestId(host, 'add-question').click();
    await byTestId(host, 'question-text-3').fill('Oops');
    await byTestId(host, 'question-delete-3').click();
    await expect.poll(() => host.locator('[data-testid^="question-text-"]').count()).toBe(3);

    // Reorder from the keyboard: the poll goes down one; the focus follows it (to "Up", as
    // it is now last and cannot go further down).
    await byTestId(host, 'question-down-1').focus();
    await host.keyboard.press('Enter');
    expect(await byTestId(host, 'question-text-1').inputValue()).toBe('The Moon is bigger than the Earth.');
    expect(await byTestId(host, 'question-text-2').inputValue()).toBe('Best pizza topping?');
    expect(await focusedTestId(host)).toBe('question-up-2');
    expect(await byTestId(host, 'question-down-2').isDisabled()).toBe(true);

    // Pictures: a small PNG as it is; a big one made smaller to fit (then removed again).
    const small = noisePng(24, 24);
    await byTestId(host, 'question-image-file-0').setInputFiles({ name: 'dots.png', mimeType: 'image/png', buffer: small });
    const preview0 = byTestId(host, 'question-image-preview-0');
    await preview0.waitFor();
    expect(await preview0.getAttribute('src')).toBe(`data:image/png;base64,${small.toString('base64')}`);
    const big = noisePng(400, 400);
    expect(big.length).toBeGreaterThan(MAX_IMAGE_BYTES);
    await byTestId(host, 'question-image-file-1').setInputFiles({ name: 'big.png', mimeType: 'image/png', buffer: big });
    const preview1 = byTestId(host, 'question-image-preview-1');
    await preview1.waitFor();
    const shrunk = (await preview1.getAttribute('src'))!;
    expect(shrunk).toMatch(/^data:image\/jpeg;base64,/);
    expect(shrunk.length).toBeLessThanOrEqual(MAX_IMAGE_BYTES);
    expect(await byTestId(host, 'question-image-note-1').innerText()).toContain('made smaller to fit');
    await byTestId(host, 'question-image-remove-1').click();
    expect(await preview1.count()).toBe(0);
    // Not a PNG, JPEG or WebP: refused, with a reason.
    await byTestId(host, 'question-image-file-1').setInputFiles({ name: 'evil.svg', mimeType: 'image/svg+xml', buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>') });
    await expect.poll(() => byTestId(host, 'question-image-note-1').innerText()).toContain('not a PNG, JPEG or WebP');
    expect(await preview1.count()).toBe(0);
    // The images shipped with the built-in quizzes are offered by name.
    const shipped = await json<string[]>(fetch(`${app}/api/quiz-images`));
    if (shipped.length > 0) {
      await byTestId(host, 'question-image-1').selectOption(shipped[0]!);
      expect(await byTestId(host, 'question-image-preview-1').getAttribute('src')).toBe(`/quiz-images/${encodeURIComponent(shipped[0]!)}`);
    } else {
      expect(await byTestId(host, 'question-image-1').count()).toBe(0);
    }

    await expect.poll(() => byTestId(host, 'quiz-check').innerText()).toContain('Ready to play: 3 questions');
    await shot(host, 'editor');
    const exported = await exportQuiz(host);
    expect(exported.name).toBe('editor-night-take-1.quiz.json');
    expect(exported.quiz).toEqual({
      title: 'Editor night, take 1',
      questions: [
        { text: 'Which is bigger, 2 or 3?', choices: ['2', '3', 'Neither'], correct: 1, timeLimitSec: 20, image: `data:image/png;base64,${small.toString('base64')}` },
        {
          text: 'The Moon is bigger than the Earth.',
          kind: 'truefalse',
          choices: ['True', 'False'],
          correct: 1,
          timeLimitSec: 20,
          ...(shipped.length > 0 ? { image: shipped[0] } : {}),
        },
        { text: 'Best pizza topping?', kind: 'poll', choices: ['Mushrooms', 'Pineapple', 'Olives'], timeLimitSec: 15 },
      ],
    });

    // A reload keeps every field.
    await host.reload();
    await screen(host, 'editor').waitFor();
    expect(await byTestId(host, 'quiz-title').inputValue()).toBe('Editor night, take 1');
    expect(await byTestId(host, 'question-kind-2').inputValue()).toBe('poll');
    expect(await byTestId(host, 'correct-1-1').isChecked()).toBe(true);
    expect((await exportQuiz(host)).quiz).toEqual(exported.quiz);

    // Start over (two presses), then open the exported file: the same quiz again.
    await byTestId(host, 'start-over').click();
    await byTestId(host, 'start-over').click();
    expect(await byTestId(host, 'quiz-title').inputValue()).toBe('');
    await expect.poll(() => host.locator('[data-testid^="question-text-"]').count()).toBe(1);
    await byTestId(host, 'import-quiz').setInputFiles(exported.file);
    await expect.poll(() => byTestId(host, 'quiz-title').inputValue()).toBe('Editor night, take 1');
    expect((await exportQuiz(host)).quiz).toEqual(exported.quiz);
    // A file that is not a quiz changes nothing and says why.
    await byTestId(host, 'import-quiz').setInputFiles({ name: 'notes.json', mimeType: 'application/json', buffer: Buffer.from('{"hello": 1}') });
    await expect.poll(() => byTestId(host, 'error-message').innerText()).toContain('not a quiz file');
    expect((await exportQuiz(host)).quiz).toEqual(exported.quiz);

    // One click: the match is created and the host is in its lobby.
    await byTestId(host, 'host-name').fill('Quizmaster');
    await byTestId(host, 'editor-start').click();
    await screen(host, 'lobby').waitFor({ timeout: 20_000 });
    matchCode = (await byTestId(host, 'lobby-code').innerText()).trim();
    expect(matchCode).toMatch(/^[A-Z2-9]{6}$/);
    const info = await json<{ status: string; quiz: { title: string; questionCount: number } }>(fetch(`${svc.url}/matches/${matchCode}`));
    expect(info).toMatchObject({ status: 'lobby', quiz: { title: 'Editor night, take 1', questionCount: 3 } });

    const ann = await newPage({ width: 390, height: 844 });
    await ann.goto(`${app}/?join=${matchCode}`);
    await byTestId(ann, 'player-name').fill(playerName);
    await byTestId(ann, 'join-button').click();
    await screen(ann, 'lobby').waitFor();
    await expect.poll(() => host.locator('[data-testid^="player-p"]').count()).toBe(1);
    await byTestId(host, 'start-match').click();
    // Right, right (False), and a vote in the poll.
    for (const [i, choice] of [1, 1, 2].entries()) {
      await ann.locator(`[data-screen="question"][data-question-index="${i}"]`).waitFor({ timeout: 20_000 });
      await byTestId(ann, `choice-${choice}`).click();
      await ann.locator('[data-testid="answer-locked"], [data-screen="reveal"]').first().waitFor();
    }
    await screen(ann, 'finished').waitFor({ timeout: 30_000 });
    await screen(host, 'finished').waitFor({ timeout: 30_000 });
    expect(await byTestId(ann, 'download-results').count()).toBe(0); // the host's button only

    const { download: csvDownload, text } = await download(host, () => byTestId(host, 'download-results').click());
    podiumCsv = text;
    expect(csvDownload.suggestedFilename()).toBe(`editor-night-take-1-${matchCode}.csv`);
    await shot(host, 'podium-csv');
    const results = await json<FullResults>(fetch(`${svc.url}/matches/${matchCode}/results`));
    const rows = parseCsv(text);
    // The standings, rank, name and score, row by row.
    expect(rows.slice(0, 1 + results.standings.length)).toEqual([['rank', 'name', 'score'], ...results.standings.map((s) => [String(s.rank), safeCell(s.name), String(s.score)])]);
    expect(rows[1]).toEqual(['1', `'${playerName}`, String(results.standings[0]!.score)]);
    expect(results.standings[0]!.score).toBeGreaterThan(0);
    // Every answer, from the match service's Part 2 results.
    expect(results.questions?.map((q) => q.kind)).toEqual(['choice', 'truefalse', 'poll']);
    expect(results.questions?.map((q) => q.answers.length)).toEqual([1, 1, 1]);
    expect(rows).toEqual(expectedCsvRows(results));
    expect(rows.at(-1)).toEqual(['3', 'Best pizza topping?', `'${playerName}`, 'Olives', '', '0', rows.at(-1)![6]]);
  }, 180_000); // a whole match, with its reveal and leaderboard pauses, on a busy machine

  it('the results page lists the match, and its CSV link gives the same file', async () => {
    expect(podiumCsv, 'the match the test before played to the podium').not.toBe('');
    const page = await newPage({ width: 390, height: 844 });
    await page.goto(`${app}/results`);
    await screen(page, 'results').waitFor();
    const row = byTestId(page, `result-${matchCode}`);
    await row.waitFor();
    const cells = await row.locator('td').allInnerTexts();
    expect(cells[0]).toContain('Editor night, take 1');
    expect(cells[2]).toBe('1'); // players
    expect(cells[3]).toContain(playerName); // the winner
    // A phone's width: the table scrolls inside its card; the page itself does not widen.
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await shot(page, 'results-page');
    const { download: dl, text } = await download(page, () => byTestId(page, `results-csv-${matchCode}`).click());
    expect(dl.suggestedFilename()).toBe(`editor-night-take-1-${matchCode}.csv`);
    expect(text).toBe(podiumCsv);
  });

  it('a CSV carries every answer of results in PROTOCOL.md Part 2 shape: polls have no right answer, unanswered questions keep a row', async () => {
    // The page's CSV builder on a results entry as the match service gives it from Part 2 on
    // (questions with answers), whatever this match service's version is: the entry is served
    // in place of /api/results to this page alone.
    const entry: FullResults = {
      matchId: 'K7QX2M',
      title: 'Shapes, colours & "more"',
      questionCount: 3,
      finishedAt: Date.now(),
      standings: [
        { playerId: 'p1', name: '@Bo', score: 950, rank: 1 },
        { playerId: 'p2', name: 'Cy', score: 0, rank: 2 },
      ],
      questions: [
        { index: 0, text: 'Sky colour, usually?', kind: 'choice', choices: ['Blue', 'Green'], correct: 0, answers: [{ playerId: 'p1', choice: 0, points: 950, ms: 1200 }, { playerId: 'p2', choice: 1, points: 0, ms: 3400 }] },
        { index: 1, text: 'Favourite shape?', kind: 'poll', choices: ['Triangle', 'Circle', '-Square'], correct: null, answers: [{ playerId: 'p1', choice: 2, points: 0, ms: 800 }, { playerId: 'gone', choice: 1, points: 0, ms: 900 }] },
        { index: 2, text: 'Nobody answered this.', kind: 'truefalse', choices: ['True', 'False'], correct: 1, answers: [] },
      ],
    };
    const page = await newPage({ width: 800, height: 600 });
    await page.route(`${app}/api/results`, (route) => route.fulfill({ json: [entry] }));
    await page.goto(`${app}/results`);
    const { text } = await download(page, () => byTestId(page, 'results-csv-K7QX2M').click());
    expect(parseCsv(text)).toEqual([
      ['rank', 'name', 'score'],
      ['1', "'@Bo", '950'],
      ['2', 'Cy', '0'],
      [''],
      ['question', 'text', 'player', 'choice', 'correct', 'points', 'ms'],
      ['1', 'Sky colour, usually?', "'@Bo", 'Blue', 'yes', '950', '1200'],
      ['1', 'Sky colour, usually?', 'Cy', 'Green', 'no', '0', '3400'],
      ['2', 'Favourite shape?', "'@Bo", "'-Square", '', '0', '800'],
      ['2', 'Favourite shape?', 'gone', 'Circle', '', '0', '900'], // no longer in the standings: named by id
      ['3', 'Nobody answered this.', '', '', '', '', ''],
    ]);
    expect(text.startsWith('\uFEFFrank,name,score\r\n')).toBe(true);
    expect(text).toContain('"Sky colour, usually?"');
  });

  it('CSV cells are escaped for spreadsheets: quotes, commas, line breaks, formulas', async () => {
    const page = await newPage({ width: 800, height: 600 });
    await page.goto(`${app}/results`);
    const cells = await page.evaluate(`import('/js/csv.js').then((csv) => [
      '=SUM(A1:A9)', '+1', '-2', '@cmd', '\\tx', 'a,b', 'say "hi"', 'two\\nlines', 'plain', 42, null
    ].map(csv.csvCell))`);
    expect(cells).toEqual(["'=SUM(A1:A9)", "'+1", "'-2", "'@cmd", "'\tx", '"a,b"', '"say ""hi"""', '"two\nlines"', 'plain', '42', '']);
  });

  it('no page broke the Content-Security-Policy', () => {
    expect(cspViolations).toEqual([]);
  });
});
