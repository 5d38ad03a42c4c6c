/**
 * The master's store, memory or Redis, decided here once from REDIS_URL. Everything else
 * reads `kind` instead of deciding again: with memory, workers reach this store over their
 * store pipes; with Redis, workers connect to Redis themselves and a restarted master takes
 * back the live matches Redis kept.
 */
import type { Config } from '../config';
import type { Logger } from '../log';
import { MemoryMatchStore } from '../store/memoryStore';
import { RedisMatchStore } from '../store/redisStore';
import { redisTarget, replicaWait } from '../store/redisConnection';

export type MasterStore = { kind: 'memory'; store: MemoryMatchStore } | { kind: 'redis'; store: RedisMatchStore };

export async function openMasterStore(config: Config, log: Logger): Promise<MasterStore> {
  const target = redisTarget(config);
  if (!target) {
    log.info('Match store: master memory (set REDIS_URL for Redis)');
    // Snapshots arrive freshly parsed from each worker's pipe and belong to nobody else: no copies.
    return { kind: 'memory', store: new MemoryMatchStore({ copy: false }) };
  }
  const redis = new RedisMatchStore(target, log.child({ component: 'redis' }), config.HOST_ID, replicaWait(config));
  await redis.ready();
  log.info('Master connected to Redis');
  return { kind: 'redis', store: redis };
}
