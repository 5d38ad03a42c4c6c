/**
 * Detects dead client connections with WebSocket pings, spread over time: connections are
 * dealt round-robin into slots and one slot is pinged per tick, so each connection is pinged
 * once per interval but the server never pings everyone in one loop (which stalls a server
 * for ~100 ms at 5,000 clients). A connection that has not answered the previous ping by its
 * next turn is terminated; its close then runs the normal disconnect path.
 */
import type { WebSocket } from 'ws';

const SLOTS = 20;

interface Watched {
  ws: WebSocket;
  alive: boolean;
}

export class LivenessMonitor {
  private readonly slots: Array<Set<Watched>> = Array.from({ length: SLOTS }, () => new Set());
  private readonly timer: NodeJS.Timeout;
  private nextSlot = 0;
  private dealt = 0;

  constructor(intervalMs: number) {
    this.timer = setInterval(() => this.tick(), Math.max(1, Math.floor(intervalMs / SLOTS)));
    this.timer.unref();
  }

  watch(ws: WebSocket): void {
    const entry: Watched = { ws, alive: true };
    const slot = this.slots[this.dealt++ % SLOTS]!;
    slot.add(entry);
    ws.on('pong', () => {
      entry.alive = true;
    });
    ws.once('close', () => slot.delete(entry));
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const slot = this.slots[this.nextSlot]!;
    this.nextSlot = (this.nextSlot + 1) % SLOTS;
    for (const entry of slot) {
      if (!entry.alive) {
        entry.ws.terminate();
        continue;
      }
      entry.alive = false;
      entry.ws.ping();
    }
  }
}
