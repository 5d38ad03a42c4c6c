/**
 * Which process holds a TCP connection, read from /proc: the server side of the connection
 * between `serverPort` and the client's `clientPort`, found by socket inode among `pids`' fds.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

function inodesFor(serverPort: number, clientPort: number): Set<string> {
  const out = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const local = parseInt(cols[1]!.split(':')[1]!, 16);
      const remote = parseInt(cols[2]!.split(':')[1]!, 16);
      if (local === serverPort && remote === clientPort) out.add(cols[9]!);
    }
  }
  return out;
}

export function pidsHoldingConnection(serverPort: number, clientPort: number, pids: number[]): number[] {
  const inodes = inodesFor(serverPort, clientPort);
  return pids.filter((pid) => {
    try {
      return readdirSync(`/proc/${pid}/fd`).some((fd) => {
        try {
          const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
          return m !== null && inodes.has(m[1]!);
        } catch {
          return false;
        }
      });
    } catch {
      return false;
    }
  });
}
