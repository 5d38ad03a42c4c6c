/** The one phase → status mapping that HTTP, the host and the pool report. */
import { describe, expect, it } from 'vitest';
import type { Phase } from '../../src/protocol/messages';
import { type MatchStatus, matchStatus } from '../../src/quiz/engine';

describe('matchStatus', () => {
  it.each<[Phase, MatchStatus]>([
    ['lobby', 'lobby'],
    ['question', 'running'],
    ['reveal', 'running'],
    ['leaderboard', 'running'],
    ['finished', 'finished'],
    ['closed', 'finished'],
  ])('%s is reported as %s', (phase, status) => {
    expect(matchStatus(phase)).toBe(status);
  });
});
