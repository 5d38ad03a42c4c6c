/** The worker set's liveness decisions (hung, idle) on an injected clock, with fake worker processes. */
import { describe, expect, it } from 'vitest';
import { heartbeatLate, livenessActions, type SlotView, type WorkerFailure, WorkerSet } from '../../../src/pool/workerSet';
import { FakeClock, fakeFork, LIMITS, poolMetrics, quietLog, tick } from './fakes';

function workerSet(limits = LIMITS) {
  const clock = new FakeClock();
  const { fork, forked } = fakeFork();
  const { metrics, registry } = poolMetrics();
  const set = new WorkerSet({ limits, clock: clock.read, fork, log: quietLog, metrics });
  const failures: WorkerFailure[] = [];
  set.on('failed', (f) => failures.push(f));
  return { set, clock, forked, failures, registry };
}

const view = (v: Partial<SlotView> & { workerId: number }): SlotView => ({ state: 'ready', lastHeartbeat: 0, idleSince: null, load: 1, ...v });
const limits = { MIN_WORKERS: 1, HEARTBEAT_TIMEOUT_MS: 5000, WORKER_IDLE_TIMEOUT_MS: 60_000 };

describe('livenessActions', () => {
  it.each([
    ['a ready worker heard from within the timeout is fine', [view({ workerId: 1, lastHeartbeat: 5_000 })], 10_000, []],
    ['a ready worker silent for longer than the timeout is hung', [view({ workerId: 1, lastHeartbeat: 4_999 })], 10_000, [{ kind: 'hung', workerId: 1, silentMs: 5_001 }]],
    ['a starting worker is never hung (start-up has its own timeout)', [view({ workerId: 1, state: 'starting' })], 10_000, []],
    [
      'an idle worker above MIN_WORKERS is suspended once the idle timeout has passed',
      [view({ workerId: 1, lastHeartbeat: 69_000 }), view({ workerId: 2, lastHeartbeat: 69_000, load: 0, idleSince: 10_000 })],
      70_000,
      [{ kind: 'suspend', workerId: 2, idleMs: 60_000 }],
    ],
    ['not a millisecond before', [view({ workerId: 1, lastHeartbeat: 69_000 }), view({ workerId: 2, lastHeartbeat: 69_000, load: 0, idleSince: 10_001 })], 70_000, []],
    ['the lowest ids stay, whichever went idle first', [view({ workerId: 1, lastHeartbeat: 69_000, load: 0, idleSince: 0 }), view({ workerId: 2, lastHeartbeat: 69_000 })], 70_000, []],
    ['a worker with a match on its way (load) is not idle', [view({ workerId: 1, lastHeartbeat: 69_000 }), view({ workerId: 2, lastHeartbeat: 69_000, load: 1, idleSince: 0 })], 70_000, []],
    [
      'a hung worker keeps its place in the id order (its replacement takes its id)',
      [view({ workerId: 1, lastHeartbeat: 0 }), view({ workerId: 2, lastHeartbeat: 69_000, load: 0, idleSince: 0 })],
      70_000,
      [
        { kind: 'hung', workerId: 1, silentMs: 70_000 },
        { kind: 'suspend', workerId: 2, idleMs: 70_000 },
      ],
    ],
  ])('%s', (_name, slots, now, actions) => {
    expect(livenessActions(slots, now, limits)).toEqual(actions);
  });

  it('calls a heartbeat late after two intervals and half a second', () => {
    expect(heartbeatLate(0, 2_500, 1000)).toBe(false);
    expect(heartbeatLate(0, 2_501, 1000)).toBe(true);
  });
});

describe('WorkerSet', () => {
  it('declares a silent worker hung, replaces it in its slot and reports its matches', async () => {
    const { set, clock, forked, failures, registry } = workerSet();
    await set.start();
    const slot = await set.reserve();
    set.host(slot, 'AAAAAA');
    set.release(slot);
    clock.advance(4_000);
    forked[0]!.say({ type: 'heartbeat', players: 7 });
    clock.advance(5_000);
    set.check();
    expect(failures).toEqual([]);
    expect(set.list()[0]!.players).toBe(7);
    clock.advance(1);
    set.check();
    expect(failures).toEqual([{ workerId: 1, reason: 'hung', orphaned: ['AAAAAA'] }]);
    expect(forked).toHaveLength(2);
    const replacement = set.get(1)!;
    expect(replacement.proc).toBe(forked[1]);
    expect(replacement.restarts).toBe(1);
    expect(await registry.getSingleMetricAsString('matchserver_worker_restarts_total')).toContain('reason="hung"} 1');
    // The hung worker was killed; its exit is not a second failure, and what it says is not heard.
    await tick();
    expect(forked[0]!.isDead()).toBe(true);
    forked[0]!.say({ type: 'heartbeat', players: 99 });
    expect(set.get(1)!.players).toBe(0);
    expect(failures).toHaveLength(1);
  });

  it('reports a crashed worker as failed and replaces it', async () => {
    const { set, forked, failures } = workerSet();
    await set.start();
    forked[0]!.exit(1, null);
    expect(failures).toEqual([{ workerId: 1, reason: 'crash', orphaned: [] }]);
    expect(set.get(1)!.proc).toBe(forked[1]);
  });

  it('suspends a worker above MIN_WORKERS once it has hosted nothing for the idle timeout', async () => {
    const { set, clock, forked } = workerSet();
    await set.start();
    const first = await set.reserve();
    set.host(first, 'AAAAAA');
    set.release(first);
    const second = await set.reserve(); // MAX_MATCHES 1: forks worker 2
    expect(second.workerId).toBe(2);
    set.host(second, 'BBBBBB');
    set.release(second);
    forked[1]!.say({ type: 'matchGone', matchId: 'BBBBBB', reason: 'over' });
    const beat = () => forked.forEach((w) => w.say({ type: 'heartbeat', players: 0 }));
    clock.advance(59_999);
    beat();
    set.check();
    expect(set.get(2)!.state).toBe('ready');
    clock.advance(1);
    set.check();
    expect(set.get(2)!.state).toBe('draining');
    expect(forked[1]!.sent).toContainEqual({ type: 'shutdown' });
    expect(set.counts()).toEqual({ totalWorkers: 2, activeWorkers: 1, idleWorkers: 0 });
    forked[1]!.exit(0, null);
    expect(set.get(2)).toBeUndefined();
  });

  it('never suspends worker 1, idle or not', async () => {
    const { set, clock, forked } = workerSet();
    await set.start();
    clock.advance(10 * 60_000);
    forked[0]!.say({ type: 'heartbeat', players: 0 });
    set.check();
    expect(set.get(1)!.state).toBe('ready');
    expect(set.counts()).toEqual({ totalWorkers: 1, activeWorkers: 1, idleWorkers: 1 });
  });

  it('drops a malformed message from a worker instead of acting on it', async () => {
    const { set, forked } = workerSet();
    await set.start();
    for (const bad of [null, 'ready', { type: 'heartbeat', players: -1 }, { type: 'heartbeat' }, { type: 'matchGone', matchId: 'A', reason: 'bored' }, { type: 'nope' }]) {
      expect(() => forked[0]!.say(bad)).not.toThrow();
    }
    expect(set.get(1)!.players).toBe(0);
  });

  it('answers CAPACITY when every worker that may exist is full', async () => {
    const { set } = workerSet({ ...LIMITS, MAX_WORKERS: 1 });
    await set.start();
    const slot = await set.reserve();
    set.host(slot, 'AAAAAA');
    set.release(slot);
    await expect(set.reserve()).rejects.toMatchObject({ kind: 'CAPACITY' });
  });
});
