/**
 * The host registry: which match hosts (a master and its workers) share this Redis, and which
 * of them are alive. A host is alive while its lease key exists; it renews the lease every
 * `leaseMs / 3`, and the other hosts take over its matches once the lease has expired (match
 * ownership itself is fenced by epochs in the match store, not here).
 *
 * Keys (prefix `qm:`): `host:<hostId>` hash {token, publicUrl, startedAt, state, workers,
 * matches, players, freeSlots, renewedAt} with a PX expiry of `leaseMs`; `hosts` set of every
 * host id registered and not yet forgotten, so a host whose lease lapsed is still known (dead)
 * until the survivors have taken its matches and `forget` it.
 *
 * `token` is this process's incarnation, random per `register()`: HOST_ID is set by the
 * operator, and two processes started with the same one must not both believe they hold it.
 *
 * Every call is bounded by the client's `commandTimeout`; while Redis is unreachable the
 * renewal loop logs and tries again at its next tick, and `leaseValid()` turns false on this
 * process's own clock, which is what tells the host to acknowledge nothing more.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { connectRedis, type RedisTarget } from '../store/redisConnection';
import type { Logger } from '../log';
import { defineHostScripts } from './hostScripts';

export type HostState = 'ready' | 'draining';

/** What a host tells the others about itself on every renewal. */
export interface HostLoad {
  state: HostState;
  workers: number;
  matches: number;
  players: number;
  /** matches it can still take */
  freeSlots: number;
}

export interface HostRecord extends HostLoad {
  hostId: string;
  publicUrl: string;
  startedAt: number;
  /** ms since its last renewal, by Redis' clock */
  leaseAgeMs: number;
}

export type RenewOutcome = 'renewed' | 'lost' | 'replaced';

export interface HostRegistryOptions {
  redis: RedisTarget;
  hostId: string;
  publicUrl: string;
  leaseMs: number;
  log: Logger;
  load: () => HostLoad;
}

type HostRegistryEvents = {
  renewed: [];
  /** The lease had lapsed and was written again: this host's matches may have been taken. */
  lost: [];
  /** Another process registered this host id; this one has stopped renewing and should exit. */
  replaced: [];
};

export type HostRegistryErrorCode = 'HOST_ID_INVALID' | 'HOST_LEASE_INVALID' | 'HOST_LOAD_INVALID' | 'HOST_NOT_REGISTERED' | 'HOSTS_UNAVAILABLE';

export class HostRegistryError extends Error {
  constructor(
    readonly code: HostRegistryErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HostRegistryError';
  }
}

const PREFIX = 'qm:';
const HOST_PREFIX = `${PREFIX}host:`;
const HOSTS = `${PREFIX}hosts`;
const hostKey = (id: string) => HOST_PREFIX + id;
/** Operator-set ids end up in key names and logs: keep them short and unambiguous. */
const HOST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const STATES: readonly HostState[] = ['ready', 'draining'];
const LOAD_NUMBERS = ['workers', 'matches', 'players', 'freeSlots'] as const;

/** A host's hash (HGETALL as a flat list) as a record; null when a field is missing or malformed. */
function recordOf(hostId: string, flat: string[], redisNowMs: number): HostRecord | null {
  const f = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) f.set(flat[i]!, flat[i + 1]!);
  const state = f.get('state') as HostState | undefined;
  const publicUrl = f.get('publicUrl');
  const numbers = [...LOAD_NUMBERS, 'startedAt', 'renewedAt'].map((k) => Number(f.get(k) ?? NaN));
  if (!state || !STATES.includes(state) || publicUrl === undefined || !numbers.every(Number.isFinite)) return null;
  const [workers, matches, players, freeSlots, startedAt, renewedAt] = numbers as [number, number, number, number, number, number];
  return { hostId, publicUrl, startedAt, state, workers, matches, players, freeSlots, leaseAgeMs: Math.max(0, redisNowMs - renewedAt) };
}

export class RedisHostRegistry extends EventEmitter<HostRegistryEvents> {
  private readonly redis: Redis;
  private readonly log: Logger;
  private readonly key: string;
  private readonly renewEveryMs: number;
  /** How long before the lease's end, by our clock, we stop trusting it: clock drift, delays after the check. */
  private readonly marginMs: number;
  /** This process's incarnation; undefined until `register()`. */
  private token: string | undefined;
  private startedAt = 0;
  /** performance.now() when the newest renewal that Redis accepted was sent. */
  private lastRenewSentAt: number | undefined;
  private replaced = false;
  private running = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  /** The renewal in flight from the loop, so `stop` can wait for it before releasing. */
  private ticking: Promise<void> | undefined;
  private failures = 0;

  constructor(private readonly opts: HostRegistryOptions) {
    super();
    // Checked before connecting, so a bad configuration leaves no connection behind.
    if (!HOST_ID.test(opts.hostId)) {
      throw new HostRegistryError('HOST_ID_INVALID', `host id ${JSON.stringify(opts.hostId)} must be 1-64 characters of A-Z a-z 0-9 . _ : -`);
    }
    if (!Number.isInteger(opts.leaseMs) || opts.leaseMs < 100) {
      throw new HostRegistryError('HOST_LEASE_INVALID', `leaseMs must be an integer of at least 100 (got ${opts.leaseMs})`);
    }
    this.log = opts.log;
    this.key = hostKey(opts.hostId);
    this.renewEveryMs = Math.max(1, Math.floor(opts.leaseMs / 3));
    this.marginMs = Math.max(opts.leaseMs / 5, 500);
    if (opts.leaseMs - this.marginMs <= this.renewEveryMs) {
      // The lease would be trusted for less than a renewal period: leaseValid() flickers false between renewals.
      this.log.warn({ leaseMs: opts.leaseMs, marginMs: this.marginMs }, 'Host lease is too short for its safety margin');
    }
    this.redis = connectRedis(opts.redis);
    let wasReady = false;
    this.redis.on('ready', () => {
      this.log.info(wasReady ? 'Host registry reconnected to Redis' : 'Host registry connected to Redis');
      wasReady = true;
    });
    this.redis.on('error', (err) => this.log.warn({ err: err.message }, 'Host registry Redis error'));
    defineHostScripts(this.redis);
  }

  get hostId(): string {
    return this.opts.hostId;
  }

  /** Writes the lease with a fresh token. An older incarnation of this host id is overwritten (and finds out on its next renewal). */
  async register(): Promise<void> {
    const previous = this.token;
    const token = randomBytes(16).toString('hex');
    const startedAt = Date.now();
    const sentAt = performance.now();
    const old = await this.run(() => this.redis.qmHostRegister(this.key, HOSTS, token, this.opts.leaseMs, this.opts.hostId, ...this.fields(startedAt)));
    this.token = token;
    this.startedAt = startedAt;
    this.replaced = false;
    this.lastRenewSentAt = sentAt;
    if (old && old !== previous) {
      this.log.warn({ hostId: this.opts.hostId }, 'Another process held this host id and has been replaced: HOST_ID must be unique per host');
    }
  }

  /** One renewal. 'lost': the lease had lapsed and is written again (same token). 'replaced': another process holds this host id; nothing written. */
  async renew(): Promise<RenewOutcome> {
    const token = this.token;
    if (token === undefined) throw new HostRegistryError('HOST_NOT_REGISTERED', 'renew() before register()');
    const sentAt = performance.now();
    const reply = await this.run(() => this.redis.qmHostRenew(this.key, HOSTS, token, this.opts.leaseMs, this.opts.hostId, ...this.fields(this.startedAt)));
    if (reply !== 'renewed' && reply !== 'lost' && reply !== 'replaced') throw new HostRegistryError('HOSTS_UNAVAILABLE', `unexpected renewal reply ${String(reply)}`);
    if (reply === 'replaced') {
      this.replaced = true;
      this.lastRenewSentAt = undefined;
    } else if (!this.replaced && token === this.token) {
      // 'lost' counts too: the lease is ours again from this send (the matches are the caller's
      // worry). Replies come in the order sent, but a manual renew() may overlap the loop's.
      this.lastRenewSentAt = Math.max(this.lastRenewSentAt ?? -Infinity, sentAt);
    }
    return reply;
  }

  /**
   * Registers (unless already registered), renews once at once, then every leaseMs/3. Emits
   * 'renewed', 'lost' (the lease had lapsed: matches may be taken) and 'replaced' (after
   * which it stops renewing: the host id belongs to another process). A failed renewal is
   * logged and tried again at the next tick.
   */
  async start(): Promise<void> {
    if (this.closed) throw new HostRegistryError('HOSTS_UNAVAILABLE', 'host registry is stopped');
    if (this.running) return;
    if (this.token === undefined) await this.register();
    if (this.closed) return;
    this.running = true;
    this.ticking = this.tick();
    await this.ticking;
  }

  /**
   * True while the newest accepted renewal was sent less than leaseMs − margin ago, by this
   * process's monotonic clock. The send time, not the reply's: Redis set the expiry no
   * earlier than that, so the lease cannot end before sentAt + leaseMs on Redis' side.
   */
  leaseValid(): boolean {
    if (this.replaced || this.lastRenewSentAt === undefined) return false;
    return performance.now() - this.lastRenewSentAt < this.opts.leaseMs - this.marginMs;
  }

  /** Every host with a live lease, this one included, in one round trip. */
  async liveHosts(): Promise<HostRecord[]> {
    const reply = await this.run(() => this.redis.qmHostsLive(HOSTS, HOST_PREFIX));
    const now = Number(reply[0]);
    const hosts: HostRecord[] = [];
    for (let i = 1; i + 1 < reply.length; i += 2) {
      const id = String(reply[i]);
      const fields = reply[i + 1];
      const record = Array.isArray(fields) ? recordOf(id, fields, now) : null;
      if (record) hosts.push(record);
      else this.log.warn({ hostId: id }, 'Host lease with missing or malformed fields: ignored');
    }
    return hosts.sort((a, b) => (a.hostId < b.hostId ? -1 : a.hostId > b.hostId ? 1 : 0));
  }

  /** Registered hosts whose lease key is gone: their matches are for the survivors to take. */
  async deadHosts(): Promise<string[]> {
    const dead = await this.run(() => this.redis.qmHostsDead(HOSTS, HOST_PREFIX));
    return dead.sort();
  }

  /**
   * Drops a dead host from `hosts` once it owns nothing (the caller decides when). False,
   * and nothing changed, if it has a live lease again. True when it is not registered afterwards
   * (also when another survivor forgot it first).
   */
  async forget(hostId: string): Promise<boolean> {
    return (await this.run(() => this.redis.qmHostForget(hostKey(hostId), HOSTS, hostId))) === 1;
  }

  /**
   * Stops renewing and closes the connection. `release: true` (graceful exit) deletes the
   * lease if it is still ours, so peers need not wait for it to expire: the host is dead to
   * them at once and they take over whatever matches it left in the store. Never throws: a
   * release that fails is logged, and the lease then just expires. Without a release,
   * `leaseValid()` goes on describing the lease left behind until it runs out.
   */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    // A renewal still in flight would write the lease again ('lost') after our release.
    await this.ticking;
    const token = this.token;
    if (opts.release && token !== undefined && !this.replaced) {
      try {
        const released = await this.run(() => this.redis.qmHostRelease(this.key, HOSTS, token, this.opts.hostId));
        this.lastRenewSentAt = undefined;
        this.log.info({ hostId: this.opts.hostId, released: released === 1 }, 'Host lease released');
      } catch (err) {
        this.log.warn({ hostId: this.opts.hostId, err: (err as Error).message }, 'Could not release the host lease; it will expire');
      }
    }
    this.redis.disconnect();
  }

  /** One renewal of the loop; never throws (a throw here would be an unhandled rejection). */
  private async tick(): Promise<void> {
    const startedAt = performance.now();
    const lastAccepted = this.lastRenewSentAt;
    let outcome: RenewOutcome | undefined;
    try {
      outcome = await this.renew();
      // No renewal was accepted for longer than the lease: it may have lapsed, even if this one
      // says 'renewed'. After a partition, a renewal sent while cut off (its reply given up on
      // after the command timeout) reaches Redis first, finds the lease gone and writes it
      // again; its 'lost' is never read, and every later renewal says 'renewed'.
      if (outcome === 'renewed' && lastAccepted !== undefined && startedAt - lastAccepted > this.opts.leaseMs) outcome = 'lost';
    } catch (err) {
      this.failures++;
      this.log.warn({ hostId: this.opts.hostId, err: (err as Error).message, failures: this.failures }, 'Host lease renewal failed; retrying at the next tick');
    }
    if (outcome !== undefined) {
      if (this.failures > 0) this.log.info({ hostId: this.opts.hostId, failures: this.failures }, 'Host lease renewals work again');
      this.failures = 0;
      if (outcome === 'replaced') {
        this.running = false;
        this.log.error({ hostId: this.opts.hostId }, 'Another process registered this host id: no longer renewing (HOST_ID must be unique)');
      } else if (outcome === 'lost') {
        this.log.warn({ hostId: this.opts.hostId }, 'Host lease had lapsed and was written again: matches may have been taken over');
      }
      try {
        this.emit(outcome);
      } catch (err) {
        // A listener's bug must not stop the renewals (nor surface as an unhandled rejection).
        this.log.error({ hostId: this.opts.hostId, err: (err as Error).message, event: outcome }, 'Host registry listener threw');
      }
    }
    if (!this.running) return;
    // Counted from this tick's start, so a slow reply does not stretch the period.
    const delay = Math.max(0, this.renewEveryMs - (performance.now() - startedAt));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.ticking = this.tick();
    }, delay);
    // The host's servers keep the process alive; the lease alone must not.
    this.timer.unref();
  }

  /** The hash fields written by every lease write: who we are and the current load. */
  private fields(startedAt: number): Array<string | number> {
    const load = this.opts.load();
    if (!STATES.includes(load.state)) throw new HostRegistryError('HOST_LOAD_INVALID', `load() gave an unknown state ${String(load.state)}`);
    const out: Array<string | number> = ['publicUrl', this.opts.publicUrl, 'startedAt', startedAt, 'state', load.state];
    for (const k of LOAD_NUMBERS) {
      if (!Number.isFinite(load[k])) throw new HostRegistryError('HOST_LOAD_INVALID', `load() gave a non-finite ${k}`);
      out.push(k, load[k]);
    }
    return out;
  }

  private async run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      if (err instanceof HostRegistryError) throw err;
      throw new HostRegistryError('HOSTS_UNAVAILABLE', `host registry unavailable: ${(err as Error).message}`);
    }
  }
}
