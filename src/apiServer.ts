/**
 * The API server (`npm run dev` / `npm start`, API_PORT): serves the browser quiz, the quiz
 * editor, the results page and the operators' dashboard from `public/` (compressed), the
 * quiz catalog (never the answers), the names of the images quizzes may use, recent results
 * (read from the match service), and where the match service is.
 */
import { readdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import compression from 'compression';
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
/**
 * The QR code encoder the big screen's lobby draws the join link with: the package's own ES
 * module, served from node_modules (a production dependency) so the page loads nothing from
 * anywhere but this server.
 */
const QR_MODULE = path.join(path.dirname(require.resolve('qrcode-generator')), 'qrcode.mjs');
const RESULTS_TIMEOUT_MS = 3000;
/** Images shipped with the built-in quizzes; a quiz names one by its bare file name. */
const QUIZ_IMAGES_DIR = path.join(PUBLIC_DIR, 'quiz-images');
const QUIZ_IMAGE_FILE = /^[a-z0-9][a-z0-9._-]*\.(svg|png|jpe?g|webp)$/i;

function main(): void {
  const config = loadConfigOrExit();
  const log = createLogger(config, { role: 'api' });
  const catalog = QuizCatalog.load();
  const quizImages = shippedQuizImages();
  const matchService = config.MATCH_SERVICE_URL.replace(/\/$/, '');
  // The API server's own way to the match service (a service name in a container network).
  const matchServiceInternal = config.MATCH_SERVICE_INTERNAL_URL.replace(/\/$/, '');

  const app = express();
  app.disable('x-powered-by');
  app.use(requestLogger(log));
  app.use(browserHardening(matchService, config.PUBLIC_APP_URL));
  // The page's scripts and styles are text: gzip makes them a fraction of their size on a phone.
  app.use(compression());

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

  /** The editor offers these by name (the files are served under /quiz-images/). */
  app.get('/api/quiz-images', (_req, res) => {
    res.json(quizImages);
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
  app.get('/vendor/qrcode.mjs', (_req, res) => {
    // A module script is only run with a JavaScript type (and nosniff forbids guessing).
    res.sendFile(QR_MODULE, { headers: { 'Content-Type': 'text/javascript; charset=utf-8' } });
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

/** The image files under public/quiz-images/ (none until the built-in quizzes ship some). */
function shippedQuizImages(): string[] {
  try {
    return readdirSync(QUIZ_IMAGES_DIR)
      .filter((f) => QUIZ_IMAGE_FILE.test(f))
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
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
