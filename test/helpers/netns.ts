/**
 * Several "machines" on one: Linux network namespaces joined by veth pairs to a bridge in the
 * root namespace, for tests that cut one host off the network (partition.test.ts). Needs root
 * and iproute2; `netnsUnavailable()` says why not, for a skip.
 *
 * Addresses come from 198.18.0.0/15 only (RFC 2544, set aside for network tests): a free /24
 * of it, the bridge on .1. Every name carries `qmt<pid>` (pid of the test process), so a run
 * never collides with another one, and what a crashed run left behind is recognized (its pid
 * is gone) and deleted by the next run. Nothing else is ever deleted: only the exact names a
 * topology created, and leftovers whose name carries that prefix and a dead pid.
 *
 * Names: namespace `qmt<pid>-<node>`, bridge `qmt<pid>br`, veth `qmt<pid><node>` (bridge side)
 * and `qmt<pid><node>n` (inside the namespace). Interface names are at most 15 bytes, so node
 * names are short (`r`, `h1`…).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readlinkSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pidAlive } from '../../scripts/lib/processTree';
import { eventually, type ProcessGroup, type Started } from './processes';

const PREFIX = 'qmt';
const IFNAMSIZ = 15;

/** One command of `ip`; throws with its stderr. */
function ip(...args: string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')}: ${(e.stderr ?? '').trim() || e.message}`);
  }
}

/** `ip` that may fail (teardown of something already gone): true when it succeeded. */
function ipQuiet(...args: string[]): boolean {
  return spawnSync('ip', args, { stdio: 'ignore' }).status === 0;
}

/**
 * Why namespaces cannot be used here (null: they can). Tries the real thing once: a namespace,
 * a bridge and a veth pair, all deleted again.
 */
export function netnsUnavailable(): string | null {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not running as root';
  if (spawnSync('ip', ['-V'], { stdio: 'ignore' }).error) return '`ip` (iproute2) is not installed';
  const probe = `${PREFIX}${process.pid}`;
  const ns = `${probe}-probe`;
  try {
    ip('netns', 'add', ns);
    ip('netns', 'exec', ns, 'true');
    ip('link', 'add', `${probe}pb`, 'type', 'bridge');
    ip('link', 'add', `${probe}pv`, 'type', 'veth', 'peer', 'name', `${probe}pvn`);
    ip('link', 'set', `${probe}pvn`, 'netns', ns);
    return null;
  } catch (err) {
    return `cannot create a network namespace, bridge or veth pair: ${(err as Error).message}`;
  } finally {
    ipQuiet('link', 'del', `${probe}pv`);
    ipQuiet('link', 'del', `${probe}pb`);
    ipQuiet('netns', 'del', ns);
  }
}

export interface NetNode {
  /** Short name given to `createTopology` (`r`, `h1`…). */
  name: string;
  /** The namespace's name (for `ip netns exec`). */
  ns: string;
  /** Its address on the bridge. */
  addr: string;
  /** The veth end on the bridge, in the root namespace: down cuts the node off. */
  bridgeVeth: string;
  /** The veth end inside the namespace. */
  nsVeth: string;
}

export interface Topology {
  prefix: string;
  bridge: string;
  /** The bridge's address: how the root namespace (the test) is seen by the nodes. */
  gateway: string;
  nodes: Record<string, NetNode>;
}

/** What a topology created, newest last, so teardown deletes exactly that even after a partial setup. */
interface Created {
  namespaces: string[];
  links: string[];
}
const created = new WeakMap<Topology, Created>();

/** Names of namespaces and root-namespace links that carry `qmt<pid>` for a pid that is gone. */
function leftovers(): { namespaces: string[]; links: string[] } {
  const dead = (name: string, re: RegExp) => {
    const m = re.exec(name);
    return m !== null && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]));
  };
  const namespaces = ip('netns', 'list')
    .split('\n')
    .map((l) => l.split(' ')[0]!.trim())
    .filter((n) => dead(n, new RegExp(`^${PREFIX}(\\d+)-[a-z0-9]+$`)));
  const links = ip('-o', 'link', 'show')
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '')
    .filter((n) => dead(n, new RegExp(`^${PREFIX}(\\d+)(br|pb|pvn?|[a-z][a-z0-9]?n?)$`)));
  return { namespaces, links };
}

/**
 * Deletes what an earlier, crashed run of these tests left (names with the prefix and a pid
 * that no longer runs). Processes still inside such a namespace are not ours to end: they are
 * reported, and the namespace's name is removed (it then lives only as long as they do).
 */
export function removeLeftovers(): string[] {
  const { namespaces, links } = leftovers();
  for (const ns of namespaces) {
    const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout?.trim();
    if (pids) process.stderr.write(`netns: leftover namespace ${ns} still has processes ${pids.split('\n').join(', ')} (not ours to end)\n`);
    ipQuiet('netns', 'del', ns);
  }
  // Veth ends in the root namespace whose peers were in a deleted namespace are gone with it.
  for (const link of links) ipQuiet('link', 'del', link);
  return [...namespaces, ...links];
}

/** The first /24 of 198.18.0.0/15 that no address or route of the root namespace touches. */
function freeSubnet(): string {
  const used = ip('-4', '-o', 'addr', 'show') + ip('-4', 'route', 'show', 'table', 'all');
  for (let third = 0; third < 512; third++) {
    const net = third < 256 ? `198.18.${third}.` : `198.19.${third - 256}.`;
    if (!used.includes(net)) return net;
  }
  throw new Error('no free /24 left in 198.18.0.0/15');
}

/**
 * Creates the bridge and, for each node, a namespace joined to it by a veth pair, with `lo`
 * up and the address `<subnet>.<host>`. On a failure everything created so far is deleted.
 */
export async function createTopology(nodes: Array<{ name: string; host: number }>): Promise<Topology> {
  const prefix = `${PREFIX}${process.pid}`;
  const removed = removeLeftovers();
  if (removed.length > 0) process.stderr.write(`netns: removed leftovers of an earlier run: ${removed.join(', ')}\n`);
  const subnet = freeSubnet();
  const topo: Topology = { prefix, bridge: `${prefix}br`, gateway: `${subnet}1`, nodes: {} };
  const made: Created = { namespaces: [], links: [] };
  created.set(topo, made);
  const ifname = (n: string) => {
    if (n.length > IFNAMSIZ) throw new Error(`interface name ${n} is longer than ${IFNAMSIZ} bytes`);
    return n;
  };
  try {
    ip('link', 'add', ifname(topo.bridge), 'type', 'bridge');
    made.links.push(topo.bridge);
    ip('addr', 'add', `${topo.gateway}/24`, 'dev', topo.bridge);
    ip('link', 'set', topo.bridge, 'up');
    for (const { name, host } of nodes) {
      const node: NetNode = { name, ns: `${prefix}-${name}`, addr: `${subnet}${host}`, bridgeVeth: ifname(`${prefix}${name}`), nsVeth: ifname(`${prefix}${name}n`) };
      ip('netns', 'add', node.ns);
      made.namespaces.push(node.ns);
      ip('link', 'add', node.bridgeVeth, 'type', 'veth', 'peer', 'name', node.nsVeth);
      made.links.push(node.bridgeVeth);
      ip('link', 'set', node.nsVeth, 'netns', node.ns);
      ip('link', 'set', node.bridgeVeth, 'master', topo.bridge);
      ip('link', 'set', node.bridgeVeth, 'up');
      ip('-n', node.ns, 'link', 'set', 'lo', 'up');
      ip('-n', node.ns, 'addr', 'add', `${node.addr}/24`, 'dev', node.nsVeth);
      ip('-n', node.ns, 'link', 'set', node.nsVeth, 'up');
      topo.nodes[name] = node;
    }
  } catch (err) {
    await destroyTopology(topo);
    throw err;
  }
  return topo;
}

/** True while a link of that name exists in the root namespace. */
function linkExists(name: string): boolean {
  return spawnSync('ip', ['link', 'show', 'dev', name], { stdio: 'ignore' }).status === 0;
}

/**
 * Deletes exactly what `createTopology` made: namespaces (their veth ends, and so the pairs,
 * go with them, though the kernel finishes that a moment later), then whatever is left of the
 * root-side veths, and the bridge. Stop the processes inside first. Never throws; resolves
 * with what could not be deleted.
 */
export async function destroyTopology(topo: Topology | undefined): Promise<string[]> {
  const made = topo && created.get(topo);
  if (!made) return [];
  created.delete(topo);
  const failed: string[] = [];
  for (const ns of [...made.namespaces].reverse()) if (!ipQuiet('netns', 'del', ns)) failed.push(ns);
  for (const link of [...made.links].reverse()) {
    const gone = await eventually(() => (!linkExists(link) || ipQuiet('link', 'del', link) ? true : undefined), 3000, `${link} to be deleted`).catch(() => false);
    if (!gone) failed.push(link);
  }
  return failed;
}

/** Cuts a node off the bridge (both ways, silently: no RST, no ICMP, as a pulled cable). */
export function cutOff(node: NetNode): void {
  ip('link', 'set', node.bridgeVeth, 'down');
}

/** Joins a node to the bridge again. */
export function reconnect(node: NetNode): void {
  ip('link', 'set', node.bridgeVeth, 'up');
}

/** The inode that names a network namespace (as in /proc/<pid>/ns/net: `net:[inode]`). */
function netnsInode(ns: string): number {
  return statSync(path.join('/run/netns', ns)).ino;
}

/** The file `command` runs (PATH searched, symlinks resolved: redis-server is a link to redis-check-rdb on Debian). */
function executable(command: string): string {
  const dirs = command.includes('/') ? [''] : (process.env.PATH ?? '').split(':').filter(Boolean);
  for (const dir of dirs) {
    const file = dir ? path.join(dir, command) : command;
    try {
      accessSync(file, constants.X_OK);
      return realpathSync(file);
    } catch {
      // not here
    }
  }
  throw new Error(`${command} not found on PATH`);
}

/**
 * Starts `command` inside `node`'s namespace through `group` (`ip netns exec` execs the
 * command in place, so the pid the group records becomes the command's own), and checks that:
 * the process at that pid runs `command` in that namespace.
 */
export async function spawnIn(group: ProcessGroup, node: NetNode, command: string, args: string[], env: Record<string, string> = {}): Promise<Started> {
  const proc = group.spawn('ip', ['netns', 'exec', node.ns, command, ...args], { env });
  const want = netnsInode(node.ns);
  const file = executable(command);
  await eventually(
    () => {
      let exe: string;
      let net: string;
      try {
        exe = readlinkSync(`/proc/${proc.pid}/exe`);
        net = readlinkSync(`/proc/${proc.pid}/ns/net`);
      } catch {
        return undefined;
      }
      return exe === file && net === `net:[${want}]` ? true : undefined;
    },
    5000,
    `pid ${proc.pid} to be ${command} in namespace ${node.ns}`,
  );
  return proc;
}

/** A redis-server inside a namespace, bound to its address: AOF fsynced on every write, its own temp dir. */
export class NsRedis {
  private constructor(
    readonly proc: Started,
    readonly host: string,
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(group: ProcessGroup, node: NetNode, port: number): Promise<NsRedis> {
    const dir = mkdtempSync(path.join(tmpdir(), 'quiz-redis-netns-'));
    const proc = await spawnIn(group, node, 'redis-server', [
      // Protected mode would refuse every client that is not on loopback; the bridge is the test's own.
      '--port', String(port), '--bind', node.addr, '--protected-mode', 'no', '--save', '', '--appendonly', 'yes',
      '--appendfsync', 'always', '--dir', dir, '--daemonize', 'no', '--loglevel', 'notice',
    ]);
    const redis = new NsRedis(proc, node.addr, port, dir);
    await proc.waitForLine(/Ready to accept connections/, 15_000);
    return redis;
  }

  get url(): string {
    return `redis://${this.host}:${this.port}`;
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
