/**
 * Big matches in the engine (PROTOCOL.md Part 2, "Big matches"): past PLAYER_LIST_MAX players
 * the lists are cut, players get counts instead of the player list, the final standings are
 * the top plus each player's own place, and joins are appended to the store like answers.
 * At or below the limit nothing changes. And the roster index the engine keeps beside its
 * state (so 10,000 players cost no walk of the list per join or answer) agrees, after any
 * sequence of changes, with what a walk of the players works out from scratch.
 */
import { describe, expect, it } from 'vitest';
import type { RankedPlayer, ServerMessage } from '../../src/protocol/messages';
import { type Effect, type Failure, HOST_ID, Match, type MatchSnapshot, type MatchTiming, type PlayerRecord } from '../../src/quiz/engine';
import { rank } from '../../src/quiz/scoring';
import type { Quiz } from '../../src/quiz/quizzes';
import { MemoryMatchStore } from '../../src/store/memoryStore';

const TIMING: MatchTiming = { questionScale: 1, revealMs: 5_000, leaderboardMs: 4_000, reconnectGraceMs: 10_000, finishGraceMs: 60_000, lobbyIdleMs: 600_000 };
const QUIZ: Quiz = {
  title: 'Big',
  questions: [
    { text: 'Q1', choices: ['a', 'b', 'c', 'd'], correct: 1, timeLimitSec: 20 },
    { text: 'Q2', choices: ['x', 'y'], correct: 0, timeLimitSec: 10 },
  ],
};
const HOST_TOKEN = 'host-token';
const LIMIT = 3;

/** `playerListMax` null: no limit, as in a snapshot from before the setting. */
function newMatch(playerListMax: number | null = LIMIT, lateJoin = false): Match {
  return Match.create({
    id: 'BIGONE',
    quiz: QUIZ,
    settings: { lateJoin, maxPlayers: 1000, ...(playerListMax !== null ? { playerListMax } : {}) },
    timing: TIMING,
    now: 0,
    hostToken: HOST_TOKEN,
  });
}

function ok<R extends { ok: true }>(r: R | Failure): R {
  if (!r.ok) throw new Error(`expected success, got ${r.code}`);
  return r;
}

function messages(effects: readonly Effect[]): Array<{ to: string; msg: ServerMessage }> {
  return effects.flatMap((e) => (e.kind === 'send' ? [{ to: e.to, msg: e.msg }] : e.kind === 'broadcast' ? [{ to: '*', msg: e.msg }] : []));
}

/** A match with the host connected and `n` players joined at time 0; their ids in join order. */
function filled(n: number, m = newMatch()): { m: Match; ids: string[]; tokens: string[] } {
  ok(m.resume(HOST_TOKEN, 0));
  const ids: string[] = [];
  const tokens: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = ok(m.join(`P${i}`, 0));
    ids.push(r.participantId);
    const w = m.welcome(r.participantId, 0);
    if (w.type === 'welcome') tokens.push(w.token);
  }
  return { m, ids, tokens };
}

function welcomeState(m: Match, id: string, now = 0) {
  const w = m.welcome(id, now);
  if (w.type !== 'welcome') throw new Error('not a welcome');
  return w.state;
}

/** Plays every question to the end: each player answers choice `choose(k, question)` at once. */
function playToEnd(m: Match, ids: string[], choose: (k: number, q: number) => number): Effect[] {
  const effects: Effect[] = [...ok(m.start(HOST_ID, 1_000)).effects];
  for (let q = 0; q < QUIZ.questions.length; q++) {
    const t = m.snapshot().questionStartsAt! + 100;
    for (const [k, id] of ids.entries()) effects.push(...ok(m.answer(id, q, choose(k, q), t)).effects);
    expect(m.phase, 'everyone answered: the question closed').toBe('reveal');
    effects.push(...m.tick(m.snapshot().phaseEndsAt!));
    effects.push(...m.tick(m.snapshot().phaseEndsAt!));
  }
  expect(m.phase).toBe('finished');
  return effects;
}

describe('at or below PLAYER_LIST_MAX nothing changes', () => {
  it('every join sends everyone the whole list; welcomes list everyone; the end lists all standings', () => {
    const { m, ids } = filled(LIMIT - 1);
    const joined = ok(m.join(`P${LIMIT - 1}`, 0));
    ids.push(joined.participantId);
    expect(messages(joined.effects)).toEqual([{ to: '*', msg: { type: 'players', players: ids.map((id, k) => ({ playerId: id, name: `P${k}`, connected: true })), locked: false } }]);
    const state = welcomeState(m, ids[0]!);
    expect(state.players).toHaveLength(LIMIT);
    expect(state).not.toHaveProperty('playerCount');
    expect(m.unsaved().kind, 'a join to a small match is a full write').toBe('full');
    const end = playToEnd(m, ids, (k, q) => (k === 0 ? (QUIZ.questions[q]!.correct as number) : 0));
    const finished = end.find((e): e is Extract<Effect, { kind: 'broadcast' }> => e.kind === 'broadcast' && e.msg.type === 'finished')!;
    expect(finished.msg).toEqual({ type: 'finished', standings: m.standings() });
    expect(finished.personal).toBeUndefined();
  });

  it('a match without the setting (older snapshots) has no limit', () => {
    const { m, ids } = filled(LIMIT + 5, newMatch(null));
    expect(welcomeState(m, ids[0]!).players).toHaveLength(LIMIT + 5);
    expect(messages(ok(m.join('Late', 0)).effects).map((x) => x.msg.type)).toEqual(['players']);
  });
});

describe('past PLAYER_LIST_MAX', () => {
  it('a join sends everyone the counts and the host the latest players; nobody gets the whole list', () => {
    const { m, ids } = filled(LIMIT);
    const joined = ok(m.join('Newest', 0));
    ids.push(joined.participantId);
    const latest = ids.slice(-LIMIT).map((id) => ({ playerId: id, name: id === joined.participantId ? 'Newest' : `P${ids.indexOf(id)}`, connected: true }));
    expect(messages(joined.effects)).toEqual([
      { to: '*', msg: { type: 'roster_count', players: LIMIT + 1, connected: LIMIT + 1, locked: false } },
      { to: HOST_ID, msg: { type: 'players', players: latest, locked: false, playerCount: LIMIT + 1 } },
    ]);
    for (const id of [HOST_ID, ids[0]!]) {
      const state = welcomeState(m, id);
      expect(state.players, 'welcomes list the latest PLAYER_LIST_MAX').toEqual(latest);
      expect(state.playerCount).toBe(LIMIT + 1);
    }
  });

  it('drops, resumes, leaves and the lock are counts too', () => {
    const { m, ids, tokens } = filled(LIMIT + 2);
    const counts = (effects: Effect[]) => messages(effects).filter((x) => x.msg.type === 'roster_count').map((x) => x.msg);
    expect(counts(m.disconnect(ids[0]!, 10))).toEqual([{ type: 'roster_count', players: LIMIT + 2, connected: LIMIT + 1, locked: false }]);
    expect(counts(m.disconnect(ids[1]!, 10))).toEqual([{ type: 'roster_count', players: LIMIT + 2, connected: LIMIT, locked: false }]);
    expect(counts(ok(m.resume(tokens[0]!, 20)).effects)).toEqual([{ type: 'roster_count', players: LIMIT + 2, connected: LIMIT + 1, locked: false }]);
    expect(counts(ok(m.lock(HOST_ID, true)).effects)).toEqual([{ type: 'roster_count', players: LIMIT + 2, connected: LIMIT + 1, locked: true }]);
    expect(counts(ok(m.leave(ids[2]!, 30)).effects), 'a lobby leave removes the player').toEqual([{ type: 'roster_count', players: LIMIT + 1, connected: LIMIT, locked: true }]);
    // Back at the limit: the whole list again, to everyone.
    expect(messages(ok(m.kick(HOST_ID, ids[3]!, 40)).effects).map((x) => [x.to, x.msg.type])).toEqual([
      [ids[3], 'kicked'],
      ['*', 'players'],
    ]);
  });

  it('the end: the top PLAYER_LIST_MAX to everyone, each player with its own place; the results keep everyone', () => {
    const n = LIMIT + 4;
    const { m, ids } = filled(n);
    // Player k is right on the first question when k is even: ties, and players below the top.
    const effects = playToEnd(m, ids, (k, q) => (q === 0 && k % 2 === 0 ? 1 : q === 0 ? 0 : 1));
    const all = m.standings()!;
    expect(all).toHaveLength(n);
    const finished = effects.find((e): e is Extract<Effect, { kind: 'broadcast' }> => e.kind === 'broadcast' && e.msg.type === 'finished')!;
    expect(finished.msg).toEqual({ type: 'finished', standings: all.slice(0, LIMIT), playerCount: n });
    for (const r of all) expect(finished.personal?.get(r.playerId)).toEqual({ rank: r.rank, score: r.score });
    const last: RankedPlayer = all.at(-1)!;
    const state = welcomeState(m, last.playerId, 500_000);
    expect(state.standings).toEqual(all.slice(0, LIMIT));
    expect(state.you?.rank).toBe(last.rank);
  });

  it('a join is appended to the store, not a rewrite of every player; the store gives back exactly the match', async () => {
    const store = new MemoryMatchStore({ copy: true });
    const { m } = filled(LIMIT + 1, newMatch(LIMIT, true));
    const epoch = await store.create(m.id, m.view());
    m.markSaved(m.revision);
    ok(m.join('A', 5));
    ok(m.join('B', 6));
    const change = m.unsaved();
    expect(change.kind).toBe('answers');
    if (change.kind !== 'answers') return;
    expect(change.append.players?.map((p) => p.name)).toEqual(['A', 'B']);
    await store.appendAnswers(m.id, epoch, change.append);
    m.markSaved(change.append.revision);
    expect(m.unsaved().kind).toBe('none');
    expect((await store.load(m.id))!.snapshot).toEqual(m.snapshot());

    // A late join and answers during a question, appended together.
    ok(m.start(HOST_ID, 10));
    await store.save(m.id, epoch, m.view());
    m.markSaved(m.revision);
    const late = ok(m.join('Late', 20));
    ok(m.answer(late.participantId, 0, 1, 30));
    const both = m.unsaved();
    expect(both.kind).toBe('answers');
    if (both.kind !== 'answers') return;
    expect(both.append.players?.map((p) => p.name)).toEqual(['Late']);
    expect(Object.keys(both.append.answers)).toEqual([late.participantId]);
    await store.appendAnswers(m.id, epoch, both.append);
    const restored = Match.restore((await store.claim(m.id))!.snapshot);
    expect(restored.snapshot()).toEqual(m.snapshot());
    // The next join on the restored match takes the next id, not one of the appended players'.
    expect(ok(restored.join('Later', 40)).participantId).toBe(ok(m.join('Later', 40)).participantId);
  });
});

describe('the roster index', () => {
  /** What a match shows about its roster at `now`. */
  function observed(m: Match, now: number) {
    const host = welcomeState(m, HOST_ID, now);
    return {
      nextDeadline: m.nextDeadline(now),
      connected: m.connectedPlayers,
      answered: host.answered,
      revealCounts: host.reveal?.counts ?? null,
      ranks: m.snapshot().players.map((p) => welcomeState(m, p.id, now).you?.rank),
    };
  }

  /** The same, worked out by walking the snapshot's players, as the engine did before it kept an index. */
  function walked(s: MatchSnapshot, now: number): ReturnType<typeof observed> {
    const grace = s.timing.reconnectGraceMs;
    const present = (p: PlayerRecord) => !p.left && (p.connected || (p.droppedAt !== null && now < p.droppedAt + grace));
    const deadlines: number[] = s.phaseEndsAt === null ? [] : [s.phaseEndsAt];
    if (s.phase === 'lobby' && s.idleSince !== null) deadlines.push(s.idleSince + s.timing.lobbyIdleMs);
    for (const p of s.players) {
      if (p.connected || p.droppedAt === null || p.left) continue;
      const end = p.droppedAt + grace;
      const counts = s.phase === 'lobby' || (s.phase === 'question' && !s.answers[p.id]);
      if (counts && end > now) deadlines.push(end);
    }
    const answered = Object.keys(s.answers).length;
    const waiting = s.players.filter((p) => present(p) && !s.answers[p.id]).length;
    const ranked = rank(s.players.map((p) => ({ playerId: p.id, name: p.name, score: p.score, joinOrder: p.joinOrder })));
    const revealCounts = QUIZ.questions[s.questionIndex]?.choices.map((_, c) => Object.values(s.answers).filter((a) => a.choice === c).length);
    return {
      nextDeadline: deadlines.length > 0 ? Math.min(...deadlines) : null,
      connected: s.players.filter((p) => p.connected).length,
      answered: s.phase === 'question' ? { answered, total: answered + waiting } : null,
      revealCounts: s.phase === 'reveal' || s.phase === 'leaderboard' ? revealCounts! : null,
      ranks: s.players.map((p) => ranked.find((r) => r.playerId === p.id)!.rank),
    };
  }

  it('after any sequence of joins, drops, resumes, leaves, kicks, answers and deadlines, agrees with a walk of the players', () => {
    // A fixed pseudo-random sequence (a linear congruential generator): the same every run.
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 20; round++) {
      const m = newMatch(4, true);
      ok(m.resume(HOST_TOKEN, 0));
      let now = 0;
      let joined = 0;
      const tokens = new Map<string, string>();
      for (let step = 0; step < 120; step++) {
        now += random(3) === 0 ? random(12_000) : random(50);
        const players = m.snapshot().players;
        const someone = players[random(Math.max(players.length, 1))];
        const action = random(10);
        if (action <= 1 || !someone) {
          const r = m.join(`N${joined++}`, now);
          if (r.ok) {
            const w = m.welcome(r.participantId, now);
            if (w.type === 'welcome') tokens.set(r.participantId, w.token);
          }
        } else if (action === 2) m.disconnect(someone.id, now);
        else if (action === 3) m.resume(tokens.get(someone.id)!, now);
        else if (action === 4 && random(4) === 0) m.leave(someone.id, now);
        else if (action === 5 && random(4) === 0) m.kick(HOST_ID, someone.id, now);
        else if (action === 6 && m.phase === 'lobby' && players.length >= 2) m.start(HOST_ID, now);
        else if (action <= 8 && m.phase === 'question') m.answer(someone.id, m.snapshot().questionIndex, random(2), now);
        else m.tick(now);
        if (m.phase === 'finished' || m.phase === 'closed') break;
        expect(observed(m, now), `round ${round} step ${step}`).toEqual(walked(m.snapshot(), now));
      }
    }
  });

  it('a clock that runs backwards (tests drive the engine with any `now`) is recounted, not trusted', () => {
    const { m, ids } = filled(2, newMatch());
    ok(m.start(HOST_ID, 0));
    m.disconnect(ids[0]!, 100);
    const at = (now: number) => welcomeState(m, HOST_ID, now).answered;
    expect(at(100 + TIMING.reconnectGraceMs), 'its grace is over').toEqual({ answered: 0, total: 1 });
    expect(at(200), 'earlier, it was still present').toEqual({ answered: 0, total: 2 });
  });
});
