/**
 * Runs the load generator (scripts/loadtest.ts, or a peer's driver that takes the same
 * options and prints the same summary) as a child process with `--json` and returns its
 * summary. The child is bounded: it gets `--duration`, and is killed if it has not printed
 * its summary 30 s after that.
 */
import path from 'node:path';
import type { LoadSummary } from '../lib/report';
import { children } from './children';
import { ROOT } from '../lib/repoRoot';

export interface LoadRequest {
  url: string;
  /** The pid the benchmark spawned (single process, master or floor server), sampled as "master". */
  masterPid: number;
  matches: number;
  players: number;
  questions: number;
  questionTimeSec: number;
  answerTime: string;
  durationSec: number;
  connectConcurrency?: number;
  /** The driver to run, relative to the repository (default scripts/loadtest.ts). */
  driver?: string;
}

export interface LoadResult {
  args: string[];
  /** The command a human would type to repeat the run by hand (also shown in the report). */
  command: string;
  summary: LoadSummary | null;
  /** Why there is no summary, or the child's complaint. */
  error: string | null;
  wallMs: number;
}

/** The load generator's command line for `r` (also shown in the report). */
export function loadArgs(r: LoadRequest): string[] {
  return [
    '--url', r.url,
    '--matches', String(r.matches),
    '--players', String(r.players),
    '--questions', String(r.questions),
    '--question-time', String(r.questionTimeSec),
    '--answer-time', r.answerTime,
    '--duration', String(r.durationSec),
    ...(r.connectConcurrency ? ['--connect-concurrency', String(r.connectConcurrency)] : []),
    '--json',
    '--master-pid', String(r.masterPid),
  ];
}

const DEFAULT_DRIVER = path.join('scripts', 'loadtest.ts');

function nodeArgs(driver: string | undefined): string[] {
  return ['-r', 'ts-node/register/transpile-only', driver ?? DEFAULT_DRIVER];
}

export async function runLoad(r: LoadRequest): Promise<LoadResult> {
  const args = loadArgs(r);
  const command = ['node', ...nodeArgs(r.driver), ...args].join(' ');
  const t0 = Date.now();
  const child = children.spawn('loadtest', process.execPath, [...nodeArgs(r.driver), ...args], {
    cwd: ROOT,
    env: process.env,
  });
  let stdout = '';
  let stderr = '';
  child.proc.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.proc.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 20_000) stderr += d.toString();
  });
  const limitMs = (r.durationSec + 30) * 1000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void children.stop(child, 2000);
  }, limitMs);
  const code = await child.exited;
  clearTimeout(timer);
  const wallMs = Date.now() - t0;

  const line = stdout.split('\n').find((l) => l.startsWith('{'));
  let summary: LoadSummary | null = null;
  if (line) {
    try {
      summary = JSON.parse(line) as LoadSummary;
    } catch {
      summary = null;
    }
  }
  let error: string | null = null;
  if (timedOut) error = `load generator still running ${limitMs / 1000} s after start; killed`;
  else if (!summary) error = `load generator exited ${code} without a JSON summary: ${stderr.trim().slice(-500)}`;
  else if (summary.setupErrors.length > 0) error = summary.setupErrors.join('; ');
  return { args, command, summary, error, wallMs };
}
