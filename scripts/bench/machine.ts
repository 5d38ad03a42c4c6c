/** Where and with what the benchmark ran: machine, versions, commit, command line. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../lib/repoRoot';

export interface MachineInfo {
  date: string;
  command: string;
  cpuModel: string;
  cores: number;
  ramGiB: number;
  os: string;
  node: string;
  ws: string;
  typescript: string;
  redis: string;
  git: { commit: string; dirty: boolean; describe: string };
  build: string;
  /** Files under src/ that differ from the commit (others may edit while dist/ is built). */
  srcChanges?: string[];
  loadAvgAtStart: number[];
}

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

function pkgVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

/** `script`: the npm script that ran, for the command line shown. */
export function machineInfo(argv: string[], build: string, script = 'bench'): MachineInfo {
  const cpus = os.cpus();
  const status = run('git', ['status', '--porcelain']);
  const redis = /v=(\S+)/.exec(run('redis-server', ['--version']))?.[1] ?? 'not found';
  return {
    date: new Date().toISOString(),
    command: ['npm', 'run', script, ...(argv.length > 0 ? ['--', ...argv] : [])].join(' '),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    ramGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    ws: pkgVersion('ws'),
    typescript: pkgVersion('typescript'),
    redis,
    git: { commit: run('git', ['rev-parse', 'HEAD']) || 'unknown', dirty: status !== '', describe: run('git', ['log', '-1', '--format=%h %s']) },
    build,
    srcChanges: run('git', ['status', '--porcelain', '--', 'src'])
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(/^\s*\S+\s+/, '')), // "XY path" (run() trims the first line's leading blank)
    loadAvgAtStart: os.loadavg(),
  };
}
