/**
 * The single-process match server (`npm run dev:match`): HTTP routes and WebSocket endpoint
 * of PROTOCOL.md in one process, state in memory. The original architecture, kept as the
 * baseline the pool is measured against and as the fallback.
 */
import http from 'node:http';
import { Registry } from 'prom-client';
import { allowedOrigins, gatewayLimits, loadConfigOrExit, matchTiming } from './config';
import { createLogger } from './log';
import { HostingMetrics, packageVersion, ServiceMetrics } from './metrics';
import { MatchRequestIds } from './requestIds';
import { QuizCatalog } from './quiz/quizzes';
import { MemoryMatchStore } from './store/memoryStore';
import { MatchHost } from './hosting/matchHost';
import { WsGateway } from './hosting/wsGateway';
import { LocalMatchService } from './hosting/localMatchService';
import { matchRoutes } from './http/matchRoutes';
import { checkUpgrade, refuseUpgrade } from './http/upgradeResponses';
import { serverOptions } from './http/serverTimeouts';
import { installShutdown } from './shutdown';

function main(): void {
  const config = loadConfigOrExit();
  const requestIds = new MatchRequestIds();
  const log = createLogger(config, { role: 'single' }, requestIds.mixin);
  const catalog = QuizCatalog.load();
  const registry = new Registry();
  registry.setDefaultLabels({ worker: '0' });
  const metrics = new HostingMetrics(registry);
  const store = new MemoryMatchStore();
  const host = new MatchHost({
    store,
    timing: matchTiming(config),
    log: log.child({ component: 'host' }),
    metrics,
    events: {
      matchGone: (matchId, reason) => {
        log.info({ matchId, reason }, 'Match left the server');
        requestIds.forget(matchId);
      },
    },
  });
  const gateway = new WsGateway(
    host,
    gatewayLimits(config),
    log.child({ component: 'gateway' }),
    metrics,
  );
  const service = new LocalMatchService(host, store, registry, metrics, config.SINGLE_MAX_MATCHES, requestIds, config.MAX_QUIZ_BYTES_TOTAL);
  new ServiceMetrics(registry, { version: packageVersion(), architecture: 'single' }).observe(() => ({
    matches: host.load().matches.length,
    capacity: config.SINGLE_MAX_MATCHES,
  }));
  const app = matchRoutes({ service, catalog, config, log: log.child({ component: 'http' }) });
  const origins = allowedOrigins(config);

  const server = http.createServer(serverOptions(config), app);
  server.on('upgrade', (req, socket, head) => {
    const check = checkUpgrade(req, socket, origins);
    if (!check.ok) return refuseUpgrade(socket, check.refusal);
    if (!host.hasMatch(check.matchId)) return refuseUpgrade(socket, 'NOT_FOUND');
    gateway.accept(req, socket, head, check.matchId);
  });

  server.listen(config.MATCH_PORT, config.HOST, () => {
    service.setLifecycle('ready');
    log.info({ port: config.MATCH_PORT, mode: 'Single Process' }, 'Match Service started');
  });

  installShutdown(log, async () => {
    service.setLifecycle('draining');
    host.shutdown('server shutting down');
    gateway.close();
    metrics.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
}

main();
