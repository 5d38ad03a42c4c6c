/**
 * The quiz memory budget (MAX_QUIZ_BYTES_TOTAL), on both services: with a small budget a
 * large inline quiz is refused with the catalog's 503 CAPACITY while small ones still fit,
 * and once a match leaves the host its bytes are free again.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MatchSocket } from '../../scripts/lib/matchSocket';
import { eventually, ProcessGroup } from '../helpers/processes';
import { type ErrorBody, json, startMatchService, tinyQuiz } from '../helpers/servers';
import { createMatchFrom } from '../helpers/honestMatch';

const group = new ProcessGroup();
afterAll(() => group.stopAll());

/** ~21 KB of JSON: one fits a 30 000-byte budget, two do not. */
function largeQuiz(tag: string) {
  const text = (n: number) => `${tag} ${'x'.repeat(n - tag.length - 1)}`;
  return { title: `Large ${tag}`, questions: Array.from({ length: 30 }, () => ({ text: text(300), choices: [text(80), text(80), text(80), text(80)], correct: 0, timeLimitSec: 5 })) };
}

describe.each(['pool', 'single'] as const)('the quiz memory budget on the %s service', (mode) => {
  it('refuses a large quiz past MAX_QUIZ_BYTES_TOTAL with 503 CAPACITY, fits small ones, and frees the bytes when a match ends', async () => {
    // Phases a hundredth of their length: 30 questions play out in a few seconds.
    const svc = await startMatchService(group, mode, { MAX_QUIZ_BYTES_TOTAL: '30000', MATCH_TIME_SCALE: '0.01', MAX_WORKERS: '2', MAX_MATCHES: '10' });
    const first = await createMatchFrom(svc, undefined, { quiz: largeQuiz('a') });
    expect(first.status).toBe(201);
    const refused = await createMatchFrom(svc, undefined, { quiz: largeQuiz('b') });
    expect(refused.status).toBe(503);
    expect((await json<ErrorBody>(refused)).error.code).toBe('CAPACITY');
    for (let i = 0; i < 3; i++) expect((await createMatchFrom(svc, undefined, { quiz: tinyQuiz(2, 30) })).status).toBe(201);

    // The large match plays to its end and leaves the host: a large quiz fits again.
    const match = (await first.json()) as { wsPath: string; hostToken: string };
    const host = await MatchSocket.connect(svc.wsUrl + match.wsPath);
    host.send({ type: 'resume', token: match.hostToken });
    await host.next('welcome');
    host.send({ type: 'start' });
    await host.next('finished', () => true, 30_000);
    host.close();
    await eventually(async () => ((await createMatchFrom(svc, undefined, { quiz: largeQuiz('c') })).status === 201 ? true : undefined), 20_000, 'the large quiz to fit again');
  });
});
