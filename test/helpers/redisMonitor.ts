/**
 * Redis MONITOR over a plain TCP socket. ioredis' own `monitor()` shares its client's
 * command queue with the monitor stream: when a monitor line (here its own ready-check
 * `info`) arrives before the `monitor` reply is taken, ioredis throws "Command queue state
 * error" (seen in CI). The MONITOR protocol is a line per command, so reading it directly
 * has no such race.
 */
import net from 'node:net';

/** One command Redis ran, as its arguments (unescaped bytes, read as latin1 so lengths are bytes). */
export type MonitoredCommand = string[];

export class RedisMonitor {
  private buffered = '';
  private readonly seen: MonitoredCommand[] = [];
  private waiters: Array<{ test: (c: MonitoredCommand) => boolean; resolve: () => void }> = [];

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.read(chunk));
  }

  /** Connects and returns once Redis has answered +OK (every later command is seen). */
  static async start(port: number, host = '127.0.0.1'): Promise<RedisMonitor> {
    const socket = net.connect(port, host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const monitor = new RedisMonitor(socket);
    const ok = new Promise<void>((resolve, reject) => {
      const onData = (chunk: string): void => {
        if (chunk.startsWith('+OK')) resolve();
        else reject(new Error(`MONITOR answered ${JSON.stringify(chunk.slice(0, 80))}`));
      };
      socket.once('data', onData);
    });
    socket.write('MONITOR\r\n');
    await ok;
    return monitor;
  }

  /** Every command seen so far. */
  commands(): MonitoredCommand[] {
    return [...this.seen];
  }

  /** Resolves when a command matching `test` has been seen (MONITOR reports in execution order). */
  async waitFor(test: (c: MonitoredCommand) => boolean, timeoutMs = 10_000): Promise<void> {
    if (this.seen.some(test)) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('MONITOR never showed the awaited command')), timeoutMs);
      this.waiters.push({ test, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }

  stop(): void {
    this.socket.destroy();
  }

  private read(chunk: string): void {
    this.buffered += chunk;
    let end = this.buffered.indexOf('\r\n');
    while (end >= 0) {
      const line = this.buffered.slice(0, end);
      this.buffered = this.buffered.slice(end + 2);
      // The +OK reply is taken in start(); monitor lines look like: +1700000000.123 [0 127.0.0.1:5] "set" "k" "v"
      if (line.startsWith('+') && line !== '+OK') this.record(parseArgs(line));
      end = this.buffered.indexOf('\r\n');
    }
  }

  private record(command: MonitoredCommand): void {
    this.seen.push(command);
    const still: typeof this.waiters = [];
    for (const w of this.waiters) (w.test(command) ? w.resolve() : still.push(w));
    this.waiters = still;
  }
}

/** The quoted arguments of a MONITOR line, unescaped as Redis' sdscatrepr escaped them. */
function parseArgs(line: string): MonitoredCommand {
  const args: string[] = [];
  const quoted = /"((?:[^"\\]|\\.)*)"/g;
  for (let m = quoted.exec(line); m; m = quoted.exec(line)) {
    args.push(
      (m[1] ?? '').replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_all, e: string) => {
        if (e.length === 3) return String.fromCharCode(parseInt(e.slice(1), 16));
        return ({ n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b' } as Record<string, string>)[e] ?? e;
      }),
    );
  }
  return args;
}
