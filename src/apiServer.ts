/**
 * The API server (`npm run dev` / `npm start`, API_PORT): serves the browser quiz and the
 * operators' dashboard from `public/`, the quiz catalog (never the answers), recent results
 * (read from the match service), and where the match service is.
 */
import http from 'node:http';
import path from 'node:path';
import express from 'express';
import helmet from 'helmet';
import { loadConfigOrExit } from './config';
import { createLogger } from './log';
import { HttpError } from './protocol/errors';
import { QuizCatalog } from './quiz/quizzes';
import { errorHandler } from './http/matchRoutes';
import { installShutdown } from './shutdown';
import { requestLogger } from './http/requestLog';
import { serverOptions } from './http/serverTimeouts';

const PUBLIC_DIR = path.resolve(__dirname, '..', 'public');
const RESULTS_TIMEOUT_MS = 3000;

function main(): void {
  const config = loadConfigOrExit();
  const log = createLogger(config, { role: 'api' });
  const catalog = QuizCatalog.load();
  const matchService = config.MATCH_SERVICE_URL.replace(/\/$/, '');
  // The API server's own way to the match service (a service name in a container network).
  const matchServiceInternal = config.MATCH_SERVICE_INTERNAL_URL.replace(/\/$/, '');

  const app = express();
  app.disable('x-powered-by');
  app.use(requestLogger(log));
  app.use(browserHardening(matchService, config.PUBLIC_APP_URL));

  /** Liveness and readiness of this server alone: it serves the page even while the match service is away. */
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'OK', service: 'API Server' });
  });

  app.get('/api/config', (_req, res) => {
    res.json({ matchServiceUrl: matchService });
  });

  app.get('/api/quizzes', (_req, res) => {
    res.json(catalog.list());
  });

  app.get('/api/results', async (req, res) => {
    let upstream: Response;
    try {
      upstream = await fetch(`${matchServiceInternal}/results?limit=20`, {
        signal: AbortSignal.timeout(RESULTS_TIMEOUT_MS),
        headers: { 'X-Request-Id': String(req.id) },
      });
    } catch {
      throw new HttpError('UNAVAILABLE', 'The match service is not reachable.');
    }
    if (!upstream.ok) throw new HttpError('UNAVAILABLE', `The match service answered ${upstream.status}.`);
    res.json(await upstream.json());
  });

  app.get('/ops', (_req, res) => {
    res.sendFile(path.join(PUBLIC_DIR, 'ops.html'));
  });
  app.use(express.static(PUBLIC_DIR, { extensions: ['html'] }));
  app.use((_req, _res) => {
    throw new HttpError('NO_ROUTE', 'No such page.');
  });
  app.use(errorHandler(log));

  const server = http.createServer(serverOptions(config), app);
  server.listen(config.API_PORT, config.HOST, () => {
    log.info({ port: config.API_PORT, matchService, matchServiceInternal }, 'API server started');
  });
  installShutdown(log, () => new Promise<void>((resolve) => server.close(() => resolve())));
}

/**
 * Headers that keep the page from being framed, sniffed or made to run someone else's script
 * (the page has no inline script or style: everything is a file of ours). The page talks to
 * the match service, another origin, over HTTP and WebSocket: that origin alone is allowed.
 */
function browserHardening(matchServiceUrl: string, publicAppUrl: string) {
  const match = new URL(matchServiceUrl);
  const ws = new URL(matchServiceUrl);
  ws.protocol = match.protocol === 'https:' ? 'wss:' : 'ws:';
  const https = new URL(publicAppUrl).protocol === 'https:';
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'", match.origin, ws.origin],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        // Only where the page itself is served over TLS: on plain http it would send the
        // page's calls to an https match service that is not there.
        ...(https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // HSTS over plain http is ignored by browsers and confuses people testing on localhost.
    strictTransportSecurity: https,
  });
}

main();
