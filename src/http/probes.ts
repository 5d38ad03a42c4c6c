/**
 * Kubernetes-style probes of the match service, in both architectures:
 * - `GET /livez`: the process answers HTTP. It touches nothing else (no store, no worker), so
 *   a Redis outage never gets a healthy master restarted, which would drop every player.
 * - `GET /readyz`: it accepts new matches: started, not draining, and its store reachable.
 *   A load balancer stops sending new players here while it is not.
 * `/health` stays as PROTOCOL.md shows it.
 */
import { Router } from 'express';
import type { Lifecycle } from './matchService';

export interface ReadyzBody {
  status: 'READY' | 'NOT_READY';
  lifecycle: Lifecycle;
  store: 'reachable' | 'unreachable';
}

export function probeRoutes(deps: { lifecycle: () => Lifecycle; storeReachable: () => Promise<boolean> }): Router {
  const router = Router();
  router.get('/livez', (_req, res) => {
    res.json({ status: 'ALIVE' });
  });
  router.get('/readyz', async (_req, res) => {
    const lifecycle = deps.lifecycle();
    const reachable = await deps.storeReachable().catch(() => false);
    const ready = lifecycle === 'ready' && reachable;
    const body: ReadyzBody = { status: ready ? 'READY' : 'NOT_READY', lifecycle, store: reachable ? 'reachable' : 'unreachable' };
    res.status(ready ? 200 : 503).json(body);
  });
  return router;
}
