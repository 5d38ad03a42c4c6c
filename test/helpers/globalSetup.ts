/**
 * Runs once around the whole suite. After it, no process started from this checkout by the
 * suite may be left: a leftover master or worker fails the run.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { execSync } from 'node:child_process';
import { descendants } from '../../scripts/lib/processTree';

export function setup(): void {
  const root = path.resolve(__dirname, '..', '..');
  if (!existsSync(path.join(root, 'dist', 'matchServer.js'))) {
    // `npm test` builds first; a bare `vitest` run gets the build here.
    execSync('npx tsc -p tsconfig.json', { cwd: root, stdio: 'inherit' });
  }
}

export function teardown(): void {
  const left = descendants(process.pid).map((d) => d.pid);
  // Vitest's own fork workers are our descendants too; only node processes running our entry points count.
  const ours = left.filter((pid) => {
    try {
      const cmd = require('node:fs').readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return /matchServer|apiServer|worker\.(js|ts)|ts-node-dev|redis-server|chromium/.test(cmd);
    } catch {
      return false;
    }
  });
  if (ours.length > 0) {
    throw new Error(`The test suite left processes running: ${ours.join(', ')}`);
  }
}
