/** Command-line options of `npm run bench`. */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../lib/args';
import { ROOT } from '../lib/repoRoot';

export const SWEEPS = ['seed', 'heavy', 'floor', 'crash'] as const;
export type SweepName = (typeof SWEEPS)[number];

export interface BenchOptions {
  quick: boolean;
  only: SweepName[];
  reps: number;
  outDir: string;
  /** argv as given, for the report. */
  argv: string[];
}

export const BENCH_USAGE = `Usage: npm run bench -- [options]

Starts every server itself (single process, pool, floor server, redis-server) on free
loopback ports, runs the sweeps with the load generator, stops everything and writes
<out>/report.md and <out>/report.json.

  --quick            tiny sizes, one rep unless --reps: a smoke test (< 60 s)
  --only LIST        seed, heavy, floor, crash; repeatable or comma-separated (default: all)
  --reps N           repetitions of each measured run, 1..20      (default 3; --quick: 1)
  --out DIR          output directory                              (default bench-results)
  -h, --help         this text`;

export { UsageError };

/** Parses argv (without node and script); null for --help. Throws UsageError. */
export function parseBenchArgs(argv: string[]): BenchOptions | null {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        quick: { type: 'boolean' },
        only: { type: 'string', multiple: true },
        reps: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return null;

  const only: SweepName[] = [];
  for (const item of (values.only ?? []).flatMap((v) => v.split(','))) {
    const name = item.trim();
    if (name === '') continue;
    if (!(SWEEPS as readonly string[]).includes(name)) throw new UsageError(`--only: unknown sweep ${JSON.stringify(name)} (use ${SWEEPS.join(', ')}).`);
    if (!only.includes(name as SweepName)) only.push(name as SweepName);
  }

  const quick = values.quick ?? false;
  let reps = quick ? 1 : 3;
  if (values.reps !== undefined) {
    if (!/^\d+$/.test(values.reps) || Number(values.reps) < 1 || Number(values.reps) > 20) {
      throw new UsageError(`--reps must be an integer within 1..20 (got ${JSON.stringify(values.reps)}).`);
    }
    reps = Number(values.reps);
  }
  return {
    quick,
    // Keep the report's order whatever order --only named them in.
    only: only.length === 0 ? [...SWEEPS] : SWEEPS.filter((s) => only.includes(s)),
    reps,
    outDir: path.resolve(ROOT, values.out ?? 'bench-results'),
    argv,
  };
}
