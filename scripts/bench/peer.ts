/**
 * The Colyseus peer of the floor sweep (bench/peers/colyseus): its dependencies, installed in
 * its own folder from its own package-lock.json so the product never depends on them, and its
 * server, started like the floor server. When its dependencies cannot be installed the sweep
 * runs without it and the report says why.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../lib/repoRoot';
import { children } from './children';
import { type Server, type StartOptions, compileScript, startScriptServer } from './servers';

const PEER_REL = path.join('bench', 'peers', 'colyseus');
const PEER_DIR = path.join(ROOT, PEER_REL);
const MODULES = path.join(PEER_DIR, 'node_modules');
/** npm ci of ~40 packages takes well under a minute; past this the registry is not answering. */
const INSTALL_TIMEOUT_MS = 180_000;

export interface PeerStatus {
  /** False: the peer's rows are skipped. */
  ok: boolean;
  /** What happened to its dependencies, for the report. */
  install: string;
  /** Installed versions of the packages that matter (server, transport, ws, client SDK). */
  versions: Record<string, string>;
}

function version(pkgDir: string): string | null {
  try {
    return (JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

/** The pinned dependencies that are missing or at another version than package.json says. */
function outOfDate(): string[] {
  const pinned = (JSON.parse(readFileSync(path.join(PEER_DIR, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies;
  return Object.entries(pinned)
    .filter(([name, want]) => version(path.join(MODULES, name)) !== want)
    .map(([name, want]) => `${name}@${want}`);
}

function versions(): Record<string, string> {
  const ws = [path.join(MODULES, '@colyseus', 'ws-transport', 'node_modules', 'ws'), path.join(MODULES, 'ws')].find((d) => existsSync(d));
  const out: Record<string, string> = {};
  for (const [name, dir] of [
    ['@colyseus/core', path.join(MODULES, '@colyseus', 'core')],
    ['@colyseus/ws-transport', path.join(MODULES, '@colyseus', 'ws-transport')],
    ['ws (server side)', ws ?? ''],
    ['colyseus.js', path.join(MODULES, 'colyseus.js')],
  ] as const) {
    out[name] = (dir && version(dir)) || 'missing';
  }
  return out;
}

/** npm's own words for a failure: its error code and message, without the stack. */
function npmError(output: string): string {
  const lines = output.split('\n').map((l) => l.trim());
  const picked = [lines.find((l) => /^npm error code /.test(l)), lines.find((l) => /^npm error \S*Error\b/.test(l))].filter((l): l is string => !!l);
  const text = (picked.length > 0 ? picked : lines.filter(Boolean).slice(0, 2)).join(' / ');
  return text ? `: ${text.slice(0, 300)}` : '';
}

/**
 * Installs the peer's dependencies (`npm ci --prefix bench/peers/colyseus`) unless every pinned
 * one is already there. Never throws: a failure is a status with ok = false.
 */
export async function ensurePeer(progress: (line: string) => void): Promise<PeerStatus> {
  if (outOfDate().length === 0) return { ok: true, install: `already installed in ${PEER_REL}/node_modules`, versions: versions() };
  progress(`colyseus peer: installing its dependencies (npm ci --prefix ${PEER_REL})…`);
  const t0 = Date.now();
  let head = '';
  let timedOut = false;
  let code: string;
  try {
    const child = children.spawn('npm ci (peer)', 'npm', ['ci', '--prefix', PEER_REL, '--no-audit', '--no-fund'], { cwd: ROOT, env: process.env });
    const keep = (d: Buffer) => {
      if (head.length < 4000) head += d.toString();
    };
    child.proc.stdout?.on('data', keep);
    child.proc.stderr?.on('data', keep);
    const timer = setTimeout(() => {
      timedOut = true;
      void children.stop(child, 2000);
    }, INSTALL_TIMEOUT_MS);
    code = await child.exited;
    clearTimeout(timer);
  } catch (err) {
    code = `error: ${(err as Error).message}`;
  }
  const missing = outOfDate();
  const secs = ((Date.now() - t0) / 1000).toFixed(0);
  if (missing.length === 0) return { ok: true, install: `installed with npm ci --prefix ${PEER_REL} in ${secs} s`, versions: versions() };
  const why = timedOut ? `still running after ${INSTALL_TIMEOUT_MS / 1000} s; stopped` : `exit ${code}`;
  return {
    ok: false,
    install: `could not install its dependencies with npm ci --prefix ${PEER_REL} (${why}; still missing ${missing.join(', ')})${npmError(head)}`,
    versions: versions(),
  };
}

/** Starts the peer's server (compiled like the floor server) with the floor server's flags. */
export async function startColyseusServer(flags: string[], o: StartOptions): Promise<Server> {
  const script = compileScript(path.join(PEER_DIR, 'server.ts'), o.outDir, 'colyseusServer');
  const server = await startScriptServer('colyseus', script, flags, MODULES, o);
  return { ...server, driver: path.join(PEER_REL, 'driver.ts') };
}
