/**
 * The server's clock as seen from here. Every deadline (`endsAt`) is server time, and the
 * device clock can be off by seconds, so countdowns use `now()` = device time + offset.
 *
 * Offset per ping: serverTime − (t_send + t_recv) / 2. The sample with the smallest round
 * trip is the least distorted by queueing, so that one wins among recent samples.
 */

const MAX_SAMPLES = 8;
const MAX_SAMPLE_AGE_MS = 5 * 60_000;

export class ServerClock {
  #samples = [];
  #rough = 0;

  /** A ping sent at `tSend` (device time) came back at `tRecv` carrying `serverTime`. */
  addSample(tSend, tRecv, serverTime) {
    const rtt = tRecv - tSend;
    if (!Number.isFinite(rtt) || rtt < 0 || !Number.isFinite(serverTime)) return;
    this.#samples.push({ rtt, offset: serverTime - (tSend + tRecv) / 2, at: tRecv });
    const oldest = tRecv - MAX_SAMPLE_AGE_MS;
    this.#samples = this.#samples.filter((s) => s.at >= oldest).slice(-MAX_SAMPLES);
  }

  /** A one-way reading (welcome's serverTime): only used until a real ping sample exists. */
  addRough(serverTime, tRecv) {
    if (Number.isFinite(serverTime)) this.#rough = serverTime - tRecv;
  }

  #best() {
    let best = null;
    for (const s of this.#samples) if (!best || s.rtt < best.rtt) best = s;
    return best;
  }

  /** Milliseconds to add to Date.now() to get server time. */
  get offset() {
    return this.#best()?.offset ?? this.#rough;
  }

  /** Round trip of the sample in use, or null before the first pong. */
  get rtt() {
    return this.#best()?.rtt ?? null;
  }

  now() {
    return Date.now() + this.offset;
  }
}
