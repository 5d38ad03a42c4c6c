/**
 * The pool master (`npm run dev:match:pool`): express on MATCH_PORT for PROTOCOL.md's HTTP
 * routes, WebSocket upgrades routed to the worker that owns the match, and the worker pool.
 * It never hosts a match itself.
 */
import http from 'node:http';
import { Registry } from 'prom-client';
import { loadConfigOrExit } from './config';
import { createLogger } from './log';
import { packageVersion, PoolMetrics, ServiceMetrics } from './metrics';
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

  const pool = new MatchWorkerPool({ config, store, log: log.child({ component: 'pool' }), metrics, registry });
  const service = new PoolMatchService(pool, store, config);
  serviceMetrics.observe(() => ({ matches: pool.counts().totalMatches, capacity: config.MAX_WORKERS * config.MAX_MATCHES }));
  const app = matchRoutes({ service, catalog, config, log: log.child({ component: 'http' }), storeReachable });
  const server = http.createServer(serverOptions(config), app);
  server.on('upgrade', (req, socket, head) => pool.routeUpgrade(req, socket, head));

  installShutdown(log, async () => {
    service.setLifecycle('draining');
    server.close();
    await pool.stop();
    await store.store.close();
  });

  await new Promise<void>((resolve) => server.listen(config.MATCH_PORT, config.HOST, resolve));
  await pool.start();
  service.setLifecycle('ready');
  log.info({ port: config.MATCH_PORT, mode: 'Worker Pool Architecture' }, 'Match Service Master started');
}

main().catch((err: unknown) => {
  process.stderr.write(`Match Service Master failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
