/**
 * Open WebSocket connections per client address against `MAX_CONNECTIONS_PER_IP`: admitted
 * at the upgrade, counted down when the socket closes. Kept apart from any server so the
 * single process uses it now and the pool master can reuse it (it sees every upgrade, but
 * not the close of a socket it handed to a worker: it would call the release on the
 * worker's word instead of a socket event).
 */
import { KeyedCounts } from './keyedBuckets';

/** Counts one connection down; calling it again does nothing (a socket closes once, but 'close' and 'error' paths may both call it). */
export type ReleaseConnection = () => void;

export class ConnectionCounts {
  private readonly counts: KeyedCounts;

  constructor(readonly maxPerAddress: number) {
    this.counts = new KeyedCounts(maxPerAddress);
  }

  /** Counts a connection from `addr`, or null when that address is at its cap. */
  admit(addr: string): ReleaseConnection | null {
    if (!this.counts.tryAdd(addr)) return null;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.counts.remove(addr);
    };
  }

  /**
   * Admits the connection on `socket` and releases it when the socket closes. Returns false
   * (nothing counted) when `addr` is at its cap.
   */
  admitSocket(addr: string, socket: { once(event: 'close', listener: () => void): unknown }): boolean {
    const release = this.admit(addr);
    if (!release) return false;
    socket.once('close', release);
    return true;
  }

  count(addr: string): number {
    return this.counts.count(addr);
  }

  /** Addresses holding at least one connection (memory is bounded by open sockets). */
  get addresses(): number {
    return this.counts.keys;
  }
}
