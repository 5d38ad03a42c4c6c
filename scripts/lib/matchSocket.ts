/**
 * One WebSocket connection to a match, typed with the protocol's own messages
 * (src/protocol/messages.ts, imported for its types only: nothing of src/ runs here, so the
 * tools work against any server that keeps the contract, such as the bare-`ws` floor server).
 *
 * Tests use it directly (send, then `next` message of a type); `MatchClient` builds a
 * reconnecting, answering player on it for the load tool, the benchmark and the tests.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import WebSocket, { type RawData } from 'ws';
import type { ClientMessage, ServerMessage } from '../../src/protocol/messages';

export type ServerMessageType = ServerMessage['type'];
export type MessageOf<T extends ServerMessageType> = Extract<ServerMessage, { type: T }>;

export interface CloseInfo {
  code: number;
  reason: string;
}

/** What a socket reports as it goes; the load run's `LoadStats` counts it. */
export interface TrafficObserver {
  frameIn(bytes: number): void;
  frameOut(bytes: number): void;
  /** A frame that is not a server message: binary, or not a JSON object with a `type`. */
  badFrame(kind: 'binary' | 'bad-json'): void;
}

/** The server answered the upgrade with an HTTP status instead of switching protocols. */
export class UpgradeRefused extends Error {
  override name = 'UpgradeRefused';
  constructor(
    readonly status: number,
    readonly headers: IncomingHttpHeaders,
  ) {
    super(`upgrade answered ${status}`);
  }

  /** The server's `Retry-After` in ms, when it sent one. */
  get retryAfterMs(): number | undefined {
    const sec = Number(this.headers['retry-after']);
    return Number.isFinite(sec) && sec > 0 ? sec * 1000 : undefined;
  }
}

/** No upgrade answer at all: refused or reset connection, or the handshake timed out. */
export class ConnectFailed extends Error {
  override name = 'ConnectFailed';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface MatchSocketOptions {
  headers?: Record<string, string>;
  /** The upgrade must complete within this (default 10 s). */
  handshakeTimeoutMs?: number;
  /**
   * Keep every message for `next` and `all` (default true). A load run with thousands of
   * clients turns it off and handles messages as they come through `onMessage`.
   */
  keepMessages?: boolean;
  onMessage?: (msg: ServerMessage) => void;
  onClose?: (info: CloseInfo) => void;
  observer?: TrafficObserver;
  /** Gives up a connect still in progress (rejects with ConnectFailed code ABORTED). */
  signal?: AbortSignal;
}

export class MatchSocket {
  readonly messages: ServerMessage[] = [];
  readonly closed: Promise<CloseInfo>;
  closeInfo: CloseInfo | null = null;
  /** The client side's local TCP port, known once the upgrade succeeded. */
  localPort = 0;
  /** ms from `new WebSocket()` to open: TCP connect and HTTP upgrade. */
  handshakeMs = 0;
  private readonly taken = new Set<number>();
  private waiters: Array<() => void> = [];

  private constructor(
    private readonly ws: WebSocket,
    private readonly o: MatchSocketOptions,
  ) {
    ws.on('message', (data: RawData, isBinary: boolean) => this.receive(data, isBinary));
    this.closed = new Promise((resolve) =>
      ws.on('close', (code: number, reason: Buffer) => {
        this.closeInfo = { code, reason: reason.toString() };
        for (const w of this.waiters) w();
        o.onClose?.(this.closeInfo);
        resolve(this.closeInfo);
      }),
    );
  }

  /** Opens the connection; rejects with `UpgradeRefused` or `ConnectFailed`. */
  static connect(url: string, o: MatchSocketOptions = {}): Promise<MatchSocket> {
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const ws = new WebSocket(url, {
        headers: o.headers ?? {},
        perMessageDeflate: false,
        handshakeTimeout: o.handshakeTimeoutMs ?? 10_000,
        maxPayload: 1024 * 1024,
      });
      const socket = new MatchSocket(ws, o);
      let settled = false;
      const onAbort = () => {
        if (settled) return;
        settled = true;
        reject(new ConnectFailed('ABORTED', 'connect aborted'));
        ws.terminate();
      };
      if (o.signal?.aborted) return onAbort();
      o.signal?.addEventListener('abort', onAbort, { once: true });
      ws.once('upgrade', (res) => {
        socket.localPort = res.socket.localPort ?? 0;
      });
      ws.once('open', () => {
        o.signal?.removeEventListener('abort', onAbort);
        if (settled) return;
        settled = true;
        socket.handshakeMs = performance.now() - started;
        resolve(socket);
      });
      ws.once('unexpected-response', (_req, res) => {
        settled = true;
        res.resume();
        reject(new UpgradeRefused(res.statusCode ?? 0, res.headers));
        ws.terminate();
      });
      ws.on('error', (err: Error & { code?: string }) => {
        // Errors after a refusal are the echo of our own terminate().
        if (settled) return;
        settled = true;
        const timedOut = /timed out/i.test(err.message);
        reject(new ConnectFailed(timedOut ? 'TIMEOUT' : (err.code ?? 'ERROR'), err.message));
      });
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends one message; false when the socket is not open (nothing is queued). */
  send(msg: ClientMessage): boolean {
    return this.sendRaw(JSON.stringify(msg));
  }

  /** Sends any frame, e.g. input the protocol refuses. */
  sendRaw(data: string | Buffer): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(data);
    this.o.observer?.frameOut(typeof data === 'string' ? Buffer.byteLength(data) : data.length);
    return true;
  }

  /** The next not-yet-taken message of `type` (matching `pred`), waiting up to `timeoutMs`. */
  next<T extends ServerMessageType>(type: T, pred: (m: MessageOf<T>) => boolean = () => true, timeoutMs = 15_000): Promise<MessageOf<T>> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        for (let i = 0; i < this.messages.length; i++) {
          const m = this.messages[i]!;
          if (!this.taken.has(i) && m.type === type && pred(m as MessageOf<T>)) {
            this.taken.add(i);
            resolve(m as MessageOf<T>);
            return true;
          }
        }
        return false;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const got = this.messages.map((m) => m.type).join(',');
        reject(new Error(`timed out waiting for "${type}"; got: ${got}${this.closeInfo ? ` closed ${this.closeInfo.code}` : ''}`));
      }, timeoutMs);
      const waiter = () => {
        if (check()) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== waiter);
        }
      };
      this.waiters.push(waiter);
    });
  }

  /** Messages of a type received so far (taken or not). */
  all<T extends ServerMessageType>(type: T): Array<MessageOf<T>> {
    return this.messages.filter((m) => m.type === type) as Array<MessageOf<T>>;
  }

  close(code = 1000, reason?: string): void {
    if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
    else this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }

  /** Closes politely and resolves once closed; terminates after `graceMs` without an answer. */
  async closeWithin(graceMs: number, reason?: string): Promise<void> {
    if (this.closeInfo) return;
    const timer = setTimeout(() => this.ws.terminate(), graceMs);
    this.close(1000, reason);
    await this.closed;
    clearTimeout(timer);
  }

  private receive(data: RawData, isBinary: boolean): void {
    const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    this.o.observer?.frameIn(buf.length);
    if (isBinary) {
      this.o.observer?.badFrame('binary');
      return;
    }
    let msg: ServerMessage;
    try {
      msg = JSON.parse(buf.toString('utf8')) as ServerMessage;
      if (typeof msg !== 'object' || msg === null || typeof msg.type !== 'string') throw new Error('no type');
    } catch {
      this.o.observer?.badFrame('bad-json');
      return;
    }
    if (this.o.keepMessages ?? true) this.messages.push(msg);
    this.o.onMessage?.(msg);
    for (const w of this.waiters) w();
  }
}
