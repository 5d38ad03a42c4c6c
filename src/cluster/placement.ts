/**
 * Where a new match goes: a pure function of the workers' loads, so it can be replaced
 * (PLACEMENT=pack|spread) and tested against the seed's table event by event.
 */

export interface WorkerLoad {
  workerId: number;
  /** Matches hosted plus matches on their way there. */
  matches: number;
  /** Starting or ready; draining and dead workers take nothing. */
  accepting: boolean;
}

export type PlacementPolicy = 'pack' | 'spread';

export type Placement = { kind: 'worker'; workerId: number } | { kind: 'fork' } | { kind: 'full' };

export interface PlacementLimits {
  maxMatchesPerWorker: number;
  maxWorkers: number;
}

/**
 * pack: the first accepting worker, in spawn order (worker id), with room; fork only when all
 * are full. spread: the least-loaded accepting worker with room (ties: lowest id).
 * `full` when no worker has room and no more may be forked. Workers that are not accepting
 * (draining: about to exit) still count against `maxWorkers` until they are gone.
 */
export function place(workers: readonly WorkerLoad[], policy: PlacementPolicy, limits: PlacementLimits): Placement {
  const withRoom = workers
    .filter((w) => w.accepting && w.matches < limits.maxMatchesPerWorker)
    .sort((a, b) => a.workerId - b.workerId);
  if (withRoom.length > 0) {
    const chosen = policy === 'pack' ? withRoom[0]! : withRoom.reduce((best, w) => (w.matches < best.matches ? w : best));
    return { kind: 'worker', workerId: chosen.workerId };
  }
  return workers.length < limits.maxWorkers ? { kind: 'fork' } : { kind: 'full' };
}

/** The slot id a new worker takes: the lowest one not in use, so ids stay 1..N. */
export function nextWorkerId(inUse: Iterable<number>): number {
  const used = new Set(inUse);
  let id = 1;
  while (used.has(id)) id++;
  return id;
}
