/**
 * The host registry (src/hosts/hostRegistry.ts) against a real redis-server this test starts
 * on a free port: hosts see each other while their leases live, a host that stops renewing
 * turns dead once its lease expires (and only then may be forgotten), a graceful exit leaves
 * at once, a lapsed lease is reported as 'lost', a second process with the same host id
 * replaces the first without the first writing over it, and `leaseValid()` turns false on
 * the host's own clock before Redis lets the lease go, Redis reachable or not.
 */
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type HostLoad, HostRegistryError, RedisHostRegistry } from '../../src/hosts/hostRegistry';
import { createLogger, type Logger } from '../../src/log';
import { eventually, ProcessGroup } from '../helpers/processes';
import { TestRedis } from '../helpers/redis';

const group = new ProcessGroup();
const silent = createLogger({ LOG_LEVEL: 'silent', LOG_PRETTY: false });
const opened: RedisHostRegistry[] = [];
let redis: TestRedis;
let raw: Redis;

beforeAll(async () => {
  redis = await TestRedis.start(group);
  raw = new Redis(redis.url);
});
afterEach(async () => {
  // Every registry a test made stops (no renewal timer left), and the next test starts from an empty Redis.
  await Promise.all(opened.splice(0).map((r) => r.stop()));
  await raw.flushall();
});
afterAll(async () => {
  raw.disconnect();
  await group.stopAll();
  redis.cleanup();
});

const READY: HostLoad = { state: 'ready', workers: 2, matches: 1, players: 7, freeSlots: 9 };

function registry(hostId: string, leaseMs: number, opts: { load?: () => HostLoad; log?: Logger; url?: string } = {}): RedisHostRegistry {
  const r = new RedisHostRegistry({
    redis: { kind: 'url', url: opts.url ?? redis.url },
    hostId,
    publicUrl: `wss://${hostId}.match.example`,
    leaseMs,
    log: opts.log ?? silent,
    load: opts.load ?? (() => READY),
  });
  opened.push(r);
  return r;
}

/** A logger whose lines the test can read. */
function capturingLogger(): { log: Logger; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as { level: number; msg: string }) });
  return { log, lines };
}

/** Polls `check` every `stepMs` until it is true; returns the ms it took, or throws after `timeoutMs`. */
async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string, stepMs = 10): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < timeoutMs) {
    if (await check()) return performance.now() - start;
    await sleep(stepMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The event, or a rejection after `timeoutMs`. */
function event(r: RedisHostRegistry, name: 'lost' | 'replaced' | 'renewed', timeoutMs: number): Promise<unknown> {
  return once(r, name, { signal: AbortSignal.timeout(timeoutMs) });
}

const ids = async (r: RedisHostRegistry) => (await r.liveHosts()).map((h) => h.hostId);

describe('host registry', () => {
  it('refuses host ids that are not 1-64 characters of A-Z a-z 0-9 . _ : -, before connecting', () => {
    for (const bad of ['', 'a b', 'x'.repeat(65), 'hôte', 'a/b', 'a\nb']) {
      expect(() => registry(bad, 1000)).toThrow(HostRegistryError);
      expect(() => registry(bad, 1000)).toThrow(/host id/);
    }
    expect(opened).toHaveLength(0);
    expect(registry('eu-1.host_2:blue', 1000).hostId).toBe('eu-1.host_2:blue');
  });

  it('two hosts see each other with their URL, load and a small lease age; none is dead', async () => {
    const a = registry('a', 1500);
    const b = registry('b', 1500, { load: () => ({ state: 'draining', workers: 4, matches: 12, players: 300, freeSlots: 0 }) });
    const before = Date.now();
    await Promise.all([a.start(), b.start()]);
    await b.renew();
    for (const r of [a, b]) {
      const hosts = await r.liveHosts();
      expect(hosts.map((h) => h.hostId)).toEqual(['a', 'b']);
      expect(hosts[0]).toMatchObject({ hostId: 'a', publicUrl: 'wss://a.match.example', ...READY });
      expect(hosts[1]).toMatchObject({ hostId: 'b', publicUrl: 'wss://b.match.example', state: 'draining', workers: 4, matches: 12, players: 300, freeSlots: 0 });
      for (const h of hosts) {
        expect(h.startedAt).toBeGreaterThanOrEqual(before);
        expect(h.startedAt).toBeLessThanOrEqual(Date.now());
        expect(h.leaseAgeMs).toBeGreaterThanOrEqual(0);
        expect(h.leaseAgeMs).toBeLessThan(1500);
      }
      expect(await r.deadHosts()).toEqual([]);
    }
    // Just renewed: its age is the round trip, not seconds (renewedAt is Redis' time in ms).
    await b.renew();
    expect((await b.liveHosts()).find((h) => h.hostId === 'b')!.leaseAgeMs).toBeLessThan(1000);
    expect(a.leaseValid()).toBe(true);
  });

  it('a host that stops renewing stays live until its lease expires, then is dead; forget drops only the dead', async () => {
    const leaseMs = 900;
    let aLoads = 0; // load() runs on every renewal attempt, so this counts a's
    const a = registry('a', leaseMs, { load: () => (aLoads++, READY) });
    const b = registry('b', leaseMs);
    await Promise.all([a.start(), b.start()]);
    expect(await ids(b)).toEqual(['a', 'b']);
    await a.stop();
    const stoppedAt = performance.now();
    const loadsAtStop = aLoads;
    // No release: the lease is still there until it expires.
    expect(await raw.exists('qm:host:a')).toBe(1);
    await until(async () => (await ids(b)).length === 1, leaseMs + 2000, "a's lease to expire", 25);
    // Not deleted by stop(): it outlived stop() by at least a renewal period (the last renewal was
    // about leaseMs/3 before stop at most; the bound leaves room for a slow machine).
    expect(performance.now() - stoppedAt).toBeGreaterThanOrEqual(leaseMs / 3);
    // Renewal periods have passed with no attempt since stop(): its timer is gone.
    expect(aLoads).toBe(loadsAtStop);
    expect(await ids(b)).toEqual(['b']);
    expect(await b.deadHosts()).toEqual(['a']);
    expect(await b.forget('b')).toBe(false);
    expect(await ids(b)).toEqual(['b']);
    expect(await raw.sismember('qm:hosts', 'b')).toBe(1);
    expect(await b.forget('a')).toBe(true);
    expect(await b.deadHosts()).toEqual([]);
    expect(await raw.smembers('qm:hosts')).toEqual(['b']);
  });

  it('stop({ release: true }) removes the lease at once; the host is dead (its matches to be taken over) until forgotten', async () => {
    const a = registry('a', 10_000);
    const b = registry('b', 10_000);
    await Promise.all([a.start(), b.start()]);
    expect(await ids(b)).toEqual(['a', 'b']);
    await a.stop({ release: true });
    // A 10 s lease: only the release explains it being gone now.
    expect(await ids(b)).toEqual(['b']);
    expect(await b.deadHosts()).toEqual(['a']);
    expect(await raw.exists('qm:host:a')).toBe(0);
    expect(a.leaseValid()).toBe(false);
    expect(await b.forget('a')).toBe(true);
    expect(await raw.sismember('qm:hosts', 'a')).toBe(0);
  });

  it('renew() after the lease lapsed answers lost and writes the lease again, same token', async () => {
    const a = registry('a', 600);
    await a.register();
    const token = await raw.hget('qm:host:a', 'token');
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    await until(async () => (await raw.exists('qm:host:a')) === 0, 3000, 'the lease to expire', 25);
    expect(await a.deadHosts()).toEqual(['a']);
    expect(await a.renew()).toBe('lost');
    expect(await ids(a)).toEqual(['a']);
    expect(await a.deadHosts()).toEqual([]);
    expect(await raw.hget('qm:host:a', 'token')).toBe(token);
    expect(await raw.pttl('qm:host:a')).toBeGreaterThan(0);
    expect(await a.renew()).toBe('renewed');
  });

  it("under start(), a lease that lapses (its key deleted) fires 'lost', and the host is live again", async () => {
    const a = registry('a', 1500);
    const renewed = event(a, 'renewed', 5000);
    await a.start();
    await renewed;
    const token = await raw.hget('qm:host:a', 'token');
    const lost = event(a, 'lost', 5000);
    await raw.del('qm:host:a');
    await lost;
    expect(await ids(a)).toEqual(['a']);
    expect(await raw.hget('qm:host:a', 'token')).toBe(token);
    // It keeps renewing after a loss.
    await event(a, 'renewed', 5000);
  });

  it('a second process with the same host id replaces the first, which never writes over it', async () => {
    const { log, lines } = capturingLogger();
    const first = registry('x', 5000);
    const second = registry('x', 5000, { log, load: () => ({ ...READY, matches: 42 }) });
    await first.register();
    const firstToken = await raw.hget('qm:host:x', 'token');
    await second.register();
    const secondToken = await raw.hget('qm:host:x', 'token');
    expect(secondToken).not.toBe(firstToken);
    expect(lines.some((l) => l.level === 40 && /HOST_ID must be unique/.test(l.msg))).toBe(true);
    expect(await first.renew()).toBe('replaced');
    expect(first.leaseValid()).toBe(false);
    expect(await raw.hget('qm:host:x', 'token')).toBe(secondToken);
    expect((await first.liveHosts()).map((h) => [h.hostId, h.matches])).toEqual([['x', 42]]);
    // Its graceful exit leaves the other incarnation's lease and membership alone.
    await first.stop({ release: true });
    expect(await raw.hget('qm:host:x', 'token')).toBe(secondToken);
    expect(await raw.sismember('qm:hosts', 'x')).toBe(1);
    expect(await second.renew()).toBe('renewed');
  });

  it("under start(), being replaced fires 'replaced' and stops the renewals", async () => {
    const first = registry('x', 900);
    await first.start();
    const replaced = event(first, 'replaced', 5000);
    let renewalsAfter = 0;
    const second = registry('x', 900, { load: () => ({ ...READY, players: 1234 }) });
    await second.register();
    await replaced;
    first.on('renewed', () => renewalsAfter++);
    const secondToken = await raw.hget('qm:host:x', 'token');
    // Several of first's renewal periods (300 ms) pass, measured by second's own renewals.
    for (let i = 0; i < 3; i++) expect(await second.renew()).toBe('renewed');
    await second.start();
    for (let i = 0; i < 3; i++) await event(second, 'renewed', 5000);
    expect(renewalsAfter).toBe(0);
    expect(first.leaseValid()).toBe(false);
    expect(await raw.hget('qm:host:x', 'token')).toBe(secondToken);
    expect((await second.liveHosts()).map((h) => h.players)).toEqual([1234]);
  });

  it('leaseValid() is true after a renewal and turns false leaseMs − margin after it was sent, while Redis still holds the lease', async () => {
    // margin max(1000, 500) = 1000: trusted for 4000 ms, and a second of slack to see Redis
    // still hold the lease once the host has stopped trusting it, however busy the machine.
    const leaseMs = 5000;
    const a = registry('a', leaseMs);
    expect(a.leaseValid()).toBe(false); // nothing written yet
    await a.register();
    expect(a.leaseValid()).toBe(true);
    const beforeSend = performance.now();
    expect(await a.renew()).toBe('renewed');
    expect(a.leaseValid()).toBe(true);
    const tookMs = await until(() => !a.leaseValid(), leaseMs + 1000, 'leaseValid() to turn false', 5);
    const sinceSend = performance.now() - beforeSend;
    expect(sinceSend).toBeGreaterThanOrEqual(4000);
    expect(tookMs).toBeLessThan(leaseMs);
    // The margin: Redis still has the lease when the host stops trusting it.
    expect(await raw.pttl('qm:host:a')).toBeGreaterThan(0);
    const [host] = await a.liveHosts();
    expect(host?.leaseAgeMs).toBeGreaterThanOrEqual(3900);
    expect(host?.leaseAgeMs).toBeLessThan(leaseMs);
    expect(await a.renew()).toBe('renewed');
    expect(a.leaseValid()).toBe(true);
  });

  it('renewals write the load as it is now', async () => {
    let load: HostLoad = { state: 'ready', workers: 1, matches: 0, players: 0, freeSlots: 50 };
    const a = registry('a', 900, { load: () => load });
    await a.start();
    expect((await a.liveHosts())[0]).toMatchObject(load);
    load = { state: 'draining', workers: 3, matches: 5, players: 77, freeSlots: 0 };
    const seen = await eventually(async () => {
      const [h] = await a.liveHosts();
      return h?.state === 'draining' ? h : undefined;
    }, 5000, 'the new load');
    expect(seen).toMatchObject({ hostId: 'a', state: 'draining', workers: 3, matches: 5, players: 77, freeSlots: 0 });
    expect(await raw.hget('qm:host:a', 'players')).toBe('77');
  });
});

describe('host registry while Redis is down', () => {
  let down: TestRedis;
  beforeAll(async () => {
    down = await TestRedis.start(group);
  });
  afterAll(() => down.cleanup());

  it('renewals fail without throwing, leaseValid() turns false in bounded time, and all recovers when Redis is back', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => void rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      const { log, lines } = capturingLogger();
      // Trusted for 3000 − max(600, 500) = 2400 ms after a renewal is sent.
      const a = registry('a', 3000, { log, url: down.url });
      await a.start();
      expect(a.leaseValid()).toBe(true);
      await down.kill();
      const killedAt = performance.now();
      await until(() => !a.leaseValid(), 6000, 'leaseValid() to turn false with Redis down', 10);
      // The last accepted renewal was sent before the kill: false at most 2400 ms (+ polling and
      // a busy machine's second) later, not after the lease (3000 ms) nor never.
      expect(performance.now() - killedAt).toBeLessThan(3400);
      // A direct call fails with the registry's code, within the command timeout.
      const callStart = performance.now();
      await expect(a.renew()).rejects.toMatchObject({ code: 'HOSTS_UNAVAILABLE' });
      expect(performance.now() - callStart).toBeLessThan(4000);
      // The loop keeps ticking through the failures.
      await until(() => lines.filter((l) => /renewal failed/.test(l.msg)).length >= 2, 20_000, 'two failed renewals logged', 50);
      expect(a.leaseValid()).toBe(false);

      await down.boot();
      await until(() => a.leaseValid(), 15_000, 'leaseValid() to come back with Redis', 25);
      expect(await ids(a)).toEqual(['a']);
      expect(lines.some((l) => /renewals work again/.test(l.msg))).toBe(true);
      const stopStart = performance.now();
      await a.stop({ release: true });
      expect(performance.now() - stopStart).toBeLessThan(3000);
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });
});
