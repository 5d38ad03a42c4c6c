/**
 * The pure match engine against PROTOCOL.md, driven by an injected clock: every `now` is a
 * plain number chosen by the test, so nothing here depends on wall-clock time.
 */
import { describe, expect, it } from 'vitest';
import {
  HOST_ID,
  Match,
  type Effect,
  type Failure,
  type MatchSettings,
  type MatchTiming,
} from '../../src/quiz/engine';
import type { Quiz } from '../../src/quiz/quizzes';
import { nextStreak, pointsFor, rank } from '../../src/quiz/scoring';
import { parseClientMessage, type ServerMessage } from '../../src/protocol/messages';

// ---- fixtures and helpers -------------------------------------------------------------

const TIMING: MatchTiming = {
  questionScale: 1,
  revealMs: 5_000,
  leaderboardMs: 4_000,
  reconnectGraceMs: 10_000,
  finishGraceMs: 60_000,
  lobbyIdleMs: 600_000,
};

/** Correct choices: 1, 0, 2. Time limits: 20 s, 10 s, 30 s. */
const QUIZ: Quiz = {
  title: 'Unit quiz',
  questions: [
    { text: 'Q1', choices: ['a', 'b', 'c', 'd'], correct: 1, timeLimitSec: 20 },
    { text: 'Q2', choices: ['x', 'y'], correct: 0, timeLimitSec: 10 },
    { text: 'Q3', choices: ['p', 'q', 'r'], correct: 2, timeLimitSec: 30 },
  ],
};

const HOST_TOKEN = 'the-host-token';

function newMatch(
  opts: { settings?: Partial<MatchSettings>; timing?: Partial<MatchTiming>; quiz?: Quiz; now?: number } = {},
): Match {
  return Match.create({
    id: 'ABCDEF',
    quiz: opts.quiz ?? QUIZ,
    settings: { lateJoin: false, maxPlayers: 100, ...opts.settings },
    timing: { ...TIMING, ...opts.timing },
    now: opts.now ?? 0,
    hostToken: HOST_TOKEN,
  });
}

function ok<R extends { ok: true }>(r: R | Failure): R {
  if (!r.ok) throw new Error(`expected success, got ${r.code}`);
  return r;
}

interface Lobby {
  m: Match;
  /** Player id by name. */
  id: Record<string, string>;
  /** Player token by name. */
  token: Record<string, string>;
}

/** A match with the host connected and `names` joined, all at `now`. */
function lobby(names: string[], opts: NonNullable<Parameters<typeof newMatch>[0]> = {}, now = 0): Lobby {
  const m = newMatch({ now, ...opts });
  ok(m.resume(HOST_TOKEN, now));
  const id: Record<string, string> = {};
  const token: Record<string, string> = {};
  for (const name of names) {
    const r = ok(m.join(name, now));
    id[name] = r.participantId;
    token[name] = tokenOf(m.welcome(r.participantId, now));
  }
  return { m, id, token };
}

function tokenOf(msg: ServerMessage): string {
  if (msg.type !== 'welcome') throw new Error('not a welcome');
  return msg.token;
}

/** Every message in the effects (send and broadcast), in order. */
function messages(effects: readonly Effect[]): ServerMessage[] {
  const out: ServerMessage[] = [];
  for (const e of effects) if (e.kind === 'send' || e.kind === 'broadcast') out.push(e.msg);
  return out;
}

function ofType<T extends ServerMessage['type']>(
  effects: readonly Effect[],
  type: T,
): Array<Extract<ServerMessage, { type: T }>> {
  return messages(effects).filter((m): m is Extract<ServerMessage, { type: T }> => m.type === type);
}

function the<T extends ServerMessage['type']>(effects: readonly Effect[], type: T): Extract<ServerMessage, { type: T }> {
  const found = ofType(effects, type);
  expect(found, `exactly one ${type} message`).toHaveLength(1);
  return found[0]!;
}

/** The broadcast effect carrying a message of `type` (for its `personal` map). */
function broadcastOf(effects: readonly Effect[], type: ServerMessage['type']): Extract<Effect, { kind: 'broadcast' }> {
  const found = effects.filter((e): e is Extract<Effect, { kind: 'broadcast' }> => e.kind === 'broadcast' && e.msg.type === type);
  expect(found, `exactly one ${type} broadcast`).toHaveLength(1);
  return found[0]!;
}

/** JSON text of anything, Maps included (JSON.stringify alone would print `{}` for them). */
function serialize(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) => (v instanceof Map ? Object.fromEntries(v) : v));
}

/**
 * Fires each phase's deadline in turn until the match is finished; returns all the effects.
 * (It reads the phase deadline from the snapshot rather than trusting nextDeadline(), which
 * could once report stale moments: see the regression tests below.)
 */
function runToEnd(m: Match): Effect[] {
  const effects: Effect[] = [];
  for (let i = 0; i < 100 && m.phase !== 'finished' && m.phase !== 'closed'; i++) {
    const d = m.snapshot().phaseEndsAt;
    if (d === null) throw new Error(`no deadline in phase ${m.phase}`);
    const next = m.nextDeadline(0);
    expect(next === null || next <= d, 'nextDeadline is never later than the phase deadline').toBe(true);
    effects.push(...m.tick(d));
  }
  expect(m.phase).toBe('finished');
  return effects;
}

// ---- phases and deadlines --------------------------------------------------------------

describe('phases and timing', () => {
  it('runs lobby → question → reveal → leaderboard → … → finished on its deadlines', () => {
    const { m } = lobby(['Ann']);
    expect(m.phase).toBe('lobby');
    expect(m.status).toBe('lobby');

    const q0 = the(ok(m.start(HOST_ID, 1_000)).effects, 'question');
    expect(q0).toEqual({ type: 'question', index: 0, total: 3, text: 'Q1', choices: ['a', 'b', 'c', 'd'], startsAt: 1_000, endsAt: 21_000, kind: 'choice' });
    expect(m.phase).toBe('question');
    expect(m.status).toBe('running');
    expect(m.nextDeadline(0)).toBe(21_000);

    // Before the deadline nothing happens.
    expect(m.tick(20_999)).toEqual([]);
    expect(m.phase).toBe('question');

    const r0 = the(m.tick(21_000), 'reveal');
    expect(r0).toMatchObject({ questionIndex: 0, correct: 1, counts: [0, 0, 0, 0] });
    expect(m.phase).toBe('reveal');
    expect(m.nextDeadline(0)).toBe(21_000 + TIMING.revealMs);
    expect(m.tick(25_999)).toEqual([]);
    expect(m.phase).toBe('reveal');

    the(m.tick(26_000), 'leaderboard');
    expect(m.phase).toBe('leaderboard');
    expect(m.nextDeadline(0)).toBe(26_000 + TIMING.leaderboardMs);
    expect(m.tick(29_999)).toEqual([]);
    expect(m.phase).toBe('leaderboard');

    const q1 = the(m.tick(30_000), 'question');
    expect(q1).toMatchObject({ index: 1, total: 3, text: 'Q2', choices: ['x', 'y'], startsAt: 30_000, endsAt: 40_000 });
    expect(m.nextDeadline(0)).toBe(40_000);

    the(m.tick(40_000), 'reveal');
    the(m.tick(45_000), 'leaderboard');
    const q2 = the(m.tick(49_000), 'question');
    expect(q2).toMatchObject({ index: 2, startsAt: 49_000, endsAt: 79_000 });
    the(m.tick(79_000), 'reveal');
    the(m.tick(84_000), 'leaderboard');
    expect(m.standings()).toBeNull();
    const fin = the(m.tick(88_000), 'finished');
    expect(fin.standings).toEqual([{ playerId: expect.any(String), name: 'Ann', score: 0, rank: 1 }]);
    expect(m.phase).toBe('finished');
    expect(m.status).toBe('finished');
    expect(m.standings()).toEqual(fin.standings);
  });

  it('scales each question by questionScale (endsAt = startsAt + timeLimitSec × 1000 × scale)', () => {
    const { m } = lobby(['Ann'], { timing: { questionScale: 0.05 } });
    const q0 = the(ok(m.start(HOST_ID, 500)).effects, 'question');
    expect(q0.endsAt).toBe(500 + 20 * 1000 * 0.05);
    expect(m.nextDeadline(0)).toBe(1_500);
    expect(m.tick(1_499)).toEqual([]);
    the(m.tick(1_500), 'reveal');
  });

  it('catches up on several deadlines at once when tick comes late', () => {
    const { m } = lobby(['Ann'], { timing: { revealMs: 0 } });
    ok(m.start(HOST_ID, 0));
    // With a zero reveal, question end and reveal end are the same moment.
    const effects = m.tick(20_000);
    expect(messages(effects).map((x) => x.type)).toEqual(['reveal', 'leaderboard']);
    expect(m.phase).toBe('leaderboard');
  });

  it('lets the host skip ahead with next in question, reveal and leaderboard', () => {
    const { m, id } = lobby(['Ann']);
    ok(m.start(HOST_ID, 0));
    expect(m.next(id.Ann!, 1_000)).toEqual({ ok: false, code: 'NOT_HOST' });
    expect(m.phase).toBe('question');

    the(ok(m.next(HOST_ID, 1_000)).effects, 'reveal');
    expect(m.phase).toBe('reveal');
    expect(m.nextDeadline(0)).toBe(1_000 + TIMING.revealMs);

    the(ok(m.next(HOST_ID, 2_000)).effects, 'leaderboard');
    expect(m.phase).toBe('leaderboard');
    expect(m.nextDeadline(0)).toBe(2_000 + TIMING.leaderboardMs);

    expect(the(ok(m.next(HOST_ID, 3_000)).effects, 'question')).toMatchObject({ index: 1, startsAt: 3_000, endsAt: 13_000 });
    ok(m.next(HOST_ID, 4_000));
    ok(m.next(HOST_ID, 5_000));
    ok(m.next(HOST_ID, 6_000));
    ok(m.next(HOST_ID, 7_000));
    ok(m.next(HOST_ID, 8_000));
    const fin = the(ok(m.next(HOST_ID, 9_000)).effects, 'finished');
    expect(fin.standings).toHaveLength(1);
    expect(m.phase).toBe('finished');
  });

  it('runs to the end with no host connected', () => {
    const { m, id } = lobby(['Ann', 'Bob']);
    ok(m.start(HOST_ID, 0));
    expect(m.disconnect(HOST_ID, 100)).toEqual([]);
    ok(m.answer(id.Ann!, 0, 1, 5_000));
    const effects = [...runToEnd(m)];
    expect(ofType(effects, 'question').map((q) => q.index)).toEqual([1, 2]);
    expect(ofType(effects, 'reveal')).toHaveLength(3);
    expect(ofType(effects, 'leaderboard')).toHaveLength(3);
    const fin = the(effects, 'finished');
    expect(fin.standings.map((s) => [s.name, s.score, s.rank])).toEqual([
      ['Ann', 875, 1],
      ['Bob', 0, 2],
    ]);
  });

  it('does not start twice, and only the host starts', () => {
    const { m, id } = lobby(['Ann']);
    expect(m.start(id.Ann!, 0)).toEqual({ ok: false, code: 'NOT_HOST' });
    expect(m.phase).toBe('lobby');
    ok(m.start(HOST_ID, 0));
    expect(m.start(HOST_ID, 1)).toEqual({ ok: false, code: 'MATCH_STARTED' });
  });

  it('keeps a finished match until finishGraceMs, then isOver', () => {
    const { m } = lobby(['Ann']);
    ok(m.start(HOST_ID, 0));
    runToEnd(m);
    const finishedAt = 87_000; // (20+5+4) + (10+5+4) + (30+5+4) s after a start at 0
    expect(m.nextDeadline(0)).toBe(finishedAt + TIMING.finishGraceMs);
    expect(m.isOver(finishedAt)).toBe(false);
    expect(m.isOver(finishedAt + TIMING.finishGraceMs - 1)).toBe(false);
    expect(m.isOver(finishedAt + TIMING.finishGraceMs)).toBe(true);
  });

  it('is never over while running', () => {
    const { m } = lobby(['Ann']);
    ok(m.start(HOST_ID, 0));
    expect(m.isOver(10_000_000)).toBe(false);
  });
});

// ---- early close and presence -----------------------------------------------------------

describe('early close when every present player has answered', () => {
  it('closes the question on the last connected player’s answer', () => {
    const { m, id } = lobby(['Ann', 'Bob']);
    ok(m.start(HOST_ID, 0));
    const first = ok(m.answer(id.Ann!, 0, 1, 2_000)).effects;
    expect(ofType(first, 'reveal')).toEqual([]);
    expect(the(first, 'answer_count')).toEqual({ type: 'answer_count', questionIndex: 0, answered: 1, total: 2 });
    expect(m.phase).toBe('question');

    const last = ok(m.answer(id.Bob!, 0, 2, 3_000)).effects;
    expect(the(last, 'reveal')).toMatchObject({ questionIndex: 0, correct: 1, counts: [0, 1, 1, 0] });
    expect(m.phase).toBe('reveal');
    expect(m.nextDeadline(0)).toBe(3_000 + TIMING.revealMs);
  });

  it('waits for a dropped player during its reconnect grace, then closes when the grace expires', () => {
    const { m, id } = lobby(['Ann', 'Bob', 'Cid']);
    ok(m.start(HOST_ID, 0));
    m.disconnect(id.Cid!, 2_000);
    ok(m.answer(id.Ann!, 0, 1, 3_000));
    const effects = ok(m.answer(id.Bob!, 0, 1, 4_000)).effects;
    expect(ofType(effects, 'reveal')).toEqual([]);
    expect(m.phase).toBe('question');
    // Cid stays present until 2 000 + 10 000: the engine asks to be woken then.
    expect(m.nextDeadline(0)).toBe(12_000);
    expect(m.tick(11_999)).toEqual([]);
    expect(m.phase).toBe('question');
    const reveal = the(m.tick(12_000), 'reveal');
    expect(reveal.counts).toEqual([0, 2, 0, 0]);
    expect(m.phase).toBe('reveal');
  });

  it('does not wait for a player whose grace has already run out', () => {
    const { m, id } = lobby(['Ann', 'Bob', 'Cid']);
    ok(m.start(HOST_ID, 0));
    m.disconnect(id.Cid!, 1_000);
    ok(m.answer(id.Ann!, 0, 1, 2_000));
    // Grace ended at 11 000: Bob's answer at 12 000 is the last one needed.
    the(ok(m.answer(id.Bob!, 0, 0, 12_000)).effects, 'reveal');
  });

  it('a dropped player who comes back and answers closes the question', () => {
    const { m, id, token } = lobby(['Ann', 'Bob']);
    ok(m.start(HOST_ID, 0));
    m.disconnect(id.Bob!, 1_000);
    ok(m.answer(id.Ann!, 0, 1, 2_000));
    expect(m.phase).toBe('question');
    const back = ok(m.resume(token.Bob!, 3_000));
    expect(back.participantId).toBe(id.Bob);
    the(ok(m.answer(id.Bob!, 0, 1, 4_000)).effects, 'reveal');
  });

  it('with no present players the question runs its full time', () => {
    const { m, id } = lobby(['Ann', 'Bob']);
    ok(m.start(HOST_ID, 0));
    m.disconnect(id.Ann!, 1_000);
    m.disconnect(id.Bob!, 1_000);
    expect(m.tick(11_000)).toEqual([]);
    expect(m.phase).toBe('question');
    expect(m.tick(19_999)).toEqual([]);
    expect(m.phase).toBe('question');
    the(m.tick(20_000), 'reveal');
  });

  it('a player who left (while running) is not waited for', () => {
    const { m, id } = lobby(['Ann', 'Bob']);
    ok(m.start(HOST_ID, 0));
    ok(m.answer(id.Ann!, 0, 1, 1_000));
    const effects = ok(m.leave(id.Bob!, 2_000)).effects;
    the(effects, 'reveal');
  });

  it('a kicked player is not waited for', () => {
    const { m, id } = lobby(['Ann', 'Bob']);
    ok(m.start(HOST_ID, 0));
    ok(m.answer(id.Ann!, 0, 1, 1_000));
    const effects = ok(m.kick(HOST_ID, id.Bob!, 2_000)).effects;
    the(effects, 'reveal');
  });

  // Regression: a grace expiry that passed while a connected player still had to answer used
  // to be reported forever, so the host re-armed its timer at 0 ms until the question ended.
  it('nextDeadline never reports a moment that tick has already handled (no busy loop after a grace expires)', () => {
    const { m, id } = lobby(['Ann', 'Bob']);
    ok(m.start(HOST_ID, 0));
    m.disconnect(id.Bob!, 1_000);
    expect(m.nextDeadline(0)).toBe(11_000);
    expect(m.tick(11_000)).toEqual([]); // Ann has not answered: nothing to do
    expect(m.phase).toBe('question');
    // Nothing can happen by time alone before the question ends at 20 000.
    expect(m.nextDeadline(11_000)).toBe(20_000);
  });

  // Regression, worse case: a player who dropped for good in question 0 left its past grace
  // expiry in every later question.
  it('a player who dropped in an earlier question does not leave a stale deadline in later questions', () => {
    const { m, id } = lobby(['Ann', 'Bob']);
    ok(m.start(HOST_ID, 0));
    m.disconnect(id.Bob!, 1_000);
    ok(m.answer(id.Ann!, 0, 1, 2_000));
    the(m.tick(11_000), 'reveal'); // Bob's grace ran out: question 0 closes
    the(m.tick(16_000), 'leaderboard');
    the(m.tick(20_000), 'question'); // question 1: 20 000 .. 30 000, Ann has not answered yet
    expect(m.nextDeadline(20_000)).toBe(30_000);
  });
});

// ---- joining -------------------------------------------------------------------------------

describe('join', () => {
  it('trims the name and announces the player', () => {
    const m = newMatch();
    const r = ok(m.join('   Ann Lee  ', 0));
    const players = the(r.effects, 'players');
    expect(players).toEqual({ type: 'players', players: [{ playerId: r.participantId, name: 'Ann Lee', connected: true }], locked: false });
    const w = m.welcome(r.participantId, 5);
    expect(w).toMatchObject({ type: 'welcome', you: { playerId: r.participantId, name: 'Ann Lee', role: 'player' }, serverTime: 5 });
    expect(tokenOf(w).length).toBeGreaterThan(10);
  });

  it('accepts 1 and 20 visible characters (astral characters count once)', () => {
    const m = newMatch();
    ok(m.join('a', 0));
    ok(m.join('b'.repeat(20), 0));
    ok(m.join('😀'.repeat(20), 0));
    ok(m.join('  ' + 'c'.repeat(20) + '  ', 0));
    expect(m.playerCount).toBe(4);
  });

  it.each([
    ['empty', ''],
    ['only spaces', '    '],
    ['21 characters', 'x'.repeat(21)],
    ['a NUL', 'An\u0000n'],
    ['a newline', 'An\nn'],
    ['a tab inside', 'An\tn'],
    ['an escape', '\u001b[31mAnn'],
    ['a zero-width space', 'Ann\u200b'],
    ['a zero-width joiner', 'A\u200dnn'],
    ['a bidi override', '\u202eAnn'],
    ['only a zero-width space', '\u200b'],
  ])('rejects a name with %s → INVALID_NAME', (_label, name) => {
    const m = newMatch();
    expect(m.join(name, 0)).toEqual({ ok: false, code: 'INVALID_NAME' });
    expect(m.playerCount).toBe(0);
  });

  it('names are unique, case-insensitively and after trimming → NAME_TAKEN', () => {
    const m = newMatch();
    ok(m.join('Ann', 0));
    expect(m.join('ann', 0)).toEqual({ ok: false, code: 'NAME_TAKEN' });
    expect(m.join('  ANN ', 0)).toEqual({ ok: false, code: 'NAME_TAKEN' });
    expect(m.playerCount).toBe(1);
    ok(m.join('Anne', 0));
  });

  it('refuses joins while locked → LOBBY_LOCKED, and accepts them again once unlocked', () => {
    const { m } = lobby(['Ann']);
    ok(m.lock(HOST_ID, true));
    expect(m.join('Bob', 0)).toEqual({ ok: false, code: 'LOBBY_LOCKED' });
    ok(m.lock(HOST_ID, false));
    ok(m.join('Bob', 0));
    expect(m.playerCount).toBe(2);
  });

  it('refuses players beyond maxPlayers → MATCH_FULL', () => {
    const m = newMatch({ settings: { maxPlayers: 2 } });
    ok(m.join('Ann', 0));
    ok(m.join('Bob', 0));
    expect(m.join('Cid', 0)).toEqual({ ok: false, code: 'MATCH_FULL' });
    expect(m.playerCount).toBe(2);
  });

  it('refuses joins once running without lateJoin → MATCH_STARTED', () => {
    const { m } = lobby(['Ann']);
    ok(m.start(HOST_ID, 0));
    expect(m.join('Bob', 1_000)).toEqual({ ok: false, code: 'MATCH_STARTED' });
    m.tick(20_000);
    expect(m.join('Bob', 20_000)).toEqual({ ok: false, code: 'MATCH_STARTED' });
    expect(m.playerCount).toBe(1);
  });

  it('allows late joins with lateJoin while not locked, and the late player can answer', () => {
    const { m } = lobby(['Ann'], { settings: { lateJoin: true } });
    ok(m.start(HOST_ID, 0));
    const bob = ok(m.join('Bob', 1_000));
    expect(the(bob.effects, 'players').players.map((p) => p.name)).toEqual(['Ann', 'Bob']);
    const w = m.welcome(bob.participantId, 1_000);
    if (w.type !== 'welcome') throw new Error('welcome expected');
    expect(w.state.phase).toBe('question');
    expect(w.state.question).toMatchObject({ index: 0, startsAt: 0, endsAt: 20_000 });
    ok(m.answer(bob.participantId, 0, 1, 2_000));

    ok(m.lock(HOST_ID, true));
    expect(m.join('Cid', 3_000)).toEqual({ ok: false, code: 'LOBBY_LOCKED' });
    expect(m.playerCount).toBe(2);
  });
});

// ---- resume, kick, lock, leave ----------------------------------------------------------------

describe('resume', () => {
  it('re-attaches a player by its token and marks it connected again', () => {
    const { m, id, token } = lobby(['Ann', 'Bob']);
    const dropped = the(m.disconnect(id.Bob!, 10), 'players');
    expect(dropped.players.find((p) => p.playerId === id.Bob)?.connected).toBe(false);
    const r = ok(m.resume(token.Bob!, 20));
    expect(r.participantId).toBe(id.Bob);
    expect(the(r.effects, 'players').players.find((p) => p.playerId === id.Bob)?.connected).toBe(true);
    expect(m.welcome(r.participantId, 20)).toMatchObject({ you: { playerId: id.Bob, name: 'Bob', role: 'player' }, token: token.Bob });
  });

  it('re-attaches the host by the host token', () => {
    const m = newMatch();
    const r = ok(m.resume(HOST_TOKEN, 0));
    expect(r.participantId).toBe(HOST_ID);
    expect(m.welcome(HOST_ID, 0)).toMatchObject({ type: 'welcome', you: { role: 'host' }, token: HOST_TOKEN });
    expect(m.welcome(HOST_ID, 0)).not.toHaveProperty('you.name');
  });

  it("names the host in its welcome when the match was created with hostName, and keeps it through restore", () => {
    const m = newMatch({ settings: { hostName: 'Quizmaster' } });
    ok(m.resume(HOST_TOKEN, 0));
    expect(m.welcome(HOST_ID, 0)).toMatchObject({ you: { name: 'Quizmaster', role: 'host' } });
    expect(Match.restore(m.snapshot()).welcome(HOST_ID, 0)).toMatchObject({ you: { name: 'Quizmaster', role: 'host' } });
  });

  it('refuses an unknown token → TOKEN_INVALID', () => {
    const { m } = lobby(['Ann']);
    expect(m.resume('nope', 0)).toEqual({ ok: false, code: 'TOKEN_INVALID' });
    expect(m.resume('', 0)).toEqual({ ok: false, code: 'TOKEN_INVALID' });
  });
});

describe('kick', () => {
  it('sends kicked, drops the connection, revokes the token', () => {
    const { m, id, token } = lobby(['Ann', 'Bob']);
    const effects = ok(m.kick(HOST_ID, id.Bob!, 100)).effects;
    expect(effects[0]).toEqual({ kind: 'send', to: id.Bob, msg: { type: 'kicked', reason: expect.any(String) } });
    expect(effects).toContainEqual({ kind: 'drop', to: id.Bob, reason: expect.any(String) });
    const kickedAt = effects.findIndex((e) => e.kind === 'send' && e.msg.type === 'kicked');
    const dropAt = effects.findIndex((e) => e.kind === 'drop');
    expect(kickedAt).toBeLessThan(dropAt);
    expect(the(effects, 'players').players.map((p) => p.name)).toEqual(['Ann']);
    expect(m.resume(token.Bob!, 200)).toEqual({ ok: false, code: 'TOKEN_INVALID' });
    expect(m.playerCount).toBe(1);
  });

  it('only the host kicks → NOT_HOST', () => {
    const { m, id } = lobby(['Ann', 'Bob']);
    expect(m.kick(id.Ann!, id.Bob!, 0)).toEqual({ ok: false, code: 'NOT_HOST' });
    expect(m.playerCount).toBe(2);
  });
});

describe('lock', () => {
  it('locks and unlocks, announcing it; players cannot', () => {
    const { m, id } = lobby(['Ann']);
    expect(m.lock(id.Ann!, true)).toEqual({ ok: false, code: 'NOT_HOST' });
    expect(the(ok(m.lock(HOST_ID, true)).effects, 'players').locked).toBe(true);
    const w = m.welcome(HOST_ID, 0);
    if (w.type !== 'welcome') throw new Error('welcome expected');
    expect(w.state.locked).toBe(true);
    expect(the(ok(m.lock(HOST_ID, false)).effects, 'players').locked).toBe(false);
  });
});

describe('leave', () => {
  it('in the lobby removes the player (and frees its name)', () => {
    const { m, id, token } = lobby(['Ann', 'Bob']);
    const effects = ok(m.leave(id.Bob!, 10)).effects;
    expect(the(effects, 'players').players.map((p) => p.name)).toEqual(['Ann']);
    expect(m.playerCount).toBe(1);
    expect(m.resume(token.Bob!, 20)).toEqual({ ok: false, code: 'TOKEN_INVALID' });
    ok(m.join('bob', 30));
  });

  it('while running marks the player gone: not present, not counted, but kept in the standings with its score', () => {
    const { m, id } = lobby(['Ann', 'Bob']);
    ok(m.start(HOST_ID, 0));
    ok(m.answer(id.Ann!, 0, 1, 0));
    ok(m.answer(id.Bob!, 0, 1, 10_000)); // 750, closes q0
    the(m.tick(15_000), 'leaderboard');
    the(m.tick(20_000), 'question'); // question 1: 20 000 .. 30 000
    expect(m.phase).toBe('question');
    const effects = ok(m.leave(id.Bob!, 21_000)).effects;
    expect(the(effects, 'players').players.find((p) => p.playerId === id.Bob)?.connected).toBe(false);
    expect(m.answer(id.Bob!, 1, 0, 21_500)).toEqual({ ok: false, code: 'NOT_JOINED' });
    const count = the(ok(m.answer(id.Ann!, 1, 0, 22_000)).effects, 'answer_count'); // t = T/10 → 900
    expect(count).toMatchObject({ answered: 1, total: 1 });
    expect(m.phase).toBe('reveal'); // Ann was the only present player
    runToEnd(m);
    expect(m.standings()).toEqual([
      { playerId: id.Ann, name: 'Ann', score: 1000 + 900, rank: 1 },
      { playerId: id.Bob, name: 'Bob', score: 750, rank: 2 },
    ]);
  });

  it('the host cannot leave as a player', () => {
    const { m } = lobby(['Ann']);
    expect(m.leave(HOST_ID, 0).ok).toBe(false);
  });
});

// ---- answers and scoring ----------------------------------------------------------------------

describe('answers', () => {
  it('scores 875 for a correct answer a quarter of the way into a 20 s question', () => {
    const { m, id } = lobby(['Ann', 'Bob']);
    ok(m.start(HOST_ID, 1_000));
    const effects = ok(m.answer(id.Ann!, 0, 1, 6_000)).effects;
    expect(effects[0]).toEqual({ kind: 'send', to: id.Ann, msg: { type: 'answer_ack', questionIndex: 0, choice: 1 } });
    const reveal = broadcastOf(m.tick(21_000), 'reveal');
    expect(reveal.personal?.get(id.Ann!)).toEqual({ choice: 1, points: 875, score: 875, streak: 1 });
  });

  it('acknowledges a repeated identical answer twice and scores it once', () => {
    const { m, id } = lobby(['Ann', 'Bob']);
    ok(m.start(HOST_ID, 0));
    const first = ok(m.answer(id.Ann!, 0, 1, 5_000));
    const revision = m.revision;
    const again = ok(m.answer(id.Ann!, 0, 1, 6_000));
    expect(the(first.effects, 'answer_ack')).toEqual({ type: 'answer_ack', questionIndex: 0, choice: 1 });
    expect(again.effects).toEqual([{ kind: 'send', to: id.Ann, msg: { type: 'answer_ack', questionIndex: 0, choice: 1 } }]);
    expect(m.revision).toBe(revision);
    const reveal = broadcastOf(m.tick(20_000), 'reveal');
    expect(reveal.msg).toMatchObject({ counts: [0, 1, 0, 0] });
    expect(reveal.personal?.get(id.Ann!)).toEqual({ choice: 1, points: 875, score: 875, streak: 1 });
    // A retry after the question closed is still acknowledged.
    expect(ok(m.answer(id.Ann!, 0, 1, 21_000)).effects).toEqual([
      { kind: 'send', to: id.Ann, msg: { type: 'answer_ack', questionIndex: 0, choice: 1 } },
    ]);
  });

  it('refuses a different second answer → ALREADY_ANSWERED, keeping the first', () => {
    const { m, id } = lobby(['Ann', 'Bob']);
    ok(m.start(HOST_ID, 0));
    ok(m.answer(id.Ann!, 0, 1, 0));
    const revision = m.revision;
    expect(m.answer(id.Ann!, 0, 2, 1_000)).toEqual({ ok: false, code: 'ALREADY_ANSWERED' });
    expect(m.revision).toBe(revision);
    const reveal = broadcastOf(m.tick(20_000), 'reveal');
    expect(reveal.personal?.get(id.Ann!)).toEqual({ choice: 1, points: 1000, score: 1000, streak: 1 });
  });

  it('refuses an answer received at or after endsAt → QUESTION_CLOSED', () => {
    const { m, id } = lobby(['Ann', 'Bob']);
    ok(m.start(HOST_ID, 0));
    ok(m.answer(id.Ann!, 0, 1, 19_999));
    expect(m.answer(id.Bob!, 0, 1, 20_000)).toEqual({ ok: false, code: 'QUESTION_CLOSED' });
    expect(m.answer(id.Bob!, 0, 1, 25_000)).toEqual({ ok: false, code: 'QUESTION_CLOSED' });
    m.tick(20_000);
    expect(m.phase).toBe('reveal');
    expect(m.answer(id.Bob!, 0, 1, 20_001)).toEqual({ ok: false, code: 'QUESTION_CLOSED' });
  });

  it('refuses an answer for another question → WRONG_QUESTION', () => {
    const { m, id } = lobby(['Ann']);
    expect(m.answer(id.Ann!, 0, 1, 0)).toEqual({ ok: false, code: 'WRONG_QUESTION' }); // lobby
    ok(m.start(HOST_ID, 0));
    expect(m.answer(id.Ann!, 1, 0, 1_000)).toEqual({ ok: false, code: 'WRONG_QUESTION' });
    expect(m.answer(id.Ann!, 7, 0, 1_000)).toEqual({ ok: false, code: 'WRONG_QUESTION' });
    expect(m.phase).toBe('question');
  });

  it.each([4, -1, 1.5, Number.NaN])('refuses choice %s out of range → BAD_MESSAGE', (choice) => {
    const { m, id } = lobby(['Ann']);
    ok(m.start(HOST_ID, 0));
    const revision = m.revision;
    expect(m.answer(id.Ann!, 0, choice, 1_000)).toEqual({ ok: false, code: 'BAD_MESSAGE' });
    expect(m.revision).toBe(revision);
    ok(m.answer(id.Ann!, 0, 3, 1_000)); // the last choice is fine
  });

  it('refuses an answer from the host', () => {
    const { m } = lobby(['Ann']);
    ok(m.start(HOST_ID, 0));
    const r = m.answer(HOST_ID, 0, 1, 1_000);
    expect(r.ok).toBe(false);
    expect(m.phase).toBe('question');
  });

  it('scores by the formula: t=0 → 1000, t=T/2 → 750, wrong → 0, none → 0', () => {
    const { m, id } = lobby(['A', 'B', 'C', 'D', 'E']);
    ok(m.start(HOST_ID, 10_000)); // T = 20 000
    ok(m.answer(id.A!, 0, 1, 10_000));
    ok(m.answer(id.B!, 0, 1, 20_000));
    ok(m.answer(id.C!, 0, 0, 10_000));
    ok(m.answer(id.E!, 0, 1, 29_999));
    const reveal = broadcastOf(m.tick(30_000), 'reveal');
    expect(reveal.msg).toMatchObject({ counts: [1, 3, 0, 0] });
    expect(reveal.personal?.get(id.A!)).toEqual({ choice: 1, points: 1000, score: 1000, streak: 1 });
    expect(reveal.personal?.get(id.B!)).toEqual({ choice: 1, points: 750, score: 750, streak: 1 });
    expect(reveal.personal?.get(id.C!)).toEqual({ choice: 0, points: 0, score: 0, streak: 0 });
    expect(reveal.personal?.get(id.D!)).toEqual({ points: 0, score: 0, streak: 0 });
    // round(1000 × (1 − 19 999/20 000/2)) = round(500.025)
    expect(reveal.personal?.get(id.E!)).toEqual({ choice: 1, points: 500, score: 500, streak: 1 });
  });

  it('uses the scaled time limit as T (quarter of a scaled question → 875)', () => {
    const { m, id } = lobby(['Ann', 'Bob'], { timing: { questionScale: 0.5 } });
    ok(m.start(HOST_ID, 0)); // T = 10 000
    ok(m.answer(id.Ann!, 0, 1, 2_500));
    const reveal = broadcastOf(m.tick(10_000), 'reveal');
    expect(reveal.personal?.get(id.Ann!)).toMatchObject({ points: 875 });
  });

  it('counts streaks of consecutive correct answers, reset by a wrong answer or none', () => {
    const { m, id } = lobby(['A', 'B', 'C']);
    const streaks: Array<Record<string, number | undefined>> = [];
    const play = (index: number, answers: Record<string, number | null>) => {
      const effects: Effect[] = [];
      for (const [name, choice] of Object.entries(answers)) {
        if (choice !== null) effects.push(...ok(m.answer(id[name]!, index, choice, 1_000 + index * 100_000)).effects);
      }
      if (m.phase === 'question') effects.push(...ok(m.next(HOST_ID, 2_000 + index * 100_000)).effects);
      const reveal = broadcastOf(effects, 'reveal');
      const row: Record<string, number | undefined> = {};
      for (const name of ['A', 'B', 'C']) row[name] = (reveal.personal?.get(id[name]!) as { streak: number } | undefined)?.streak;
      streaks.push(row);
      ok(m.next(HOST_ID, 3_000 + index * 100_000)); // → leaderboard
      ok(m.next(HOST_ID, 100_000 + index * 100_000)); // → next question / finished
    };
    ok(m.start(HOST_ID, 0));
    // Correct choices: 1, 0, 2.
    play(0, { A: 1, B: 1, C: 0 });
    play(1, { A: 0, B: null, C: 0 });
    play(2, { A: 0, B: 2, C: 2 });
    expect(streaks).toEqual([
      { A: 1, B: 1, C: 0 },
      { A: 2, B: 0, C: 1 },
      { A: 0, B: 1, C: 2 },
    ]);
    expect(m.phase).toBe('finished');
  });

  it('never shows the correct choice before the reveal (effects and welcome states)', () => {
    const { m, id, token } = lobby(['Ann', 'Bob', 'Cid', 'Dee'], { settings: { lateJoin: true } });
    const seen: unknown[] = [m.welcome(HOST_ID, 0), m.welcome(id.Ann!, 0)];
    const during = (fn: () => unknown) => {
      const r = fn();
      seen.push(r);
      return r;
    };
    for (let q = 0; q < QUIZ.questions.length; q++) {
      const t = q * 100_000;
      if (q === 0) during(() => ok(m.start(HOST_ID, t)).effects);
      expect(m.phase).toBe('question');
      during(() => m.welcome(HOST_ID, t + 1));
      during(() => m.welcome(id.Ann!, t + 1));
      during(() => ok(m.answer(id.Ann!, q, 0, t + 2)).effects);
      during(() => ok(m.answer(id.Ann!, q, 0, t + 3)).effects);
      during(() => m.welcome(id.Ann!, t + 4)); // with its own answer in the state
      during(() => m.disconnect(id.Bob!, t + 5));
      during(() => ok(m.resume(token.Bob!, t + 6)).effects);
      during(() => m.welcome(id.Bob!, t + 6));
      during(() => ok(m.lock(HOST_ID, true)).effects);
      during(() => ok(m.lock(HOST_ID, false)).effects);
      const late = during(() => ok(m.join(`Late${q}`, t + 7))) as { participantId: string };
      during(() => m.welcome(late.participantId, t + 7));
      during(() => ok(m.kick(HOST_ID, late.participantId, t + 8)).effects);
      during(() => m.tick(t + 9));
      expect(m.phase).toBe('question');
      const text = serialize(seen);
      expect(text).not.toMatch(/"correct"/);
      expect(text).toContain(`"text":"${QUIZ.questions[q]!.text}"`); // the question itself was seen
      // The reveal does carry it: the check above can fail.
      const reveal = ok(m.next(HOST_ID, t + 10)).effects;
      expect(serialize(reveal)).toContain(`"correct":${QUIZ.questions[q]!.correct}`);
      ok(m.next(HOST_ID, t + 11));
      seen.length = 0;
      if (q + 1 < QUIZ.questions.length) seen.push(ok(m.next(HOST_ID, (q + 1) * 100_000)).effects);
    }
  });
});

describe('standings', () => {
  it('ranks by score, ties share a rank (1, 1, 3, 3)', () => {
    const { m, id } = lobby(['A', 'B', 'C', 'D']);
    ok(m.start(HOST_ID, 0));
    ok(m.answer(id.C!, 0, 1, 5_000)); // 875
    ok(m.answer(id.A!, 0, 1, 5_000)); // 875
    ok(m.answer(id.B!, 0, 3, 5_000)); // 0
    ok(m.answer(id.D!, 0, 0, 6_000)); // 0, closes
    const lb = broadcastOf(ok(m.next(HOST_ID, 7_000)).effects, 'leaderboard');
    expect((lb.msg as Extract<ServerMessage, { type: 'leaderboard' }>).top.map((r) => [r.name, r.score, r.rank])).toEqual([
      ['A', 875, 1],
      ['C', 875, 1],
      ['B', 0, 3],
      ['D', 0, 3],
    ]);
    expect(lb.personal?.get(id.C!)).toEqual({ rank: 1, score: 875 });
    expect(lb.personal?.get(id.D!)).toEqual({ rank: 3, score: 0 });
    ok(m.next(HOST_ID, 8_000));
    runToEnd(m);
    expect(m.standings()?.map((r) => r.rank)).toEqual([1, 1, 3, 3]);
  });

  it('the leaderboard shows at most 10, each player still gets its own rank', () => {
    const names = Array.from({ length: 12 }, (_, i) => `P${i + 1}`);
    const { m, id } = lobby(names);
    ok(m.start(HOST_ID, 0));
    names.forEach((n, i) => ok(m.answer(id[n]!, 0, 1, i * 1_000)));
    const lb = broadcastOf(ok(m.next(HOST_ID, 30_000)).effects, 'leaderboard');
    const top = (lb.msg as Extract<ServerMessage, { type: 'leaderboard' }>).top;
    expect(top).toHaveLength(10);
    expect(top[0]).toMatchObject({ name: 'P1', rank: 1, score: 1000 });
    expect(lb.personal?.get(id.P12!)).toEqual({ rank: 12, score: pointsFor(true, 11_000, 0, 20_000) });
    runToEnd(m);
    expect(m.standings()).toHaveLength(12);
  });

  it('scoring helpers: pointsFor, nextStreak, rank', () => {
    expect(pointsFor(true, 0, 0, 20_000)).toBe(1000);
    expect(pointsFor(true, 5_000, 0, 20_000)).toBe(875);
    expect(pointsFor(true, 10_000, 0, 20_000)).toBe(750);
    expect(pointsFor(true, 20_000, 0, 20_000)).toBe(500);
    expect(pointsFor(false, 0, 0, 20_000)).toBe(0);
    expect(nextStreak(3, true)).toBe(4);
    expect(nextStreak(3, false)).toBe(0);
    const ranked = rank([
      { playerId: 'a', name: 'a', score: 5, joinOrder: 2 },
      { playerId: 'b', name: 'b', score: 9, joinOrder: 3 },
      { playerId: 'c', name: 'c', score: 5, joinOrder: 1 },
      { playerId: 'd', name: 'd', score: 1, joinOrder: 4 },
    ]);
    expect(ranked.map((r) => [r.playerId, r.rank])).toEqual([
      ['b', 1],
      ['c', 2],
      ['a', 2],
      ['d', 4],
    ]);
  });
});

// ---- snapshot and restore -------------------------------------------------------------------

describe('snapshot / restore', () => {
  function midQuestion(): Lobby {
    const l = lobby(['Ann', 'Bob', 'Cid']);
    ok(l.m.start(HOST_ID, 1_000));
    ok(l.m.answer(l.id.Ann!, 0, 1, 5_000));
    return l;
  }

  it('snapshot is plain JSON', () => {
    const { m, id } = midQuestion();
    const states = [m.snapshot()];
    ok(m.answer(id.Bob!, 0, 2, 6_000));
    m.disconnect(id.Cid!, 6_500);
    states.push(m.snapshot());
    runToEnd(m);
    states.push(m.snapshot());
    for (const s of states) expect(JSON.parse(JSON.stringify(s))).toStrictEqual(s);
    expect(states[1]!.answers).not.toEqual({});
  });

  it('restore(snapshot()) mid-question continues exactly like the original', () => {
    const a = midQuestion();
    const b: Match = Match.restore(JSON.parse(JSON.stringify(a.m.snapshot())));
    expect(b.snapshot()).toEqual(a.m.snapshot());
    const { id, token } = a;
    const script: Array<(m: Match) => unknown> = [
      (m) => m.welcome(id.Ann!, 5_500),
      (m) => m.answer(id.Bob!, 0, 0, 7_000),
      (m) => m.answer(id.Bob!, 0, 1, 7_100), // ALREADY_ANSWERED
      (m) => m.disconnect(id.Cid!, 8_000),
      (m) => m.nextDeadline(0),
      (m) => m.tick(17_999),
      (m) => m.tick(18_000), // Cid's grace ends: q0 closes
      (m) => m.nextDeadline(0),
      (m) => m.tick(23_000),
      (m) => m.tick(27_000), // question 1
      (m) => m.resume(token.Cid!, 27_500),
      (m) => m.answer(id.Cid!, 1, 0, 28_000),
      (m) => m.answer(id.Ann!, 1, 1, 29_000),
      (m) => m.welcome(id.Bob!, 29_500),
      (m) => m.next(HOST_ID, 30_000),
      (m) => m.next(HOST_ID, 31_000),
      (m) => m.tick(35_000), // leaderboard runs out → question 2
      (m) => m.leave(id.Bob!, 36_000),
      (m) => m.answer(id.Ann!, 2, 2, 40_000),
      (m) => m.answer(id.Cid!, 2, 2, 50_000),
      (m) => runToEnd(m),
      (m) => m.standings(),
      (m) => m.isOver(10_000_000),
    ];
    const outA = script.map((step) => step(a.m));
    const outB = script.map((step) => step(b));
    expect(outB).toEqual(outA);
    // The script really played the match.
    expect(a.m.phase).toBe('finished');
    const standings = b.standings();
    expect(standings).toEqual(a.m.standings());
    // Ann: 900 (q0, t = T/5) + 0 (q1, wrong) + 917 (q2, t = T/6); Cid: 0 + 950 + 750; Bob left.
    expect(standings?.map((s) => [s.name, s.score, s.rank])).toEqual([
      ['Ann', 1817, 1],
      ['Cid', 1700, 2],
      ['Bob', 0, 3],
    ]);
    expect(b.snapshot()).toEqual(a.m.snapshot());
    expect(b.revision).toBe(a.m.revision);
  });

  it('restore with moved marks every player dropped but present', () => {
    const { m, id, token } = midQuestion();
    const r = Match.restore(m.snapshot(), { moved: { now: 6_000 } });
    expect(r.connectedPlayers).toBe(0);
    const w = r.welcome(HOST_ID, 6_000);
    if (w.type !== 'welcome') throw new Error('welcome expected');
    expect(w.state.players.map((p) => p.connected)).toEqual([false, false, false]);
    // Bob and Cid have not answered: the engine wants to be woken when their grace ends.
    expect(r.nextDeadline(0)).toBe(6_000 + TIMING.reconnectGraceMs);

    ok(r.resume(token.Bob!, 7_000));
    const bobAnswer = ok(r.answer(id.Bob!, 0, 1, 8_000)).effects;
    expect(ofType(bobAnswer, 'reveal')).toEqual([]); // Cid is still present (grace)
    expect(r.tick(15_999)).toEqual([]);
    expect(r.phase).toBe('question');
    the(r.tick(16_000), 'reveal');
  });

  it('after a move, the question closes as soon as everybody answered', () => {
    const { m, id, token } = midQuestion();
    const r = Match.restore(m.snapshot(), { moved: { now: 6_000 } });
    ok(r.resume(token.Bob!, 6_100));
    ok(r.answer(id.Bob!, 0, 1, 6_200));
    ok(r.resume(token.Cid!, 6_300));
    the(ok(r.answer(id.Cid!, 0, 0, 6_400)).effects, 'reveal');
  });

  it('a match restored after its host was gone gets the lost time back on the question, scoring clock included', () => {
    // Q1: 20 s from 1 000; the last write (Ann's answer) at 5 000; restored at 30 000, past the deadline.
    const { m, id, token } = midQuestion();
    const lost = Match.restore(m.snapshot(), { moved: { now: 30_000 } });
    the(lost.tick(30_000), 'reveal');

    const r = Match.restore(m.snapshot(), { moved: { now: 30_000, lostMs: 25_000 } });
    expect(r.tick(30_000)).toEqual([]);
    expect(r.phase).toBe('question');
    // 16 s were left at the last write; they are left again.
    expect(r.snapshot().phaseEndsAt).toBe(46_000);
    ok(r.resume(token.Bob!, 30_500));
    const bob = ok(r.answer(id.Bob!, 0, 1, 31_000)).effects;
    expect(bob.length).toBeGreaterThan(0);
    // t = 31 000 − (1 000 + 25 000) = 5 s of 20: 875 points, not a late answer's.
    expect(r.snapshot().answers[id.Bob!]!.points).toBe(875);
    // A lobby has no clock to give back; a reveal keeps its own (nobody answers during it).
    const l = lobby(['Ann']);
    expect(Match.restore(l.m.snapshot(), { moved: { now: 9_000, lostMs: 5_000 } }).snapshot().phaseEndsAt).toBe(l.m.snapshot().phaseEndsAt);
    the(r.tick(46_000), 'reveal');
    const revealEnds = r.snapshot().phaseEndsAt;
    expect(Match.restore(r.snapshot(), { moved: { now: 47_000, lostMs: 9_000 } }).snapshot().phaseEndsAt).toBe(revealEnds);
  });

  it('restore without moved keeps connections as they were', () => {
    const { m } = midQuestion();
    expect(Match.restore(m.snapshot()).connectedPlayers).toBe(3);
  });
});

// ---- lobby idle ----------------------------------------------------------------------------------

describe('lobby idle close', () => {
  it('closes a lobby nobody connected to after lobbyIdleMs', () => {
    const m = newMatch({ now: 1_000 });
    expect(m.nextDeadline(0)).toBe(1_000 + TIMING.lobbyIdleMs);
    expect(m.tick(1_000 + TIMING.lobbyIdleMs - 1)).toEqual([]);
    expect(m.isOver(1_000 + TIMING.lobbyIdleMs - 1)).toBe(false);
    const effects = m.tick(1_000 + TIMING.lobbyIdleMs);
    expect(effects).toContainEqual({ kind: 'closed', reason: expect.any(String) });
    expect(the(effects, 'match_closed')).toEqual({ type: 'match_closed', reason: expect.any(String) });
    expect(m.isOver(1_000 + TIMING.lobbyIdleMs)).toBe(true);
    expect(m.status).toBe('finished');
    expect(m.join('Ann', 1_000 + TIMING.lobbyIdleMs).ok).toBe(false);
  });

  it('counts from the moment the last participant went away', () => {
    const { m, id } = lobby(['Ann']);
    expect(m.nextDeadline(0)).toBeNull();
    expect(m.tick(10 * TIMING.lobbyIdleMs)).toEqual([]);
    m.disconnect(HOST_ID, 50_000);
    expect(m.nextDeadline(0)).toBeNull(); // Ann is still connected
    m.disconnect(id.Ann!, 60_000);
    // Ann's seat is given back when her reconnect grace runs out (issue 12: ghost seats);
    // the idle clock still counts from when she went away, not from her removal.
    expect(m.nextDeadline(0)).toBe(60_000 + TIMING.reconnectGraceMs);
    expect(the(m.tick(60_000 + TIMING.reconnectGraceMs), 'players').players).toEqual([]);
    expect(m.nextDeadline(0)).toBe(60_000 + TIMING.lobbyIdleMs);
    expect(m.tick(60_000 + TIMING.lobbyIdleMs - 1)).toEqual([]);
    expect(m.phase).toBe('lobby');
    the(m.tick(60_000 + TIMING.lobbyIdleMs), 'match_closed');
    expect(m.phase).toBe('closed');
  });

  it('a host coming back stops the idle clock', () => {
    const m = newMatch({ now: 0 });
    ok(m.resume(HOST_TOKEN, 100));
    expect(m.nextDeadline(0)).toBeNull();
    expect(m.tick(TIMING.lobbyIdleMs * 2)).toEqual([]);
    expect(m.phase).toBe('lobby');
  });
});

// ---- refused commands ----------------------------------------------------------------------------

describe('refused commands', () => {
  it('never change the match state (PROTOCOL.md: a bad message never changes match state)', () => {
    const { m, id } = lobby(['Ann', 'Bob', 'Cid'], { settings: { maxPlayers: 3 } });
    const refusals: Array<[string, () => { ok: boolean }]> = [
      ['invalid name', () => m.join('\u200b', 10)],
      ['name taken', () => m.join('ANN', 10)],
      ['full', () => m.join('Dee', 10)],
      ['bad token', () => m.resume('forged', 10)],
      ['start by a player', () => m.start(id.Ann!, 10)],
      ['next by a player', () => m.next(id.Ann!, 10)],
      ['kick by a player', () => m.kick(id.Ann!, id.Bob!, 10)],
      ['kick of nobody', () => m.kick(HOST_ID, 'p999', 10)],
      ['lock by a player', () => m.lock(id.Ann!, true)],
      ['answer in the lobby', () => m.answer(id.Ann!, 0, 1, 10)],
      ['leave by the host', () => m.leave(HOST_ID, 10)],
    ];
    const check = () => {
      for (const [label, refuse] of refusals) {
        const before = m.snapshot();
        expect(refuse().ok, label).toBe(false);
        expect(m.snapshot(), label).toEqual(before);
      }
    };
    check();
    ok(m.start(HOST_ID, 1_000));
    ok(m.answer(id.Ann!, 0, 1, 2_000));
    refusals.splice(
      0,
      refusals.length,
      ['join while running', () => m.join('Dee', 3_000)],
      ['start again', () => m.start(HOST_ID, 3_000)],
      ['wrong question', () => m.answer(id.Bob!, 1, 0, 3_000)],
      ['choice out of range', () => m.answer(id.Bob!, 0, 9, 3_000)],
      ['already answered', () => m.answer(id.Ann!, 0, 2, 3_000)],
      ['host answers', () => m.answer(HOST_ID, 0, 1, 3_000)],
      ['answer of nobody', () => m.answer('p999', 0, 1, 3_000)],
      ['late answer', () => m.answer(id.Bob!, 0, 1, 21_000)],
    );
    check();
  });
});

// ---- parsing client messages ----------------------------------------------------------------------

describe('parseClientMessage', () => {
  it.each([
    ['not JSON', 'hello'],
    ['truncated JSON', '{"type":"join"'],
    ['empty', ''],
    ['an array', '[{"type":"join","name":"x"}]'],
    ['a number', '42'],
    ['a string', '"join"'],
    ['null', 'null'],
    ['missing type', '{"name":"Ann"}'],
    ['numeric type', '{"type":5}'],
    ['null type', '{"type":null}'],
  ])('%s → BAD_MESSAGE', (_label, text) => {
    expect(parseClientMessage(text)).toEqual({ ok: false, code: 'BAD_MESSAGE' });
  });

  it.each(['dance', 'toString', '__proto__', 'constructor', 'JOIN'])('unknown type %s → UNKNOWN_TYPE with ref', (type) => {
    expect(parseClientMessage(JSON.stringify({ type }))).toEqual({ ok: false, code: 'UNKNOWN_TYPE', ref: type });
  });

  it.each([
    { type: 'join', name: 5 },
    { type: 'join' },
    { type: 'resume', token: 42 },
    { type: 'kick', playerId: 3 },
    { type: 'lock', locked: 'yes' },
    { type: 'lock' },
    { type: 'answer', questionIndex: '0', choice: 1 },
    { type: 'answer', questionIndex: 0, choice: '1' },
    { type: 'answer', questionIndex: 0, choice: 1.5 },
    { type: 'answer', questionIndex: 0 },
    { type: 'ping', t: 'now' },
  ])('wrong field types %j → BAD_MESSAGE with ref', (msg) => {
    expect(parseClientMessage(JSON.stringify(msg))).toEqual({ ok: false, code: 'BAD_MESSAGE', ref: msg.type });
  });

  it.each([
    { type: 'join', name: 'Ann' },
    { type: 'resume', token: 'abc' },
    { type: 'start' },
    { type: 'next' },
    { type: 'kick', playerId: 'p2' },
    { type: 'lock', locked: true },
    { type: 'lock', locked: false },
    { type: 'answer', questionIndex: 3, choice: 0 },
    { type: 'ping', t: 123.5 },
    { type: 'leave' },
    // Right types, wrong values: the engine answers these with INVALID_NAME, TOKEN_INVALID
    // and WRONG_QUESTION; BAD_MESSAGE is for wrong types only (PROTOCOL.md).
    { type: 'join', name: 'x'.repeat(300) },
    { type: 'resume', token: '' },
    { type: 'answer', questionIndex: -1, choice: 1 },
  ])('valid %j parses', (msg) => {
    expect(parseClientMessage(JSON.stringify(msg))).toEqual({ ok: true, message: msg });
  });
});
