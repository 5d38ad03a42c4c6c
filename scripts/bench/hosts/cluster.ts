/**
 * The benchmark's hosts: pool masters (one worker each) sharing the benchmark's own
 * redis-server, each on a free loopback port it also announces as PUBLIC_MATCH_URL. Each
 * host's JSON log lines are read as they come (`LogTap`), so a line's own `time` says when
 * the host did something (a takeover), and a host is killed whole: master and workers.
 */
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { requestJson } from '../../lib/http';
import { freePort } from '../../lib/ports';
import { type ProcId, descendants, isAlive, signalProc } from '../../lib/processTree';
import { type Child, children } from '../children';
import { type Server, startMatchServer } from '../servers';
import type { CreatedMatch } from '../../lib/wire';

/** One pino line of a host: `time` is Date.now() in the host when it logged. */
export interface LogRecord {
  time: number;
  msg: string;
  [field: string]: unknown;
}

/** The lines a process prints on stdout, parsed as they arrive; `waitFor` finds one (bounded). */
export class LogTap {
  private static readonly KEEP = 20_000;
  private readonly records: LogRecord[] = [];
  private waiters: Array<(r: LogRecord) => void> = [];

  constructor(stream: Readable) {
    createInterface({ input: stream }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      let r: LogRecord;
      try {
        r = JSON.parse(line) as LogRecord;
      } catch {
        return;
      }
      if (typeof r.time !== 'number' || typeof r.msg !== 'string') return;
      this.records.push(r);
      if (this.records.length > LogTap.KEEP) this.records.shift();
      for (const w of [...this.waiters]) w(r);
    });
  }

  /** The first line (already seen, or still to come) that `pred` accepts; null after `timeoutMs`. */
  waitFor(pred: (r: LogRecord) => boolean, timeoutMs: number): Promise<LogRecord | null> {
    const seen = this.records.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const waiter = (r: LogRecord) => {
        if (!pred(r)) return;
        done(r);
      };
      const done = (r: LogRecord | null) => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(r);
      };
      const timer = setTimeout(() => done(null), timeoutMs);
      this.waiters.push(waiter);
    });
  }
}

export interface Host {
  id: string;
  server: Server;
  log: LogTap;
  /** ws:// origin. */
  ws: string;
}

export interface HostSettings {
  outDir: string;
  redisUrl: string;
  leaseMs: number;
  /** The largest match the benchmark plays (MAX_PLAYERS). */
  players: number;
}

/**
 * One worker per host, so "the owner" is one process pair; room for several matches so a
 * finished match's grace never sends the next one to the other host. Short reveal and
 * leaderboard phases keep runs short; LOG_LEVEL=info for the takeover's log line.
 */
export function hostEnv(id: string, port: number, s: HostSettings): Record<string, string> {
  return {
    REDIS_URL: s.redisUrl,
    HOST_ID: id,
    PUBLIC_MATCH_URL: `http://127.0.0.1:${port}`,
    HOST_LEASE_MS: String(s.leaseMs),
    MIN_WORKERS: '1',
    MAX_WORKERS: '1',
    MAX_MATCHES: '8',
    MAX_PLAYERS: String(Math.max(100, s.players)),
    REVEAL_MS: '300',
    LEADERBOARD_MS: '300',
    LOG_LEVEL: 'info',
  };
}

export async function startHost(id: string, s: HostSettings): Promise<Host> {
  const port = await freePort();
  let log: LogTap | null = null;
  const server = await startMatchServer('pool', {
    outDir: s.outDir,
    port,
    label: id,
    logName: id,
    env: hostEnv(id, port, s),
    onSpawn: (child) => (log = new LogTap(child.proc.stdout!)),
  });
  const joined = await log!.waitFor((r) => r.msg === 'Host joined the cluster', 15_000);
  if (!joined) throw new Error(`${id} is healthy but never logged "Host joined the cluster"`);
  return { id, server, log: log!, ws: server.url.replace(/^http/, 'ws') };
}

/** Waits (bounded) until every host in `hosts` lists exactly their ids in GET /hosts. */
export async function waitForCluster(hosts: Host[], timeoutMs = 15_000): Promise<void> {
  const want = hosts.map((h) => h.id).sort().join();
  const deadline = Date.now() + timeoutMs;
  for (const h of hosts) {
    for (;;) {
      const res = await requestJson('GET', `${h.server.url}/hosts`, undefined, 2000).catch(() => null);
      const seen = (res?.body as { hosts?: Array<{ hostId: string }> } | undefined)?.hosts?.map((x) => x.hostId).sort().join();
      if (seen === want) break;
      if (Date.now() > deadline) throw new Error(`${h.id} lists hosts [${seen ?? '?'}], expected [${want}]`);
      await sleep(100);
    }
  }
}

export interface Kill {
  /** performance.now() and Date.now() just before the first SIGKILL. */
  at: number;
  wall: number;
  pids: number[];
  /** ms the host's lease key still had to live at the kill (Redis PTTL), null if unknown. */
  leaseLeftMs: number | null;
}

/** Reads a key's remaining time to live in Redis, over a connection opened beforehand. */
export class LeaseReader {
  private readonly redis: Redis;

  constructor(url: string) {
    // Never reconnects: once the benchmark stops redis-server, this connection just ends.
    this.redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => null });
    this.redis.on('error', () => undefined);
  }

  async open(): Promise<void> {
    await this.redis.connect();
  }

  /** PTTL of host `id`'s lease (`qm:host:<id>`, hosts/hostRegistry.ts); null if it has none. */
  async leaseLeftMs(id: string): Promise<number | null> {
    const ms = await this.redis.pttl(`qm:host:${id}`).catch(() => -2);
    return ms >= 0 ? ms : null;
  }

  close(): void {
    this.redis.disconnect();
  }
}

/** SIGKILL to the host's master and every worker at once (its whole process group), and waits until they are gone. */
export async function killHost(host: Host, lease: LeaseReader): Promise<Kill> {
  const child: Child = host.server.child;
  children.noteFamily(child);
  const ids: ProcId[] = [child.id, ...descendants(child.id.pid)];
  const at = performance.now();
  const wall = Date.now();
  for (const id of ids) signalProc(id, 'SIGKILL');
  const leaseLeftMs = await lease.leaseLeftMs(host.id);
  await Promise.race([child.exited, sleep(5000)]);
  const deadline = Date.now() + 5000;
  while (ids.some(isAlive) && Date.now() < deadline) await sleep(20);
  return { at, wall, pids: ids.map((i) => i.pid), leaseLeftMs };
}

/** POST /matches on `owner` through the run; throws unless `owner` itself took the match. */
export async function createOn(owner: Host, run: { create(): Promise<CreatedMatch> }): Promise<CreatedMatch> {
  const created = await run.create();
  const hostId = (created as CreatedMatch & { hostId?: string }).hostId;
  if (hostId !== owner.id) throw new Error(`match ${created.matchId} was placed on ${hostId ?? '?'}, not ${owner.id}`);
  return created;
}
