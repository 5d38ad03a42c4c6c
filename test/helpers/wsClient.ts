/**
 * A real `ws` client for tests: records every server message and lets a test wait for the
 * next one of a type. Each message is handed out once, in arrival order.
 */
import WebSocket from 'ws';
import type { ServerMessage } from '../../src/protocol/messages';

type Of<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

export class TestClient {
  readonly messages: ServerMessage[] = [];
  private readonly taken = new Set<number>();
  private waiters: Array<() => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  closeInfo: { code: number; reason: string } | null = null;
  /** The client side's local TCP port, known once the upgrade succeeded. */
  localPort = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()) as ServerMessage);
      for (const w of this.waiters) w();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        for (const w of this.waiters) w();
        resolve(this.closeInfo);
      }),
    );
  }

  static connect(url: string, headers: Record<string, string> = {}): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers, perMessageDeflate: false });
      const client = new TestClient(ws);
      ws.once('upgrade', (res) => {
        client.localPort = res.socket.localPort ?? 0;
      });
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade answered ${res.statusCode}`), { status: res.statusCode, headers: res.headers })));
      ws.once('error', reject);
    });
  }

  send(msg: object): void {
    this.ws.send(JSON.stringify(msg));
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  /** The next not-yet-taken message of `type` (matching `pred`), waiting up to `timeoutMs`. */
  next<T extends ServerMessage['type']>(type: T, pred: (m: Of<T>) => boolean = () => true, timeoutMs = 15_000): Promise<Of<T>> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        for (let i = 0; i < this.messages.length; i++) {
          const m = this.messages[i]!;
          if (!this.taken.has(i) && m.type === type && pred(m as Of<T>)) {
            this.taken.add(i);
            resolve(m as Of<T>);
            return true;
          }
        }
        return false;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out waiting for "${type}"; got: ${this.messages.map((m) => m.type).join(',')}${this.closeInfo ? ` closed ${this.closeInfo.code}` : ''}`));
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
  all<T extends ServerMessage['type']>(type: T): Array<Of<T>> {
    return this.messages.filter((m) => m.type === type) as Array<Of<T>>;
  }

  close(): void {
    this.ws.close();
  }
}
