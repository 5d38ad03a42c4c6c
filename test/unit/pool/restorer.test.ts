/** The restorer's poison rule, and restores carried out against fake workers and a memory store. */
import { describe, expect, it } from 'vitest';
import { Match } from '../../../src/quiz/engine';
import { MemoryMatchStore } from '../../../src/store/memoryStore';
import type { MasterToWorker } from '../../../src/cluster/messages';
import { BlameLedger, blameForDeath, type DeathWitness, decayedScore, isPoison, POISON_REASON, PROBATION_MS, Restorer } from '../../../src/pool/restorer';
import { RouteTable } from '../../../src/pool/routeTable';
import { WorkerSet } from '../../../src/pool/workerSet';
import { FakeClock, fakeFork, type FakeWorker, LIMITS, poolMetrics, quietLog, tick } from './fakes';

const MIN = 60_000;
const HALF_LIFE = 10 * MIN;
const w = (matchId: string, restoredAt: number | null = null, restoring = false): DeathWitness => ({ matchId, restoredAt, restoring });

describe('the poison rule: who is blamed for a death', () => {
  it.each([
    ['one match, never restored: all of it', [w('A')], 10_000, { A: 1 }],
    ['three quiet matches: a third each', [w('A'), w('B'), w('C')], 10_000, { A: 1 / 3, B: 1 / 3, C: 1 / 3 }],
    ['one restored within probation among quiet ones: all of it, neighbours none', [w('A', 9_000), w('B'), w('C', 1_000)], 10_000, { A: 1 }],
    ['restored just past probation: no longer the suspect', [w('A', 10_000 - PROBATION_MS), w('B')], 10_000, { A: 0.5, B: 0.5 }],
    ['the one being restored when it died: all of it', [w('A', 9_500), w('B', 1_000), w('P', null, true)], 10_000, { A: 0.5, P: 0.5 }],
    ['being restored, no other fresh match', [w('B', 1_000), w('P', null, true)], 10_000, { P: 1 }],
  ])('%s', (_name, witnesses, now, expected) => {
    expect(Object.fromEntries(blameForDeath(witnesses, now))).toEqual(expected);
  });
});

describe('the poison rule: decaying score against POISON_RESTORE_LIMIT', () => {
  /** Deaths at these minutes, each wholly blamed on the match; score read at the last one. */
  const scoreAfter = (minutes: number[]) => {
    const ledger = new BlameLedger(HALF_LIFE);
    let score = 0;
    for (const m of minutes) score = ledger.add('P', 1, m * MIN);
    return score;
  };
  it.each([
    ['3 deaths within seconds', [0, 0.01, 0.02], 3, true],
    ['2 deaths within seconds', [0, 0.01], 3, false],
    ['3 deaths more than a minute apart still count', [0, 1.5, 3], 3, true],
    ['3 deaths 5 minutes apart still count', [0, 5, 10], 3, true],
    ['3 deaths 10 minutes apart have faded', [0, 10, 20], 3, false],
    ['limit 1: the first death', [0], 1, true],
    ['limit 2: two deaths 2 minutes apart', [0, 2], 2, true],
  ])('%s', (_name, minutes, limit, poison) => {
    expect(isPoison(scoreAfter(minutes), limit)).toBe(poison);
  });

  it('an innocent neighbour that shared two deaths with a poison match stays far below the limit', () => {
    const ledger = new BlameLedger(HALF_LIFE);
    ledger.add('I', 1 / 3, 0);
    ledger.add('I', 1 / 3, 2000);
    expect(isPoison(ledger.score('I', 2000), 3)).toBe(false);
    expect(ledger.score('I', 2000 + HALF_LIFE)).toBeCloseTo(1 / 3, 2);
  });

  it('halves every half-life', () => {
    expect(decayedScore(2, 0, HALF_LIFE, HALF_LIFE)).toBeCloseTo(1);
    expect(decayedScore(2, 0, 2 * HALF_LIFE, HALF_LIFE)).toBeCloseTo(0.5);
    expect(decayedScore(2, 5, 0, HALF_LIFE)).toBe(2); // a clock that went back decays nothing
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
  const restorer = new Restorer({ routes, workers, directory: store, metrics, log: quietLog, clock: clock.read, poisonLimit: 3, poisonHalfLifeMs: HALF_LIFE, isStopping: () => false, wait: async () => {} });
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

  it('blames the match whose restore kills its worker, not the two neighbours that shared its first worker', async () => {
    const clock = new FakeClock();
    const { metrics } = poolMetrics();
    const { fork, forked } = fakeFork((w, msg) => {
      if (msg.type !== 'restoreMatch') return;
      if (msg.matchId === 'POISON') w.exit(null, 'SIGKILL');
      else w.reply(msg.reqId, null);
    });
    // One worker: every restore lands beside the others, so only the blame rule can tell them apart.
    const workers = new WorkerSet({ limits: { ...LIMITS, MAX_WORKERS: 1, MAX_MATCHES: 3 }, clock: clock.read, fork, log: quietLog, metrics });
    const routes = new RouteTable({ clock: clock.read, tombstoneTtlMs: 60_000, settled: () => {} });
    const store = new MemoryMatchStore();
    // Waiting moves the injected clock, so probations pass and restores age.
    const restorer = new Restorer({ routes, workers, directory: store, metrics, log: quietLog, clock: clock.read, poisonLimit: 3, poisonHalfLifeMs: HALF_LIFE, isStopping: () => false, wait: async (ms) => clock.advance(ms) });
    workers.on('failed', (f) => restorer.ownerDied(f.orphaned, f.workerId));
    await workers.start();
    const ids = ['POISON', 'INNOC1', 'INNOC2'];
    for (const id of ids) {
      await storedMatch(store, id);
      routes.apply(id, { type: 'creating', workerId: 1 });
      routes.apply(id, { type: 'created' });
      workers.host(workers.get(1)!, id);
    }
    forked[0]!.exit(null, 'SIGKILL');
    await settle(() => routes.closedReason('POISON') !== null && ['INNOC1', 'INNOC2'].every((id) => routes.get(id)?.state === 'active'));
    expect(routes.closedReason('INNOC1')).toBeNull();
    expect(routes.closedReason('INNOC2')).toBeNull();
    expect(await store.load('INNOC1')).not.toBeNull();
  });
});
