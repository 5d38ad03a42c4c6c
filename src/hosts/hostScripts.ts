/**
 * The host registry's Lua scripts (hostRegistry.ts), as ioredis commands: each lease check and
 * its write run as one step in Redis, so a renewal can never overwrite a lease that another
 * incarnation wrote in between, and `forget` can never drop a host that just came back.
 */
import type Redis from 'ioredis';
import type { Result } from 'ioredis';

// Shared by the scripts that write a lease. ARGV: token, leaseMs, hostId, then field/value
// pairs (publicUrl, startedAt, the load). renewedAt is Redis' TIME, so every host's lease age
// is measured on one clock, whatever the hosts' own clocks say.
const WRITE_LEASE = `
local t = redis.call('TIME')
local function writeLease()
  for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
  -- Built as text: a Lua number passed to redis.call is formatted with 14 significant digits.
  redis.call('HSET', KEYS[1], 'renewedAt', t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000)))
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
local function newLease()
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'token', ARGV[1])
  writeLease()
  redis.call('SADD', KEYS[2], ARGV[3])
end`;

// KEYS: host, hosts. Unconditional (a new incarnation wins); returns the token it replaced,
// or nil. DEL first so nothing of the older incarnation's hash survives.
const REGISTER = `${WRITE_LEASE}
local old = redis.call('HGET', KEYS[1], 'token')
newLease()
return old`;

// KEYS: host, hosts. A missing key means the lease lapsed while we were away (paused, cut
// off): written again with the same token, and reported so the caller knows its matches may
// have been taken. Another token is another process's: left alone.
const RENEW = `${WRITE_LEASE}
local tok = redis.call('HGET', KEYS[1], 'token')
if not tok then
  newLease()
  return 'lost'
end
if tok ~= ARGV[1] then return 'replaced' end
writeLease()
return 'renewed'`;

// KEYS: host, hosts. ARGV: token, hostId. Returns 1 released, 0 already gone, -1 another
// incarnation holds it (left alone). The host stays in the set: with no lease it is dead at
// once, so the others take over the matches it leaves in the store (and forget it after).
const RELEASE = `
local tok = redis.call('HGET', KEYS[1], 'token')
if tok and tok ~= ARGV[1] then return -1 end
redis.call('DEL', KEYS[1])
if tok then return 1 end
return 0`;

// The scripts below read host keys they build from the set's members (ARGV[1] is the key
// prefix) rather than KEYS: fine on one Redis, which is what the service runs on (the match
// store's transactions span keys too). Each is one round trip and one consistent view.

// KEYS: hosts. Returns {Redis time in ms, id, HGETALL, id, HGETALL, ...} of the live ones.
const LIVE_HOSTS = `
local t = redis.call('TIME')
local out = {tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local h = redis.call('HGETALL', ARGV[1] .. id)
  if #h > 0 then
    out[#out + 1] = id
    out[#out + 1] = h
  end
end
return out`;

// KEYS: hosts. The members without a lease key.
const DEAD_HOSTS = `
local dead = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. id) == 0 then dead[#dead + 1] = id end
end
return dead`;

// KEYS: host, hosts. ARGV: hostId. Atomic with the lease check, so a host that registers again
// at the same moment is either refused here or added back by its own SADD.
const FORGET = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SREM', KEYS[2], ARGV[1])
return 1`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    qmHostRegister(...args: Array<string | number>): Result<string | null, Context>;
    qmHostRenew(...args: Array<string | number>): Result<string, Context>;
    qmHostRelease(...args: Array<string | number>): Result<number, Context>;
    qmHostsLive(...args: Array<string | number>): Result<Array<number | string | string[]>, Context>;
    qmHostsDead(...args: Array<string | number>): Result<string[], Context>;
    qmHostForget(...args: Array<string | number>): Result<number, Context>;
  }
}

/** Defines the commands above on a connection (EVALSHA: each call sends the script's hash, not its text). */
export function defineHostScripts(redis: Redis): void {
  redis.defineCommand('qmHostRegister', { numberOfKeys: 2, lua: REGISTER });
  redis.defineCommand('qmHostRenew', { numberOfKeys: 2, lua: RENEW });
  redis.defineCommand('qmHostRelease', { numberOfKeys: 2, lua: RELEASE });
  redis.defineCommand('qmHostsLive', { numberOfKeys: 1, lua: LIVE_HOSTS });
  redis.defineCommand('qmHostsDead', { numberOfKeys: 1, lua: DEAD_HOSTS });
  redis.defineCommand('qmHostForget', { numberOfKeys: 2, lua: FORGET });
}
