/**
 * Request logs of both HTTP servers (pino-http): one line per request with its id, status
 * and duration. The id is the caller's `X-Request-Id` when it is a sane token (a proxy's or
 * a load balancer's), else a new UUID; it is echoed in the response's `X-Request-Id` and
 * bound as `reqId` on `req.log`, and `POST /matches` passes it on to the process that hosts
 * the match (requestIds.ts).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../log';

/** Printable, short, no spaces or quotes: safe to log and to send back in a header. */
const REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** Probes and scrapes come every few seconds: logged at debug, unless they fail. */
const QUIET_PATHS = new Set(['/livez', '/readyz', '/healthz', '/health', '/metrics']);

export function requestIdOf(header: string | string[] | undefined): string {
  const given = Array.isArray(header) ? header[0] : header;
  return given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
}

export function requestLogger(log: Logger) {
  return pinoHttp({
    logger: log,
    quietReqLogger: true,
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const id = requestIdOf(req.headers['x-request-id']);
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customLogLevel: (req, res, err) => {
      const quiet = QUIET_PATHS.has((req.url ?? '').split('?')[0] ?? '');
      // A 503 from a probe is a state (starting, draining, store away), not a failure.
      if (quiet) return res.statusCode < 400 ? 'debug' : 'warn';
      if (err || res.statusCode >= 500) return 'error';
      return res.statusCode >= 400 ? 'warn' : 'info';
    },
    // pino-http invents an Error ("failed with status code 503") for any 5xx, whose stack
    // points into pino-http: misleading. Real errors are logged with their own stack by
    // errorHandler ("Request failed"), carrying the same reqId.
    customErrorObject: (_req, _res, _err, val: Record<string, unknown>) => ({ ...val, err: undefined }),
    // Method, path and id are what an operator searches by; full headers are noise.
    serializers: {
      req: (req: { id: unknown; method: unknown; url: unknown }) => ({ id: req.id, method: req.method, url: req.url }),
      res: (res: { statusCode: unknown }) => ({ statusCode: res.statusCode }),
    },
  });
}
