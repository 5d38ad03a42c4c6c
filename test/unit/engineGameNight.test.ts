/**
 * The game night additions (docs/PROTOCOL.md Part 2, "Game night additions") in the pure
 * engine, on an injected clock: the suspense moment before each question, question kinds
 * (truefalse, poll), pictures in quizzes, a `next` that names what it ends, the per-question
 * results, and snapshots taken in the new phases (and old snapshots without the new fields).
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { matchSnapshotSchema } from '../../src/cluster/matchSchemas';
import { HOST_ID, Match, type Effect, type Failure, type MatchSnapshot, type MatchTiming } from '../../src/quiz/engine';
import { SHIPPED_QUIZ_IMAGES } from '../../src/quiz/images';
import { QuizCatalog, type Quiz, describeZodError, quizSchema, quizSchemaWith } from '../../src/quiz/quizzes';
import { parseClientMessage, type ServerMessage } from '../../src/protocol/messages';

// ---- fixtures and helpers -------------------------------------------------------------

const INTRO_MS = 3_000;
const TIMING: MatchTiming = {
  questionScale: 1,
  revealMs: 5_000,
  leaderboardMs: 4_000,
  reconnectGraceMs: 10_000,
  finishGraceMs: 60_000,
  lobbyIdleMs: 600_000,
  introMs: INTRO_MS,
};

/** A choice with a picture, a truefalse, a poll, and a last choice question. Time limits 20, 10, 10, 10 s. */
const QUIZ: Quiz = {
  title: 'Game night',
  questions: [
    { text: 'Which planet?', choices: ['Mars', 'Saturn', 'Venus', 'Earth'], correct: 1, timeLimitSec: 20, image: 'saturn.svg' },
    { text: 'The Moon is a planet.', kind: 'truefalse', choices: ['True', 'False'], correct: 1, timeLimitSec: 10 },
    { text: 'Pizza or pasta?', kind: 'poll', choices: ['Pizza', 'Pasta', 'Both'], timeLimitSec: 10 },
    { text: 'Last one: 2 + 2?', kind: 'choice', choices: ['3', '4'], correct: 1, timeLimitSec: 10 },
  ],
};

const HOST_TOKEN = 'host-token';

function ok<R extends { ok: true }>(r: R | Failure): R {
  if (!r.ok) throw new Error(`expected success, got ${r.code}`);
  return r;
}

function code(r: { ok: boolean; code?: string }): string | undefined {
  return r.ok ? undefined : r.code;
}

/** A match with the host connected and `names` joined at 0; returns the player ids by name. */
function lobby(names: string[], timing: Partial<MatchTiming> = {}, quiz: Quiz = QUIZ): { m: Match; id: Record<string, string> } {
  const m = Match.create({
    id: 'GAMENT',
    quiz,
    settings: { lateJoin: false, maxPlayers: 10, phoneView: 'shapes' },
    timing: { ...TIMING, ...timing },
    now: 0,
    hostToken: HOST_TOKEN,
  });
  ok(m.resume(HOST_TOKEN, 0));
  const id: Record<string, string> = {};
  for (const name of names) id[name] = ok(m.join(name, 0)).participantId;
  return { m, id };
}

function messages(effects: readonly Effect[]): ServerMessage[] {
  return effects.flatMap((e) => (e.kind === 'send' || e.kind === 'broadcast' ? [e.msg] : []));
}

function the<T extends ServerMessage['type']>(effects: readonly Effect[], type: T): Extract<ServerMessage, { type: T }> {
  const found = messages(effects).filter((m): m is Extract<ServerMessage, { type: T }> => m.type === type);
  expect(found, `exactly one ${type} message`).toHaveLength(1);
  return found[0]!;
}

function personalOf(effects: readonly Effect[], type: ServerMessage['type']): ReadonlyMap<string, object> {
  const b = effects.find((e): e is Extract<Effect, { kind: 'broadcast' }> => e.kind === 'broadcast' && e.msg.type === type);
  expect(b?.personal, `a personal ${type}`).toBeDefined();
  return b!.personal!;
}

function stateOf(msg: ServerMessage) {
  if (msg.type !== 'welcome') throw new Error('not a welcome');
  return msg.state;
}

/** The current phase's deadline, from the snapshot. */
function deadline(m: Match): number {
  const d = m.snapshot().phaseEndsAt;
  if (d === null) throw new Error(`no deadline in ${m.phase}`);
  return d;
}

/** Ticks deadlines until the match is in `phase` of question `index` (bounded). */
function runTo(m: Match, phase: string, index: number): void {
  for (let i = 0; i < 50 && !(m.phase === phase && m.snapshot().questionIndex === index); i++) m.tick(deadline(m));
  expect([m.phase, m.snapshot().questionIndex]).toEqual([phase, index]);
}

// ---- the suspense moment ----------------------------------------------------------------

describe('intro: the suspense moment before each question', () => {
  it('start sends question_intro (text, kind, image, opensAt; no choices, no answer) and the question opens at opensAt', () => {
    const { m } = lobby(['Ann']);
    const intro = the(ok(m.start(HOST_ID, 1_000)).effects, 'question_intro');
    expect(intro).toEqual({ type: 'question_intro', index: 0, total: 4, text: 'Which planet?', kind: 'choice', image: 'saturn.svg', opensAt: 4_000 });
    expect(JSON.stringify(intro)).not.toMatch(/choices|correct|Saturn"/);
    expect(m.phase).toBe('intro');
    expect(m.status).toBe('running');
    // The host's timer wakes at opensAt.
    expect(m.nextDeadline(1_000)).toBe(4_000);
    expect(m.tick(3_999)).toEqual([]);

    // The timer fires late (a busy process): the question still starts at opensAt.
    const q = the(m.tick(4_050), 'question');
    expect(q).toEqual({
      type: 'question',
      index: 0,
      total: 4,
      text: 'Which planet?',
      choices: ['Mars', 'Saturn', 'Venus', 'Earth'],
      startsAt: 4_000,
      endsAt: 24_000,
      kind: 'choice',
      image: 'saturn.svg',
    });
    expect(m.nextDeadline(4_050)).toBe(24_000);
  });

  it('after each leaderboard comes the next question’s intro, and a question without a picture has no image field', () => {
    const { m } = lobby(['Ann']);
    ok(m.start(HOST_ID, 0));
    m.tick(3_000); // question 0 opens
    m.tick(23_000); // reveal
    m.tick(28_000); // leaderboard
    const intro = the(m.tick(32_000), 'question_intro');
    expect(intro).toEqual({ type: 'question_intro', index: 1, total: 4, text: 'The Moon is a planet.', kind: 'truefalse', opensAt: 35_000 });
    const q = the(m.tick(35_000), 'question');
    expect(q).not.toHaveProperty('image');
    expect(q).toMatchObject({ index: 1, kind: 'truefalse', startsAt: 35_000, endsAt: 45_000 });
  });

  it('an answer during the intro is QUESTION_NOT_OPEN and changes nothing; another index is still WRONG_QUESTION', () => {
    const { m, id } = lobby(['Ann', 'Bob']);
    ok(m.start(HOST_ID, 0));
    const before = m.snapshot();
    expect(code(m.answer(id.Ann!, 0, 1, 1_000))).toBe('QUESTION_NOT_OPEN');
    expect(code(m.answer(id.Ann!, 1, 1, 1_000))).toBe('WRONG_QUESTION');
    expect(m.snapshot()).toEqual(before);
    // Once open, the same answer is taken and scores from opensAt.
    m.tick(3_000);
    const r = ok(m.answer(id.Ann!, 0, 1, 3_000));
    expect(the(r.effects, 'answer_ack')).toEqual({ type: 'answer_ack', questionIndex: 0, choice: 1 });
    expect(m.snapshot().answers[id.Ann!]!.points).toBe(1000);
  });

  it('the host’s next during the intro opens the question at once (startsAt = now)', () => {
    const { m, id } = lobby(['Ann']);
    ok(m.start(HOST_ID, 0));
    const q = the(ok(m.next(HOST_ID, 1_200)).effects, 'question');
    expect(q).toMatchObject({ index: 0, startsAt: 1_200, endsAt: 21_200 });
    expect(m.phase).toBe('question');
    expect(m.nextDeadline(1_200)).toBe(21_200);
    expect(the(ok(m.answer(id.Ann!, 0, 1, 1_200)).effects, 'answer_ack').questionIndex).toBe(0);
  });

  it('a welcome during the intro shows it (and no question), with the match settings', () => {
    const { m, id } = lobby(['Ann']);
    ok(m.start(HOST_ID, 500));
    for (const who of [id.Ann!, HOST_ID]) {
      const state = stateOf(m.welcome(who, 1_000));
      expect(state.phase).toBe('intro');
      expect(state.intro).toEqual({ index: 0, total: 4, text: 'Which planet?', kind: 'choice', image: 'saturn.svg', opensAt: 3_500 });
      expect(state.phaseEndsAt).toBe(3_500);
      expect(state.question).toBeNull();
      expect(state.answered).toBeNull();
      expect(state.settings).toEqual({ lateJoin: false, maxPlayers: 10, phoneView: 'shapes' });
      expect(JSON.stringify(state)).not.toMatch(/"correct"/);
    }
    m.tick(3_500);
    expect(stateOf(m.welcome(id.Ann!, 3_600)).intro).toBeNull();
  });

  it('with introMs 0 (or none, as in older snapshots) start goes straight to the question, as in v1', () => {
    for (const timing of [{ introMs: 0 }, { introMs: undefined }]) {
      const { m } = lobby(['Ann'], timing);
      const effects = ok(m.start(HOST_ID, 1_000)).effects;
      expect(messages(effects).map((x) => x.type)).toEqual(['question']);
      expect(the(effects, 'question').startsAt).toBe(1_000);
    }
  });
});

// ---- next that names what it ends -------------------------------------------------------

describe('next with phase and questionIndex', () => {
  it('is refused with PHASE_PASSED, changing nothing, once the named phase is over', () => {
    const { m, id } = lobby(['Ann'], { introMs: 0 });
    ok(m.start(HOST_ID, 0));
    // The last answer closes the question: the host's next meant for it arrives after.
    the(ok(m.answer(id.Ann!, 0, 1, 1_000)).effects, 'reveal');
    const before = m.snapshot();
    expect(code(m.next(HOST_ID, 1_001, { phase: 'question', questionIndex: 0 }))).toBe('PHASE_PASSED');
    expect(code(m.next(HOST_ID, 1_001, { phase: 'reveal', questionIndex: 1 }))).toBe('PHASE_PASSED');
    expect(code(m.next(HOST_ID, 1_001, { questionIndex: 1 }))).toBe('PHASE_PASSED');
    expect(m.snapshot()).toEqual(before);
    // Naming the phase it is in ends it; so does a bare next (v1).
    the(ok(m.next(HOST_ID, 1_002, { phase: 'reveal', questionIndex: 0 })).effects, 'leaderboard');
    the(ok(m.next(HOST_ID, 1_003)).effects, 'question');
  });

  it('names the intro too, and only the host may send it', () => {
    const { m, id } = lobby(['Ann']);
    ok(m.start(HOST_ID, 0));
    expect(code(m.next(id.Ann!, 10, { phase: 'intro', questionIndex: 0 }))).toBe('NOT_HOST');
    expect(code(m.next(HOST_ID, 10, { phase: 'question', questionIndex: 0 }))).toBe('PHASE_PASSED');
    the(ok(m.next(HOST_ID, 10, { phase: 'intro', questionIndex: 0 })).effects, 'question');
  });

  it('is parsed at the boundary: both fields optional, a phase name it does not know is BAD_MESSAGE', () => {
    expect(parseClientMessage('{"type":"next"}')).toEqual({ ok: true, message: { type: 'next' } });
    expect(parseClientMessage('{"type":"next","phase":"question","questionIndex":2}')).toEqual({
      ok: true,
      message: { type: 'next', phase: 'question', questionIndex: 2 },
    });
    expect(parseClientMessage('{"type":"next","phase":"lobby"}')).toMatchObject({ ok: false, code: 'BAD_MESSAGE', ref: 'next' });
    expect(parseClientMessage('{"type":"next","questionIndex":"1"}')).toMatchObject({ ok: false, code: 'BAD_MESSAGE' });
  });
});

// ---- kinds and scoring --------------------------------------------------------------------

describe('truefalse and poll', () => {
  /** Ann is right on questions 0 and 1 (streak 2) before the poll; Bob wrong on both. */
  function atThePoll() {
    const l = lobby(['Ann', 'Bob', 'Cid'], { introMs: 0 });
    const { m, id } = l;
    ok(m.start(HOST_ID, 0));
    ok(m.answer(id.Ann!, 0, 1, 0));
    ok(m.answer(id.Bob!, 0, 0, 0));
    ok(m.answer(id.Cid!, 0, 0, 0));
    runTo(m, 'question', 1);
    const q1Start = m.snapshot().questionStartsAt!;
    ok(m.answer(id.Ann!, 1, 1, q1Start));
    ok(m.answer(id.Bob!, 1, 0, q1Start));
    const reveal1 = m.answer(id.Cid!, 1, 1, q1Start + 5_000);
    const r1 = the(ok(reveal1).effects, 'reveal');
    // truefalse scores like a choice question.
    expect(r1).toMatchObject({ questionIndex: 1, correct: 1, counts: [1, 2], kind: 'truefalse' });
    expect(personalOf(ok(reveal1).effects, 'reveal').get(id.Cid!)).toEqual({ choice: 1, points: 750, score: 750, streak: 1 });
    runTo(m, 'question', 2);
    return l;
  }

  it('a poll reveals correct null and kind poll; everyone gets 0 points and keeps the streak they had', () => {
    const { m, id } = atThePoll();
    const before = m.snapshot().players.map((p) => ({ id: p.id, score: p.score, streak: p.streak }));
    expect(before.map((p) => p.streak)).toEqual([2, 0, 1]);
    const start = m.snapshot().questionStartsAt!;
    ok(m.answer(id.Ann!, 2, 0, start));
    ok(m.answer(id.Bob!, 2, 2, start + 1_000));
    // Cid does not answer: no reset for that either.
    const effects = m.tick(deadline(m));
    const reveal = the(effects, 'reveal');
    expect(reveal).toEqual({ type: 'reveal', questionIndex: 2, correct: null, counts: [1, 0, 1], kind: 'poll' });
    const you = personalOf(effects, 'reveal');
    for (const p of before) {
      expect(you.get(p.id)).toMatchObject({ points: 0, score: p.score, streak: p.streak });
    }
    expect(you.get(id.Ann!)).toMatchObject({ choice: 0 });
    expect(stateOf(m.welcome(id.Ann!, deadline(m) - 1)).you).toMatchObject({ lastPoints: 0, streak: 2, answer: { questionIndex: 2, choice: 0 } });
    expect(stateOf(m.welcome(HOST_ID, deadline(m) - 1)).reveal).toEqual({ questionIndex: 2, correct: null, counts: [1, 0, 1], kind: 'poll' });
    // The streak carries on past the poll.
    runTo(m, 'question', 3);
    const r3 = ok(m.answer(id.Ann!, 3, 1, m.snapshot().questionStartsAt!));
    expect(r3.effects.length).toBeGreaterThan(0);
    const last = m.tick(deadline(m));
    expect(personalOf(last, 'reveal').get(id.Ann!)).toMatchObject({ streak: 3 });
  });

  it('results list every question with its answers (ms after startsAt), correct null for the poll, no images', () => {
    const { m, id } = atThePoll();
    const start = m.snapshot().questionStartsAt!;
    ok(m.answer(id.Bob!, 2, 2, start + 1_234));
    runTo(m, 'question', 3);
    for (let i = 0; i < 50 && m.phase !== 'finished'; i++) m.tick(deadline(m));
    const results = m.questionResults()!;
    expect(results.map((q) => [q.index, q.kind, q.correct])).toEqual([
      [0, 'choice', 1],
      [1, 'truefalse', 1],
      [2, 'poll', null],
      [3, 'choice', 1],
    ]);
    expect(results[0]).toEqual({
      index: 0,
      text: 'Which planet?',
      kind: 'choice',
      choices: ['Mars', 'Saturn', 'Venus', 'Earth'],
      correct: 1,
      answers: [
        { playerId: id.Ann!, choice: 1, points: 1000, ms: 0 },
        { playerId: id.Bob!, choice: 0, points: 0, ms: 0 },
        { playerId: id.Cid!, choice: 0, points: 0, ms: 0 },
      ],
    });
    expect(results[1]!.answers.find((a) => a.playerId === id.Cid)).toEqual({ playerId: id.Cid!, choice: 1, points: 750, ms: 5_000 });
    expect(results[2]!.answers).toEqual([{ playerId: id.Bob!, choice: 2, points: 0, ms: 1_234 }]);
    expect(results[3]!.answers).toEqual([]);
    expect(JSON.stringify(results)).not.toContain('saturn.svg');
  });

  it('results leave out the answers of a kicked player, as the standings leave out the player', () => {
    const { m, id } = lobby(['Ann', 'Bob'], { introMs: 0 });
    ok(m.start(HOST_ID, 0));
    ok(m.answer(id.Ann!, 0, 1, 100));
    ok(m.answer(id.Bob!, 0, 1, 200));
    ok(m.kick(HOST_ID, id.Bob!, m.snapshot().phaseEndsAt! + 1));
    for (let i = 0; i < 50 && m.phase !== 'finished'; i++) m.tick(deadline(m));
    expect(m.questionResults()![0]!.answers.map((a) => a.playerId)).toEqual([id.Ann!]);
    expect(m.standings()!.map((s) => s.playerId)).toEqual([id.Ann!]);
  });

  it('has no results before the match is finished', () => {
    const { m } = lobby(['Ann']);
    expect(m.questionResults()).toBeNull();
  });
});

// ---- snapshots -----------------------------------------------------------------------------

/** Runs both matches through the same inputs and expects the same effects and state. */
function expectSameFuture(a: Match, b: Match, playerId: string): void {
  const steps: Array<(m: Match) => Effect[] | Failure> = [
    (m) => m.tick(deadline(m)),
    (m) => {
      const r = m.answer(playerId, m.snapshot().questionIndex, 0, (m.snapshot().questionStartsAt ?? 0) + 500);
      return r.ok ? r.effects : r;
    },
    (m) => m.tick(deadline(m)),
    (m) => m.tick(deadline(m)),
    (m) => m.tick(deadline(m)),
  ];
  for (const step of steps) expect(JSON.stringify(step(b))).toBe(JSON.stringify(step(a)));
  expect(b.snapshot()).toEqual(a.snapshot());
}

describe('snapshot and restore', () => {
  it('restore(snapshot()) during an intro is exact, through JSON as the store keeps it, and continues alike', () => {
    const a = lobby(['Ann']);
    ok(a.m.start(HOST_ID, 0));
    const snap = a.m.snapshot();
    const b = Match.restore(JSON.parse(JSON.stringify(snap)) as MatchSnapshot);
    expect(b.snapshot()).toEqual(snap);
    expect(b.phase).toBe('intro');
    expect(b.nextDeadline(0)).toBe(INTRO_MS);
    expect(b.welcome(HOST_ID, 5)).toEqual(a.m.welcome(HOST_ID, 5));
    expectSameFuture(a.m, b, a.id.Ann!);
  });

  it('restore(snapshot()) during a poll with answers is exact and keeps the history of earlier questions', () => {
    const a = lobby(['Ann', 'Bob'], { introMs: 0 });
    ok(a.m.start(HOST_ID, 0));
    ok(a.m.answer(a.id.Ann!, 0, 1, 10));
    runTo(a.m, 'question', 2);
    ok(a.m.answer(a.id.Bob!, 2, 1, a.m.snapshot().questionStartsAt! + 20));
    const snap = a.m.snapshot();
    expect(snap.history).toHaveLength(2);
    const b = Match.restore(JSON.parse(JSON.stringify(snap)) as MatchSnapshot);
    expect(b.snapshot()).toEqual(snap);
    expectSameFuture(a.m, b, a.id.Ann!);
    for (let i = 0; i < 50 && b.phase !== 'finished'; i++) b.tick(deadline(b));
    expect(b.questionResults()![0]!.answers).toEqual([{ playerId: a.id.Ann!, choice: 1, points: 1000, ms: 10 }]);
  });

  it('a match moved during its intro keeps opensAt; past it, the question opens with startsAt = opensAt', () => {
    const { m } = lobby(['Ann']);
    ok(m.start(HOST_ID, 0));
    const early = Match.restore(m.snapshot(), { moved: { now: 1_000 } });
    expect(early.tick(1_000)).toEqual([]);
    expect(stateOf(early.welcome(HOST_ID, 1_000)).intro?.opensAt).toBe(INTRO_MS);
    expect(early.nextDeadline(1_000)).toBe(INTRO_MS);

    const late = Match.restore(m.snapshot(), { moved: { now: 5_000 } });
    const q = the(late.tick(5_000), 'question');
    expect(q).toMatchObject({ index: 0, startsAt: INTRO_MS, endsAt: INTRO_MS + 20_000 });
  });

  it('an older snapshot (no kinds, intro, phone view or history) restores and plays as before', () => {
    const v1Quiz: Quiz = { title: 'Old', questions: [0, 1].map((i) => ({ text: `Q${i}`, choices: ['a', 'b'], correct: i, timeLimitSec: 10 })) };
    const { m, id } = lobby(['Ann', 'Bob'], { introMs: 0 }, v1Quiz);
    ok(m.start(HOST_ID, 0));
    ok(m.answer(id.Ann!, 0, 0, 0));
    expect(m.phase).toBe('question');
    const old = JSON.parse(JSON.stringify(m.snapshot())) as MatchSnapshot & Record<string, unknown>;
    delete old.history;
    delete old.timing.introMs;
    delete old.settings.phoneView;
    expect(JSON.stringify(old)).not.toMatch(/introMs|phoneView|history|"kind"/);
    // It crosses the cluster boundary as it did.
    expect(matchSnapshotSchema.parse(old)).toEqual(old);
    const r = Match.restore(old);
    expect(r.snapshot()).toEqual(old);
    expect(stateOf(r.welcome(HOST_ID, 1)).settings).toEqual({ lateJoin: false, maxPlayers: 10, phoneView: 'full' });
    const reveal = the(r.tick(deadline(r)), 'reveal');
    expect(reveal).toMatchObject({ questionIndex: 0, correct: 0, kind: 'choice' });
    r.tick(deadline(r));
    // No intro: the next question follows the leaderboard at once, as in v1.
    expect(the(r.tick(deadline(r)), 'question').index).toBe(1);
    for (let i = 0; i < 10 && r.phase !== 'finished'; i++) r.tick(deadline(r));
    expect(r.questionResults()!.map((q) => q.answers.length)).toEqual([1, 0]);
  });

  it('a snapshot in the intro, with history, crosses the cluster boundary unchanged', () => {
    const { m, id } = lobby(['Ann']);
    ok(m.start(HOST_ID, 0));
    m.tick(INTRO_MS);
    ok(m.answer(id.Ann!, 0, 1, INTRO_MS + 10));
    runTo(m, 'intro', 1);
    const snap = JSON.parse(JSON.stringify(m.snapshot())) as MatchSnapshot;
    expect(snap.phase).toBe('intro');
    expect(matchSnapshotSchema.parse(snap)).toEqual(snap);
    expect(matchSnapshotSchema.safeParse({ ...snap, history: [[['p1', 'one', 0, 0]]] }).success).toBe(false);
  });
});

// ---- quiz validation ------------------------------------------------------------------------

describe('quiz kinds and images', () => {
  const MAX = 2_000;
  const schema = quizSchemaWith({ maxImageBytes: MAX });
  const question = (over: Record<string, unknown> = {}) => ({ text: 'Q?', choices: ['a', 'b', 'c'], correct: 0, timeLimitSec: 20, ...over });
  /** The question under test is the third, so messages must say "question 3". */
  const quiz = (q: object) => ({ title: 'T', questions: [question(), question(), q] });
  const png = `data:image/png;base64,${Buffer.from('\x89PNG\r\n\x1a\n-pixels-').toString('base64')}`;

  it.each([
    ['a PNG data URL', question({ image: png })],
    ['a JPEG data URL', question({ image: 'data:image/jpeg;base64,/9j/4AAQSkZJRg==' })],
    ['a WebP data URL', question({ image: 'data:image/webp;base64,UklGRiQAAABXRUJQ' })],
    ['a shipped image', question({ image: 'saturn.svg' })],
    ['a data URL of exactly the limit', question({ image: `data:image/png;base64,${'A'.repeat(MAX - 'data:image/png;base64,'.length)}` })],
    ['kind choice', question({ kind: 'choice' })],
    ['a truefalse', question({ kind: 'truefalse', choices: ['True', 'False'], correct: 1 })],
    ['a poll without correct', { text: 'Q?', kind: 'poll', choices: ['a', 'b', 'c', 'd'], timeLimitSec: 20 }],
  ])('accepts %s', (_label, q) => {
    const parsed = schema.safeParse(quiz(q));
    expect(parsed.success, parsed.success ? '' : describeZodError(parsed.error)).toBe(true);
  });

  it.each([
    ['an http URL', question({ image: 'http://example.com/a.png' }), 'image', /link to another site/],
    ['an https URL', question({ image: 'https://example.com/a.png' }), 'image', /link to another site/],
    ['an SVG data URL', question({ image: 'data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=' }), 'image', /not image\/svg\+xml/],
    ['a GIF data URL', question({ image: 'data:image/gif;base64,R0lGODlh' }), 'image', /not image\/gif/],
    ['a data URL that is not base64', question({ image: 'data:image/png,<svg onload=alert(1)>' }), 'image', /base64/],
    ['a data URL over MAX_IMAGE_BYTES', question({ image: `data:image/png;base64,${'A'.repeat(MAX)}` }), 'image', /at most 2000 \(MAX_IMAGE_BYTES\)/],
    ['an unknown image name', question({ image: 'pluto.svg' }), 'image', /saturn\.svg/],
    ['a path to a shipped image', question({ image: '../quiz-images/saturn.svg' }), 'image', /shipped images/],
    ['an unknown kind', question({ kind: 'essay' }), 'kind', /./],
    ['a truefalse with 3 choices', question({ kind: 'truefalse' }), 'choices', /exactly 2 choices/],
    ['a poll with correct', question({ kind: 'poll' }), 'correct', /leave "correct" out/],
    ['a choice without correct', { text: 'Q?', choices: ['a', 'b'], timeLimitSec: 20 }, 'correct', /index of the correct choice/],
  ])('refuses %s with a message naming question 3 and the field', (_label, q, field, message) => {
    const parsed = schema.safeParse(quiz(q));
    expect(parsed.success).toBe(false);
    const text = describeZodError(parsed.error!);
    expect(text).toContain(`questions.2.${field} (question 3): `);
    expect(text).toMatch(message);
  });

  it('the unbounded schema (stored and moving quizzes) still refuses every non-image, but not a large one', () => {
    expect(quizSchema.safeParse(quiz(question({ image: `data:image/png;base64,${'A'.repeat(100_000)}` }))).success).toBe(true);
    expect(quizSchema.safeParse(quiz(question({ image: 'https://example.com/a.png' }))).success).toBe(false);
  });

  it('ships exactly the images the server lists, and the built-in quizzes use every kind and a shipped image', () => {
    const dir = path.resolve(__dirname, '..', '..', 'public', 'quiz-images');
    expect(readdirSync(dir).sort()).toEqual([...SHIPPED_QUIZ_IMAGES].sort());
    const catalog = QuizCatalog.load();
    const questions = catalog.list().flatMap((s) => catalog.get(s.id)!.questions);
    expect(new Set(questions.map((q) => q.kind ?? 'choice'))).toEqual(new Set(['choice', 'truefalse', 'poll']));
    expect(questions.some((q) => q.image !== undefined && SHIPPED_QUIZ_IMAGES.includes(q.image))).toBe(true);
  });
});
