/**
 * Starts and stops what the benchmark measures, each on a free loopback port: the
 * single-process match server, the pool master, the bare-`ws` floor server and redis-server
 * (the Colyseus peer's own start is in peer.ts, on the helpers exported here).
 * Every server's output goes to a log file under <out>/logs; on stop the file is scanned for
 * warnings and errors so the report can point at them.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { requestJson } from '../lib/http';
import { fetchWorkerStats } from '../lib/matchServiceApi';
import { freePort } from '../lib/ports';
import { ROOT } from '../lib/repoRoot';
import { type Child, children } from './children';

export type ServerKind = 'single' | 'pool' | 'floor' | 'colyseus';

export interface LogDigest {
  file: string;
  lines: number;
  warnings: number;
  errors: number;
  /** Distinct messages (with counts), most frequent first, at most 8. */
  top: Array<{ message: string; count: number }>;
}

export interface Server {
  kind: ServerKind;
  /** What the report calls it, e.g. "pool (memory)". */
  label: string;
  url: string;
  port: number;
  /** The process the benchmark spawned: the single process, the pool master or the floor server. */
  child: Child;
  env: Record<string, string>;
  logFile: string;
  /** The load driver for this server, relative to the repository (default scripts/loadtest.ts). */
  driver?: string;
}

export interface Redis {
  url: string;
  port: number;
  child: Child;
  logFile: string;
}

/** Runs `npm run build` when dist/ lacks an entry point. Returns what it did, for the report. */
export function ensureBuilt(): string {
  const entries = ['dist/matchServer.js', 'dist/matchServerMaster.js'].map((p) => path.join(ROOT, p));
  if (entries.every((p) => existsSync(p))) {
    const builtAt = Math.min(...entries.map((p) => statSync(p).mtimeMs));
    return `dist/ present (built ${new Date(builtAt).toISOString()}), not rebuilt`;
  }
  process.stderr.write('bench: dist/ is missing, running npm run build…\n');
  const t0 = Date.now();
  const res = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], timeout: 300_000 });
  if (res.status !== 0) throw new Error(`npm run build failed (status ${res.status ?? res.signal})`);
  return `built with npm run build in ${((Date.now() - t0) / 1000).toFixed(1)} s`;
}

/**
 * A TypeScript server compiled once to plain JavaScript (typescript's transpileModule) under
 * <out>/.build, so it runs on bare `node` like dist/ does and carries no ts-node compiler in
 * its memory. It finds its packages through NODE_PATH (see startScriptServer).
 */
export function compileScript(source: string, outDir: string, name = path.basename(source, '.ts')): string {
  const file = path.join(outDir, '.build', `${name}.js`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require('typescript') as typeof import('typescript');
  const out = ts.transpileModule(readFileSync(source, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    fileName: path.basename(source),
  });
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, out.outputText);
  return file;
}

let serial = 0;

function logStream(outDir: string, name: string): { file: string; attach(child: Child): void } {
  mkdirSync(path.join(outDir, 'logs'), { recursive: true });
  const file = path.join(outDir, 'logs', `${String(++serial).padStart(3, '0')}-${name}.log`);
  return {
    file,
    attach(child) {
      const out = createWriteStream(file);
      child.proc.stdout?.pipe(out, { end: false });
      child.proc.stderr?.pipe(out, { end: false });
      void child.exited.then(() => setTimeout(() => out.end(), 100));
    },
  };
}

/** Polls GET /health until 200 (bounded); throws with the log tail otherwise. */
async function waitHealthy(url: string, child: Child, logFile: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.hasExited()) break;
    try {
      const res = await requestJson('GET', `${url}/health`, undefined, 2000);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n') : '';
  throw new Error(`${child.name} did not become healthy at ${url} (${child.hasExited() ? 'it exited' : 'timeout'})\n${tail}`);
}

export interface StartOptions {
  outDir: string;
  /** Environment on top of the benchmark's base (LOG_LEVEL=warn, HOST=127.0.0.1…). */
  env?: Record<string, string>;
  label?: string;
  /** Listen on this port (default: a free one); for a server that must know its own URL. */
  port?: number;
  /** Names its log file (default: the kind). */
  logName?: string;
  /** Called once the process is spawned, before it is healthy (e.g. to read its output from the first line). */
  onSpawn?: (child: Child) => void;
}

/** Settings every benchmarked match server gets unless a sweep overrides them. */
const BASE_ENV: Record<string, string> = {
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  LOG_PRETTY: 'false',
  // A finished match frees its slot after 250 ms instead of 60 s, so back-to-back runs fit.
  FINISH_GRACE_MS: '250',
  // The floor server and the Colyseus peer open each question at once: so does the match
  // service here, or its questions would come 3 s later and the workloads would differ.
  QUESTION_INTRO_MS: '0',
  // Thousands of benchmark clients all come from 127.0.0.1: the per-address limits, sized for
  // a classroom behind one NAT, would measure themselves instead of the server.
  MAX_CONNECTIONS_PER_IP: '100000',
  ADDRESS_MSG_RATE_PER_SEC: '1000000',
  ADDRESS_MSG_BURST: '1000000',
};

/** Starts `node dist/matchServer.js` (single) or `node dist/matchServerMaster.js` (pool). */
export async function startMatchServer(kind: 'single' | 'pool', o: StartOptions): Promise<Server> {
  const port = o.port ?? (await freePort());
  const env = { ...BASE_ENV, ...o.env, MATCH_PORT: String(port) };
  const entry = kind === 'single' ? 'dist/matchServer.js' : 'dist/matchServerMaster.js';
  // The parent's own settings (a developer's MAX_WORKERS…) must not leak into a measurement.
  const child = children.spawn(o.logName ?? kind, process.execPath, [entry], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env } });
  const log = logStream(o.outDir, o.logName ?? kind);
  log.attach(child);
  o.onSpawn?.(child);
  const url = `http://127.0.0.1:${port}`;
  const server: Server = { kind, label: o.label ?? kind, url, port, child, env, logFile: log.file };
  try {
    await waitHealthy(url, child, log.file);
  } catch (err) {
    await children.stop(child);
    throw err;
  }
  return server;
}

/**
 * Starts a compiled script server (`compileScript`) that takes `--port N --quiet` and answers
 * GET /health, with `nodePath` as the only place it finds packages.
 */
export async function startScriptServer(kind: ServerKind, script: string, flags: string[], nodePath: string, o: StartOptions): Promise<Server> {
  const port = await freePort();
  const child = children.spawn(kind, process.execPath, [script, '--port', String(port), '--quiet', ...flags], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_PATH: nodePath },
  });
  const log = logStream(o.outDir, kind);
  log.attach(child);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(url, child, log.file);
  } catch (err) {
    await children.stop(child);
    throw err;
  }
  return { kind, label: o.label ?? kind, url, port, child, env: { FLAGS: flags.join(' ') }, logFile: log.file };
}

/** Starts the floor server (scripts/floorServer.ts, compiled) with the given flags. */
export function startFloorServer(flags: string[], o: StartOptions): Promise<Server> {
  const script = compileScript(path.join(ROOT, 'scripts', 'floorServer.ts'), o.outDir);
  return startScriptServer('floor', script, flags, path.join(ROOT, 'node_modules'), o);
}

/** Ends a server and its workers (SIGTERM, then SIGKILL) and digests its log. */
export async function stopServer(s: Server | Redis): Promise<LogDigest> {
  await children.stop(s.child);
  await sleep(150); // let the log stream flush
  return digestLog(s.logFile);
}

/** A throwaway redis-server: no RDB, no AOF, loopback only. */
export async function startRedis(outDir: string): Promise<Redis> {
  const port = await freePort();
  const child = children.spawn('redis', 'redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning',
  ]);
  const log = logStream(outDir, 'redis');
  log.attach(child);
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.hasExited()) throw new Error(`redis-server exited at start; see ${log.file}`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.setTimeout(1000);
      sock.once('connect', () => sock.write('PING\r\n'));
      sock.once('data', (d) => {
        sock.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
      sock.once('error', () => resolve(false));
      sock.once('timeout', () => {
        sock.destroy();
        resolve(false);
      });
    });
    if (ok) break;
    if (Date.now() > deadline) {
      await children.stop(child);
      throw new Error('redis-server did not answer PING within 15 s');
    }
    await sleep(50);
  }
  return { url: `redis://127.0.0.1:${port}`, port, child, logFile: log.file };
}

/** Waits (bounded) until the server hosts no match, so the next run starts from empty. */
export async function waitDrained(s: Server, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetchWorkerStats(s.url)).totalMatches === 0) return true;
    } catch {
      // retry
    }
    await sleep(250);
  }
  return false;
}

/** Counts warn/error lines (pino JSON levels, or any other text on stderr) in a log file. */
export function digestLog(file: string): LogDigest {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { file, lines: 0, warnings: 0, errors: 0, top: [] };
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  let warnings = 0;
  let errors = 0;
  const counts = new Map<string, number>();
  for (const line of lines) {
    let level = 50;
    let message = line.trim().slice(0, 160);
    if (line.startsWith('{')) {
      try {
        const j = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
        level = typeof j.level === 'number' ? j.level : 50;
        message = `${j.msg ?? '?'}${j.err?.message ? `: ${j.err.message}` : ''}`.slice(0, 160);
      } catch {
        // not JSON: count it as an error line
      }
    }
    if (level >= 50) errors++;
    else if (level >= 40) warnings++;
    else continue;
    const key = `${level >= 50 ? 'error' : 'warn'}: ${message}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const top = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([message, count]) => ({ message, count }));
  return { file: path.relative(ROOT, file), lines: lines.length, warnings, errors, top };
}
