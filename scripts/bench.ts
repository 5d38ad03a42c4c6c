/**
 * `npm run bench`: the whole benchmark in one command. Builds dist/ if it is missing, starts
 * every server itself on free loopback ports, runs the sweeps (seed, heavy, floor, crash) with
 * the load generator, stops everything it started and writes <out>/report.md + report.json.
 * The floor sweep has a peer, Colyseus (bench/peers/colyseus, its own package.json), whose
 * dependencies it installs there when they are missing.
 *
 *   npm run bench                      # full run, 3 reps (about 15 minutes)
 *   npm run bench -- --quick           # smoke test, under a minute
 *   npm run bench -- --only seed,floor --reps 5 --out /tmp/bench
 *
 * Modules: scripts/bench/args (options), children (process registry and cleanup), servers
 * (start/stop servers and redis), peer (the Colyseus peer's install and start), loadgen (spawn
 * scripts/loadtest.ts --json, or the peer's driver), sweeps (seed, heavy, floor), crash
 * (SIGKILL sweep), results (records and statistics), report, reportFloor and reportFormat
 * (Markdown).
 */
import { BENCH_USAGE, type BenchOptions, type SweepName, UsageError, parseBenchArgs } from './bench/args';
import { children, installCleanup } from './bench/children';
import { crashSettings, crashSweep } from './bench/crash';
import { machineInfo } from './bench/machine';
import { writeReport } from './bench/report';
import type { BenchResults } from './bench/results';
import { quietGate } from './bench/cpuWindow';
import { ensureBuilt } from './bench/servers';
import { type SweepContext, floorSweep, heavySweep, seedSweep, sweepSettings } from './bench/sweeps';

const QUIET_THRESHOLD_PCT = 30;
const QUIET_MAX_WAIT_MS = 15_000;
const QUIET_BUDGET_MS = 120_000;

const SWEEP_RUNNERS: Record<SweepName, (ctx: SweepContext) => Promise<void>> = {
  seed: seedSweep,
  heavy: heavySweep,
  floor: floorSweep,
  crash: crashSweep,
};

async function main(opts: BenchOptions): Promise<number> {
  const t0 = Date.now();
  let aborted = false;
  installCleanup(() => (aborted = true));
  const stamp = () => `[${String(Math.round((Date.now() - t0) / 1000)).padStart(4)}s]`;
  const progress = (line: string) => process.stderr.write(`${stamp()} ${line}\n`);

  const build = ensureBuilt();
  const results: BenchResults = {
    machine: machineInfo(opts.argv, build),
    options: { quick: opts.quick, reps: opts.reps, only: opts.only },
    settings: { ...sweepSettings(opts), crash: crashSettings(opts.quick) },
    runs: [],
    crash: [],
    logs: [],
    floorRooms: null,
    peer: null,
    notes: [],
    totalMs: 0,
  };
  // Other sessions may share the machine: before each run wait until it is calm, at most
  // QUIET_MAX_WAIT_MS per run and QUIET_BUDGET_MS for the whole benchmark.
  const gate = quietGate({ thresholdPct: QUIET_THRESHOLD_PCT, maxWaitMs: QUIET_MAX_WAIT_MS, budgetMs: opts.quick ? 0 : QUIET_BUDGET_MS, progress });
  const ctx: SweepContext = { opts, results, progress, aborted: () => aborted, quietGate: gate };
  progress(`bench: ${opts.quick ? 'quick ' : ''}sweeps ${opts.only.join(', ')}, ${opts.reps} rep(s), output ${opts.outDir}`);

  let failed = false;
  try {
    for (const name of opts.only) {
      if (aborted) break;
      progress(`--- ${name} ---`);
      try {
        await SWEEP_RUNNERS[name](ctx);
      } catch (err) {
        failed = true;
        const msg = `${name} sweep stopped: ${(err as Error).message}`;
        results.notes.push(msg);
        progress(msg);
      }
    }
  } finally {
    await children.stopAll();
  }
  if (aborted) return 130;

  results.totalMs = Date.now() - t0;
  const out = writeReport(results, opts.outDir);
  progress(`done in ${(results.totalMs / 60_000).toFixed(1)} min: ${out.md} and ${out.json}`);
  return failed ? 1 : 0;
}

let options: BenchOptions | null;
try {
  options = parseBenchArgs(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`bench: ${err.message}\n\n${BENCH_USAGE}\n`);
    process.exit(2);
  }
  throw err;
}
if (options === null) {
  process.stdout.write(`${BENCH_USAGE}\n`);
} else {
  main(options).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
      children.killAllNow();
      process.exit(1);
    },
  );
}
