/**
 * `npm run bench:hosts`: several hosts on one Redis (WORKER_POOL_ARCHITECTURE.md "Several
 * hosts"), measured in one sitting. Starts its own redis-server and two hosts (bench-a,
 * bench-b: pool masters with one worker each) on free loopback ports, then
 *
 *   relay  players of a match on A connect to A (direct) or through B (relayed as a byte
 *          pipe): upgrade → welcome and answer → ack, alternating in rounds;
 *   death  A's master and worker are SIGKILLed mid-question, first with the players through
 *          B, then (A started again) with the players on A itself, who fail over to B:
 *          kill → B's takeover and kill → every player resumed, next to the lease.
 *
 * Prints two tables and writes <out>/hosts.json; server logs go to <out>/hosts/logs. Every
 * process it starts is stopped by pid at the end, on error and on Ctrl+C (bench/children).
 *
 *   npm run bench:hosts
 *   npm run bench:hosts -- --players 50 --rounds 1 --lease-ms 1000
 *
 * Modules: scripts/bench/hosts/ args, cluster (hosts, their logs, the kill), relay, death,
 * report.
 */
import path from 'node:path';
import { children, installCleanup } from './bench/children';
import { HOSTS_USAGE, type HostsOptions, UsageError, parseHostsArgs } from './bench/hosts/args';
import { type Host, LeaseReader, type HostSettings, startHost, waitForCluster } from './bench/hosts/cluster';
import { oneDeath } from './bench/hosts/death';
import { relayVsDirect } from './bench/hosts/relay';
import { type HostsResults, formatHosts, writeHostsJson } from './bench/hosts/report';
import { quietGate } from './bench/cpuWindow';
import { machineInfo } from './bench/machine';
import { ensureBuilt, startRedis } from './bench/servers';

async function main(opts: HostsOptions): Promise<number> {
  const t0 = Date.now();
  let aborted = false;
  installCleanup(() => (aborted = true));
  const progress = (line: string) => process.stderr.write(`[${String(Math.round((Date.now() - t0) / 1000)).padStart(4)}s] ${line}\n`);
  const { outDir: _out, argv: _argv, ...options } = opts;
  const results: HostsResults = {
    machine: machineInfo(opts.argv, ensureBuilt(), 'bench:hosts'),
    options,
    relay: null,
    death: [],
    notes: [],
    totalMs: 0,
  };
  const logDir = path.join(opts.outDir, 'hosts');
  const gate = quietGate({ thresholdPct: 30, maxWaitMs: 10_000, budgetMs: opts.quietWaitSec * 1000, progress });
  let lease: LeaseReader | null = null;
  try {
    const redis = await startRedis(logDir);
    lease = new LeaseReader(redis.url);
    await lease.open();
    const settings: HostSettings = { outDir: logDir, redisUrl: redis.url, leaseMs: opts.leaseMs, players: opts.players };
    let a: Host = await startHost('bench-a', settings);
    const b: Host = await startHost('bench-b', settings);
    await waitForCluster([a, b]);
    progress(`redis ${redis.url}, bench-a ${a.server.url}, bench-b ${b.server.url}; ${opts.players} players per match, lease ${opts.leaseMs} ms`);

    if (opts.only.includes('relay') && !aborted) {
      try {
        results.relay = await relayVsDirect({ a, b, redisPid: redis.child.id.pid, opts, progress, aborted: () => aborted, quietGate: gate });
        for (const r of results.relay.runs) if (!r.complete) results.notes.push(`relay round ${r.round} ${r.via}: incomplete${r.note ? ` (${r.note})` : ''}`);
      } catch (err) {
        results.notes.push(`relay stopped: ${(err as Error).message}`);
      }
    }
    if (opts.only.includes('death')) {
      for (const via of ['relayed', 'direct'] as const) {
        if (aborted) break;
        try {
          // A died in the previous run: the same HOST_ID comes back on a new port.
          if (a.server.child.hasExited()) {
            a = await startHost('bench-a', settings);
            await waitForCluster([a, b]);
          }
          const d = await oneDeath({ a, b, lease, opts, progress, quietGate: gate }, via);
          results.death.push(d);
          if (d.note || d.neverResumed > 0 || d.joined < d.players) results.notes.push(`death ${via}: ${d.neverResumed} of ${d.joined} joined players never resumed${d.note ? ` (${d.note})` : ''}`);
        } catch (err) {
          results.notes.push(`death ${via} stopped: ${(err as Error).message}`);
        }
      }
    }
  } catch (err) {
    results.notes.push(`setup failed: ${(err as Error).message}`);
  } finally {
    lease?.close();
    await children.stopAll();
  }
  if (aborted) return 130;
  results.totalMs = Date.now() - t0;
  process.stdout.write(`${formatHosts(results)}\n`);
  const file = writeHostsJson(results, opts.outDir);
  progress(`done in ${(results.totalMs / 1000).toFixed(0)} s: ${file}`);
  return results.notes.length > 0 ? 1 : 0;
}

let options: HostsOptions | null;
try {
  options = parseHostsArgs(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`bench:hosts: ${err.message}\n\n${HOSTS_USAGE}\n`);
    process.exit(2);
  }
  throw err;
}
if (options === null) {
  process.stdout.write(`${HOSTS_USAGE}\n`);
} else {
  main(options).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`bench:hosts: ${(err as Error).stack ?? String(err)}\n`);
      children.killAllNow();
      process.exit(1);
    },
  );
}
