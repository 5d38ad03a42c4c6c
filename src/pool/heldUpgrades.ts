/**
 * WebSocket upgrades for a match that is moving to another worker wait here until it is
 * back, instead of being answered 503 at once. After a worker dies its players reconnect
 * within a few hundred milliseconds, while the match is still being restored; a 503 with
 * `Retry-After: 1` cost each of them a whole extra second. Waiting is bounded in time (then
 * 503 after all) and in count per match.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

export interface HeldUpgrade {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
}

interface Entry extends HeldUpgrade {
  timer: NodeJS.Timeout;
  onClose: () => void;
}

export class HeldUpgrades {
  private readonly byMatch = new Map<string, Entry[]>();

  constructor(
    private readonly opts: {
      maxWaitMs: number;
      maxPerMatch: number;
      /** Waited `maxWaitMs` and the match is still not back. */
      expired(matchId: string, upgrade: HeldUpgrade): void;
    },
  ) {}

  /** False when this match already has as many waiting as it may. */
  hold(matchId: string, upgrade: HeldUpgrade): boolean {
    const list = this.byMatch.get(matchId) ?? [];
    if (list.length >= this.opts.maxPerMatch) return false;
    const entry: Entry = {
      ...upgrade,
      timer: setTimeout(() => {
        this.forget(matchId, entry);
        this.opts.expired(matchId, upgrade);
      }, this.opts.maxWaitMs),
      // A client that gave up (reset) frees its place at once instead of after maxWaitMs.
      onClose: () => this.forget(matchId, entry),
    };
    upgrade.socket.once('close', entry.onClose);
    list.push(entry);
    this.byMatch.set(matchId, list);
    return true;
  }

  /**
   * The match is back (or gone for good): its waiting upgrades, to be routed again. A client
   * should send nothing before the 101, but whatever the socket buffered meanwhile joins
   * `head` rather than being lost with the hand-off.
   */
  release(matchId: string): HeldUpgrade[] {
    const list = this.byMatch.get(matchId) ?? [];
    this.byMatch.delete(matchId);
    return list.flatMap((e) => {
      this.detach(e);
      if (e.socket.destroyed) return [];
      const early = e.socket.read() as Buffer | null;
      return [{ req: e.req, socket: e.socket, head: early ? Buffer.concat([e.head, early]) : e.head }];
    });
  }

  /** Shutting down: nobody waits any more. */
  dropAll(): void {
    for (const list of this.byMatch.values()) {
      for (const e of list) {
        this.detach(e);
        e.socket.destroy();
      }
    }
    this.byMatch.clear();
  }

  private forget(matchId: string, entry: Entry): void {
    this.detach(entry);
    const rest = (this.byMatch.get(matchId) ?? []).filter((e) => e !== entry);
    if (rest.length > 0) this.byMatch.set(matchId, rest);
    else this.byMatch.delete(matchId);
  }

  private detach(entry: Entry): void {
    clearTimeout(entry.timer);
    entry.socket.removeListener('close', entry.onClose);
  }

  get size(): number {
    let n = 0;
    for (const list of this.byMatch.values()) n += list.length;
    return n;
  }
}
