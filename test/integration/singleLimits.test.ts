/**
 * The single process's match limit is its own setting (SINGLE_MAX_MATCHES): copying
 * `.env.example` (MAX_MATCHES=3, the pool's per-worker limit) no longer caps it at 3.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessGroup } from '../helpers/processes';
import { createMatch, type ErrorBody, json, type RunningService, startMatchService } from '../helpers/servers';

const group = new ProcessGroup();
let service: RunningService;

beforeAll(async () => {
  service = await startMatchService(group, 'single', { MAX_MATCHES: '1', SINGLE_MAX_MATCHES: '4' });
});
afterAll(() => group.stopAll());

describe('single process match limit', () => {
  it('takes SINGLE_MAX_MATCHES matches whatever MAX_MATCHES says, then answers 503 CAPACITY with Retry-After', async () => {
    for (let i = 0; i < 4; i++) await createMatch(service);
    const res = await fetch(`${service.url}/matches`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ quizId: 'world-capitals' }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await json<ErrorBody>(res)).error.code).toBe('CAPACITY');
  });
});
