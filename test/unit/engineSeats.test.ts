/**
 * Issue 12's engine rules, beside engine.test.ts: a lobby never started closes after
 * lobbyMaxMs, a lobby seat dropped past the reconnect grace is given back, kicked names stay
 * taken, look-alike names collide, and who `answer_count.total` and the standings count.
 * Each rule also survives snapshot/restore (and older snapshots without the new fields restore).
 */
import { describe, expect, it } from 'vitest';
import { type Effect, type Failure, HOST_ID, Match, type MatchSnapshot, type MatchTiming } from '../../src/quiz/engine';
import type { Quiz } from '../../src/quiz/quizzes';
import type { ServerMessage } from '../../src/protocol/messages';

const GRACE = 10_000;
const LOBBY_MAX = 1_800_000;
const TIMING: MatchTiming = {
  questionScale: 1,
  revealMs: 5_000,
  leaderboardMs: 4_000,
  reconnectGraceMs: GRACE,
  finishGraceMs: 60_000,
  lobbyIdleMs: 600_000,
  lobbyMaxMs: LOBBY_MAX,
};
const QUIZ: Quiz = {
  title: 'Seats quiz',
  questions: [
    { text: 'Q1', choices: ['a', 'b'], correct: 1, timeLimitSec: 20 },
    { text: 'Q2', choices: ['a', 'b'], correct: 0, timeLimitSec: 20 },
  ],
};
const HOST_TOKEN = 'host-token';

function newMatch(timing: Partial<MatchTiming> = {}, maxPlayers = 100): Match {
  return Match.create({ id: 'SEATS1', quiz: QUIZ, settings: { lateJoin: false, maxPlayers }, timing: { ...TIMING, ...timing }, now: 0, hostToken: HOST_TOKEN });
}

function ok<R extends { ok: true }>(r: R | Failure): R {
  if (!r.ok) throw new Error(`expected success, got ${r.code}`);
  return r;
}

function of<T extends ServerMessage['type']>(effects: readonly Effect[], type: T): Array<Extract<ServerMessage, { type: T }>> {
  const out: Array<Extract<ServerMessage, { type: T }>> = [];
  for (const e of effects) if ((e.kind === 'send' || e.kind === 'broadcast') && e.msg.type === type) out.push(e.msg as Extract<ServerMessage, { type: T }>);
  return out;
}

/** Host connected, `names` joined at t=0; ids and tokens by name. */
function lobby(names: string[], m = newMatch()): { m: Match; id: Record<string, string>; token: Record<string, string> } {
  ok(m.resume(HOST_TOKEN, 0));
  const id: Record<string, string> = {};
  const token: Record<string, string> = {};
  for (const name of names) {
    const r = ok(m.join(name, 0));
    id[name] = r.participantId;
    const w = m.welcome(r.participantId, 0);
    if (w.type !== 'welcome') throw new Error('welcome expected');
    token[name] = w.token;
  }
  return { m, id, token };
}

const roster = (m: Match) => m.snapshot().players.map((p) => p.name);

describe('LOBBY_MAX: a lobby never started closes, even with its host connected', () => {
  it('closes at createdAt + lobbyMaxMs with a reason that says why, and frees the match', () => {
    const { m } = lobby(['Ann']);
    expect(m.nextDeadline(0)).toBe(LOBBY_MAX);
    expect(m.tick(LOBBY_MAX - 1)).toEqual([]);
    const effects = m.tick(LOBBY_MAX);
    expect(of(effects, 'match_closed')).toEqual([{ type: 'match_closed', reason: 'The match was not started within 30 minutes of being created' }]);
    expect(effects).toContainEqual({ kind: 'closed', reason: expect.stringContaining('not started') });
    expect(m.isOver(LOBBY_MAX)).toBe(true);
    expect(m.join('Bob', LOBBY_MAX)).toEqual({ ok: false, code: 'MATCH_STARTED' });
  });

  it('does not touch a match that started', () => {
    const { m } = lobby(['Ann']);
    ok(m.start(HOST_ID, 1_000));
    expect(m.nextDeadline(1_000)).toBe(21_000);
    m.tick(21_000);
    expect(m.phase).toBe('reveal');
    expect(m.snapshot().phaseEndsAt).toBeLessThan(LOBBY_MAX);
  });

  it('keeps its deadline across snapshot/restore, moved or not', () => {
    const { m } = lobby(['Ann']);
    for (const r of [Match.restore(m.snapshot()), Match.restore(m.snapshot(), { moved: { now: 5_000 } })]) {
      ok(r.resume(HOST_TOKEN, 5_000));
      expect(r.nextDeadline(LOBBY_MAX - 100)).toBe(LOBBY_MAX);
      expect(of(r.tick(LOBBY_MAX), 'match_closed')).toHaveLength(1);
    }
  });

  it('a snapshot from before the limit existed restores and keeps the old rule (idle close only)', () => {
    const { m } = lobby(['Ann']);
    const old = m.snapshot() as MatchSnapshot & { timing: Partial<MatchTiming> };
    delete old.timing.lobbyMaxMs;
    const r = Match.restore(old);
    expect(r.nextDeadline(0)).toBeNull();
    expect(r.tick(10 * LOBBY_MAX)).toEqual([]);
    expect(r.phase).toBe('lobby');
  });

  it('says seconds when the limit is under a minute', () => {
    const m = newMatch({ lobbyMaxMs: 2_000 });
    ok(m.resume(HOST_TOKEN, 0));
    expect(of(m.tick(2_000), 'match_closed')[0]?.reason).toBe('The match was not started within 2 seconds of being created');
  });
});

describe('lobby seats: a dropout that does not come back gives its seat back', () => {
  it('removes the player when its grace runs out, announces it, and revokes its token', () => {
    const { m, id, token } = lobby(['Ann', 'Bob']);
    m.disconnect(id.Bob!, 1_000);
    expect(roster(m)).toEqual(['Ann', 'Bob']); // still present during the grace
    expect(m.nextDeadline(1_000)).toBe(1_000 + GRACE);
    expect(m.tick(1_000 + GRACE - 1)).toEqual([]);
    const effects = m.tick(1_000 + GRACE);
    expect(of(effects, 'players')[0]?.players.map((p) => p.name)).toEqual(['Ann']);
    expect(roster(m)).toEqual(['Ann']);
    expect(m.resume(token.Bob!, 1_000 + GRACE + 1)).toEqual({ ok: false, code: 'TOKEN_INVALID' });
    ok(m.join('Bob', 1_000 + GRACE + 2)); // the name is free again
  });

  it('keeps the seat of a player who comes back within the grace', () => {
    const { m, id, token } = lobby(['Ann', 'Bob']);
    m.disconnect(id.Bob!, 1_000);
    ok(m.resume(token.Bob!, 1_000 + GRACE - 1));
    expect(m.nextDeadline(1_000)).toBe(LOBBY_MAX); // no seat expiry any more, only the lobby limit
    expect(m.tick(1_000 + GRACE * 5)).toEqual([]);
    expect(roster(m)).toEqual(['Ann', 'Bob']);
  });

  it('frees seats of a full lobby: join-then-disconnect sockets cannot fill it for good', () => {
    const m = newMatch({}, 3);
    const { id } = lobby(['G1', 'G2', 'G3'], m);
    expect(m.join('Ann', 10)).toEqual({ ok: false, code: 'MATCH_FULL' });
    for (const name of ['G1', 'G2', 'G3']) m.disconnect(id[name]!, 100);
    m.tick(100 + GRACE);
    expect(m.playerCount).toBe(0);
    ok(m.join('Ann', 100 + GRACE + 1));
  });

  it('survives snapshot/restore mid-grace, and a move gives every lobby player a fresh grace', () => {
    const { m, id, token } = lobby(['Ann', 'Bob']);
    m.disconnect(id.Bob!, 1_000);
    const r = Match.restore(m.snapshot());
    expect(r.nextDeadline(2_000)).toBe(1_000 + GRACE);
    r.tick(1_000 + GRACE);
    expect(roster(r)).toEqual(['Ann']);

    const moved = Match.restore(m.snapshot(), { moved: { now: 5_000 } });
    ok(moved.resume(token.Ann!, 6_000));
    expect(moved.nextDeadline(6_000)).toBe(5_000 + GRACE); // Bob's grace restarts at the move
    moved.tick(5_000 + GRACE);
    expect(roster(moved)).toEqual(['Ann']);
  });

  it('once the match runs, a dropped player keeps its place in the standings', () => {
    const { m, id } = lobby(['Ann', 'Bob']);
    m.disconnect(id.Bob!, 500);
    ok(m.start(HOST_ID, 1_000)); // Bob is within his grace at the start: he played
    m.tick(1_000 + GRACE * 3);
    expect(roster(m)).toEqual(['Ann', 'Bob']);
  });
});

describe('who counts', () => {
  it('answer_count.total: answers in plus present players still to answer; a dropout past its grace stops counting', () => {
    const { m, id, token } = lobby(['Ann', 'Bob', 'Cid', 'Dee']);
    ok(m.start(HOST_ID, 0));
    ok(m.answer(id.Dee!, 0, 0, 500));
    m.disconnect(id.Dee!, 600); // answered, then gone: still counted (its answer is in)
    m.disconnect(id.Cid!, 1_000); // not answered, within grace: counted
    expect(of(ok(m.answer(id.Ann!, 0, 1, 2_000)).effects, 'answer_count')[0]).toMatchObject({ answered: 2, total: 4 });
    // Cid's grace ran out: he is not waited for and not counted.
    m.tick(1_000 + GRACE);
    const count = of(ok(m.answer(id.Bob!, 0, 1, 1_000 + GRACE + 1)).effects, 'answer_count')[0];
    expect(count).toMatchObject({ answered: 3, total: 3 });
    expect(m.phase).toBe('reveal'); // answered = total closes the question
    // The welcome's answered/total uses the same rule.
    ok(m.resume(token.Cid!, 1_000 + GRACE + 2));
    expect(m.phase).toBe('reveal');
  });

  it('the welcome shows the same answered/total as the broadcasts', () => {
    const { m, id } = lobby(['Ann', 'Bob']);
    ok(m.start(HOST_ID, 0));
    m.disconnect(id.Bob!, 100);
    ok(m.answer(id.Ann!, 0, 1, 200)); // Bob within grace: question still open
    const w = m.welcome(HOST_ID, 300);
    if (w.type !== 'welcome') throw new Error('welcome expected');
    expect(w.state.answered).toEqual({ answered: 1, total: 2 });
    const later = m.welcome(HOST_ID, 100 + GRACE + 1);
    if (later.type !== 'welcome') throw new Error('welcome expected');
    expect(later.state.answered).toEqual({ answered: 1, total: 1 });
  });

  it('standings: everyone who joined before or during the match and was not removed, leavers included', () => {
    const { m, id } = lobby(['Ann', 'Bob', 'Cid', 'Dee']);
    ok(m.leave(id.Dee!, 10)); // left in the lobby: removed
    ok(m.start(HOST_ID, 100));
    ok(m.kick(HOST_ID, id.Cid!, 200)); // kicked: removed
    ok(m.leave(id.Bob!, 300)); // left while running: kept
    for (let t = 1_000; m.phase !== 'finished' && t < 1_000_000; t += 1_000) m.tick(t);
    expect(m.standings()?.map((s) => s.name)).toEqual(['Ann', 'Bob']);
  });
});

describe('names', () => {
  it('a kicked player cannot come straight back under the same name, or a look-alike of it', () => {
    const { m, id } = lobby(['Ann', 'Bob']);
    ok(m.kick(HOST_ID, id.Bob!, 10));
    expect(m.join('Bob', 20)).toEqual({ ok: false, code: 'NAME_TAKEN' });
    expect(m.join(' BOB ', 20)).toEqual({ ok: false, code: 'NAME_TAKEN' });
    expect(m.join('Ｂｏｂ', 20)).toEqual({ ok: false, code: 'NAME_TAKEN' });
    ok(m.join('Bobby', 20));
    // The name stays taken across snapshot/restore, moved or not.
    for (const r of [Match.restore(m.snapshot()), Match.restore(m.snapshot(), { moved: { now: 30 } })]) {
      expect(r.join('bob', 40)).toEqual({ ok: false, code: 'NAME_TAKEN' });
    }
  });

  it('a player who left (not kicked) may come back under its name', () => {
    const { m, id } = lobby(['Ann', 'Bob']);
    ok(m.leave(id.Bob!, 10));
    ok(m.join('Bob', 20));
  });

  it('an older snapshot without kicked names restores', () => {
    const { m } = lobby(['Ann']);
    const old = m.snapshot();
    delete old.kickedNames;
    const r = Match.restore(old);
    ok(r.join('Bob', 10));
    expect(r.join('ANN', 10)).toEqual({ ok: false, code: 'NAME_TAKEN' });
  });

  it('look-alike names collide after NFKC and case folding', () => {
    const { m } = lobby(['ann', 'Straße']);
    expect(m.join('Ａｎｎ', 10)).toEqual({ ok: false, code: 'NAME_TAKEN' });
    expect(m.join('ANN', 10)).toEqual({ ok: false, code: 'NAME_TAKEN' });
    expect(m.join('STRASSE', 10)).toEqual({ ok: false, code: 'NAME_TAKEN' });
    ok(m.join('Anne', 10));
  });

  it('refuses invisible fillers and control characters in names', () => {
    const m = newMatch();
    for (const name of ['\u3164', 'Ann\u115F', '\u2800', 'Ann\u0000', 'A\u200bB', '\u1160\u1160']) {
      expect(m.join(name, 0)).toEqual({ ok: false, code: 'INVALID_NAME' });
    }
  });
});
