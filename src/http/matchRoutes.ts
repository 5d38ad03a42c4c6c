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
import { PHONE_VIEWS } from '../protocol/messages';
import { cors } from './origins';
import { clientAddress, compileTrust, isLocalClient } from './clientAddress';
import { CreateGuard } from './createGuard';
import { opsAccess } from './opsAccess';
import { describeZodError, type QuizCatalog, quizSchemaWith } from '../quiz/quizzes';
import { validName } from '../quiz/engine';
import { MATCH_ID_PATTERN } from '../matchIds';
import type { Logger } from '../log';
import { type CreatedMatch, FORWARDED_BY, type MatchService } from './matchService';
import { probeRoutes } from './probes';
import { requestLogger } from './requestLog';

/**
 * The largest request body (POST /matches): 2 MiB, so a quiz with a few pictures fits (fifteen
 * at the default MAX_IMAGE_BYTES of 128 KiB, besides 100 questions of text), while one request
 * stays small next to MAX_QUIZ_BYTES_TOTAL. PROTOCOL.md Part 2 documents the figure.
 */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

function createMatchBody(maxImageBytes: number) {
  return z.object({
    quizId: z.string().max(60).optional(),
    quiz: quizSchemaWith({ maxImageBytes }).optional(),
    hostName: z.string().max(200).optional(),
    settings: z
      .object({
        lateJoin: z.boolean().optional(),
        maxPlayers: z.number().int().min(1).optional(),
        phoneView: z.enum(PHONE_VIEWS).optional(),
      })
      .optional(),
  });
}

export function matchRoutes(deps: {
  service: MatchService;
  catalog: QuizCatalog;
  config: Config;
  log: Logger;
  /** For `/readyz`: whether the match store answers (a Redis ping); absent: always (memory). */
  storeReachable?: () => Promise<boolean>;
  /** POST /admin/drain: start the same drain as SIGTERM. Absent: the route does not exist. */
  drain?: () => void;
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
  app.use(express.json({ limit: MAX_BODY_BYTES }));
  const createBody = createMatchBody(config.MAX_IMAGE_BYTES);

  app.post('/matches', async (req, res) => {
    if (service.lifecycle() !== 'ready') throw new HttpError('UNAVAILABLE', `The match service is ${service.lifecycle()}.`);
    const parsed = createBody.safeParse(req.body ?? {});
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
    const settings = {
      lateJoin: body.settings?.lateJoin ?? false,
      maxPlayers,
      phoneView: body.settings?.phoneView ?? 'full',
      playerListMax: config.PLAYER_LIST_MAX,
      ...(hostName ? { hostName } : {}),
    };
    const ticket = isLocalClient(req, trust) ? null : await createGuard.admit(clientAddress(req, trust));
    let created;
    try {
      created = await service.createMatch({ quiz, settings, requestId: String(req.id) });
    } catch (err) {
      ticket?.failed();
      throw err;
    }
    ticket?.created(created.matchId);
    res.status(201).json(createdBody(created, config));
  });

  /**
   * A peer host places a match here because it had no room (hosts/peerClient.ts): the quiz
   * and settings were checked by that host's POST /matches, and are checked again here; the
   * match is created here or not at all. Operators' access: loopback or OPS_TOKEN.
   */
  app.post('/internal/matches', opsOnly, async (req, res) => {
    if (service.lifecycle() !== 'ready') throw new HttpError('UNAVAILABLE', `The match service is ${service.lifecycle()}.`);
    const parsed = internalCreateBody(config).safeParse(req.body ?? {});
    if (!parsed.success) throw new HttpError('BAD_REQUEST', describeZodError(parsed.error));
    const { quiz, settings } = parsed.data;
    if (settings.hostName !== undefined && validName(settings.hostName) === null) throw new HttpError('BAD_REQUEST', 'hostName: 1 to 20 visible characters.');
    const created = await service.createMatch({ quiz, settings: { ...settings, playerListMax: config.PLAYER_LIST_MAX }, requestId: String(req.id), localOnly: true });
    res.status(201).json(createdBody(created, config));
  });

  /** A peer moves a match here (hosts/peerClient.ts `adopt`): answered once this host serves it. */
  app.post('/internal/matches/:id/adopt', opsOnly, async (req, res) => {
    if (!service.adoptMatch) throw new HttpError('NO_ROUTE');
    const epoch = z.object({ epoch: z.number().int().min(1) }).safeParse(req.body ?? {});
    if (!epoch.success) throw new HttpError('BAD_REQUEST', describeZodError(epoch.error));
    const matchId = matchIdParam(String(req.params.id));
    if (!(await service.adoptMatch(matchId, epoch.data.epoch))) throw new HttpError('UNAVAILABLE', 'This host could not take the match.');
    res.json({ matchId, adopted: true });
  });

  /** Operators: move one match to another host (`hostId`, or the least-loaded with room). */
  app.post('/admin/matches/:id/move', opsOnly, async (req, res) => {
    if (!service.moveMatch) throw new HttpError('NO_ROUTE');
    const body = z.object({ hostId: z.string().max(64).optional() }).safeParse(req.body ?? {});
    if (!body.success) throw new HttpError('BAD_REQUEST', describeZodError(body.error));
    res.json(await service.moveMatch(matchIdParam(String(req.params.id)), body.data.hostId));
  });

  /** Operators: drain this host (as SIGTERM does): readiness fails at once, matches move away, then it exits. */
  app.post('/admin/drain', opsOnly, (_req, res) => {
    if (!deps.drain) throw new HttpError('NO_ROUTE');
    res.status(202).json({ draining: true });
    deps.drain();
  });

  app.get('/hosts', opsOnly, async (_req, res) => {
    if (!service.hosts) throw new HttpError('NO_ROUTE');
    res.json({ hosts: await service.hosts() });
  });

  app.get('/matches/:id', async (req, res) => {
    const info = await service.matchInfo(matchIdParam(req.params.id), { localOnly: req.get(FORWARDED_BY) !== undefined });
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

/** The 201 of POST /matches (and of a peer's POST /internal/matches). */
function createdBody(created: CreatedMatch, config: Config) {
  return {
    matchId: created.matchId,
    hostToken: created.hostToken,
    wsPath: `/ws/matches/${created.matchId}`,
    workerId: created.workerId,
    joinUrl: `${config.PUBLIC_APP_URL.replace(/\/$/, '')}/?join=${created.matchId}`,
    // Several hosts: who owns it, and its WebSocket address there (any host also reaches it).
    ...(created.hostId ? { hostId: created.hostId } : {}),
    ...(created.hostUrl ? { hostUrl: created.hostUrl, wsUrl: `${created.hostUrl.replace(/^http/, 'ws').replace(/\/$/, '')}/ws/matches/${created.matchId}` } : {}),
  };
}

/** What a peer sends to POST /internal/matches: the quiz itself and the settings it resolved. */
function internalCreateBody(config: Config) {
  return z.object({
    quiz: quizSchemaWith({ maxImageBytes: config.MAX_IMAGE_BYTES }),
    settings: z.object({
      lateJoin: z.boolean(),
      maxPlayers: z.number().int().min(1).max(config.MAX_PLAYERS),
      phoneView: z.enum(PHONE_VIEWS),
      hostName: z.string().max(200).optional(),
    }),
  });
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
