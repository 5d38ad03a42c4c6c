/**
 * Bringing matches back on a live worker when theirs died (or, with Redis, when the master
 * restarted): claim the match in the store (a new epoch, so the old owner's late writes are
 * refused), place it, and restore it on the chosen worker with the snapshot the claim
 * returned. A match that keeps killing its workers is poison: it is closed for good instead
 * of taking the pool down with it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { backoff } from '../backoff';
import type { Logger } from '../log';
import type { PoolMetrics } from '../metrics';
import type { MatchDirectory } from '../store/store';
import { IpcError } from '../cluster/ipc';
import type { Route, RouteTable } from './routeTable';
import type { WorkerSet, WorkerSlot } from './workerSet';

/** Owner deaths closer together than this (since the last restore) count towards poison. */
export const POISON_WINDOW_MS = 60_000;
const RESTORE_ATTEMPTS = 8;
const RETRY_BASE_MS = 200;
const RETRY_MAX_MS = 5000;
/** What the players of a poison match are told (`match_closed`). */
export const POISON_REASON = 'This match could not be kept running and was closed.';

/**
 * The poison rule, part one: an owner death within POISON_WINDOW_MS of the match's last
 * restore continues a run of deaths; any other death starts a new run.
 */
export function ownerDeathsAfterDeath(route: Pick<Route, 'ownerDeaths' | 'restoredAt'>, now: number): number {
  return route.restoredAt !== null && now - route.restoredAt < POISON_WINDOW_MS ? route.ownerDeaths + 1 : 1;
}

/** The poison rule, part two: that many deaths in a row close the match. */
export function isPoison(ownerDeaths: number, limit: number): boolean {
  return ownerDeaths >= limit;
}

export interface RestorerDeps {
  routes: RouteTable;
  workers: Pick<WorkerSet, 'reserve' | 'release' | 'host'>;
  directory: MatchDirectory;
  metrics: PoolMetrics;
  log: Logger;
  clock: () => number;
  poisonLimit: number;
  isStopping: () => boolean;
  /** Waits between attempts; tests pass one that does not. */
  wait?: (ms: number) => Promise<unknown>;
}

export class Restorer {
  constructor(private readonly deps: RestorerDeps) {}

  /** A worker died: its matches move (counted by the poison rule) and are restored elsewhere. */
  ownerDied(orphaned: readonly string[]): void {
    const now = this.deps.clock();
    for (const matchId of orphaned) {
      const route = this.deps.routes.get(matchId);
      if (route) this.deps.routes.apply(matchId, { type: 'ownerDied', ownerDeaths: ownerDeathsAfterDeath(route, now) });
    }
    for (const matchId of orphaned) void this.restore(matchId);
  }

  /** Live matches a persistent store kept while no master ran: served again. */
  recover(matchIds: readonly string[]): void {
    for (const matchId of matchIds) this.deps.routes.apply(matchId, { type: 'recovered' });
    for (const matchId of matchIds) void this.restore(matchId);
  }

  /** Settles with the match restored, gone from the store, or closed as poison. */
  async restore(matchId: string): Promise<void> {
    const { routes, workers, directory, metrics, log } = this.deps;
    for (let attempt = 1; attempt <= RESTORE_ATTEMPTS && !this.deps.isStopping(); attempt++) {
      const route = routes.get(matchId);
      if (!route) return;
      if (isPoison(route.ownerDeaths, this.deps.poisonLimit)) {
        return this.closePoison(matchId, `its worker died ${route.ownerDeaths} times in a row`);
      }
      let slot: WorkerSlot | undefined;
      try {
        slot = await workers.reserve();
        const claimed = await directory.claim(matchId);
        if (!claimed) {
          routes.apply(matchId, { type: 'vanished' });
          log.info({ matchId }, 'Match to restore is no longer in the store');
          return;
        }
        await slot.request({ type: 'restoreMatch', matchId, epoch: claimed.epoch, snapshot: claimed.snapshot });
        workers.host(slot, matchId);
        metrics.matchRestores.inc({ outcome: 'ok' });
        log.info({ matchId, workerId: slot.workerId, epoch: claimed.epoch, attempt }, 'Match restored on worker');
        routes.apply(matchId, { type: 'restored', workerId: slot.workerId, at: this.deps.clock() });
        return;
      } catch (err) {
        metrics.matchRestores.inc({ outcome: 'retry' });
        // The worker died while restoring it: that counts as one more owner death.
        if (err instanceof IpcError && err.code === 'IPC_CLOSED') routes.apply(matchId, { type: 'diedRestoring' });
        const delay = backoff(attempt, RETRY_BASE_MS, RETRY_MAX_MS);
        log.warn({ matchId, attempt, err: (err as Error).message, retryInMs: delay }, 'Match restore failed; retrying');
        await (this.deps.wait ?? sleep)(delay);
      } finally {
        if (slot) workers.release(slot);
      }
    }
    if (!this.deps.isStopping()) await this.closePoison(matchId, 'it could not be restored');
  }

  private async closePoison(matchId: string, why: string): Promise<void> {
    const { routes, directory, metrics, log } = this.deps;
    routes.apply(matchId, { type: 'closed', reason: POISON_REASON });
    metrics.poisonMatches.inc();
    metrics.matchRestores.inc({ outcome: 'poison' });
    log.error({ matchId, why }, 'Closing poison match');
    try {
      const claimed = await directory.claim(matchId);
      if (claimed) await directory.remove(matchId, claimed.epoch);
    } catch (err) {
      log.warn({ matchId, err: (err as Error).message }, 'Could not remove a poison match from the store');
    }
  }
}
