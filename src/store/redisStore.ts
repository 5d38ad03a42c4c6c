/**
 * Match state in Redis (REDIS_URL), through ioredis. Fencing is atomic: the epoch check and
 * the write happen in one Lua script, so a stale owner can never slip a write in between.
 *
 * Keys (prefix `qm:`): `match:<id>` hash {epoch, quiz, state} (the quiz written once, the
 * state on every save; a hash from before that split has one `snapshot` field, still read);
 * `live` set of live match ids;
 * `results:<id>` JSON with a TTL; `results:recent` list of the newest finished ids.
 *
 * While Redis is unreachable every call fails within `commandTimeout` instead of hanging,
 * so callers (the match host) hold their acks and retry with backoff; ioredis reconnects by
 * itself, with jittered backoff, for as long as it takes.
 */
import Redis from 'ioredis';
import type { Logger } from '../log';
import type { MatchSnapshot } from '../quiz/engine';
import { type MatchResults, type MatchState, type MatchStore, RECENT_RESULTS_KEPT, RESULTS_TTL_SEC, StoreFencedError, type StoredMatch, StoreUnavailableError, stateOf } from './store';

const PREFIX = 'qm:';
const LIVE = `${PREFIX}live`;
const RECENT = `${PREFIX}results:recent`;
const matchKey = (id: string) => `${PREFIX}match:${id}`;
const resultsKey = (id: string) => `${PREFIX}results:${id}`;

// ARGV: epoch, state JSON, match id[, quiz JSON]. Returns 1 written, 0 fenced (another epoch
// owns it), -1 removed (the match is over), -2 missing. A key missing altogether means Redis
// lost its data (restarted without persistence): the owner's copy is the newest there is, so
// it seeds the store again, which takes the quiz: without it the caller gets -2 and repeats
// the call with the quiz.
const SAVE_IF_OWNER = `
local e = redis.call('HGET', KEYS[1], 'epoch')
if not e then
  if not ARGV[4] then return -2 end
  redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'quiz', ARGV[4], 'state', ARGV[2])
  redis.call('SADD', KEYS[2], ARGV[3])
  return 1
end
if redis.call('HEXISTS', KEYS[1], 'removed') == 1 then return -1 end
if tonumber(e) ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2])
return 1`;

// Leaves a tombstone (epoch + removed) for a day, so a stale owner cannot bring it back.
const REMOVE_IF_OWNER = `
local e = redis.call('HGET', KEYS[1], 'epoch')
if not e then return -1 end
if tonumber(e) ~= tonumber(ARGV[1]) then return 0 end
redis.call('HDEL', KEYS[1], 'quiz', 'state', 'snapshot')
redis.call('HSET', KEYS[1], 'removed', 1)
redis.call('EXPIRE', KEYS[1], 86400)
redis.call('SREM', KEYS[2], ARGV[2])
return 1`;

// Returns {epoch, quiz, state, snapshot} after bumping the epoch, or nil when the match is gone.
const CLAIM = `
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'removed') == 1 then return nil end
local e = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
local f = redis.call('HMGET', KEYS[1], 'quiz', 'state', 'snapshot')
return {e, f[1], f[2], f[3]}`;
const MATCH_FIELDS = ['quiz', 'state', 'snapshot'] as const;

/** A match's snapshot from its hash fields; null when it has none (a tombstone). */
function snapshotOf(quiz: string | null | false, state: string | null | false, legacy: string | null | false): MatchSnapshot | null {
  if (state) {
    const quizValue = quiz ? (JSON.parse(quiz) as MatchSnapshot['quiz']) : legacy ? (JSON.parse(legacy) as MatchSnapshot).quiz : null;
    return quizValue ? { ...(JSON.parse(state) as MatchState), quiz: quizValue } : null;
  }
  return legacy ? (JSON.parse(legacy) as MatchSnapshot) : null;
}

export class RedisMatchStore implements MatchStore {
  private readonly redis: Redis;

  constructor(url: string, log: Logger) {
    this.redis = new Redis(url, {
      maxRetriesPerRequest: 1,
      commandTimeout: 2000,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(2000, 50 * 2 ** Math.min(times, 6)) * (0.5 + Math.random() / 2),
    });
    let wasReady = false;
    this.redis.on('ready', () => {
      log.info(wasReady ? 'Reconnected to Redis' : 'Connected to Redis');
      wasReady = true;
    });
    this.redis.on('error', (err) => log.warn({ err: err.message }, 'Redis error'));
  }

  /** Resolves once connected (or throws after `timeoutMs`): start-up waits for the store. */
  async ready(timeoutMs = 10_000): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new StoreUnavailableError('no connection to Redis')), timeoutMs);
      this.redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** For `/readyz`: connected, and a PING answered (within `commandTimeout`). Never throws. */
  async ping(): Promise<boolean> {
    if (this.redis.status !== 'ready') return false;
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async create(matchId: string, snapshot: Readonly<MatchSnapshot>): Promise<number> {
    const quiz = JSON.stringify(snapshot.quiz);
    const state = JSON.stringify(stateOf(snapshot));
    // DEL first: a join code can be reused after an old match's tombstone.
    await this.run(() =>
      this.redis.multi().del(matchKey(matchId)).hset(matchKey(matchId), 'epoch', 1, 'quiz', quiz, 'state', state).sadd(LIVE, matchId).exec(),
    );
    return 1;
  }

  async save(matchId: string, epoch: number, snapshot: Readonly<MatchSnapshot>): Promise<void> {
    const state = JSON.stringify(stateOf(snapshot));
    let result = await this.run(() => this.redis.eval(SAVE_IF_OWNER, 2, matchKey(matchId), LIVE, epoch, state, matchId));
    if (result === -2) {
      // Redis lost the match: seed it again, quiz included (rare, so the quiz is serialized only now).
      const quiz = JSON.stringify(snapshot.quiz);
      result = await this.run(() => this.redis.eval(SAVE_IF_OWNER, 2, matchKey(matchId), LIVE, epoch, state, matchId, quiz));
    }
    if (result !== 1) throw new StoreFencedError(matchId, epoch);
  }

  async load(matchId: string): Promise<StoredMatch | null> {
    const [epoch, quiz, state, legacy] = await this.run(() => this.redis.hmget(matchKey(matchId), 'epoch', ...MATCH_FIELDS));
    // A removed match keeps only its tombstone: no state.
    const snapshot = epoch ? snapshotOf(quiz ?? null, state ?? null, legacy ?? null) : null;
    return snapshot ? { epoch: Number(epoch), snapshot } : null;
  }

  async claim(matchId: string): Promise<StoredMatch | null> {
    const result = (await this.run(() => this.redis.eval(CLAIM, 1, matchKey(matchId)))) as [number, string | false, string | false, string | false] | null;
    if (!result) return null;
    const snapshot = snapshotOf(result[1], result[2], result[3]);
    return snapshot ? { epoch: Number(result[0]), snapshot } : null;
  }

  async saveResults(results: MatchResults): Promise<void> {
    await this.run(() =>
      this.redis
        .multi()
        .set(resultsKey(results.matchId), JSON.stringify(results), 'EX', RESULTS_TTL_SEC)
        .lrem(RECENT, 0, results.matchId)
        .lpush(RECENT, results.matchId)
        .ltrim(RECENT, 0, RECENT_RESULTS_KEPT - 1)
        .exec(),
    );
  }

  async results(matchId: string): Promise<MatchResults | null> {
    const raw = await this.run(() => this.redis.get(resultsKey(matchId)));
    return raw ? (JSON.parse(raw) as MatchResults) : null;
  }

  async recentResults(limit: number): Promise<MatchResults[]> {
    const ids = await this.run(() => this.redis.lrange(RECENT, 0, limit - 1));
    if (ids.length === 0) return [];
    const raws = await this.run(() => this.redis.mget(ids.map(resultsKey)));
    return raws.flatMap((raw) => (raw ? [JSON.parse(raw) as MatchResults] : []));
  }

  async remove(matchId: string, epoch: number): Promise<void> {
    const result = await this.run(() => this.redis.eval(REMOVE_IF_OWNER, 2, matchKey(matchId), LIVE, epoch, matchId));
    if (result === 0) throw new StoreFencedError(matchId, epoch);
  }

  async liveMatchIds(): Promise<string[]> {
    return this.run(() => this.redis.smembers(LIVE));
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  private async run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      throw new StoreUnavailableError((err as Error).message);
    }
  }
}
