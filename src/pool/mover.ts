/**
 * Moving matches to another host on purpose (WORKER_POOL_ARCHITECTURE.md "Several hosts"): one
 * match (`POST /admin/matches/:id/move`, the seed's "match migration"), or every match of a
 * host that drains (SIGTERM, `POST /admin/drain`). One path for both, at a safe point:
 *
 *   1. the route turns `moving`: upgrades for the match wait here instead of reaching its worker;
 *   2. the worker stops the match's clock, tells its players to reconnect at once (4010), waits
 *      until every change is in the store, and lets it go with its epoch;
 *   3. the target host claims it at exactly that epoch and restores it (the directory entry
 *      changes hands in that claim), and answers once it is serving it;
 *   4. the route goes: upgrades that waited, and later ones, are relayed to the new owner.
 *
 * If the worker cannot let go (the store is behind) the match goes on where it was; if the
 * target fails after the worker let go, this host takes the match back through its restorer
 * (a claim at the same epoch: whichever host claims first owns it, and the other lets go).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { backoff } from '../backoff';
import type { Logger } from '../log';
import { HttpError } from '../protocol/errors';
import type { HostCluster } from '../hosts/hostCluster';
import type { Restorer } from './restorer';
import type { RouteTable } from './routeTable';
import type { WorkerSet } from './workerSet';

/** How long a worker may take to get a match's last changes into the store before it keeps the match. */
const RELEASE_TIMEOUT_MS = 5000;
/** Moves a draining host runs at once: enough to empty it quickly, few enough not to flood the store. */
const DRAIN_PARALLEL = 4;

export interface MoverDeps {
  routes: RouteTable;
  workers: Pick<WorkerSet, 'get'>;
  restorer: Pick<Restorer, 'adopt' | 'forget'>;
  cluster: HostCluster;
  ipcTimeoutMs: number;
  log: Logger;
}

export class MatchMover {
  constructor(private readonly deps: MoverDeps) {}

  /** Moves one active match to `toHostId` (or the least-loaded host with room); resolves with its new host. */
  async move(matchId: string, toHostId?: string): Promise<{ matchId: string; hostId: string }> {
    const { routes, workers, cluster, log } = this.deps;
    const route = routes.get(matchId);
    if (!route) throw new HttpError('NOT_FOUND');
    const owner = route.workerId === null ? undefined : workers.get(route.workerId);
    if (route.state !== 'active' || !owner) throw new HttpError('MATCH_MOVING');
    const target = await cluster.pickTarget(toHostId);
    routes.apply(matchId, { type: 'releasing', workerId: owner.workerId });
    let released: { epoch: number } | null;
    try {
      released = await owner.request({ type: 'releaseMatch', matchId, timeoutMs: RELEASE_TIMEOUT_MS }, RELEASE_TIMEOUT_MS + this.deps.ipcTimeoutMs);
    } catch (err) {
      // A worker that died meanwhile is the restorer's (its `failed` event); one that did not
      // answer still has the match.
      released = null;
      log.warn({ matchId, err: (err as Error).message }, 'Worker did not release the match');
    }
    if (!released) {
      routes.apply(matchId, { type: 'releaseFailed', workerId: owner.workerId });
      throw new HttpError('UNAVAILABLE', 'The match could not be moved right now (its state was not all stored); it goes on here.');
    }
    try {
      await cluster.handOver(target, matchId, released.epoch);
    } catch (err) {
      log.warn({ matchId, hostId: target.hostId, err: (err as Error).message }, 'Target host did not take the match; restoring it here');
      void this.deps.restorer.adopt(matchId, released.epoch);
      throw new HttpError('UNAVAILABLE', `Host ${target.hostId} did not take the match; it goes on here.`);
    }
    routes.apply(matchId, { type: 'movedAway' });
    this.deps.restorer.forget(matchId);
    log.info({ matchId, hostId: target.hostId, epoch: released.epoch + 1 }, 'Match moved to another host');
    return { matchId, hostId: target.hostId };
  }

  /**
   * Moves every match away, a few at a time, retrying with backoff until `timeoutMs`;
   * resolves with how many are left (0: empty).
   */
  async drain(activeMatches: () => string[], timeoutMs: number): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (let round = 1; performance.now() < deadline; round++) {
      const ids = activeMatches();
      if (ids.length === 0) return 0;
      // With no other host that could take a match (none, or all full or draining), waiting
      // would only delay the exit: what is left stays in the store for whoever comes next.
      const target = await this.deps.cluster.pickTarget().catch(() => null);
      if (!target) {
        this.deps.log.warn({ left: ids.length }, 'Draining: no other host has room; leaving the matches in the store');
        return ids.length;
      }
      for (let i = 0; i < ids.length && performance.now() < deadline; i += DRAIN_PARALLEL) {
        await Promise.all(ids.slice(i, i + DRAIN_PARALLEL).map((id) => this.move(id).catch(() => null)));
      }
      if (activeMatches().length === 0) return 0;
      const wait = Math.min(backoff(round, 200, 2000), Math.max(0, deadline - performance.now()));
      this.deps.log.info({ left: activeMatches().length, retryInMs: wait }, 'Draining: matches left to move');
      await sleep(wait);
    }
    return activeMatches().length;
  }
}
