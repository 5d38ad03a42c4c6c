/** Command-line options of `npm run bench:hosts`. */
import path from 'node:path';
import { intOption, onlyList, parseStrict, UsageError } from '../../lib/args';
import { ROOT } from '../../lib/repoRoot';

export const PARTS = ['relay', 'death'] as const;
export type PartName = (typeof PARTS)[number];

export interface HostsOptions {
  /** Players per match. */
  players: number;
  /** Rounds of the relay comparison: each plays one direct and one relayed match. */
  rounds: number;
  /** Questions per match in the relay comparison. */
  questions: number;
  /** HOST_LEASE_MS of both hosts. */
  leaseMs: number;
  /** Players connecting at once. */
  connectConcurrency: number;
  /** Seconds the whole benchmark may wait, over all its runs, for other processes to calm down. */
  quietWaitSec: number;
  only: PartName[];
  outDir: string;
  argv: string[];
}

export const HOSTS_USAGE = `Usage: npm run bench:hosts -- [options]

Starts its own redis-server and two hosts (pool masters with one worker each, HOST_ID
bench-a and bench-b) on free loopback ports and measures, in one sitting:
  relay  players connected to the match's owner (A) vs through the other host (B, relayed):
         upgrade -> welcome and answer -> answer_ack, the two alternating in rounds
  death  SIGKILL of A's whole process group mid-question, players through B, then players
         on A itself (they fail over to B): kill -> takeover and kill -> every player resumed
Prints a table, writes <out>/hosts.json (server logs under <out>/hosts/logs), stops
everything it started.

  --players N              players per match, 1..2000                 (default 300)
  --rounds N               relay rounds (one direct + one relayed match each), 1..10 (default 3)
  --questions N            questions per relay match, 1..10           (default 3)
  --lease-ms MS            HOST_LEASE_MS of the hosts, 1000..60000    (default 2000)
  --connect-concurrency N  players connecting at once, 1..1000        (default 50)
  --quiet-wait SEC         before each run wait (10 s at most) for the machine to be
                           under 30 % busy; SEC bounds all the waits, 0..600 (default 60)
  --only LIST              relay, death; comma-separated              (default: both)
  --out DIR                output directory                           (default bench-results)
  -h, --help               this text`;

export { UsageError };

/** Parses argv (without node and script); null for --help. Throws UsageError. */
export function parseHostsArgs(argv: string[]): HostsOptions | null {
  const values = parseStrict(argv, {
    players: { type: 'string' },
    rounds: { type: 'string' },
    questions: { type: 'string' },
    'lease-ms': { type: 'string' },
    'connect-concurrency': { type: 'string' },
    'quiet-wait': { type: 'string' },
    only: { type: 'string', multiple: true },
    out: { type: 'string' },
  });
  if (!values) return null;
  return {
    players: intOption('players', values.players, 300, 1, 2000),
    rounds: intOption('rounds', values.rounds, 3, 1, 10),
    questions: intOption('questions', values.questions, 3, 1, 10),
    leaseMs: intOption('lease-ms', values['lease-ms'], 2000, 1000, 60_000),
    connectConcurrency: intOption('connect-concurrency', values['connect-concurrency'], 50, 1, 1000),
    quietWaitSec: intOption('quiet-wait', values['quiet-wait'], 60, 0, 600),
    only: onlyList(values.only, PARTS, 'part'),
    outDir: path.resolve(ROOT, values.out ?? 'bench-results'),
    argv,
  };
}
