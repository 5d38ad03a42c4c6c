/**
 * Match placement (src/cluster/placement.ts) replayed against the seed's "Load Distribution
 * Example" (shared/seed/WORKER_POOL_SUMMARY.md), event by event, with a small model of the
 * pool: `{kind:'fork'}` adds a worker with `nextWorkerId`, the new match goes there.
 */
import { describe, expect, it } from 'vitest';
import { nextWorkerId, place, type PlacementLimits, type PlacementPolicy, type WorkerLoad } from '../../src/cluster/placement';

class PoolModel {
  /** Matches by worker id, in spawn order. */
  readonly workers = new Map<number, Set<string>>();
  readonly draining = new Set<number>();
  readonly spawned: number[] = [];

  constructor(
    private readonly policy: PlacementPolicy,
    private readonly limits: PlacementLimits,
    initialWorkers = 0,
  ) {
    for (let i = 0; i < initialWorkers; i++) this.workers.set(nextWorkerId(this.workers.keys()), new Set());
  }

  loads(): WorkerLoad[] {
    return [...this.workers].map(([workerId, m]) => ({ workerId, matches: m.size, accepting: !this.draining.has(workerId) }));
  }

  /** Places a new match; returns where it went, or 'full'. */
  create(matchId: string): number | 'full' {
    const p = place(this.loads(), this.policy, this.limits);
    if (p.kind === 'full') return 'full';
    let workerId: number;
    if (p.kind === 'fork') {
      workerId = nextWorkerId(this.workers.keys());
      this.workers.set(workerId, new Set());
      this.spawned.push(workerId);
      // The freshly forked worker is where the next match goes.
      expect(place(this.loads(), this.policy, this.limits)).toEqual({ kind: 'worker', workerId });
    } else {
      workerId = p.workerId;
    }
    const matches = this.workers.get(workerId);
    if (!matches) throw new Error(`placed on unknown worker ${workerId}`);
    expect(matches.size).toBeLessThan(this.limits.maxMatchesPerWorker);
    matches.add(matchId);
    return workerId;
  }

  complete(matchId: string): void {
    for (const m of this.workers.values()) if (m.delete(matchId)) return;
    throw new Error(`no match ${matchId}`);
  }

  /** Idle timeout: workers with no match are suspended, never below `minWorkers` (lowest ids stay). */
  idleTimeout(minWorkers: number): number[] {
    const killed: number[] = [];
    for (const id of [...this.workers.keys()].sort((a, b) => b - a)) {
      if (this.workers.size <= minWorkers) break;
      if (this.workers.get(id)!.size === 0) {
        this.workers.delete(id);
        killed.push(id);
      }
    }
    return killed.sort((a, b) => a - b);
  }

  /** Counts per worker id 1..n, '-' for a worker that does not exist. */
  counts(n: number): Array<number | '-'> {
    return Array.from({ length: n }, (_, i) => this.workers.get(i + 1)?.size ?? '-');
  }
}

describe('pack: the seed’s Load Distribution Example (MAX_MATCHES 3, MAX_WORKERS 4)', () => {
  it('replays the table row by row', () => {
    // MIN_WORKERS 1: worker 1 is up before the first match.
    const pool = new PoolModel('pack', { maxMatchesPerWorker: 3, maxWorkers: 4 }, 1);
    expect(pool.counts(3)).toEqual([0, '-', '-']);
    type Row = { event: string; act: () => unknown; counts: Array<number | '-'>; spawned?: number; placedOn?: number };
    const rows: Row[] = [
      { event: '0:00 Match A created', act: () => pool.create('A'), counts: [1, '-', '-'], placedOn: 1 },
      { event: '0:05 Match B created', act: () => pool.create('B'), counts: [2, '-', '-'], placedOn: 1 },
      { event: '0:10 Match C created [Worker 1 FULL]', act: () => pool.create('C'), counts: [3, '-', '-'], placedOn: 1 },
      { event: '0:15 Match D created [Worker 2 spawned]', act: () => pool.create('D'), counts: [3, 1, '-'], spawned: 2, placedOn: 2 },
      { event: '0:20 Match E created', act: () => pool.create('E'), counts: [3, 2, '-'], placedOn: 2 },
      { event: '0:25 Match F created [Worker 2 FULL]', act: () => pool.create('F'), counts: [3, 3, '-'], placedOn: 2 },
      { event: '0:30 Match G created [Worker 3 spawned]', act: () => pool.create('G'), counts: [3, 3, 1], spawned: 3, placedOn: 3 },
      { event: '0:35 Match A completes', act: () => pool.complete('A'), counts: [2, 3, 1] },
      { event: '0:40 Match H created [Reuses Worker 1]', act: () => pool.create('H'), counts: [3, 3, 1], placedOn: 1 },
    ];
    for (const row of rows) {
      const spawnedBefore = pool.spawned.length;
      const placed = row.act();
      expect(pool.counts(3), row.event).toEqual(row.counts);
      expect(pool.workers.size, `${row.event}: no 4th worker`).toBeLessThanOrEqual(3);
      // A worker is spawned exactly on D and G, and on no other row.
      expect(pool.spawned.slice(spawnedBefore), row.event).toEqual(row.spawned === undefined ? [] : [row.spawned]);
      if (row.placedOn !== undefined) expect(placed, row.event).toBe(row.placedOn);
    }
    expect(pool.spawned).toEqual([2, 3]);

    // 5:00 All matches done.
    for (const m of ['B', 'C', 'D', 'E', 'F', 'G', 'H']) pool.complete(m);
    expect(pool.counts(3)).toEqual([0, 0, 0]);
    expect(pool.loads()).toEqual([
      { workerId: 1, matches: 0, accepting: true },
      { workerId: 2, matches: 0, accepting: true },
      { workerId: 3, matches: 0, accepting: true },
    ]);

    // 10:00 Idle timeout: worker 1 stays (MIN_WORKERS 1), workers 2 and 3 are killed.
    expect(pool.idleTimeout(1)).toEqual([2, 3]);
    expect(pool.counts(3)).toEqual([0, '-', '-']);
    expect(pool.loads()).toEqual([{ workerId: 1, matches: 0, accepting: true }]);

    // Afterwards the pool grows again from the lowest free ids.
    for (const m of ['I', 'J', 'K']) expect(pool.create(m)).toBe(1);
    expect(pool.create('L')).toBe(2);
    expect(pool.counts(3)).toEqual([3, 1, '-']);
  });

  it('is full on the 13th match with 4 workers × 3 matches', () => {
    const pool = new PoolModel('pack', { maxMatchesPerWorker: 3, maxWorkers: 4 }, 1);
    const placed = Array.from({ length: 12 }, (_, i) => pool.create(`M${i}`));
    expect(placed).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
    expect(pool.create('M12')).toBe('full');
    expect(place(pool.loads(), 'pack', { maxMatchesPerWorker: 3, maxWorkers: 4 })).toEqual({ kind: 'full' });
    expect(place(pool.loads(), 'spread', { maxMatchesPerWorker: 3, maxWorkers: 4 })).toEqual({ kind: 'full' });
    // One match ends anywhere: its slot is taken again.
    pool.complete('M7');
    expect(pool.create('M13')).toBe(3);
    expect(pool.create('M14')).toBe('full');
  });

  it('packs into the lowest worker id with room, whatever the array order', () => {
    const loads: WorkerLoad[] = [
      { workerId: 3, matches: 0, accepting: true },
      { workerId: 1, matches: 3, accepting: true },
      { workerId: 2, matches: 2, accepting: true },
    ];
    expect(place(loads, 'pack', { maxMatchesPerWorker: 3, maxWorkers: 4 })).toEqual({ kind: 'worker', workerId: 2 });
  });
});

describe('spread', () => {
  const limits = { maxMatchesPerWorker: 3, maxWorkers: 3 };

  it('replays a table of its own: least-loaded with room, ties to the lowest id, fork only when all are full', () => {
    // MIN_WORKERS 2: workers 1 and 2 are up before any match.
    const pool = new PoolModel('spread', limits, 2);
    const rows: Array<[string, () => unknown, Array<number | '-'>]> = [
      ['A created (tie 0/0 → 1)', () => pool.create('A'), [1, 0, '-']],
      ['B created (2 is least loaded)', () => pool.create('B'), [1, 1, '-']],
      ['C created (tie 1/1 → 1)', () => pool.create('C'), [2, 1, '-']],
      ['D created', () => pool.create('D'), [2, 2, '-']],
      ['E created', () => pool.create('E'), [3, 2, '-']],
      ['F created (1 is full)', () => pool.create('F'), [3, 3, '-']],
      ['G created (all full → fork 3)', () => pool.create('G'), [3, 3, 1]],
      ['H created (only 3 has room)', () => pool.create('H'), [3, 3, 2]],
      ['A completes', () => pool.complete('A'), [2, 3, 2]],
      ['D completes', () => pool.complete('D'), [2, 2, 2]],
      ['I created (tie 2/2/2 → 1)', () => pool.create('I'), [3, 2, 2]],
      ['J created (tie 2/2 → 2)', () => pool.create('J'), [3, 3, 2]],
      ['G and H complete', () => (pool.complete('G'), pool.complete('H')), [3, 3, 0]],
      ['K created (3 is least loaded)', () => pool.create('K'), [3, 3, 1]],
      ['C completes', () => pool.complete('C'), [2, 3, 1]],
      ['L created (3 has 1 < 2)', () => pool.create('L'), [2, 3, 2]],
      ['M created (tie 2/2 → 1)', () => pool.create('M'), [3, 3, 2]],
      ['N created', () => pool.create('N'), [3, 3, 3]],
    ];
    for (const [event, act, counts] of rows) {
      act();
      expect(pool.counts(3), event).toEqual(counts);
    }
    expect(pool.spawned).toEqual([3]);
    expect(pool.create('O')).toBe('full');
  });

  it('picks the least-loaded worker even when it is not the first', () => {
    const loads: WorkerLoad[] = [
      { workerId: 1, matches: 2, accepting: true },
      { workerId: 2, matches: 1, accepting: true },
      { workerId: 3, matches: 0, accepting: true },
      { workerId: 4, matches: 0, accepting: true },
    ];
    expect(place(loads, 'spread', { maxMatchesPerWorker: 3, maxWorkers: 4 })).toEqual({ kind: 'worker', workerId: 3 });
    expect(place(loads, 'pack', { maxMatchesPerWorker: 3, maxWorkers: 4 })).toEqual({ kind: 'worker', workerId: 1 });
  });
});

describe('draining workers', () => {
  it('are skipped even with room, under both policies', () => {
    const loads: WorkerLoad[] = [
      { workerId: 1, matches: 0, accepting: false },
      { workerId: 2, matches: 2, accepting: true },
    ];
    for (const policy of ['pack', 'spread'] as const) {
      expect(place(loads, policy, { maxMatchesPerWorker: 3, maxWorkers: 4 })).toEqual({ kind: 'worker', workerId: 2 });
    }
  });

  it('still count against maxWorkers', () => {
    const loads: WorkerLoad[] = [
      { workerId: 1, matches: 3, accepting: true },
      { workerId: 2, matches: 0, accepting: false },
    ];
    for (const policy of ['pack', 'spread'] as const) {
      expect(place(loads, policy, { maxMatchesPerWorker: 3, maxWorkers: 2 })).toEqual({ kind: 'full' });
      expect(place(loads, policy, { maxMatchesPerWorker: 3, maxWorkers: 3 })).toEqual({ kind: 'fork' });
    }
  });

  it('a model pool with a draining worker forks a new one under the next free id', () => {
    const pool = new PoolModel('pack', { maxMatchesPerWorker: 1, maxWorkers: 3 }, 2);
    pool.draining.add(1);
    expect(pool.create('A')).toBe(2);
    expect(pool.create('B')).toBe(3);
    expect(pool.spawned).toEqual([3]);
    expect(pool.create('C')).toBe('full');
  });
});

describe('edge cases', () => {
  it('forks on an empty pool and is full when no worker may exist', () => {
    expect(place([], 'pack', { maxMatchesPerWorker: 3, maxWorkers: 1 })).toEqual({ kind: 'fork' });
    expect(place([], 'spread', { maxMatchesPerWorker: 3, maxWorkers: 1 })).toEqual({ kind: 'fork' });
    expect(place([{ workerId: 1, matches: 3, accepting: true }], 'pack', { maxMatchesPerWorker: 3, maxWorkers: 1 })).toEqual({
      kind: 'full',
    });
  });

  it('never places on a worker at or over its limit', () => {
    const loads: WorkerLoad[] = [
      { workerId: 1, matches: 5, accepting: true },
      { workerId: 2, matches: 3, accepting: true },
    ];
    expect(place(loads, 'spread', { maxMatchesPerWorker: 3, maxWorkers: 2 })).toEqual({ kind: 'full' });
    expect(place(loads, 'pack', { maxMatchesPerWorker: 3, maxWorkers: 5 })).toEqual({ kind: 'fork' });
  });
});

describe('nextWorkerId', () => {
  it.each([
    [[], 1],
    [[1], 2],
    [[1, 2, 3], 4],
    [[1, 3], 2],
    [[2, 3], 1],
    [[3, 1, 2, 5], 4],
    [[4, 4, 1], 2],
  ])('in use %j → %i', (inUse, expected) => {
    expect(nextWorkerId(inUse)).toBe(expected);
  });

  it('accepts any iterable (a Set, map keys)', () => {
    expect(nextWorkerId(new Set([1, 2]))).toBe(3);
    expect(nextWorkerId(new Map([[1, 'a'], [3, 'c']]).keys())).toBe(2);
  });
});
