/**
 * The game night additions (docs/PROTOCOL.md Part 2, "Game night additions") on real servers
 * with real `ws` clients: a quiz with pictures, a truefalse and a poll played through its
 * suspense moments; the host's `next` racing the last answer; and a worker killed during a
 * suspense moment, whose match resumes with its original timing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchWorkerStats } from '../../scripts/lib/matchServiceApi';
import { MatchSocket, UpgradeRefused } from '../../scripts/lib/matchSocket';
import type { ServerMessage } from '../../src/protocol/messages';
import { eventually, ProcessGroup } from '../helpers/processes';
import {
  connectHost,
  createMatch,
  type ErrorBody,
  joinPlayers,
  json,
  type MatchResults,
  type RunningService,
  startMatchService,
  tinyQuiz,
} from '../helpers/servers';

/** A 1×1 PNG: a real picture, small. */
const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

const GAME_QUIZ = {
  title: 'Game night',
  questions: [
    { text: 'Which picture is this?', choices: ['A dot', 'A line', 'A star', 'Nothing'], correct: 0, timeLimitSec: 60, image: PNG },
    { text: 'Saturn has rings.', kind: 'truefalse', choices: ['True', 'False'], correct: 0, timeLimitSec: 60, image: 'saturn.svg' },
    { text: 'Tea or coffee?', kind: 'poll', choices: ['Tea', 'Coffee', 'Neither'], timeLimitSec: 60 },
  ],
};

/** Every message the server sent `client` before now has arrived (pong follows them on the same connection). */
async function drained(client: MatchSocket): Promise<void> {
  const t = Math.random();
  client.send({ type: 'ping', t });
  await client.next('pong', (m) => m.t === t);
}

/** The first message after `from` (an index into `client.messages`) that `pred` accepts. */
function firstAfter(client: MatchSocket, from: number, pred: (m: ServerMessage) => boolean): Promise<ServerMessage> {
  return eventually(() => client.messages.slice(from).find(pred), 15_000, 'a message');
}

function post(service: RunningService, body: unknown): Promise<Response> {
  return fetch(`${service.url}/matches`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

describe.each(['single', 'pool'] as const)('game night (%s)', (mode) => {
  const group = new ProcessGroup();
  let service: RunningService;
  beforeAll(async () => {
    // A long suspense moment (60 s × 0.1 = 6 s): an answer sent on seeing it, and the host's
    // next after it, arrive before the question opens by itself however loaded the machine is.
    // Questions of 60 s last 6 s; reveal and leaderboard 500 ms.
    service = await startMatchService(group, mode, { MATCH_TIME_SCALE: '0.1', QUESTION_INTRO_MS: '60000', MAX_WORKERS: '2' });
  });
  afterAll(() => group.stopAll());

  it('takes quizzes with kinds and pictures, refuses other pictures naming the question, and takes a few large pictures', async () => {
    const bad: Array<[object, RegExp]> = [
      [{ ...GAME_QUIZ.questions[0], image: 'https://example.com/cat.png' }, /link to another site/],
      [{ ...GAME_QUIZ.questions[0], image: 'data:image/svg+xml;base64,PHN2Zy8+' }, /not image\/svg\+xml/],
      [{ ...GAME_QUIZ.questions[0], image: `data:image/png;base64,${'A'.repeat(131_072)}` }, /MAX_IMAGE_BYTES/],
      [{ ...GAME_QUIZ.questions[0], image: 'cat.svg' }, /shipped images/],
      [{ ...GAME_QUIZ.questions[2], correct: 0 }, /leave "correct" out/],
    ];
    for (const [question, message] of bad) {
      const res = await post(service, { quiz: { title: 'T', questions: [GAME_QUIZ.questions[1], question] } });
      expect(res.status).toBe(400);
      const body = await json<ErrorBody>(res);
      expect(body.error.code).toBe('BAD_REQUEST');
      expect(body.error.message).toContain('(question 2)');
      expect(body.error.message).toMatch(message);
    }
    // Fifteen pictures of the largest size fit in one request (PROTOCOL.md: 2 MiB).
    const big = `data:image/png;base64,${'A'.repeat(131_072 - 'data:image/png;base64,'.length)}`;
    const fifteen = { title: 'Pictures', questions: Array.from({ length: 15 }, (_, i) => ({ text: `Picture ${i + 1}?`, choices: ['a', 'b'], correct: 0, timeLimitSec: 10, image: big })) };
    expect((await post(service, { quiz: fifteen })).status).toBe(201);
    expect((await post(service, { quizId: 'world-capitals', settings: { phoneView: 'tiny' } })).status).toBe(400);
  });

  it('plays pictures, a truefalse and a poll through their suspense moments; results list every answer', async () => {
    const match = await createMatch(service, { quiz: GAME_QUIZ, settings: { phoneView: 'shapes' } });
    const host = await connectHost(service, match);
    const players = await joinPlayers(service, match, ['Ann', 'Ben']);
    const [ann, ben] = players as [MatchSocket, MatchSocket];
    const welcome = ann.all('welcome')[0]!;
    expect(welcome.state.settings).toEqual({ lateJoin: false, maxPlayers: 100, phoneView: 'shapes' });
    host.send({ type: 'start' });

    // Question 0: its intro, an answer too early, then the host opens it at once.
    const intro0 = await ann.next('question_intro', (m) => m.index === 0);
    expect(intro0).toMatchObject({ index: 0, total: 3, text: 'Which picture is this?', kind: 'choice', image: PNG });
    expect(intro0).not.toHaveProperty('choices');
    expect(intro0).not.toHaveProperty('correct');
    ann.send({ type: 'answer', questionIndex: 0, choice: 0 });
    const early = await ann.next('error');
    expect(early).toMatchObject({ code: 'QUESTION_NOT_OPEN', ref: 'answer' });
    // A late joiner's view (a resume here) shows the intro, with the same opensAt.
    const again = await MatchSocket.connect(service.wsUrl + match.wsPath);
    again.send({ type: 'resume', token: welcome.token });
    const during = await again.next('welcome');
    expect(during.state.phase).toBe('intro');
    expect(during.state.intro).toEqual({ index: 0, total: 3, text: 'Which picture is this?', kind: 'choice', image: PNG, opensAt: intro0.opensAt });
    expect(during.state.question).toBeNull();
    const ann2 = again; // the resume replaced Ann's first connection
    await ann.closed;

    host.send({ type: 'next', phase: 'intro', questionIndex: 0 });
    const q0 = await ann2.next('question', (m) => m.index === 0);
    expect(q0).toMatchObject({ kind: 'choice', image: PNG, choices: ['A dot', 'A line', 'A star', 'Nothing'] });
    expect(q0.startsAt).toBeLessThan(intro0.opensAt);
    ann2.send({ type: 'answer', questionIndex: 0, choice: 0 });
    ben.send({ type: 'answer', questionIndex: 0, choice: 1 });
    const r0 = await ben.next('reveal', (m) => m.questionIndex === 0);
    expect(r0).toMatchObject({ correct: 0, kind: 'choice', counts: [1, 1, 0, 0], you: { choice: 1, points: 0, streak: 0 } });

    // Question 1 (truefalse, a shipped picture): the intro runs out by itself.
    const intro1 = await ben.next('question_intro', (m) => m.index === 1, 30_000);
    expect(intro1).toMatchObject({ kind: 'truefalse', image: 'saturn.svg' });
    const q1 = await ben.next('question', (m) => m.index === 1, 30_000);
    expect(q1.startsAt).toBe(intro1.opensAt);
    expect(q1).toMatchObject({ kind: 'truefalse', image: 'saturn.svg', choices: ['True', 'False'] });
    ann2.send({ type: 'answer', questionIndex: 1, choice: 0 });
    await ann2.next('answer_ack', (m) => m.questionIndex === 1);
    ben.send({ type: 'answer', questionIndex: 1, choice: 0 });
    const r1 = await ann2.next('reveal', (m) => m.questionIndex === 1);
    expect(r1.you).toMatchObject({ choice: 0, streak: 2 });
    expect(r1.you!.points).toBeGreaterThanOrEqual(500);

    // Question 2, the poll: no points, streaks kept.
    await ann2.next('question_intro', (m) => m.index === 2, 30_000);
    host.send({ type: 'next', phase: 'intro', questionIndex: 2 });
    const q2 = await ann2.next('question', (m) => m.index === 2);
    expect(q2).toMatchObject({ kind: 'poll' });
    expect(q2).not.toHaveProperty('image');
    ann2.send({ type: 'answer', questionIndex: 2, choice: 1 });
    ben.send({ type: 'answer', questionIndex: 2, choice: 1 });
    const r2 = await ann2.next('reveal', (m) => m.questionIndex === 2);
    expect(r2).toMatchObject({ correct: null, kind: 'poll', counts: [0, 2, 0] });
    expect(r2.you).toMatchObject({ points: 0, score: r1.you!.score, streak: 2 });

    const finished = await host.next('finished', () => true, 30_000);
    const results = await json<MatchResults>(fetch(`${service.url}/matches/${match.matchId}/results`));
    expect(results.standings).toEqual(finished.standings);
    const ids = { ann: welcome.you.playerId!, ben: ben.all('welcome')[0]!.you.playerId! };
    expect(results.questions!.map((q) => [q.index, q.kind, q.correct, q.choices.length])).toEqual([
      [0, 'choice', 0, 4],
      [1, 'truefalse', 0, 2],
      [2, 'poll', null, 3],
    ]);
    expect(results.questions![0]!.answers.map((a) => [a.playerId, a.choice, a.points > 0])).toEqual(
      expect.arrayContaining([
        [ids.ann, 0, true],
        [ids.ben, 1, false],
      ]),
    );
    expect(results.questions![2]!.answers.every((a) => a.points === 0 && a.ms >= 0)).toBe(true);
    // Points in the results add up to the standings.
    for (const s of results.standings) {
      const sum = results.questions!.flatMap((q) => q.answers).filter((a) => a.playerId === s.playerId).reduce((n, a) => n + a.points, 0);
      expect(sum).toBe(s.score);
    }
    const text = JSON.stringify(results);
    expect(text).not.toContain('data:');
    expect(text).not.toContain('saturn.svg');
    const recent = await json<MatchResults[]>(fetch(`${service.url}/results?limit=5`));
    expect(recent.find((r) => r.matchId === match.matchId)?.questions).toEqual(results.questions);
    for (const c of [host, ann2, ben]) c.close();
  });
});

describe.each(['single', 'pool'] as const)('next racing the last answer (%s)', (mode) => {
  const group = new ProcessGroup();
  afterAll(() => group.stopAll());

  it('the players always see the reveal of the question: the host’s next for it either ends it or gets PHASE_PASSED', async () => {
    const ROUNDS = 20;
    // No intro (FAST_ENV): questions follow leaderboards at once. Reveal and leaderboard 250 ms.
    const service = await startMatchService(group, mode, { MAX_WORKERS: '1' });
    const match = await createMatch(service, { quiz: tinyQuiz(ROUNDS, 60) });
    const host = await connectHost(service, match);
    const [first, last] = (await joinPlayers(service, match, ['First', 'Last'])) as [MatchSocket, MatchSocket];
    host.send({ type: 'start' });
    const outcomes = { answerFirst: 0, nextFirst: 0 };
    for (let i = 0; i < ROUNDS; i++) {
      await last.next('question', (m) => m.index === i);
      await host.next('question', (m) => m.index === i);
      first.send({ type: 'answer', questionIndex: i, choice: 0 });
      await first.next('answer_ack', (m) => m.questionIndex === i);
      const lastFrom = last.messages.length;
      const hostFrom = host.messages.length;
      // Together: the last answer (which closes the question) and the host's next for the
      // question, each sent first in every other round so that both orders reach the server.
      const sends = [() => last.send({ type: 'answer', questionIndex: i, choice: 1 }), () => host.send({ type: 'next', phase: 'question', questionIndex: i })];
      for (const send of i % 2 === 0 ? sends : sends.reverse()) send();
      const reply = await firstAfter(last, lastFrom, (m) => (m.type === 'answer_ack' && m.questionIndex === i) || (m.type === 'error' && m.ref === 'answer'));
      await drained(host); // the host's next has been answered (an error goes out at once)
      const hostErrors = host.messages.slice(hostFrom).filter((m) => m.type === 'error');
      if (reply.type === 'answer_ack') {
        // The answer closed the question first: the next named a phase already over.
        expect(hostErrors).toEqual([{ type: 'error', code: 'PHASE_PASSED', message: expect.any(String), ref: 'next' }]);
        outcomes.answerFirst++;
      } else {
        // The next ended the question first: the answer came too late, and the next was taken.
        expect(reply).toMatchObject({ type: 'error', code: 'QUESTION_CLOSED' });
        expect(hostErrors).toEqual([]);
        outcomes.nextFirst++;
      }
      // Either way the reveal of this question comes, then its leaderboard.
      await last.next('reveal', (m) => m.questionIndex === i);
      await last.next('leaderboard');
    }
    await last.next('finished', () => true, 30_000);
    expect(outcomes.answerFirst + outcomes.nextFirst).toBe(ROUNDS);
    // Every player saw question, reveal, leaderboard of every question, in that order, once each.
    const expected = [...Array.from({ length: ROUNDS }, (_, i) => [`question ${i}`, `reveal ${i}`, 'leaderboard']).flat(), 'finished'];
    for (const p of [first, last, host]) {
      const phases = p.messages.flatMap((m) =>
        m.type === 'question' ? [`question ${m.index}`] : m.type === 'reveal' ? [`reveal ${m.questionIndex}`] : m.type === 'leaderboard' || m.type === 'finished' ? [m.type] : [],
      );
      expect(phases).toEqual(expected);
    }
    for (const c of [host, first, last]) c.close();
  });
});

describe('a worker killed during the suspense moment', () => {
  const group = new ProcessGroup();
  afterAll(() => group.stopAll());

  it('resumes the intro with its original opensAt; the question opens then, and answers are acknowledged', async () => {
    const service = await startMatchService(group, 'pool', {
      MATCH_TIME_SCALE: '1',
      QUESTION_INTRO_MS: '4000',
      REVEAL_MS: '150',
      LEADERBOARD_MS: '150',
      MAX_WORKERS: '2',
    });
    const match = await createMatch(service, { quiz: tinyQuiz(2, 30) });
    const host = await connectHost(service, match);
    const players = await joinPlayers(service, match, ['Ann', 'Ben']);
    const tokens = players.map((p) => p.all('welcome')[0]!.token);
    host.send({ type: 'start' });
    const intro = await players[0]!.next('question_intro', (m) => m.index === 0);

    const owner = (await fetchWorkerStats(service.url)).workers.find((w) => w.matches.includes(match.matchId))!;
    process.kill(owner.pid, 'SIGKILL');
    for (const c of [host, ...players]) await c.closed;

    const resumed: MatchSocket[] = [];
    for (const token of tokens) {
      // Held until the match is restored (UPGRADE_HOLD_MS); a 503 past that is retried.
      const c = await eventually(
        () => MatchSocket.connect(service.wsUrl + match.wsPath).catch((err: unknown) => (err instanceof UpgradeRefused && err.status === 503 ? undefined : Promise.reject(err))),
        30_000,
        'the restored match to take connections',
      );
      c.send({ type: 'resume', token });
      const w = await c.next('welcome');
      // Still in the intro with the original opensAt, or (a slow restore) the question opened at it.
      if (w.state.phase === 'intro') expect(w.state.intro?.opensAt).toBe(intro.opensAt);
      else expect(w.state.question).toMatchObject({ index: 0, startsAt: intro.opensAt });
      resumed.push(c);
    }
    const replacement = (await fetchWorkerStats(service.url)).workers.find((w) => w.matches.includes(match.matchId))!;
    expect(replacement.pid).not.toBe(owner.pid);

    for (const [k, c] of resumed.entries()) {
      const w = c.all('welcome')[0]!;
      const q = w.state.phase === 'question' ? w.state.question! : await c.next('question', (m) => m.index === 0);
      expect(q.startsAt).toBe(intro.opensAt);
      c.send({ type: 'answer', questionIndex: 0, choice: k === 0 ? 0 : 1 }); // tinyQuiz: question 0's answer is 0
      expect(await c.next('answer_ack', (m) => m.questionIndex === 0)).toEqual({ type: 'answer_ack', questionIndex: 0, choice: k === 0 ? 0 : 1 });
    }
    const reveals = await Promise.all(resumed.map((c) => c.next('reveal', (m) => m.questionIndex === 0)));
    expect(reveals[0]!.you).toMatchObject({ choice: 0, streak: 1 });
    expect(reveals[0]!.you!.points).toBeGreaterThanOrEqual(500);
    expect(reveals[1]!.you).toMatchObject({ choice: 1, points: 0 });
    // The next question has its own suspense moment again, on the new worker.
    expect(await resumed[0]!.next('question_intro', (m) => m.index === 1)).toMatchObject({ index: 1, kind: 'choice' });
    for (const c of resumed) c.close();
  });
});
