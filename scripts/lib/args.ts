/**
 * Command-line options of the load generator (node:util parseArgs), validated into a typed
 * object. Kept apart from loadtest.ts so a benchmark script can build the same options.
 */
import { parseArgs } from 'node:util';
import { loopbackBase } from './loopback';
import { type Distribution, parseDistribution } from './util';

export interface LoadOptions {
  /** http(s) origin of the match service (loopback only). */
  url: string;
  /** ws(s) origin matching `url`. */
  wsUrl: string;
  matches: number;
  players: number;
  /** Built-in quiz id; when null an inline quiz is generated. */
  quizId: string | null;
  questions: number;
  questionTimeSec: number;
  answerTime: Distribution;
  correctRatio: number;
  durationSec: number;
  connectConcurrency: number;
  json: boolean;
  /** Explicit pids to sample; null = discover from GET /workers/stats. */
  pids: number[] | null;
  masterPid: number | null;
}

export const LOAD_USAGE = `Usage: ts-node --transpile-only scripts/loadtest.ts [options]

Simulated quiz players over real WebSockets against a match service on this machine.

  --url URL                 match service origin, loopback only   (default http://127.0.0.1:3001)
  --matches N               matches to run at once                 (default 3)
  --players N               players per match                      (default 5)
  --quiz ID                 use a built-in quiz (answers are random)
  --questions N             inline quiz: questions, 1..100         (default 5)
  --question-time SEC       inline quiz: time limit, 5..240        (default 5)
  --answer-time DIST        uniform:MIN-MAX or fixed:MS            (default uniform:100-500)
  --correct-ratio R         share of correct answers, 0..1         (default 0.7)
  --duration SEC            hard bound on the whole run            (default 60)
  --connect-concurrency N   sockets connecting at once             (default 50)
  --pids 1,2,3              processes to sample (CPU%, RSS)
  --master-pid PID          also sample this pid (the pool master)
  --json                    print only one JSON summary on stdout
  -h, --help                this text

Without --pids the server's worker pids are read from GET {url}/workers/stats.
Exit status: 0 when the run completed or hit --duration, 1 on setup failure, 2 on bad usage.`;

export class UsageError extends Error {
  override name = 'UsageError';
}

type OptionSpecs = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

/**
 * node:util's parseArgs as every script here uses it: strict, no positionals, `--help`/`-h`
 * added; its errors become UsageError. Null for --help.
 */
export function parseStrict<const O extends OptionSpecs>(argv: string[], options: O) {
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: { ...options, help: { type: 'boolean', short: 'h' } } as O & { help: { type: 'boolean'; short: 'h' } },
    });
    // Read through a plain record: inside this generic function the parsed type is not resolved yet.
    return (values as Record<string, unknown>).help ? null : values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** `--only LIST`, repeatable or comma-separated: names from `allowed`, in `allowed`'s order (all of them when none is given). */
export function onlyList<N extends string>(raw: string[] | undefined, allowed: readonly N[], what: string): N[] {
  const names = (raw ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  for (const name of names) {
    if (!(allowed as readonly string[]).includes(name)) throw new UsageError(`--only: unknown ${what} ${JSON.stringify(name)} (use ${allowed.join(', ')}).`);
  }
  return names.length === 0 ? [...allowed] : allowed.filter((a) => names.includes(a));
}

/** An integer option within min..max (default `def` when absent); throws UsageError. */
export function intOption(name: string, raw: string | undefined, def: number, min: number, max: number): number {
  if (raw === undefined) return def;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} must be an integer (got ${JSON.stringify(raw)}).`);
  const v = Number(raw);
  if (v < min || v > max) throw new UsageError(`--${name} must be within ${min}..${max} (got ${v}).`);
  return v;
}

function pidList(raw: string): number[] {
  const pids = raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      if (!/^\d+$/.test(p) || Number(p) <= 0) throw new UsageError(`--pids: ${JSON.stringify(p)} is not a pid.`);
      return Number(p);
    });
  if (pids.length > 256) throw new UsageError('--pids: at most 256 pids.');
  return pids;
}

/** Parses argv (without node and script). Throws UsageError; returns null for --help. */
export function parseLoadArgs(argv: string[]): LoadOptions | null {
  const values = parseStrict(argv, {
    url: { type: 'string' },
    matches: { type: 'string' },
    players: { type: 'string' },
    quiz: { type: 'string' },
    questions: { type: 'string' },
    'question-time': { type: 'string' },
    'answer-time': { type: 'string' },
    'correct-ratio': { type: 'string' },
    duration: { type: 'string' },
    'connect-concurrency': { type: 'string' },
    pids: { type: 'string' },
    'master-pid': { type: 'string' },
    json: { type: 'boolean' },
  });
  if (!values) return null;

  let base;
  try {
    base = loopbackBase(values.url ?? 'http://127.0.0.1:3001');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }

  const quizId = values.quiz ?? null;
  if (quizId !== null && !/^[a-z0-9-]{1,40}$/.test(quizId)) throw new UsageError('--quiz must match /^[a-z0-9-]{1,40}$/.');
  if (quizId !== null && (values.questions !== undefined || values['question-time'] !== undefined)) {
    throw new UsageError('--questions and --question-time describe a generated quiz; do not combine them with --quiz.');
  }

  let answerTime: Distribution;
  try {
    answerTime = parseDistribution(values['answer-time'] ?? 'uniform:100-500');
  } catch (err) {
    throw new UsageError(`--answer-time: ${(err as Error).message}`);
  }

  const ratioRaw = values['correct-ratio'];
  const correctRatio = ratioRaw === undefined ? 0.7 : Number(ratioRaw);
  if (!Number.isFinite(correctRatio) || correctRatio < 0 || correctRatio > 1 || (ratioRaw !== undefined && ratioRaw.trim() === '')) {
    throw new UsageError(`--correct-ratio must be a number within 0..1 (got ${JSON.stringify(ratioRaw)}).`);
  }

  return {
    url: base.http,
    wsUrl: base.ws,
    matches: intOption('matches', values.matches, 3, 1, 10_000),
    players: intOption('players', values.players, 5, 1, 10_000),
    quizId,
    questions: intOption('questions', values.questions, 5, 1, 100),
    questionTimeSec: intOption('question-time', values['question-time'], 5, 5, 240),
    answerTime,
    correctRatio,
    durationSec: intOption('duration', values.duration, 60, 1, 24 * 3600),
    connectConcurrency: intOption('connect-concurrency', values['connect-concurrency'], 50, 1, 10_000),
    json: values.json ?? false,
    pids: values.pids === undefined ? null : pidList(values.pids),
    masterPid: values['master-pid'] === undefined ? null : intOption('master-pid', values['master-pid'], 0, 1, 2 ** 31),
  };
}
