/**
 * The worker's side of MAX_CONNECTIONS_PER_IP (pool/masterConnectionCounts.ts): the master counts
 * each client's sockets but cannot see one close once it handed it here, so the worker
 * reports closes, batched: one `connectionsClosed` message per FLUSH_MS at most. The cluster
 * channel also carries socket hand-offs, and Node queues later messages behind an
 * unacknowledged handle, so this traffic is kept small; it is not latency-critical (a client
 * at its cap waits at most FLUSH_MS longer).
 */
import type { Socket } from 'node:net';
import type { WorkerToMaster } from './messages';

const FLUSH_MS = 100;
/** The schema's bound on one message; more waits for the next flush. */
export const MAX_ADDRS_PER_REPORT = 10_000;

export class ConnectionCloseReports {
  private pending: string[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly send: (msg: WorkerToMaster) => boolean) {}

  /** Reports `addr` once `socket` closes, however it ends (refused, closed, reset). */
  watch(socket: Socket, addr: string): void {
    socket.once('close', () => this.closed(addr));
  }

  private closed(addr: string): void {
    this.pending.push(addr);
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  flush(): void {
    this.timer = null;
    const batch = this.pending.splice(0, MAX_ADDRS_PER_REPORT);
    if (batch.length > 0) this.send({ type: 'connectionsClosed', addrs: batch });
    if (this.pending.length > 0) this.timer = setTimeout(() => this.flush(), FLUSH_MS);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
