/**
 * The pool master (`npm run dev:match:pool`): express on MATCH_PORT for PROTOCOL.md's HTTP
 * routes, WebSocket upgrades routed to the worker that owns the match, and the worker pool.
 * It never hosts a match itself.
 */
import http from 'node:http';
import { Registry } from 'prom-client';
import { loadConfigOrExit } from './config';
import { createLogger } from './log';
import { ClusterMetrics, packageVersion, PoolMetrics, ServiceMetrics } from './metrics';
import { HostCluster } from './hosts/hostCluster';
import { redisTarget } from './store/redisConnection';
import { QuizCatalog } from './quiz/quizzes';
import { matchRoutes } from './http/matchRoutes';
import { serverOptions } from './http/serverTimeouts';
import { openMasterStore } from './pool/masterStore';
import { PoolMatchService } from './pool/poolMatchService';
import { MatchWorkerPool } from './pool/workerPool';
import { installShutdown } from './shutdown';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config, { role: 'master' });
  const catalog = QuizCatalog.load();
  const registry = new Registry();
  const metrics = new PoolMetrics(registry);
  const serviceMetrics = new ServiceMetrics(registry, { version: packageVersion(), architecture: 'pool' });
  const store = await openMasterStore(config, log);
  const storeReachable = store.kind === 'redis' ? () => store.store.ping() : undefined;

  // With Redis this host is one of possibly several sharing it: it keeps a lease and a place
  // in the directory (WORKER_POOL_ARCHITECTURE.md "Several hosts").
  const cluster =
    store.kind === 'redis'
      ? new HostCluster({
          hostId: config.HOST_ID,
          publicUrl: config.PUBLIC_MATCH_URL,
          redis: redisTarget(config)!,
          leaseMs: config.HOST_LEASE_MS,
          opsToken: config.OPS_TOKEN,
          peerTimeoutMs: config.IPC_TIMEOUT_MS,
          // The owner pings each client every CLIENT_PING_INTERVAL_MS and may hold an upgrade
          // for UPGRADE_HOLD_MS before answering it: longer than both without a byte, it is gone.
          relayIdleTimeoutMs: config.UPGRADE_HOLD_MS + 3 * config.CLIENT_PING_INTERVAL_MS,
          store: store.store,
          log: log.child({ component: 'cluster' }),
          metrics: new ClusterMetrics(registry),
        })
      : undefined;
  const pool = new MatchWorkerPool({ config, store, log: log.child({ component: 'pool' }), metrics, registry, cluster });
  const service = new PoolMatchService(pool, store, config, cluster);
  serviceMetrics.observe(() => ({ matches: pool.counts().totalMatches, capacity: config.MAX_WORKERS * config.MAX_MATCHES }));
  // POST /admin/drain takes the same way out as SIGTERM.
  const drain = cluster ? () => process.kill(process.pid, 'SIGTERM') : undefined;
  const app = matchRoutes({ service, catalog, config, log: log.child({ component: 'http' }), storeReachable, drain });
  const server = http.createServer(serverOptions(config), app);
  server.on('upgrade', (req, socket, head) => pool.routeUpgrade(req, socket, head));

  installShutdown(
    log,
    async () => {
      service.setLifecycle('draining');
      if (cluster) {
        // The server stays open meanwhile: players told to reconnect may come back through
        // this host, and are relayed to their match's new one.
        const left = await pool.drain(config.DRAIN_TIMEOUT_MS);
        log.info({ left }, left === 0 ? 'Drained: every match moved to another host' : 'Drain timed out; the other hosts take over what is left');
      }
      server.close();
      await pool.stop();
      await store.store.close();
    },
    (cluster ? config.DRAIN_TIMEOUT_MS : 0) + 5000,
  );

  await new Promise<void>((resolve) => server.listen(config.MATCH_PORT, config.HOST, resolve));
  await pool.start();
  service.setLifecycle('ready');
  log.info({ port: config.MATCH_PORT, mode: 'Worker Pool Architecture' }, 'Match Service Master started');
}

main().catch((err: unknown) => {
  process.stderr.write(`Match Service Master failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
