/** The restorer's poison rule, and restores carried out against fake workers and a memory store. */
import { describe, expect, it } from 'vitest';
import { Match } from '../../../src/quiz/engine';
import { MemoryMatchStore } from '../../../src/store/memoryStore';
import type { MasterToWorker } from '../../../src/cluster/messages';
import { isPoison, ownerDeathsAfterDeath, POISON_REASON, POISON_WINDOW_MS, Restorer } from '../../../src/pool/restorer';
import { RouteTable } from '../../../src/pool/routeTable';
import { WorkerSet } from '../../../src/pool/workerSet';
import { FakeClock, fakeFork, type FakeWorker, LIMITS, poolMetrics, quietLog, tick } from './fakes';

describe('the poison rule', () => {
  it.each([
    ['never restored: this death is the first', { ownerDeaths: 0, restoredAt: null }, 5_000, 1],
    ['died soon after its restore: one more in a row', { ownerDeaths: 2, restoredAt: 1_000 }, 1_000 + POISON_WINDOW_MS - 1, 3],
    ['died long after its restore: a new run starts', { ownerDeaths: 2, restoredAt: 1_000 }, 1_000 + POISON_WINDOW_MS, 1],
  ])('%s', (_name, route, now, deaths) => {
    expect(ownerDeathsAfterDeath(route, now)).toBe(deaths);
  });

  it('closes a match at the limit, not before', () => {
    expect(isPoison(2, 3)).toBe(false);
    expect(isPoison(3, 3)).toBe(true);
  });
});

const TIMING = { questionScale: 1, revealMs: 1000, leaderboardMs: 1000, reconnectGraceMs: 1000, finishGraceMs: 1000, lobbyIdleMs: 60_000 };
const QUIZ = { title: 'Q', questions: [{ text: 'One?', choices: ['a', 'b'], correct: 0, timeLimitSec: 10 }] };

function setUp(onRestore: (w: FakeWorker, msg: Extract<MasterToWorker, { type: 'restoreMatch' }>) => void) {
  const clock = new FakeClock();
  const { metrics, registry } = poolMetrics();
  const { fork, forked } = fakeFork((w, msg) => {
    if (msg.type === 'restoreMatch') onRestore(w, msg);
  });
  const workers = new WorkerSet({ limits: { ...LIMITS, MAX_MATCHES: 3 }, clock: clock.read, fork, log: quietLog, metrics });
  const settled: string[] = [];
  const routes = new RouteTable({ clock: clock.read, tombstoneTtlMs: 60_000, settled: (id) => settled.push(id) });
  const store = new MemoryMatchStore();
  const restorer = new Restorer({ routes, workers, directory: store, metrics, log: quietLog, clock: clock.read, poisonLimit: 3, isStopping: () => false, wait: async () => {} });
  return { clock, workers, routes, store, restorer, settled, forked, registry };
}

/** Lets fake workers and the restorer take turns until `done` (no timers involved). */
async function settle(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await tick();
  expect(done()).toBe(true);
}

async function storedMatch(store: MemoryMatchStore, id: string): Promise<Match> {
  const m = Match.create({ id, quiz: QUIZ, settings: { lateJoin: false, maxPlayers: 10 }, timing: TIMING, now: 0 });
  m.join('Ann', 0);
  await store.create(id, m.view());
  return m;
}

describe('Restorer', () => {
  it('claims the match and restores it with the snapshot the claim returned, in one request', async () => {
    const t = setUp((w, msg) => w.reply(msg.reqId, null));
    await t.workers.start();
    const m = await storedMatch(t.store, 'AAAAAA');
    t.restorer.recover(['AAAAAA']);
    await settle(() => t.settled.length > 0);
    expect(t.routes.get('AAAAAA')).toMatchObject({ state: 'active', workerId: 1, restoredAt: t.clock.now });
    expect(t.settled).toEqual(['AAAAAA']);
    const sent = t.forked[0]!.sent.filter((s) => s.type === 'restoreMatch');
    expect(sent).toEqual([expect.objectContaining({ matchId: 'AAAAAA', epoch: 2, snapshot: m.snapshot() })]);
    expect(t.workers.get(1)!.matches.has('AAAAAA')).toBe(true);
  });

  it('forgets a match the store no longer has', async () => {
    const t = setUp((w, msg) => w.reply(msg.reqId, null));
    await t.workers.start();
    t.restorer.recover(['GONE00']);
    await settle(() => t.settled.length > 0);
    expect(t.routes.get('GONE00')).toBeUndefined();
    expect(t.settled).toEqual(['GONE00']);
  });

  it('counts a worker dying during the restore, and closes the match as poison at the limit', async () => {
    // Every worker dies as it restores this match.
    const t = setUp((w) => w.exit(null, 'SIGKILL'));
    await t.workers.start();
    await storedMatch(t.store, 'POISON');
    t.routes.apply('POISON', { type: 'creating', workerId: 1 });
    t.routes.apply('POISON', { type: 'created' });
    t.restorer.ownerDied(['POISON']); // death 1; then 2 and 3 while restoring
    await settle(() => t.routes.closedReason('POISON') !== null);
    await tick();
    expect(t.routes.get('POISON')).toBeUndefined();
    expect(t.routes.closedReason('POISON')).toBe(POISON_REASON);
    expect(await t.store.load('POISON')).toBeNull();
    expect(await t.registry.getSingleMetricAsString('matchserver_poison_matches_total')).toContain('matchserver_poison_matches_total 1');
    expect(t.forked.length).toBeGreaterThanOrEqual(3);
  });
});
