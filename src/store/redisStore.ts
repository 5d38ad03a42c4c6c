/**
 * Match state in Redis (REDIS_URL), through ioredis. Fencing is atomic: the epoch check and
 * the write happen in one Lua script, so a stale owner can never slip a write in between.
 *
 * Keys (prefix `qm:`):
 * - `match:{<id>}` hash {epoch, host, quiz, state, at}: `host` the HOST_ID of its owner (written
 *   by `create` and `claim`), `at` the time of the last write by Redis' clock, the quiz written
 *   once, the state on every full save. A hash from before that split has one `snapshot` field,
 *   still read.
 * - `answers:{<id>}` hash of the answers appended since the last full save (one field per
 *   player, `_q` the question, `_rev` the revision, and `+<player id>` the record of a player who
 *   joined a big match), deleted by every full save.
 * - `history:{<id>}` hash of the revealed questions' answers (field: the question's index,
 *   value: its answers), each written once, by the save that follows its reveal. It is kept out
 *   of the state so that a phase change does not rewrite every answer of the match so far; a
 *   state written before that split carries its history inside, still read.
 * - `live` set of live match ids. A match's own keys carry its id in braces, so they share one
 *   Redis Cluster hash slot (the scripts that also touch `live` would still need it moved out
 *   before Redis Cluster could hold them).
 * - `results:<id>` JSON with a TTL; `results:recent` list of the newest finished ids.
 *
 * While Redis is unreachable every call fails within `commandTimeout` instead of hanging,
 * so callers (the match host) hold their acks and retry with backoff; ioredis reconnects by
 * itself, with jittered backoff, for as long as it takes.
 */
import type { Redis, Result } from 'ioredis';
import { connectRedis, type RedisTarget } from './redisConnection';
import type { Logger } from '../log';
import type { AnswerAppend, AnswerRecord, HistoryAnswer, MatchSnapshot, PlayerRecord } from '../quiz/engine';
import {
  type MatchResults,
  type MatchState,
  type MatchStore,
  RECENT_RESULTS_KEPT,
  RESULTS_TTL_SEC,
  StoreError,
  StoreFencedError,
  type StoredMatch,
  StoreUnavailableError,
  stateToWrite,
  withAnswers,
  withHistory,
} from './store';

const PREFIX = 'qm:';
const LIVE = `${PREFIX}live`;
const RECENT = `${PREFIX}results:recent`;
const matchKey = (id: string) => `${PREFIX}match:{${id}}`;
const answersKey = (id: string) => `${PREFIX}answers:{${id}}`;
const historyKey = (id: string) => `${PREFIX}history:{${id}}`;
const resultsKey = (id: string) => `${PREFIX}results:${id}`;

// KEYS: match, live, answers, history. ARGV: epoch, state JSON, match id, owner host id, quiz
// JSON or '', the history index the entries start at, then one JSON per history entry.
// Returns 1 written, 0 fenced (another epoch owns it), -1 removed (the match is over), -2
// missing, -3 the history below that index is not all there. A key missing altogether means
// Redis lost its data (restarted without persistence): the owner's copy is the newest there
// is, so it seeds the store again, which takes the quiz and the whole history: without them
// the caller gets -2 and repeats the call with them.
const SAVE_IF_OWNER = `
local e = redis.call('HGET', KEYS[1], 'epoch')
local from = tonumber(ARGV[6])
if not e then
  if ARGV[5] == '' or from > 0 then return -2 end
  redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'host', ARGV[4], 'quiz', ARGV[5], 'state', ARGV[2])
  redis.call('SADD', KEYS[2], ARGV[3])
else
  if redis.call('HEXISTS', KEYS[1], 'removed') == 1 then return -1 end
  if tonumber(e) ~= tonumber(ARGV[1]) then return 0 end
  if from > 0 and redis.call('HLEN', KEYS[4]) < from then return -3 end
  local t = redis.call('TIME')
  redis.call('HSET', KEYS[1], 'state', ARGV[2], 'at', t[1] * 1000 + math.floor(t[2] / 1000))
  redis.call('DEL', KEYS[3])
end
if from == 0 then redis.call('DEL', KEYS[4]) end
for i = 7, #ARGV do redis.call('HSET', KEYS[4], from + i - 7, ARGV[i]) end
return 1`;

// KEYS: match, answers. ARGV: epoch, question index, revision, then field / JSON pairs (a
// player id and its answer, or `+` and the id of a player who joined, and its record).
// Returns 1 written, 0 fenced, -1 removed, -2 missing (the caller saves in full).
const APPEND_IF_OWNER = `
local e = redis.call('HGET', KEYS[1], 'epoch')
if not e then return -2 end
if redis.call('HEXISTS', KEYS[1], 'removed') == 1 then return -1 end
if tonumber(e) ~= tonumber(ARGV[1]) then return 0 end
-- One HSET per answer: unpack() of thousands of arguments overflows Lua's stack.
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[2], '_q', ARGV[2], '_rev', ARGV[3])
local t = redis.call('TIME')
redis.call('HSET', KEYS[1], 'at', t[1] * 1000 + math.floor(t[2] / 1000))
return 1`;

// KEYS: match, live, answers, history. Leaves a tombstone (epoch + removed) for a day, so a
// stale owner cannot bring it back.
const REMOVE_IF_OWNER = `
local e = redis.call('HGET', KEYS[1], 'epoch')
if not e then return -1 end
if tonumber(e) ~= tonumber(ARGV[1]) then return 0 end
redis.call('HDEL', KEYS[1], 'quiz', 'state', 'snapshot')
redis.call('DEL', KEYS[3], KEYS[4])
redis.call('HSET', KEYS[1], 'removed', 1)
redis.call('EXPIRE', KEYS[1], 86400)
redis.call('SREM', KEYS[2], ARGV[2])
return 1`;

// KEYS: match, answers, history. ARGV: the new owner's host id, the epoch the claim expects (or
// ''). Returns {epoch, quiz, state, snapshot, answers (flat HGETALL), ms since the last write by
// Redis' clock (-1: not recorded), history (flat HGETALL)} after bumping the epoch, nil when the match is gone, or {-1} when it is no longer
// at the expected epoch (another host claimed it first).
const CLAIM = `
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'removed') == 1 then return nil end
if ARGV[2] ~= '' and tonumber(redis.call('HGET', KEYS[1], 'epoch')) ~= tonumber(ARGV[2]) then return {-1} end
local e = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
redis.call('HSET', KEYS[1], 'host', ARGV[1])
local f = redis.call('HMGET', KEYS[1], 'quiz', 'state', 'snapshot', 'at')
local t = redis.call('TIME')
local since = -1
if f[4] then since = t[1] * 1000 + math.floor(t[2] / 1000) - tonumber(f[4]) end
return {e, f[1], f[2], f[3], redis.call('HGETALL', KEYS[2]), since, redis.call('HGETALL', KEYS[3])}`;
const MATCH_FIELDS = ['quiz', 'state', 'snapshot'] as const;

// The scripts as ioredis commands (its documented `defineCommand`): EVALSHA, so each call sends
// the script's hash instead of its text (an answer's append is ~100 bytes; the text is ~450).
declare module 'ioredis' {
  interface RedisCommander<Context> {
    qmSave(...args: Array<string | number>): Result<number, Context>;
    qmAppend(...args: Array<string | number>): Result<number, Context>;
    qmClaim(...args: Array<string | number>): Result<[number, string | false, string | false, string | false, string[], number, string[]] | null, Context>;
    qmRemove(...args: Array<string | number>): Result<number, Context>;
  }
}

/** Field-name mark of a joined player's record in the answers hash (player ids never start with it). */
const JOINED = '+';

/** The answers hash (HGETALL as a flat list or an object) back as an append; null when empty. */
function appendOf(fields: string[] | Record<string, string>): AnswerAppend | null {
  const entries = Array.isArray(fields) ? pairs(fields) : Object.entries(fields);
  if (entries.length === 0) return null;
  const append: AnswerAppend = { revision: 0, questionIndex: -1, answers: {} };
  for (const [field, value] of entries) {
    if (field === '_q') append.questionIndex = Number(value);
    else if (field === '_rev') append.revision = Number(value);
    else if (field.startsWith(JOINED)) (append.players ??= []).push(JSON.parse(value) as PlayerRecord);
    else append.answers[field] = JSON.parse(value) as AnswerRecord;
  }
  return append;
}

/** The history hash (HGETALL as a flat list or an object) as entries by question index. */
function historyOf(fields: string[] | Record<string, string>): Map<number, HistoryAnswer[]> {
  const entries = Array.isArray(fields) ? pairs(fields) : Object.entries(fields);
  return new Map(entries.map(([index, json]) => [Number(index), JSON.parse(json) as HistoryAnswer[]]));
}

function pairs(flat: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

/** A match's snapshot from its hash fields and appended answers; null when it has none (a tombstone). */
function snapshotOf(
  quiz: string | null | false,
  state: string | null | false,
  legacy: string | null | false,
  answers: AnswerAppend | null,
  history: ReadonlyMap<number, HistoryAnswer[]>,
): MatchSnapshot | null {
  if (state) {
    const quizValue = quiz ? (JSON.parse(quiz) as MatchSnapshot['quiz']) : legacy ? (JSON.parse(legacy) as MatchSnapshot).quiz : null;
    return quizValue ? { ...withHistory(withAnswers(JSON.parse(state) as MatchState, answers), history), quiz: quizValue } : null;
  }
  return legacy ? (JSON.parse(legacy) as MatchSnapshot) : null;
}

/** Who owns a live match, as the directory says: its host and epoch (host null for a match written before hosts had ids). */
export interface MatchOwner {
  matchId: string;
  host: string | null;
  epoch: number;
}

export class RedisMatchStore implements MatchStore {
  private readonly redis: Redis;

  constructor(
    target: RedisTarget,
    log: Logger,
    /** HOST_ID: written as the owner of the matches this store creates or claims. */
    private readonly hostId: string,
    /**
     * REDIS_WAIT_REPLICAS / _TIMEOUT_MS: a write is done (and may be acknowledged) only once
     * that many replicas hold it; fewer within the timeout is a failed write, retried.
     */
    private readonly replicas: { wait: number; timeoutMs: number } = { wait: 0, timeoutMs: 1000 },
  ) {
    this.redis = connectRedis(target);
    let wasReady = false;
    this.redis.on('ready', () => {
      log.info(wasReady ? 'Reconnected to Redis' : 'Connected to Redis');
      wasReady = true;
    });
    this.redis.on('error', (err) => log.warn({ err: err.message }, 'Redis error'));
    this.redis.defineCommand('qmSave', { numberOfKeys: 4, lua: SAVE_IF_OWNER });
    this.redis.defineCommand('qmAppend', { numberOfKeys: 2, lua: APPEND_IF_OWNER });
    this.redis.defineCommand('qmClaim', { numberOfKeys: 3, lua: CLAIM });
    this.redis.defineCommand('qmRemove', { numberOfKeys: 4, lua: REMOVE_IF_OWNER });
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
    const { state, history } = stateToWrite(snapshot, 0);
    // DEL first: a join code can be reused after an old match's tombstone.
    const tx = this.redis
      .multi()
      .del(matchKey(matchId), answersKey(matchId), historyKey(matchId))
      .hset(matchKey(matchId), 'epoch', 1, 'host', this.hostId, 'quiz', quiz, 'state', JSON.stringify(state));
    history.forEach((answers, index) => tx.hset(historyKey(matchId), index, JSON.stringify(answers)));
    await this.run(() => tx.sadd(LIVE, matchId).exec());
    await this.replicated();
    return 1;
  }

  async save(matchId: string, epoch: number, snapshot: Readonly<MatchSnapshot>, historyFrom = 0): Promise<void> {
    const { state: fields, history } = stateToWrite(snapshot, historyFrom);
    const state = JSON.stringify(fields);
    const entries = history.map((answers) => JSON.stringify(answers));
    const keys = [matchKey(matchId), LIVE, answersKey(matchId), historyKey(matchId)];
    let result = await this.run(() => this.redis.qmSave(...keys, epoch, state, matchId, this.hostId, '', historyFrom, ...entries));
    // Redis lost the match, or the history this save builds on: the caller's retry writes it all.
    if (historyFrom > 0 && (result === -2 || result === -3)) throw new StoreError('STORE_NOT_FOUND', `match ${matchId} lacks its history in Redis`);
    if (result === -2) {
      // Redis lost the match: seed it again, quiz included (rare, so the quiz is serialized only now).
      const quiz = JSON.stringify(snapshot.quiz);
      result = await this.run(() => this.redis.qmSave(...keys, epoch, state, matchId, this.hostId, quiz, 0, ...entries));
    }
    if (result !== 1) throw new StoreFencedError(matchId, epoch);
    await this.replicated();
  }

  async appendAnswers(matchId: string, epoch: number, append: AnswerAppend): Promise<void> {
    const args: Array<string | number> = [epoch, append.questionIndex, append.revision];
    for (const [id, a] of Object.entries(append.answers)) args.push(id, JSON.stringify(a));
    for (const p of append.players ?? []) args.push(JOINED + p.id, JSON.stringify(p));
    const result = await this.run(() => this.redis.qmAppend(matchKey(matchId), answersKey(matchId), ...args));
    // Redis lost the match (restarted without persistence): the owner's retry is a full save,
    // which seeds it again.
    if (result === -2) throw new StoreError('STORE_NOT_FOUND', `match ${matchId} is not in Redis`);
    if (result !== 1) throw new StoreFencedError(matchId, epoch);
    await this.replicated();
  }

  /**
   * REDIS_WAIT_REPLICAS: waits until that many replicas hold every write this connection made
   * so far (WAIT). Fewer within the timeout fails the write: the caller holds its acks and
   * retries, and the retry (a full save, idempotent) waits again.
   */
  private async replicated(): Promise<void> {
    const { wait, timeoutMs } = this.replicas;
    if (wait === 0) return;
    const acked = await this.run(() => this.redis.wait(wait, timeoutMs));
    if (acked < wait) throw new StoreUnavailableError(`only ${acked} of ${wait} replicas hold the write`);
  }

  async load(matchId: string): Promise<StoredMatch | null> {
    // One transaction, so the state and its appended answers are read as of the same write.
    const replies = await this.run(() =>
      this.redis.multi().hmget(matchKey(matchId), 'epoch', ...MATCH_FIELDS).hgetall(answersKey(matchId)).hgetall(historyKey(matchId)).exec(),
    );
    const failed = replies?.find(([err]) => err)?.[0];
    if (!replies || failed) throw new StoreUnavailableError(failed?.message ?? 'transaction aborted');
    const [epoch, quiz, state, legacy] = replies[0]![1] as Array<string | null>;
    const answers = replies[1]![1] as Record<string, string>;
    const history = replies[2]![1] as Record<string, string>;
    // A removed match keeps only its tombstone: no state.
    const snapshot = epoch ? snapshotOf(quiz ?? null, state ?? null, legacy ?? null, appendOf(answers), historyOf(history)) : null;
    return snapshot ? { epoch: Number(epoch), snapshot } : null;
  }

  async claim(matchId: string, ifEpoch?: number): Promise<StoredMatch | null> {
    const result = await this.run(() => this.redis.qmClaim(matchKey(matchId), answersKey(matchId), historyKey(matchId), this.hostId, ifEpoch ?? ''));
    if (!result) return null;
    if (Number(result[0]) === -1) throw new StoreFencedError(matchId, ifEpoch ?? 0);
    const snapshot = snapshotOf(result[1], result[2], result[3], appendOf(result[4]), historyOf(result[6]));
    const since = Number(result[5]);
    return snapshot ? { epoch: Number(result[0]), snapshot, ...(since >= 0 ? { sinceWriteMs: since } : {}) } : null;
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
    const result = await this.run(() => this.redis.qmRemove(matchKey(matchId), LIVE, answersKey(matchId), historyKey(matchId), epoch, matchId));
    if (result === 0) throw new StoreFencedError(matchId, epoch);
  }

  async liveMatchIds(): Promise<string[]> {
    return this.run(() => this.redis.smembers(LIVE));
  }

  /** The owners of these matches, in one round trip; null for a match that is gone or over. */
  async owners(matchIds: readonly string[]): Promise<Array<MatchOwner | null>> {
    if (matchIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of matchIds) pipeline.hmget(matchKey(id), 'epoch', 'host', 'removed');
    const replies = await this.run(() => pipeline.exec());
    return matchIds.map((matchId, i) => {
      const [err, fields] = replies?.[i] ?? [new Error('no reply'), null];
      if (err) throw new StoreUnavailableError(err.message);
      const [epoch, host, removed] = fields as Array<string | null>;
      if (!epoch || removed) return null;
      return { matchId, host: host ?? null, epoch: Number(epoch) };
    });
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
