/**
 * The MatchStore contract, run against both implementations: the in-memory store and Redis
 * (a real redis-server this test starts on a free port). Fencing, removal, and the quiz kept
 * once: saves carry the match's state only, yet every load gives the whole snapshot back.
 */
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log';
import { Match, type MatchSnapshot } from '../../src/quiz/engine';
import { MemoryMatchStore } from '../../src/store/memoryStore';
import { RedisMatchStore } from '../../src/store/redisStore';
import { type MatchStore, StoreFencedError } from '../../src/store/store';
import { ProcessGroup } from '../helpers/processes';
import { TestRedis } from '../helpers/redis';
import { tinyQuiz } from '../helpers/servers';

const group = new ProcessGroup();
let redis: TestRedis;
let raw: Redis;
const opened: MatchStore[] = [];

beforeAll(async () => {
  redis = await TestRedis.start(group);
  raw = new Redis(redis.url);
});
afterAll(async () => {
  for (const s of opened) await s.close();
  raw.disconnect();
  await group.stopAll();
  redis.cleanup();
});

const TIMING = { questionScale: 1, revealMs: 1000, leaderboardMs: 1000, reconnectGraceMs: 1000, finishGraceMs: 1000, lobbyIdleMs: 60_000 };
let serial = 0;

/** A lobby with two players: a snapshot with everything a running match has. */
function newMatch(): Match {
  const id = `ST${String(++serial).padStart(4, '0')}`;
  const m = Match.create({ id, quiz: tinyQuiz(3, 30), settings: { lateJoin: false, maxPlayers: 10 }, timing: TIMING, now: 1_000 });
  m.join('Ann', 1_000);
  return m;
}

const stores: Array<[string, () => MatchStore]> = [
  ['memory', () => new MemoryMatchStore()],
  [
    'redis',
    () => {
      const s = new RedisMatchStore({ kind: 'url', url: redis.url }, createLogger({ LOG_LEVEL: 'silent', LOG_PRETTY: false }), 'test-host');
      opened.push(s);
      return s;
    },
  ],
];

describe.each(stores)('%s match store', (kind, make) => {
  it('gives back exactly what was saved, quiz included, although saves do not carry the quiz', async () => {
    const store = make();
    const m = newMatch();
    const epoch = await store.create(m.id, m.view());
    m.join('Bob', 1_100);
    await store.save(m.id, epoch, m.view());
    const loaded = await store.load(m.id);
    expect(loaded).toEqual({ epoch, snapshot: m.snapshot() });
    expect(Match.restore(loaded!.snapshot).snapshot()).toEqual(m.snapshot());
    if (kind === 'redis') {
      const state = JSON.parse((await raw.hget(`qm:match:{${m.id}}`, 'state'))!) as Partial<MatchSnapshot>;
      expect(state.players).toHaveLength(2);
      expect(state).not.toHaveProperty('quiz');
    }
  });

  it('fences: after a claim, the old epoch can neither save nor remove', async () => {
    const store = make();
    const m = newMatch();
    const first = await store.create(m.id, m.view());
    const claimed = await store.claim(m.id);
    expect(claimed?.epoch).toBe(first + 1);
    expect(claimed?.snapshot).toEqual(m.snapshot());
    m.join('Late', 1_200);
    await expect(store.save(m.id, first, m.view())).rejects.toBeInstanceOf(StoreFencedError);
    await expect(store.remove(m.id, first)).rejects.toBeInstanceOf(StoreFencedError);
    expect((await store.load(m.id))?.snapshot.players).toHaveLength(1);
    await store.save(m.id, claimed!.epoch, m.view());
    expect((await store.load(m.id))?.snapshot.players).toHaveLength(2);
  });

  it('a claim says how long ago the match was last written, by the store\'s clock', async () => {
    const store = make();
    const m = newMatch();
    const epoch = await store.create(m.id, m.view());
    await store.save(m.id, epoch, m.view());
    await new Promise((resolve) => setTimeout(resolve, 300));
    const claimed = await store.claim(m.id);
    expect(claimed?.sinceWriteMs).toBeGreaterThanOrEqual(250);
    expect(claimed?.sinceWriteMs).toBeLessThan(60_000);
  });

  it('a claim that expects an epoch wins once: racing claimants of the same match get one winner', async () => {
    const store = make();
    const m = newMatch();
    const first = await store.create(m.id, m.view());
    const outcomes = await Promise.allSettled([store.claim(m.id, first), store.claim(m.id, first), store.claim(m.id, first)]);
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    expect(won).toHaveLength(1);
    expect((won[0] as PromiseFulfilledResult<Awaited<ReturnType<MatchStore['claim']>>>).value?.epoch).toBe(first + 1);
    for (const o of outcomes.filter((x) => x.status === 'rejected')) expect((o as PromiseRejectedResult).reason).toBeInstanceOf(StoreFencedError);
    expect((await store.load(m.id))?.epoch).toBe(first + 1);
    if (kind === 'redis') {
      const s = store as RedisMatchStore;
      expect(await s.owners([m.id, 'NOSUCH'])).toEqual([{ matchId: m.id, host: 'test-host', epoch: first + 1 }, null]);
    }
  });

  it('appends answers to the saved state; claim and load give back exactly the match; a full save replaces them', async () => {
    const store = make();
    const m = newMatch();
    const bob = m.join('Bob', 1_000);
    if (!bob.ok) throw new Error(bob.code);
    m.join('Cid', 1_000); // has not answered: the question stays open
    const epoch = await store.create(m.id, m.view());
    m.resume(m.hostToken, 1_000);
    m.start('host', 2_000);
    await store.save(m.id, epoch, m.view());
    m.markSaved(m.revision);
    m.answer('p1', 0, 1, 2_500);
    const change = m.unsaved();
    expect(change.kind).toBe('answers');
    if (change.kind !== 'answers') return;
    await store.appendAnswers(m.id, epoch, change.append);
    m.markSaved(m.revision);
    m.answer(bob.participantId, 0, 0, 2_600);
    const second = m.unsaved();
    if (second.kind !== 'answers') throw new Error(`expected answers, got ${second.kind}`);
    expect(Object.keys(second.append.answers)).toEqual([bob.participantId]);
    await store.appendAnswers(m.id, epoch, second.append);
    m.markSaved(m.revision);
    expect(await store.load(m.id)).toEqual({ epoch, snapshot: m.snapshot() });
    const claimed = await store.claim(m.id);
    expect({ epoch: claimed?.epoch, snapshot: claimed?.snapshot }).toEqual({ epoch: epoch + 1, snapshot: m.snapshot() });
    expect(Match.restore(claimed!.snapshot).snapshot()).toEqual(m.snapshot());
    // An append from the old epoch is fenced; a full save of the next phase replaces the answers.
    await expect(store.appendAnswers(m.id, epoch, second.append)).rejects.toBeInstanceOf(StoreFencedError);
    m.next('host', 3_000);
    await store.save(m.id, epoch + 1, m.view());
    expect((await store.load(m.id))?.snapshot).toEqual(m.snapshot());
    if (kind === 'redis') expect(await raw.exists(`qm:answers:{${m.id}}`)).toBe(0);
  });

  it('appends the players who joined a big match, in join order; claim gives back exactly the match, which joins on from there', async () => {
    const store = make();
    const id = `ST${String(++serial).padStart(4, '0')}`;
    const m = Match.create({ id, quiz: tinyQuiz(3, 30), settings: { lateJoin: false, maxPlayers: 1000, playerListMax: 2 }, timing: TIMING, now: 1_000 });
    for (const name of ['Ann', 'Bob', 'Cid']) m.join(name, 1_000);
    const epoch = await store.create(m.id, m.view());
    m.markSaved(m.revision);
    // More joins than a small Redis hash keeps in order.
    for (let batch = 0; batch < 3; batch++) {
      for (let i = 0; i < 60; i++) m.join(`Player ${batch}-${i}`, 2_000 + batch);
      const change = m.unsaved();
      if (change.kind !== 'answers') throw new Error(`expected an append, got ${change.kind}`);
      expect(change.append.players).toHaveLength(60);
      await store.appendAnswers(m.id, epoch, change.append);
      m.markSaved(change.append.revision);
    }
    const claimed = await store.claim(m.id);
    expect({ epoch: claimed?.epoch, snapshot: claimed?.snapshot }).toEqual({ epoch: epoch + 1, snapshot: m.snapshot() });
    const restored = Match.restore(claimed!.snapshot);
    const next = restored.join('Newest', 3_000);
    if (!next.ok) throw new Error(next.code);
    expect(next.participantId).toBe(`p${3 + 3 * 60 + 1}`);
  });

  it('keeps each revealed question\'s answers apart: a save from `historyFrom` writes only the later ones, and load and claim give the whole history back', async () => {
    const store = make();
    const m = newMatch();
    let epoch = await store.create(m.id, m.view());
    m.resume(m.hostToken, 1_000);
    m.start('host', 2_000);
    m.answer('p1', 0, 1, 2_500); // Ann, the only player: the question closes
    expect(m.phase).toBe('reveal');
    await store.save(m.id, epoch, m.view(), 0);
    expect(m.next('host', 3_000).ok && m.next('host', 3_000).ok).toBe(true);
    await store.save(m.id, epoch, m.view(), 1);
    m.answer('p1', 1, 0, 3_500);
    await store.save(m.id, epoch, m.view(), 1);
    expect(m.view().history).toHaveLength(2);
    expect(await store.load(m.id)).toEqual({ epoch, snapshot: m.snapshot() });
    if (kind === 'redis') {
      const state = JSON.parse((await raw.hget(`qm:match:{${m.id}}`, 'state'))!) as Partial<MatchSnapshot>;
      expect(state, 'the state leaves the history out').not.toHaveProperty('history');
      expect(await raw.hlen(`qm:history:{${m.id}}`)).toBe(2);
    }
    const claimed = (await store.claim(m.id))!;
    expect(claimed.snapshot).toEqual(m.snapshot());
    epoch = claimed.epoch;
    // A save that builds on history the store does not hold fails (not fenced: the owner retries
    // it in full), and the full save repairs it.
    await expect(store.save(m.id, epoch, m.view(), 3)).rejects.not.toBeInstanceOf(StoreFencedError);
    await store.save(m.id, epoch, m.view(), 0);
    expect(await store.load(m.id)).toEqual({ epoch, snapshot: m.snapshot() });
    await store.remove(m.id, epoch);
    if (kind === 'redis') expect(await raw.exists(`qm:history:{${m.id}}`)).toBe(0);
  });

  it('forgets a removed match for good: no load, no claim, no save bringing it back', async () => {
    const store = make();
    const m = newMatch();
    const epoch = await store.create(m.id, m.view());
    await store.remove(m.id, epoch);
    expect(await store.load(m.id)).toBeNull();
    expect(await store.claim(m.id)).toBeNull();
    if (kind === 'redis') await expect(store.save(m.id, epoch, m.view())).rejects.toBeInstanceOf(StoreFencedError);
    expect(await store.liveMatchIds()).not.toContain(m.id);
  });
});

describe('redis match store, data trouble', () => {
  it('re-seeds a match Redis lost (restarted without its data) from the owner, quiz included', async () => {
    const store = stores[1]![1]();
    const m = newMatch();
    const epoch = await store.create(m.id, m.view());
    await raw.del(`qm:match:{${m.id}}`);
    await raw.srem('qm:live', m.id);
    m.join('Bob', 1_100);
    await store.save(m.id, epoch, m.view());
    expect(await store.load(m.id)).toEqual({ epoch, snapshot: m.snapshot() });
    expect(await store.liveMatchIds()).toContain(m.id);
  });

  it('answers appended to a match Redis lost are refused as not found, and the full save that follows seeds it', async () => {
    const store = stores[1]![1]();
    const m = newMatch();
    m.join('Bob', 1_000); // has not answered: the question stays open
    const epoch = await store.create(m.id, m.view());
    m.resume(m.hostToken, 1_000);
    m.start('host', 2_000);
    await store.save(m.id, epoch, m.view());
    m.markSaved(m.revision);
    await raw.del(`qm:match:{${m.id}}`);
    m.answer('p1', 0, 1, 2_500);
    const change = m.unsaved();
    if (change.kind !== 'answers') throw new Error(`expected answers, got ${change.kind}`);
    await expect(store.appendAnswers(m.id, epoch, change.append)).rejects.toMatchObject({ code: 'STORE_NOT_FOUND' });
    await store.save(m.id, epoch, m.view());
    expect(await store.load(m.id)).toEqual({ epoch, snapshot: m.snapshot() });
  });

  it('a save that builds on a history Redis lost is refused as not found; the full save that follows writes it all again', async () => {
    const store = stores[1]![1]();
    const m = newMatch();
    const epoch = await store.create(m.id, m.view());
    m.resume(m.hostToken, 1_000);
    m.start('host', 2_000);
    m.answer('p1', 0, 1, 2_500);
    await store.save(m.id, epoch, m.view(), 0);
    await raw.del(`qm:history:{${m.id}}`);
    m.next('host', 3_000);
    await expect(store.save(m.id, epoch, m.view(), 1)).rejects.toMatchObject({ code: 'STORE_NOT_FOUND' });
    await store.save(m.id, epoch, m.view(), 0);
    expect(await store.load(m.id)).toEqual({ epoch, snapshot: m.snapshot() });
    // Lost altogether (match and history): the full save seeds both.
    await raw.del(`qm:match:{${m.id}}`, `qm:history:{${m.id}}`);
    await expect(store.save(m.id, epoch, m.view(), 1)).rejects.toMatchObject({ code: 'STORE_NOT_FOUND' });
    await store.save(m.id, epoch, m.view(), 0);
    expect(await store.load(m.id)).toEqual({ epoch, snapshot: m.snapshot() });
  });

  it('reads a state that carries its history inside (the layout before the history was kept apart)', async () => {
    const store = stores[1]![1]();
    const m = newMatch();
    m.resume(m.hostToken, 1_000);
    m.start('host', 2_000);
    m.answer('p1', 0, 1, 2_500);
    const { quiz, ...state } = m.snapshot();
    await raw.hset(`qm:match:{${m.id}}`, 'epoch', 2, 'quiz', JSON.stringify(quiz), 'state', JSON.stringify(state));
    expect(state.history).toHaveLength(1);
    expect(await store.load(m.id)).toEqual({ epoch: 2, snapshot: m.snapshot() });
    // Its new owner's first save builds on a history the hash lacks: refused, then written whole.
    await expect(store.save(m.id, 2, m.view(), 1)).rejects.toMatchObject({ code: 'STORE_NOT_FOUND' });
    await store.save(m.id, 2, m.view(), 0);
    expect(await raw.hlen(`qm:history:{${m.id}}`)).toBe(1);
    expect(await store.load(m.id)).toEqual({ epoch: 2, snapshot: m.snapshot() });
  });

  it('reads a match stored whole in one snapshot field (the layout before the quiz was kept apart)', async () => {
    const store = stores[1]![1]();
    const m = newMatch();
    await raw.hset(`qm:match:{${m.id}}`, 'epoch', 3, 'snapshot', JSON.stringify(m.view()));
    expect(await store.load(m.id)).toEqual({ epoch: 3, snapshot: m.snapshot() });
    const claimed = await store.claim(m.id);
    expect({ epoch: claimed?.epoch, snapshot: claimed?.snapshot }).toEqual({ epoch: 4, snapshot: m.snapshot() });
    m.join('Bob', 1_100);
    await store.save(m.id, 4, m.view());
    expect(await store.load(m.id)).toEqual({ epoch: 4, snapshot: m.snapshot() });
  });
});
