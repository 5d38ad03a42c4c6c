/**
 * The match service's HTTP routes (PROTOCOL.md "HTTP on the match service"), shared by the
 * single process and the pool master. Input is validated here with zod; every error leaves
 * as `{"error":{"code","message"}}` with its status.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Config } from '../config';
import { allowedOrigins } from '../config';
import { HttpError } from '../protocol/errors';
import { cors } from './origins';
import { clientAddress, compileTrust, isLocalClient } from './clientAddress';
import { CreateGuard } from './createGuard';
import { opsAccess } from './opsAccess';
import { describeZodError, type QuizCatalog, quizSchema } from '../quiz/quizzes';
import { validName } from '../quiz/engine';
import { MATCH_ID_PATTERN } from '../matchIds';
import type { Logger } from '../log';
import type { MatchService } from './matchService';
import { probeRoutes } from './probes';
import { requestLogger } from './requestLog';

const createMatchBody = z.object({
  quizId: z.string().max(60).optional(),
  quiz: quizSchema.optional(),
  hostName: z.string().max(200).optional(),
  settings: z
    .object({
      lateJoin: z.boolean().optional(),
      maxPlayers: z.number().int().min(1).optional(),
    })
    .optional(),
});

export function matchRoutes(deps: {
  service: MatchService;
  catalog: QuizCatalog;
  config: Config;
  log: Logger;
  /** For `/readyz`: whether the match store answers (a Redis ping); absent: always (memory). */
  storeReachable?: () => Promise<boolean>;
}): express.Express {
  const { service, catalog, config, log } = deps;
  const app = express();
  app.disable('x-powered-by');
  const trust = compileTrust(config.TRUST_PROXY);
  app.set('trust proxy', trust);
  const opsOnly = opsAccess(config.OPS_TOKEN, trust);
  const createGuard = new CreateGuard(config.CREATE_RATE_PER_MIN, config.MAX_OPEN_LOBBIES_PER_IP, async (id) => (await service.matchInfo(id))?.status === 'lobby');
  app.use(requestLogger(log));
  app.use(probeRoutes({ lifecycle: () => service.lifecycle(), storeReachable: deps.storeReachable ?? (async () => true) }));
  app.use(cors(allowedOrigins(config)));
  app.use(express.json({ limit: '256kb' }));

  app.post('/matches', async (req, res) => {
    if (service.lifecycle() !== 'ready') throw new HttpError('UNAVAILABLE', `The match service is ${service.lifecycle()}.`);
    const parsed = createMatchBody.safeParse(req.body ?? {});
    if (!parsed.success) throw new HttpError('BAD_REQUEST', describeZodError(parsed.error));
    const body = parsed.data;
    if ((body.quizId === undefined) === (body.quiz === undefined)) {
      throw new HttpError('BAD_REQUEST', 'Give exactly one of "quizId" or "quiz".');
    }
    const quiz = body.quiz ?? catalog.get(body.quizId!);
    if (!quiz) throw new HttpError('BAD_REQUEST', `Unknown quizId "${body.quizId}".`);
    const maxPlayers = body.settings?.maxPlayers ?? config.MAX_PLAYERS;
    if (maxPlayers > config.MAX_PLAYERS) {
      throw new HttpError('BAD_REQUEST', `settings.maxPlayers: at most ${config.MAX_PLAYERS} on this server.`);
    }
    const hostName = body.hostName === undefined ? undefined : validName(body.hostName);
    if (hostName === null) throw new HttpError('BAD_REQUEST', 'hostName: 1 to 20 visible characters.');
    const settings = { lateJoin: body.settings?.lateJoin ?? false, maxPlayers, ...(hostName ? { hostName } : {}) };
    const ticket = isLocalClient(req, trust) ? null : await createGuard.admit(clientAddress(req, trust));
    let created;
    try {
      created = await service.createMatch({ quiz, settings, requestId: String(req.id) });
    } catch (err) {
      ticket?.failed();
      throw err;
    }
    ticket?.created(created.matchId);
    res.status(201).json({
      matchId: created.matchId,
      hostToken: created.hostToken,
      wsPath: `/ws/matches/${created.matchId}`,
      workerId: created.workerId,
      joinUrl: `${config.PUBLIC_APP_URL.replace(/\/$/, '')}/?join=${created.matchId}`,
    });
  });

  app.get('/matches/:id', async (req, res) => {
    const info = await service.matchInfo(matchIdParam(req.params.id));
    if (!info) throw new HttpError('NOT_FOUND');
    res.json(info);
  });

  app.get('/matches/:id/results', async (req, res) => {
    const results = await service.results(matchIdParam(req.params.id));
    if (!results) throw new HttpError('NOT_FOUND', 'No results for that match (unknown, or not finished yet).');
    res.json(results);
  });

  /** Recent finished matches, newest first (the API server's results page reads this). */
  app.get('/results', async (req, res) => {
    const limit = z.coerce.number().int().min(1).max(50).catch(20).parse(req.query.limit);
    res.json(await service.recentResults(limit));
  });

  app.get('/health', (_req, res) => {
    const body = service.health();
    res.status(body.status === 'OK' ? 200 : 503).json(body);
  });

  app.get('/workers/stats', opsOnly, (_req, res) => {
    res.json(service.workerStats());
  });

  app.get('/metrics', opsOnly, async (_req, res) => {
    const { contentType, body } = await service.metrics();
    res.type(contentType).send(body);
  });

  app.use((_req, _res) => {
    throw new HttpError('NO_ROUTE');
  });
  app.use(errorHandler(log));
  return app;
}

function matchIdParam(raw: string | undefined): string {
  const id = (raw ?? '').toUpperCase();
  if (!MATCH_ID_PATTERN.test(id)) throw new HttpError('NOT_FOUND');
  return id;
}

/** Turns thrown errors (ours, body-parser's, anything else) into the protocol's error shape. */
export function errorHandler(log: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    let http: HttpError;
    if (err instanceof HttpError) {
      http = err;
    } else if (clientErrorStatus(err) === 413) {
      http = new HttpError('TOO_LARGE');
    } else if (clientErrorStatus(err) !== null) {
      // body-parser (bad JSON, unsupported encoding or charset) and the router (a path that
      // does not decode) throw http-errors with a 4xx status and a message safe to show.
      const e = err as { type?: string; message?: string };
      http = new HttpError('BAD_REQUEST', e.type === 'entity.parse.failed' ? 'Request body is not valid JSON.' : (e.message ?? 'Bad request.'));
    } else {
      // With its stack (pino's err serializer), and the request's id where pino-http bound one.
      (req.log ?? log).error({ err }, 'Request failed');
      http = new HttpError('INTERNAL');
    }
    res.set(http.headers()).status(http.status).json(http.body());
  };
}

/** The 4xx status of an http-errors error (what body-parser and the router throw), else null. */
function clientErrorStatus(err: unknown): number | null {
  if (typeof err !== 'object' || err === null || !('status' in err) || typeof err.status !== 'number') return null;
  return err.status >= 400 && err.status < 500 ? err.status : null;
}
