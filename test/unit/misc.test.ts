/** Rate limiting, join codes and the quiz catalog/schema. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/limits/tokenBucket';
import { MATCH_ID_ALPHABET, MATCH_ID_PATTERN, newMatchId } from '../../src/matchIds';
import { QuizCatalog, quizSchema, type Quiz } from '../../src/quiz/quizzes';

describe('TokenBucket', () => {
  it('allows a burst, then refuses until tokens come back at the rate', () => {
    const bucket = new TokenBucket(10, 5, 1_000); // 10/s, burst 5
    const burst = Array.from({ length: 6 }, () => bucket.take(1_000));
    expect(burst).toEqual([true, true, true, true, true, false]);
    expect(bucket.take(1_050)).toBe(false); // half a token
    expect(bucket.take(1_100)).toBe(true); // one token after 100 ms
    expect(bucket.take(1_100)).toBe(false);
    expect(bucket.take(1_300)).toBe(true); // two tokens after 200 ms
    expect(bucket.take(1_300)).toBe(true);
    expect(bucket.take(1_300)).toBe(false);
  });

  it('never holds more than the burst however long it rests', () => {
    const bucket = new TokenBucket(10, 3, 0);
    const after = Array.from({ length: 4 }, () => bucket.take(3_600_000));
    expect(after).toEqual([true, true, true, false]);
  });

  it('sustains exactly the rate over time', () => {
    const bucket = new TokenBucket(20, 1, 0);
    let allowed = 0;
    // One attempt every 10 ms for 10 s: 100/s offered, 20/s allowed (+1 initial token).
    for (let t = 0; t <= 10_000; t += 10) if (bucket.take(t)) allowed++;
    expect(allowed).toBe(201);
  });
});

describe('newMatchId', () => {
  it('makes 6-character codes from the alphabet', () => {
    expect(MATCH_ID_ALPHABET).toBe('ABCDEFGHJKLMNPQRSTUVWXYZ23456789');
    const ids = Array.from({ length: 500 }, () => newMatchId(() => false));
    for (const id of ids) {
      expect(id).toMatch(/^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{6}$/);
      expect(id).toMatch(MATCH_ID_PATTERN);
    }
    expect(new Set(ids).size).toBeGreaterThan(490);
    expect(MATCH_ID_PATTERN.test('ABCDE0')).toBe(false);
    expect(MATCH_ID_PATTERN.test('ABCDEFG')).toBe(false);
  });

  it('avoids ids that are taken', () => {
    const tried: string[] = [];
    const id = newMatchId((candidate) => {
      tried.push(candidate);
      return tried.length <= 5; // the first five are taken
    });
    expect(tried).toHaveLength(6);
    expect(id).toBe(tried[5]);
    expect(tried.slice(0, 5)).not.toContain(id);
  });

  it('gives up rather than loop forever when everything is taken', () => {
    expect(() => newMatchId(() => true)).toThrow();
  });
});

describe('QuizCatalog', () => {
  const dir = path.resolve(__dirname, '..', '..', 'quizzes');

  it('loads the built-in quizzes: at least 3, at least 10 questions each', () => {
    for (const catalog of [QuizCatalog.load(dir), QuizCatalog.load()]) {
      const list = catalog.list();
      expect(list.length).toBeGreaterThanOrEqual(3);
      for (const summary of list) {
        expect(summary.questionCount).toBeGreaterThanOrEqual(10);
        const quiz = catalog.get(summary.id);
        expect(quiz?.questions).toHaveLength(summary.questionCount);
        expect(quizSchema.safeParse(quiz).success).toBe(true);
      }
    }
  });

  it('list() never includes the answers', () => {
    const list = QuizCatalog.load(dir).list();
    const text = JSON.stringify(list);
    expect(text).not.toMatch(/"correct"/);
    expect(text).not.toMatch(/"questions"/);
    for (const s of list) expect(Object.keys(s).sort()).toEqual(['description', 'id', 'questionCount', 'title']);
  });

  it('get() of an unknown id is undefined', () => {
    expect(QuizCatalog.load(dir).get('no-such-quiz')).toBeUndefined();
  });
});

describe('quizSchema', () => {
  const question = (over: Record<string, unknown> = {}) => ({ text: 'Q?', choices: ['a', 'b', 'c'], correct: 0, timeLimitSec: 20, ...over });
  const quiz = (questions: unknown[]): unknown => ({ title: 'T', questions });

  it.each([
    ['2 choices', question({ choices: ['a', 'b'], correct: 1 })],
    ['4 choices', question({ choices: ['a', 'b', 'c', 'd'], correct: 3 })],
    ['timeLimitSec 5', question({ timeLimitSec: 5 })],
    ['timeLimitSec 240', question({ timeLimitSec: 240 })],
  ])('accepts a question with %s', (_label, q) => {
    expect(quizSchema.safeParse(quiz([q])).success).toBe(true);
  });

  it('accepts 1 and 100 questions', () => {
    expect(quizSchema.safeParse(quiz([question()])).success).toBe(true);
    expect(quizSchema.safeParse(quiz(Array.from({ length: 100 }, () => question()))).success).toBe(true);
  });

  it.each([
    ['correct out of range', question({ correct: 3 })],
    ['correct negative', question({ correct: -1 })],
    ['correct not an integer', question({ correct: 0.5 })],
    ['1 choice', question({ choices: ['a'] })],
    ['5 choices', question({ choices: ['a', 'b', 'c', 'd', 'e'] })],
    ['timeLimitSec 4', question({ timeLimitSec: 4 })],
    ['timeLimitSec 241', question({ timeLimitSec: 241 })],
    ['an empty text', question({ text: '   ' })],
    ['an empty choice', question({ choices: ['a', ''] })],
  ])('rejects a question with %s', (_label, q) => {
    expect(quizSchema.safeParse(quiz([q])).success).toBe(false);
  });

  it('rejects 0 and 101 questions', () => {
    expect(quizSchema.safeParse(quiz([])).success).toBe(false);
    expect(quizSchema.safeParse(quiz(Array.from({ length: 101 }, () => question()))).success).toBe(false);
  });

  it('rejects a quiz without a title', () => {
    expect(quizSchema.safeParse({ questions: [question()] }).success).toBe(false);
    expect(quizSchema.safeParse({ title: '', questions: [question()] }).success).toBe(false);
  });

  it('parses to the Quiz type', () => {
    const parsed = quizSchema.parse(quiz([question({ text: '  Q?  ' })]));
    const typed: Quiz = parsed;
    expect(typed.questions[0]?.text).toBe('Q?');
  });
});
