/**
 * Describing a match for `GET /matches/:id`: a live one as its worker says (bounded, so a
 * stuck worker costs a stale answer, not a hung request), else as the store holds it while it
 * has no worker (moving, being restored); one on another host as that host says.
 */
import { type MatchSummary, storedMatchSummary } from '../http/matchService';
import type { HostCluster } from '../hosts/hostCluster';
import type { MatchDirectory } from '../store/store';
import type { RouteTable } from './routeTable';
import type { WorkerSet } from './workerSet';

const MATCH_INFO_TIMEOUT_MS = 2000;

export interface MatchInfoDeps {
  routes: RouteTable;
  workers: Pick<WorkerSet, 'get'>;
  directory: Pick<MatchDirectory, 'load'>;
  cluster?: Pick<HostCluster, 'hostId' | 'describeRemote'>;
}

/** `localOnly`: a peer asks, so a match that is not here is not looked for elsewhere. */
export async function matchInfo(deps: MatchInfoDeps, matchId: string, opts: { localOnly?: boolean } = {}): Promise<MatchSummary | null> {
  const { routes, workers, directory, cluster } = deps;
  const route = routes.get(matchId);
  if (!route) return opts.localOnly || !cluster ? null : cluster.describeRemote(matchId);
  const owner = route.workerId === null ? undefined : workers.get(route.workerId);
  const hostId = cluster ? { hostId: cluster.hostId } : {};
  if (route.state === 'active' && owner) {
    const info = await owner.request({ type: 'matchInfo', matchId }, MATCH_INFO_TIMEOUT_MS).catch(() => null);
    if (info) return { ...info, workerId: owner.workerId, ...hostId };
  }
  const stored = await directory.load(matchId).catch(() => null);
  return stored ? { ...storedMatchSummary(matchId, stored, route.workerId), ...hostId } : null;
}
