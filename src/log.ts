/**
 * The pino root logger of a process. Components take `logger.child({ component })`; nothing
 * imports a global logger, so each process (master, worker, single) builds its own here.
 * Pretty printing is for the dev scripts only (LOG_PRETTY=true) and runs in pino's
 * transport thread, so production output stays one JSON object per line.
 */
import pino, { type Logger } from 'pino';
import type { Config } from './config';

export type { Logger };

export function createLogger(
  config: Pick<Config, 'LOG_LEVEL' | 'LOG_PRETTY'>,
  bindings: Record<string, unknown> = {},
  /** Fields added to every line from its own fields (requestIds.ts: the reqId of a match). */
  mixin?: (fields: object) => object,
): Logger {
  return pino({
    level: config.LOG_LEVEL,
    ...(mixin ? { mixin } : {}),
    // No pid in the base: log lines such as "Spawned new worker" carry a worker's pid as `pid`.
    base: bindings,
    ...(config.LOG_PRETTY
      ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'hostname' } } }
      : {}),
  });
}
