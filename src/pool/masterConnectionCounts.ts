/**
 * MAX_CONNECTIONS_PER_IP on the pool master (the single process counts with limits/connectionCounts.ts,
 * which sees every close itself): open WebSocket connections per client address.
 *
 * The master sees each upgrade but not the connection's end once the socket is handed to a
 * worker, so the count lives in two places: upgrades the master still holds (counted until
 * their socket closes here: refused, expired, dropped or answered `match_closed`), and
 * sockets handed to a worker process (counted per process until that worker reports them
 * closed with `connectionsClosed`, or the process exits: a dead worker's sockets are closed
 * with it). Keyed by pid, not worker id: a hung worker's replacement takes its id while the
 * old process may still hold sockets until it is killed.
 *
 * Clients on this machine (`isLocalClient`: the load tool opens thousands of sockets from
 * 127.0.0.1) are not counted.
 */
import type { Duplex } from 'node:stream';
import { KeyedCounts } from '../limits/keyedBuckets';

interface Tracked {
  addr: string;
  /** Handed to this worker process: its close is the worker's to report. */
  pid: number | null;
}

export class MasterConnectionCounts {
  private readonly perAddress: KeyedCounts;
  /** Per worker process: address → sockets handed to it and not yet reported closed. */
  private readonly perProcess = new Map<number, Map<string, number>>();
  private readonly sockets = new WeakMap<Duplex, Tracked>();

  constructor(cap: number) {
    this.perAddress = new KeyedCounts(cap);
  }

  /**
   * A new upgrade from `addr`: counted, unless the address is at its cap (false: refuse it).
   * Asking again for a socket already counted (a held upgrade routed once more) is free.
   */
  open(socket: Duplex, addr: string): boolean {
    if (this.sockets.has(socket)) return true;
    if (!this.perAddress.tryAdd(addr)) return false;
    const tracked: Tracked = { addr, pid: null };
    this.sockets.set(socket, tracked);
    // Until it is handed over, its end is seen here; afterwards the master's copy closes too,
    // and that close means nothing.
    socket.once('close', () => {
      if (tracked.pid === null) this.perAddress.remove(addr);
    });
    return true;
  }

  /** Whether the socket was counted (it came from a non-local client under the cap). */
  counted(socket: Duplex): boolean {
    return this.sockets.has(socket);
  }

  /** The socket is being handed to worker process `pid`: its count moves there. */
  handedTo(socket: Duplex, pid: number): void {
    const tracked = this.sockets.get(socket);
    if (!tracked || tracked.pid !== null) return;
    tracked.pid = pid;
    const mine = this.perProcess.get(pid) ?? new Map<string, number>();
    mine.set(tracked.addr, (mine.get(tracked.addr) ?? 0) + 1);
    this.perProcess.set(pid, mine);
  }

  /** The hand-off failed (the socket was destroyed): released now, whatever the worker says later. */
  handOffFailed(socket: Duplex): void {
    const tracked = this.sockets.get(socket);
    if (tracked?.pid == null) return;
    this.closedOn(tracked.pid, [tracked.addr]);
  }

  /** Worker process `pid` reports sockets closed. Only what was handed to it is released. */
  closedOn(pid: number, addrs: readonly string[]): void {
    const mine = this.perProcess.get(pid);
    if (!mine) return;
    for (const addr of addrs) {
      const n = mine.get(addr) ?? 0;
      if (n === 0) continue;
      if (n === 1) mine.delete(addr);
      else mine.set(addr, n - 1);
      this.perAddress.remove(addr);
    }
    if (mine.size === 0) this.perProcess.delete(pid);
  }

  /** Worker process `pid` exited: every socket it held is closed. */
  processExited(pid: number): void {
    const mine = this.perProcess.get(pid);
    if (!mine) return;
    this.perProcess.delete(pid);
    for (const [addr, n] of mine) for (let i = 0; i < n; i++) this.perAddress.remove(addr);
  }

  count(addr: string): number {
    return this.perAddress.count(addr);
  }
}
