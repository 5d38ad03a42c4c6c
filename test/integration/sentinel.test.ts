/**
 * Redis through Sentinel (REDIS_SENTINELS), all started here on free ports: a primary, one
 * replica and three sentinels, and a pool that reaches Redis only through the sentinels, with
 * REDIS_WAIT_REPLICAS=1 (no answer is acknowledged before a replica holds it).
 *
 * Mid-question the primary is SIGKILLed. The sentinels promote the replica and the pool
 * follows it. With no replica left, answers sent now are not acknowledged (the new primary
 * alone is not enough); once the old primary comes back (the sentinels make it a replica of
 * the new one) they are. The standings equal a fault-free run's: no acknowledged answer was
 * lost in the failover.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/ports';
import { CRASH_Q, finish, HELD, playToCrashQuestion } from '../helpers/chaosScript';
import { eventually, ProcessGroup, type Started } from '../helpers/processes';
import { type RunningService, startMatchService } from '../helpers/servers';

const MASTER = 'qm';
const group = new ProcessGroup();
const dirs: string[] = [];
let primaryPort: number;
let primary: Started;
let primaryDir: string;
const sentinels: Started[] = [];
let svc: RunningService;

function redisArgs(port: number, dir: string): string[] {
  return ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir, '--daemonize', 'no'];
}

function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'quiz-sentinel-'));
  dirs.push(d);
  return d;
}

async function startPrimary(): Promise<void> {
  primary = group.spawn('redis-server', redisArgs(primaryPort, primaryDir));
  await primary.waitForLine(/Ready to accept connections/, 15_000);
}

beforeAll(async () => {
  primaryPort = await freePort();
  primaryDir = tempDir();
  await startPrimary();
  const replicaPort = await freePort();
  const replica = group.spawn('redis-server', [...redisArgs(replicaPort, tempDir()), '--replicaof', '127.0.0.1', String(primaryPort)]);
  await replica.waitForLine(/MASTER <-> REPLICA sync: Finished with success/, 15_000);
  const sentinelPorts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    sentinelPorts.push(port);
    // A sentinel rewrites its own config file: each gets one in its own directory.
    const conf = path.join(tempDir(), 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `sentinel monitor ${MASTER} 127.0.0.1 ${primaryPort} 2`,
        `sentinel down-after-milliseconds ${MASTER} 1000`,
        `sentinel failover-timeout ${MASTER} 5000`,
        `sentinel parallel-syncs ${MASTER} 1`,
        '',
      ].join('\n'),
    );
    const s = group.spawn('redis-server', [conf, '--sentinel']);
    await s.waitForLine(/\+slave slave/, 15_000);
    sentinels.push(s);
  }
  svc = await startMatchService(group, 'pool', {
    REDIS_SENTINELS: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','),
    REDIS_MASTER_NAME: MASTER,
    REDIS_WAIT_REPLICAS: '1',
    HOST_ID: 'sentinel-host',
    MATCH_TIME_SCALE: '1',
    REVEAL_MS: '150',
    LEADERBOARD_MS: '150',
    FINISH_GRACE_MS: '2000',
    MAX_WORKERS: '1',
    HOST_LEASE_MS: '5000',
  });
  await svc.proc.waitForLine('"Host joined the cluster"');
});

afterAll(async () => {
  await group.stopAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('Redis through Sentinel, with REDIS_WAIT_REPLICAS=1', () => {
  it('the primary SIGKILLed mid-question: the pool follows the new primary; nothing acked is lost; nothing is acked while no replica holds it', async () => {
    const baseline = await finish(await playToCrashQuestion(svc, 1));
    const played = await playToCrashQuestion(svc, 1);
    const players = played.players[0]!;

    const linesBeforeKill = svc.proc.lines.length;
    process.kill(primary.pid, 'SIGKILL');
    await primary.exited;
    await Promise.all(sentinels.map((s) => s.waitForLine(/\+switch-master/, 30_000)));

    // The new primary has no replica: the held players' answers are stored there but not acked.
    // Wait for the evidence (a write refused because WAIT came up short), not for a fixed time:
    // before it the pool may still be reconnecting through the sentinels, with its own backoff.
    for (const [k, p] of players.entries()) if (HELD.includes(k)) p.release(CRASH_Q);
    await eventually(() => svc.proc.lines.slice(linesBeforeKill).find((l) => l.includes('replicas hold the write')), 30_000, 'a write refused for want of a replica');
    for (const [k, p] of players.entries()) if (HELD.includes(k)) expect(p.acks.has(CRASH_Q), p.name).toBe(false);

    // The old primary returns; the sentinels turn it into the new primary's replica.
    await startPrimary();
    for (const [k, p] of players.entries()) if (HELD.includes(k)) await p.waitForAck(CRASH_Q, 30_000);
    const standings = await finish(played);
    expect(standings).toEqual(baseline);
  }, 180_000);
});
