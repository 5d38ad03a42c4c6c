/**
 * Keeps `npm run bench:hosts` from rotting: the whole script (its own redis-server, two hosts,
 * one host killed twice) with tiny sizes. It asserts that the script ran both parts, printed
 * both tables, wrote its JSON and left no process behind; never a timing.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, expect, it } from 'vitest';
import type { HostsResults } from '../../scripts/bench/hosts/report';
import { type ProcId, descendants, isAlive } from '../../scripts/lib/processTree';
import { ProcessGroup } from '../helpers/processes';

const group = new ProcessGroup();
const out = mkdtempSync(path.join(tmpdir(), 'bench-hosts-'));

afterAll(async () => {
  await group.stopAll();
  rmSync(out, { recursive: true, force: true });
});

const key = (d: ProcId) => `${d.pid}:${d.startTime}`;

it('npm run bench:hosts with tiny sizes measures both parts and stops every process it started', async () => {
  const before = new Set(descendants(process.pid).map(key));
  const run = group.spawn('npm', [
    'run', '--silent', 'bench:hosts', '--',
    '--players', '10', '--rounds', '1', '--questions', '1', '--lease-ms', '1000', '--quiet-wait', '0', '--out', out,
  ]);
  // Every process of the script's tree, seen while it runs: redis-server, both hosts' masters
  // and workers, host A started again. None may outlive the script.
  const seen = new Map<number, ProcId>();
  let exited = false;
  const exit = run.exited.then((code) => {
    exited = true;
    return code;
  });
  while (!exited) {
    for (const d of descendants(run.pid)) seen.set(d.pid, d);
    await Promise.race([exit, sleep(200)]);
  }
  expect(await exit, run.lines.slice(-40).join('\n')).toBe(0);

  const text = run.lines.join('\n');
  expect(text).toContain('## Several hosts: relayed vs direct');
  expect(text).toContain("## Several hosts: a host's death");
  const results = JSON.parse(readFileSync(path.join(out, 'hosts.json'), 'utf8')) as HostsResults;
  expect(results.notes).toEqual([]);
  expect(results.relay?.runs.map((r) => [r.round, r.via, r.joined, r.complete])).toEqual([
    [1, 'direct', 10, true],
    [1, 'relayed', 10, true],
  ]);
  expect(results.death.map((d) => [d.via, d.joined, d.neverResumed, d.ownerAfter])).toEqual([
    ['relayed', 10, 0, 'bench-b'],
    ['direct', 10, 0, 'bench-b'],
  ]);
  // The direct run's players were on A, and are on B now.
  expect(results.death[1]!.onBAfter).toBe(10);
  expect(existsSync(path.join(out, 'hosts', 'logs'))).toBe(true);

  // Nothing left: every process seen in the script's tree is gone, and the test's own tree is as before.
  const names = [...seen.values()].map((d) => `${d.pid} ${readCmd(d.pid)}`).join('\n');
  expect(seen.size, names).toBeGreaterThanOrEqual(6);
  expect([...seen.values()].filter(isAlive).map((d) => `${d.pid} ${readCmd(d.pid)}`)).toEqual([]);
  expect(descendants(process.pid).map(key).filter((k) => !before.has(k))).toEqual([]);
}, 180_000);

function readCmd(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '(gone)';
  }
}
