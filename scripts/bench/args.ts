/** Command-line options of `npm run bench`. */
import path from 'node:path';
import { intOption, onlyList, parseStrict, UsageError } from '../lib/args';
import { ROOT } from '../lib/repoRoot';

export const SWEEPS = ['seed', 'heavy', 'floor', 'crash'] as const;
export type SweepName = (typeof SWEEPS)[number];

export interface BenchOptions {
  quick: boolean;
  only: SweepName[];
  reps: number;
  /** Floor sweep: measure this many clients (rooms of 10) instead of walking the ladder down from 5,000. */
  floorClients: number | null;
  outDir: string;
  /** argv as given, for the report. */
  argv: string[];
}

export const BENCH_USAGE = `Usage: npm run bench -- [options]

Starts every server itself (single process, pool, floor server, the Colyseus peer,
redis-server) on free loopback ports, runs the sweeps with the load generator, stops
everything and writes <out>/report.md and <out>/report.json. The floor sweep installs the
peer's dependencies in bench/peers/colyseus (npm ci) when they are missing; if it cannot,
it runs without the peer and says so.

  --quick            tiny sizes, one rep unless --reps: a smoke test (< 60 s)
  --only LIST        seed, heavy, floor, crash; repeatable or comma-separated (default: all)
  --reps N           repetitions of each measured run, 1..20      (default 3; --quick: 1)
  --floor-clients N  floor sweep at exactly N clients (rooms of 10), 10..20000,
                     instead of the first of 5,000, 2,500, 1,000 that completes
  --out DIR          output directory                              (default bench-results)
  -h, --help         this text`;

export { UsageError };

/** Parses argv (without node and script); null for --help. Throws UsageError. */
export function parseBenchArgs(argv: string[]): BenchOptions | null {
  const values = parseStrict(argv, {
    quick: { type: 'boolean' },
    only: { type: 'string', multiple: true },
    reps: { type: 'string' },
    'floor-clients': { type: 'string' },
    out: { type: 'string' },
  });
  if (!values) return null;

  // In the report's order whatever order --only named them in.
  const only: SweepName[] = onlyList(values.only, SWEEPS, 'sweep');

  const quick = values.quick ?? false;
  const reps = intOption('reps', values.reps, quick ? 1 : 3, 1, 20);
  const floorClients = values['floor-clients'] === undefined ? null : intOption('floor-clients', values['floor-clients'], 0, 10, 20_000);
  if (floorClients !== null && floorClients % 10 !== 0) {
    throw new UsageError(`--floor-clients must be a multiple of 10 within 10..20000 (got ${floorClients}): rooms of 10.`);
  }
  return {
    quick,
    only,
    reps,
    floorClients,
    outDir: path.resolve(ROOT, values.out ?? 'bench-results'),
    argv,
  };
}
