/**
 * Newline-delimited JSON over a stream (a pipe between the master and one worker).
 * `JSON.stringify` never emits a raw newline, so a newline always ends a message.
 *
 * Why not the cluster IPC channel: while a socket handle waits for the child's
 * acknowledgement, Node queues every later message to that child, so store replies sat
 * behind each hand-off during connect ramps (see WORKER_POOL_ARCHITECTURE.md).
 */
import type { Duplex } from 'node:stream';

/** A peer on this machine that sends one message this large is broken: drop the channel. */
const MAX_LINE_BYTES = 64 * 1024 * 1024;
const NEWLINE = 0x0a;

export interface JsonLinesHandlers {
  message(msg: unknown): void;
  /** The stream ended or failed; nothing more will arrive and sends fail from now on. */
  closed(reason: string): void;
}

export class JsonLines {
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private open = true;
  /** Lines sent since the last flush; they leave together (see `send`). */
  private queued: string[] = [];

  constructor(
    private readonly stream: Duplex,
    private readonly handlers: JsonLinesHandlers,
  ) {
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('error', (err) => this.close(err.message));
    stream.on('close', () => this.close('stream closed'));
  }

  /**
   * False only when the channel is closed; a full kernel buffer still queues the message.
   *
   * Every message sent in one turn of the event loop leaves in one write, at its check phase:
   * a pipe write is a system call, and a busy worker sends thousands of store calls a second,
   * most of them within the same few turns (a 5,000-player profile spent 15 % of the worker's
   * and the master's time in one write per line). setImmediate, not nextTick: nextTick runs
   * after every I/O callback, so it would batch nothing across the sockets read in one turn.
   */
  send(msg: object): boolean {
    if (!this.open || this.stream.destroyed || !this.stream.writable) return false;
    if (this.queued.length === 0) setImmediate(this.flush);
    this.queued.push(JSON.stringify(msg));
    return true;
  }

  private readonly flush = (): void => {
    const lines = this.queued;
    this.queued = [];
    if (lines.length === 0 || !this.open || this.stream.destroyed || !this.stream.writable) return;
    lines.push('');
    this.stream.write(lines.join('\n'));
  };

  private onData(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      const tail = chunk.subarray(start, nl);
      const line = this.partial.length === 0 ? tail : Buffer.concat([...this.partial, tail]);
      this.partial = [];
      this.partialBytes = 0;
      start = nl + 1;
      let msg: unknown;
      try {
        msg = JSON.parse(line.toString('utf8'));
      } catch {
        return this.fail('a message that is not JSON');
      }
      try {
        this.handlers.message(msg);
      } catch (err) {
        // Only a broken peer sends what the handler cannot take: drop the channel, keep the process.
        return this.fail(`a message its handler could not take: ${(err as Error).message}`);
      }
      if (!this.open) return;
    }
    if (start < chunk.length) {
      this.partial.push(chunk.subarray(start));
      this.partialBytes += chunk.length - start;
      if (this.partialBytes > MAX_LINE_BYTES) this.fail(`a message over ${MAX_LINE_BYTES} bytes`);
    }
  }

  private fail(reason: string): void {
    this.stream.destroy();
    this.close(reason);
  }

  private close(reason: string): void {
    if (!this.open) return;
    this.open = false;
    this.partial = [];
    this.queued = [];
    this.handlers.closed(reason);
  }
}
