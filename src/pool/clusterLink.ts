/**
 * The pool's side of several hosts on one Redis (hosts/hostCluster.ts): what the cluster may
 * ask of this pool (its load, whether a match is here, adopting an orphan, letting a match go
 * that another host owns now), and moving matches away (mover.ts). A standalone host has none.
 */
import type { Logger } from '../log';
import type { HostCluster } from '../hosts/hostCluster';
import type { HostLoad } from '../hosts/hostRegistry';
import { MatchMover } from './mover';
import type { Restorer } from './restorer';
import type { RouteTable } from './routeTable';
import type { WorkerSet } from './workerSet';

/** How long a worker may take to let a match go that another host took over. */
const LET_GO_TIMEOUT_MS = 1000;

export interface ClusterLinkDeps {
  cluster: HostCluster;
  routes: RouteTable;
  workers: Pick<WorkerSet, 'get'>;
  restorer: Pick<Restorer, 'adopt' | 'forget'>;
  /** What this host tells the others about itself on every lease renewal. */
  load: () => HostLoad;
  ipcTimeoutMs: number;
  log: Logger;
}

export class ClusterLink {
  private readonly mover: MatchMover;

  constructor(private readonly deps: ClusterLinkDeps) {
    const { cluster, routes, workers, restorer, ipcTimeoutMs, log } = deps;
    this.mover = new MatchMover({ routes, workers, restorer, cluster, ipcTimeoutMs, log });
    cluster.bind({
      load: deps.load,
      isLocal: (matchId) => routes.get(matchId) !== undefined,
      adopt: (orphan) => restorer.adopt(orphan.matchId, orphan.epoch),
      activeMatchIds: () => routes.idsIn('active'),
      letGo: (ids) => {
        for (const matchId of ids) void this.letGo(matchId);
      },
    });
  }

  get hostId(): string {
    return this.deps.cluster.hostId;
  }

  /** This host's id and address, on a match it creates. */
  ownerFields(): { hostId: string; hostUrl: string } {
    return { hostId: this.deps.cluster.hostId, hostUrl: this.deps.cluster.publicUrl };
  }

  /** Moves one match to another host (`toHostId`, or the least-loaded with room). */
  move(matchId: string, toHostId?: string): Promise<{ matchId: string; hostId: string }> {
    return this.mover.move(matchId, toHostId);
  }

  /** Moves every active match to other hosts; resolves with how many are left after `timeoutMs`. */
  drain(timeoutMs: number): Promise<number> {
    return this.mover.drain(() => this.deps.routes.idsIn('active'), timeoutMs);
  }

  /**
   * Another host owns the match now: its worker lets it go (the players are told to reconnect,
   * 4010, and reach the new owner); a write it still had is refused by the store.
   */
  private async letGo(matchId: string): Promise<void> {
    const route = this.deps.routes.get(matchId);
    const owner = route?.workerId == null ? undefined : this.deps.workers.get(route.workerId);
    if (!owner) return;
    await owner.request({ type: 'releaseMatch', matchId, timeoutMs: LET_GO_TIMEOUT_MS }, LET_GO_TIMEOUT_MS + this.deps.ipcTimeoutMs).catch(() => null);
  }
}
