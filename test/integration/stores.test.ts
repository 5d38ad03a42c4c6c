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
      const s = new RedisMatchStore(redis.url, createLogger({ LOG_LEVEL: 'silent', LOG_PRETTY: false }));
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
      const state = JSON.parse((await raw.hget(`qm:match:${m.id}`, 'state'))!) as Partial<MatchSnapshot>;
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
    await raw.del(`qm:match:${m.id}`);
    await raw.srem('qm:live', m.id);
    m.join('Bob', 1_100);
    await store.save(m.id, epoch, m.view());
    expect(await store.load(m.id)).toEqual({ epoch, snapshot: m.snapshot() });
    expect(await store.liveMatchIds()).toContain(m.id);
  });

  it('reads a match stored whole in one snapshot field (the layout before the quiz was kept apart)', async () => {
    const store = stores[1]![1]();
    const m = newMatch();
    await raw.hset(`qm:match:${m.id}`, 'epoch', 3, 'snapshot', JSON.stringify(m.view()));
    expect(await store.load(m.id)).toEqual({ epoch: 3, snapshot: m.snapshot() });
    const claimed = await store.claim(m.id);
    expect(claimed).toEqual({ epoch: 4, snapshot: m.snapshot() });
    m.join('Bob', 1_100);
    await store.save(m.id, 4, m.view());
    expect(await store.load(m.id)).toEqual({ epoch: 4, snapshot: m.snapshot() });
  });
});
