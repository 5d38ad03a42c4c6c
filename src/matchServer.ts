/**
 * The single-process match server (`npm run dev:match`): HTTP routes and WebSocket endpoint
 * of PROTOCOL.md in one process, state in memory. The original architecture, kept as the
 * baseline the pool is measured against and as the fallback.
 */
import http from 'node:http';
import { Registry } from 'prom-client';
import { allowedOrigins, loadConfigOrExit } from './config';
import { createLogger } from './log';
import { packageVersion, ServiceMetrics } from './metrics';
import { MatchRequestIds } from './requestIds';
import { QuizCatalog } from './quiz/quizzes';
import { MemoryMatchStore } from './store/memoryStore';
import { createHosting } from './hosting/hostingStack';
import { LocalMatchService } from './hosting/localMatchService';
import { matchRoutes } from './http/matchRoutes';
import { checkUpgrade, refuseUpgrade } from './http/upgradeResponses';
import { clientAddress, compileTrust, isLocalClient } from './http/clientAddress';
import { serverOptions } from './http/serverTimeouts';
import { ConnectionCounts } from './limits/connectionCounts';
import { installShutdown } from './shutdown';

function main(): void {
  const config = loadConfigOrExit();
  const requestIds = new MatchRequestIds();
  const log = createLogger(config, { role: 'single' }, requestIds.mixin);
  const catalog = QuizCatalog.load();
  const registry = new Registry();
  registry.setDefaultLabels({ worker: '0' });
  const store = new MemoryMatchStore();
  const matchGone = (matchId: string, reason: string) => {
    log.info({ matchId, reason }, 'Match left the server');
    requestIds.forget(matchId);
  };
  const { host, gateway, metrics } = createHosting({ config, log, store, registry, events: { matchGone } });
  const service = new LocalMatchService(host, store, registry, metrics, config.SINGLE_MAX_MATCHES, requestIds, config.MAX_QUIZ_BYTES_TOTAL);
  new ServiceMetrics(registry, { version: packageVersion(), architecture: 'single' }).observe(() => ({
    matches: host.load().matches.length,
    capacity: config.SINGLE_MAX_MATCHES,
  }));
  const app = matchRoutes({ service, catalog, config, log: log.child({ component: 'http' }) });
  const origins = allowedOrigins(config);

  const trust = compileTrust(config.TRUST_PROXY);
  // Clients on this machine are not counted, as in the pool (the load tool opens thousands of
  // sockets from 127.0.0.1); everyone else is, generously enough for a classroom behind one NAT.
  const connections = new ConnectionCounts(config.MAX_CONNECTIONS_PER_IP);

  const server = http.createServer(serverOptions(config), app);
  server.on('upgrade', (req, socket, head) => {
    const check = checkUpgrade(req, socket, origins);
    if (!check.ok) return refuseUpgrade(socket, check.refusal);
    if (!host.hasMatch(check.matchId)) return refuseUpgrade(socket, 'NOT_FOUND');
    const addr = clientAddress(req, trust);
    // Counted down when the socket closes, however it closes (refused handshake included).
    if (!isLocalClient(req, trust) && !connections.admitSocket(addr, socket)) {
      return refuseUpgrade(socket, 'RATE_LIMITED', `Your address already has ${connections.maxPerAddress} open connections to this service.`);
    }
    gateway.accept(req, socket, head, check.matchId, addr);
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
