/**
 * Everything a load run measures, in one place the scripted clients write to. All counters
 * are plain numbers and all latencies go to Node's HDR histograms (lib/histogram), so
 * recording costs no allocation on the hot path.
 */
import { type HistogramSummary, LatencyHistogram } from './histogram';
import type { TrafficObserver } from './matchSocket';

export type LatencyKey = 'fanoutMs' | 'ackMs' | 'fanoutAfterRampMs' | 'ackAfterRampMs' | 'connectMs' | 'handshakeMs' | 'spreadMs';

export class LoadStats implements TrafficObserver {
  /** Date.now() at receipt − the question's `startsAt` (same machine clock), per player. */
  readonly fanout = new LatencyHistogram();
  /** answer sent → answer_ack received (performance.now), per answer. */
  readonly ack = new LatencyHistogram();
  /** WebSocket open → `welcome` (the join/resume round trip). */
  readonly connect = new LatencyHistogram();
  /** new WebSocket() → open (TCP + HTTP upgrade). */
  readonly handshake = new LatencyHistogram();
  /** Per question and match: last player's receipt − first player's receipt. */
  readonly spread = new LatencyHistogram();
  /**
   * The same as `fanout` and `ack`, for questions received and answers sent once every
   * expected player had joined: the steady state, without the connect ramp (when the server
   * is also busy with handshakes and hand-offs).
   */
  readonly fanoutAfterRamp = new LatencyHistogram();
  readonly ackAfterRamp = new LatencyHistogram();
  /** Players the run expects; 0 = unknown (no after-ramp figures). */
  playersExpected = 0;

  messagesIn = 0;
  messagesOut = 0;
  bytesIn = 0;
  bytesOut = 0;

  answersSent = 0;
  answersAcked = 0;
  /** Answers the policy meant to be correct (only meaningful for a generated quiz). */
  answersIntendedCorrect = 0;
  /** Answers rejected by an `error` (QUESTION_CLOSED, …). */
  answersRejected = 0;
  /** Answers resent after a reconnect because no ack had arrived. */
  answersResent = 0;
  /** Questions a player meant to answer but the question closed first. */
  answersMissed = 0;
  /** Questions received by players (fan-out deliveries). */
  questionsReceived = 0;

  playersJoined = 0;
  playersFailed = 0;
  /** Players with an open, joined socket right now. */
  playersConnected = 0;
  reconnects = 0;

  readonly errors = new Map<string, number>();

  /** Counts one error under `key`, e.g. `ws:QUESTION_CLOSED`, `close:1006`, `http:503:CAPACITY`. */
  error(key: string, n = 1): void {
    this.errors.set(key, (this.errors.get(key) ?? 0) + n);
  }

  frameIn(bytes: number): void {
    this.messagesIn++;
    this.bytesIn += bytes;
  }

  frameOut(bytes: number): void {
    this.messagesOut++;
    this.bytesOut += bytes;
  }

  badFrame(kind: 'binary' | 'bad-json'): void {
    this.error(kind === 'binary' ? 'client:binary-frame' : 'client:bad-json');
  }

  get errorTotal(): number {
    let n = 0;
    for (const v of this.errors.values()) n += v;
    return n;
  }

  /** Every expected player has joined (once true, stays true: joins are counted once). */
  get rampDone(): boolean {
    return this.playersExpected > 0 && this.playersJoined >= this.playersExpected;
  }

  latencies(): Record<LatencyKey, HistogramSummary> {
    return {
      fanoutMs: this.fanout.summary(),
      ackMs: this.ack.summary(),
      fanoutAfterRampMs: this.fanoutAfterRamp.summary(),
      ackAfterRampMs: this.ackAfterRamp.summary(),
      connectMs: this.connect.summary(),
      handshakeMs: this.handshake.summary(),
      spreadMs: this.spread.summary(),
    };
  }

  errorsByCode(): Record<string, number> {
    return Object.fromEntries([...this.errors.entries()].sort((a, b) => b[1] - a[1]));
  }
}
