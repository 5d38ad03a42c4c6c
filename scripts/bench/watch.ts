/**
 * Watches a server during a load run through GET /workers/stats (once a second): how many
 * players were connected when, so the report can say how long the connect ramp took and how
 * many players one worker held at the peak. Bounded: it stops when told, or after `maxMs`.
 */
import { performance } from 'node:perf_hooks';
import { fetchWorkerStats } from '../lib/matchServiceApi';
import type { Server } from './servers';

export interface WatchResult {
  /** ms after the watch started when connected players first reached the target; null if never. */
  allConnectedAfterMs: number | null;
  peakPlayers: number;
  /** Most players on one worker at any sample. */
  peakPlayersPerWorker: number;
  samples: number;
}

export class ServerWatch {
  private readonly t0 = performance.now();
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private readonly result: WatchResult = { allConnectedAfterMs: null, peakPlayers: 0, peakPlayersPerWorker: 0, samples: 0 };

  constructor(
    private readonly server: Server,
    private readonly targetPlayers: number,
    intervalMs = 1000,
    maxMs = 600_000,
  ) {
    this.timer = setInterval(() => void this.poll(), intervalMs);
    setTimeout(() => this.stop(), maxMs).unref();
  }

  private async poll(): Promise<void> {
    if (this.busy || !this.timer) return;
    this.busy = true;
    try {
      const stats = await fetchWorkerStats(this.server.url);
      const at = performance.now() - this.t0;
      const total = stats.workers.reduce((a, w) => a + (w.players ?? 0), 0);
      this.result.samples++;
      this.result.peakPlayers = Math.max(this.result.peakPlayers, total);
      for (const w of stats.workers) this.result.peakPlayersPerWorker = Math.max(this.result.peakPlayersPerWorker, w.players ?? 0);
      if (this.result.allConnectedAfterMs === null && total >= this.targetPlayers) this.result.allConnectedAfterMs = Math.round(at);
    } catch {
      // a busy server may miss a poll; the next one counts
    } finally {
      this.busy = false;
    }
  }

  stop(): WatchResult {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return { ...this.result };
  }
}
