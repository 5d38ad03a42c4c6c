/**
 * Where Redis is, decided once from the settings, and how every part of the service connects
 * to it (the match store, the host registry): a plain URL (REDIS_URL), or a master found
 * through Sentinel (REDIS_SENTINELS + REDIS_MASTER_NAME; REDIS_URL then gives only the
 * credentials and database). ioredis follows a Sentinel failover by itself: it asks the
 * sentinels for the new master and reconnects, and every call fails fast meanwhile.
 */
import Redis, { type RedisOptions } from 'ioredis';
import type { Config } from '../config';

export type RedisTarget =
  | { kind: 'url'; url: string }
  | { kind: 'sentinel'; sentinels: Array<{ host: string; port: number }>; name: string; url?: string };

/** Redis from the settings, or null (the embedded memory store). */
export function redisTarget(c: Pick<Config, 'REDIS_URL' | 'REDIS_SENTINELS' | 'REDIS_MASTER_NAME'>): RedisTarget | null {
  if (c.REDIS_SENTINELS) {
    const sentinels = c.REDIS_SENTINELS.split(',').map((hostPort) => {
      const at = hostPort.trim().lastIndexOf(':');
      return { host: hostPort.trim().slice(0, at), port: Number(hostPort.trim().slice(at + 1)) };
    });
    return { kind: 'sentinel', sentinels, name: c.REDIS_MASTER_NAME, ...(c.REDIS_URL ? { url: c.REDIS_URL } : {}) };
  }
  return c.REDIS_URL ? { kind: 'url', url: c.REDIS_URL } : null;
}

/** REDIS_WAIT_REPLICAS and its timeout, as the match store takes them. */
export function replicaWait(c: Pick<Config, 'REDIS_WAIT_REPLICAS' | 'REDIS_WAIT_TIMEOUT_MS'>): { wait: number; timeoutMs: number } {
  return { wait: c.REDIS_WAIT_REPLICAS, timeoutMs: c.REDIS_WAIT_TIMEOUT_MS };
}

/** For logs: where, without credentials. */
export function describeTarget(t: RedisTarget): string {
  if (t.kind === 'sentinel') return `sentinel ${t.name} via ${t.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`;
  const u = new URL(t.url);
  return `${u.hostname}:${u.port || 6379}`;
}

/**
 * The options every connection of the service uses: a call fails within 2 s instead of
 * hanging while Redis is away (callers hold acks and retry), and reconnects back off with
 * jitter, for as long as it takes.
 */
export const SERVICE_REDIS_OPTIONS: RedisOptions = {
  maxRetriesPerRequest: 1,
  commandTimeout: 2000,
  connectTimeout: 2000,
  retryStrategy: (times) => Math.min(2000, 50 * 2 ** Math.min(times, 6)) * (0.5 + Math.random() / 2),
};

export function connectRedis(t: RedisTarget, options: RedisOptions = SERVICE_REDIS_OPTIONS): Redis {
  if (t.kind === 'url') return new Redis(t.url, options);
  const auth = t.url ? new URL(t.url) : null;
  return new Redis({
    ...options,
    sentinels: t.sentinels,
    name: t.name,
    ...(auth?.username ? { username: decodeURIComponent(auth.username) } : {}),
    ...(auth?.password ? { password: decodeURIComponent(auth.password) } : {}),
    db: auth && auth.pathname.length > 1 ? Number(auth.pathname.slice(1)) : 0,
    // Sentinels answer quickly or not at all; after a failover, ask them again at once.
    sentinelRetryStrategy: (times) => Math.min(1000, 50 * 2 ** Math.min(times, 5)),
  });
}
