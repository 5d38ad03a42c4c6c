/**
 * relayUpgrade against real sockets on 127.0.0.1: a front server whose upgrade handler relays
 * every upgrade to a target server (`ws`, noServer), and `ws` clients (or raw sockets) on the
 * front. Nothing here leaves the loopback interface. After each test both servers must close
 * on their own, which they do only if no relayed socket was left open on either side.
 */
import { randomBytes } from 'node:crypto';
import http, { type IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { relayUpgrade, wasRelayed, type RelayOptions, type RelayOutcome } from '../../../src/hosts/upgradeRelay';
import { freePort } from '../../../scripts/lib/ports';
import { clientTextFrame } from '../../helpers/rawUpgrade';

/** Generous: these bound waits for things that happen in milliseconds, so a slow CI box does not flake. */
const WAIT_MS = 5000;

function within<T>(p: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e: unknown) => (clearTimeout(timer), reject(e instanceof Error ? e : new Error(String(e)))),
    );
  });
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

/** Resolves once `server` closed, i.e. once every connection it accepted (upgraded ones too) closed. */
function closed(server: http.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

interface Message {
  data: Buffer;
  isBinary: boolean;
}

/** What a socket received, in order, and a way to wait for the next ones. */
class Inbox {
  readonly messages: Message[] = [];
  private waiters: Array<() => void> = [];
  constructor(ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      this.messages.push({ data: data as Buffer, isBinary });
      for (const w of this.waiters.splice(0)) w();
    });
  }
  async take(n: number): Promise<Message[]> {
    while (this.messages.length < n) await within(new Promise<void>((r) => this.waiters.push(r)), `message ${this.messages.length + 1} of ${n}`);
    return this.messages.splice(0, n);
  }
}

function closeEvent(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

interface TargetSeen {
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  relayed: boolean;
}

interface LogLine {
  level: number;
  msg: string;
  reason?: string;
  code?: string;
}

/**
 * A listener on 127.0.0.1 that never accepts: its thread's event loop is blocked, and its
 * kernel accept queue (backlog 1) is filled by us, so the next SYN is dropped and a connect
 * to it hangs, honestly, without any traffic leaving the machine.
 */
async function hangingListener(): Promise<{ port: number; stop: () => Promise<void> }> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    const net = require('node:net');
    const server = net.createServer();
    server.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
      parentPort.postMessage(server.address().port);
      const flag = new Int32Array(workerData);
      while (Atomics.load(flag, 0) === 0) Atomics.wait(flag, 0, 0, 100);
    });`,
    { eval: true, workerData: flag.buffer },
  );
  const port = await within(new Promise<number>((resolve, reject) => (worker.once('message', resolve), worker.once('error', reject))), 'hanging listener');
  const fillers: net.Socket[] = [];
  const stop = async () => {
    for (const s of fillers) s.destroy();
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    await worker.terminate();
  };
  for (let i = 0; i < 16; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    fillers.push(s);
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 500);
      s.once('connect', () => (clearTimeout(timer), resolve(true)));
    });
    if (!connected) return { port, stop }; // this SYN was dropped: the queue is full
  }
  await stop();
  throw new Error('the blocked listener kept accepting connects; cannot make a hanging connect here');
}

describe('relayUpgrade', () => {
  let target: http.Server;
  let front: http.Server;
  let wss: WebSocketServer;
  let targetUrl: string;
  let frontPort: number;
  let targetSeen: TargetSeen[];
  let targetSockets: WebSocket[];
  /** The owner's raw sockets, to reset one (TCP RST) as a crashed host would. */
  let targetRaw: net.Socket[];
  let frontSeen: Array<{ rawHeaders: string[]; headLength: number }>;
  let outcomes: Array<Promise<RelayOutcome>>;
  let clients: WebSocket[];
  let cleanups: Array<() => Promise<void> | void>;
  let logs: LogLine[];
  /** Where the front relays to, and with what options, per test. */
  let relayTo: () => URL;
  let relayOpts: Partial<RelayOptions>;

  beforeEach(async () => {
    targetSeen = [];
    targetSockets = [];
    targetRaw = [];
    frontSeen = [];
    outcomes = [];
    clients = [];
    cleanups = [];
    logs = [];
    relayOpts = {};
    const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });

    // The owner: says hello, echoes, and closes or drops when asked to.
    wss = new WebSocketServer({ noServer: true });
    target = http.createServer((_req, res) => res.writeHead(404).end());
    target.on('upgrade', (req: http.IncomingMessage, socket, head) => {
      targetSeen.push({ url: req.url ?? '', headers: req.headers, rawHeaders: [...req.rawHeaders], relayed: wasRelayed(req) });
      targetRaw.push(socket as net.Socket);
      wss.handleUpgrade(req, socket, head, (ws) => {
        targetSockets.push(ws);
        ws.on('error', () => {});
        ws.send('hello');
        ws.on('message', (data, isBinary) => {
          const text = isBinary ? '' : (data as Buffer).toString();
          if (text === 'close-me') return ws.close(4005, 'moved');
          if (text === 'drop-me') return ws.terminate();
          ws.send(data, { binary: isBinary });
        });
      });
    });
    targetUrl = `http://127.0.0.1:${await listen(target)}`;
    relayTo = () => new URL(targetUrl);

    front = http.createServer((_req, res) => res.writeHead(404).end());
    front.on('upgrade', (req: http.IncomingMessage, socket, head: Buffer) => {
      frontSeen.push({ rawHeaders: [...req.rawHeaders], headLength: head.length });
      outcomes.push(relayUpgrade(req, socket, head, relayTo(), { relayedBy: 'front-1', connectTimeoutMs: 2000, log, ...relayOpts }));
    });
    frontPort = await listen(front);
  });

  afterEach(async () => {
    for (const ws of clients) ws.terminate();
    for (const c of cleanups) await c();
    await within(Promise.allSettled(outcomes), 'every relay settled');
    // Both servers close only once every socket they accepted closed: a relay that left its
    // client or its upstream open fails here.
    wss.close();
    const both = Promise.all([closed(front), closed(target)]);
    try {
      await within(both, 'front and target closed with no socket left open');
    } finally {
      for (const ws of wss.clients) ws.terminate();
      front.closeAllConnections();
      target.closeAllConnections();
    }
  });

  function client(path: string, headers: Record<string, string> = {}, port = frontPort): { ws: WebSocket; inbox: Inbox; opened: Promise<void> } {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
    clients.push(ws);
    const inbox = new Inbox(ws);
    const opened = new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)));
    });
    ws.on('error', () => {}); // terminate() before the handshake ends emits one
    return { ws, inbox, opened: within(opened, `upgrade of ${path}`) };
  }

  /** An upgrade the front must refuse: its status, headers and JSON body. */
  function refused(path: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: { error: { code: string; message: string } } }> {
    const ws = new WebSocket(`ws://127.0.0.1:${frontPort}${path}`);
    clients.push(ws);
    ws.on('error', () => {});
    return within(
      new Promise((resolve, reject) => {
        ws.once('open', () => reject(new Error('the upgrade succeeded')));
        ws.once('unexpected-response', (_req, res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) as { error: { code: string; message: string } } }));
        });
      }),
      `refusal of ${path}`,
    );
  }

  it('carries messages both ways: the owner’s first frame, a 1 MiB binary message, 200 small ones in order', async () => {
    const { ws, inbox, opened } = client('/ws/matches/ABC123');
    await opened;
    const [hello] = await inbox.take(1);
    expect(hello!.data.toString()).toBe('hello');

    const big = randomBytes(1024 * 1024);
    ws.send(big);
    const [echo] = await inbox.take(1);
    expect(echo!.isBinary).toBe(true);
    expect(echo!.data.equals(big)).toBe(true);

    const sent = Array.from({ length: 200 }, (_, i) => `m${i}`);
    for (const m of sent) ws.send(m);
    const got = await inbox.take(200);
    expect(got.map((m) => m.data.toString())).toEqual(sent);
    expect(await within(outcomes[0]!, 'outcome')).toBe('relayed');
  });

  it('passes on bytes the client sent with its request (`head`) after the request', async () => {
    const raw = net.connect(frontPort, '127.0.0.1');
    cleanups.push(() => void raw.destroy());
    let received = Buffer.alloc(0);
    raw.on('data', (c: Buffer) => (received = Buffer.concat([received, c])));
    const echo = Buffer.concat([Buffer.from([0x81, 8]), Buffer.from('via-head')]); // unmasked server text frame
    const arrived = new Promise<void>((resolve) => raw.on('data', () => received.includes(echo) && resolve()));
    raw.write(
      Buffer.concat([
        Buffer.from(
          'GET /ws/matches/ABC123 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
            'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
        ),
        clientTextFrame('via-head'),
      ]),
    );
    await within(arrived, 'the echo of the frame sent in head');
    expect(frontSeen[0]!.headLength).toBeGreaterThan(0); // the frame really came as `head`
    expect(received.toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
  });

  it('sends the owner the path, query, Host and headers as the client sent them, with X-Forwarded-For and X-Quiz-Relayed-By', async () => {
    relayOpts = { clientAddr: '203.0.113.7' };
    const path = '/ws/matches/AB12CD?resume=1&name=a%20b';
    const a = client(path, { 'X-Forwarded-For': '198.51.100.1', 'X-Quiz-Relayed-By': 'spoofed', 'X-Odd-CASE': 'kept' });
    await a.opened;
    const seen = targetSeen[0]!;
    expect(seen.url).toBe(path);
    expect(seen.headers.host).toBe(`127.0.0.1:${frontPort}`);
    expect(seen.headers['x-forwarded-for']).toBe('198.51.100.1, 203.0.113.7');
    expect(seen.headers['x-quiz-relayed-by']).toBe('front-1');
    expect(seen.relayed).toBe(true);
    // Every header line in the client's order and case; the made-up relay mark dropped, ours last.
    const sent = frontSeen[0]!.rawHeaders;
    const expected: string[] = [];
    for (let i = 0; i < sent.length; i += 2) {
      const name = sent[i]!;
      if (name.toLowerCase() === 'x-quiz-relayed-by') continue;
      expected.push(name, name.toLowerCase() === 'x-forwarded-for' ? '198.51.100.1, 203.0.113.7' : sent[i + 1]!);
    }
    expected.push('X-Quiz-Relayed-By', 'front-1');
    expect(seen.rawHeaders).toEqual(expected);
    expect(expected).toContain('X-Odd-CASE');

    // No X-Forwarded-For from the client: the address alone.
    await client('/ws/matches/AB12CD').opened;
    expect(targetSeen[1]!.headers['x-forwarded-for']).toBe('203.0.113.7');

    // No address worked out: X-Forwarded-For left as it came (here: absent).
    relayOpts = {};
    await client('/ws/matches/AB12CD').opened;
    expect(targetSeen[2]!.headers['x-forwarded-for']).toBeUndefined();
    expect(targetSeen[2]!.relayed).toBe(true);

    // Straight to the owner: not relayed.
    await client('/ws/matches/AB12CD', {}, Number(new URL(targetUrl).port)).opened;
    expect(targetSeen[3]!.relayed).toBe(false);
    expect(targetSeen[3]!.headers['x-quiz-relayed-by']).toBeUndefined();
  });

  it('passes the owner’s close code and reason unchanged, and closes each side when the other goes', async () => {
    const a = client('/ws/matches/ABC123');
    await a.opened;
    const aClosed = closeEvent(a.ws);
    a.ws.send('close-me');
    expect(await within(aClosed, 'client close')).toEqual({ code: 4005, reason: 'moved' });

    // The client goes without a closing handshake: the owner's socket closes.
    const b = client('/ws/matches/ABC123');
    await b.opened;
    await b.inbox.take(1);
    const ownerSide = targetSockets[1]!;
    const ownerClosed = closeEvent(ownerSide);
    b.ws.terminate();
    expect((await within(ownerClosed, 'owner side closes after the client terminated')).code).toBe(1006);

    // The owner drops the connection: the client's socket closes.
    const c = client('/ws/matches/ABC123');
    await c.opened;
    await c.inbox.take(1);
    const cClosed = closeEvent(c.ws);
    c.ws.send('drop-me');
    expect((await within(cClosed, 'client closes after the owner dropped it')).code).toBe(1006);
    expect(await within(Promise.all(outcomes), 'outcomes')).toEqual(['relayed', 'relayed', 'relayed']);
  });

  it('closes each side when the other resets (TCP RST, no FIN to pass on)', async () => {
    // The client resets: the owner's socket closes.
    const raw = net.connect(frontPort, '127.0.0.1');
    raw.on('error', () => {});
    cleanups.push(() => void raw.destroy());
    const upgraded = new Promise<void>((resolve) => raw.once('data', () => resolve()));
    raw.write(
      'GET /ws/matches/ABC123 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    await within(upgraded, 'raw upgrade answered');
    while (targetSockets.length === 0) await within(new Promise((r) => setTimeout(r, 10)), 'owner side opened');
    const ownerClosed = closeEvent(targetSockets[0]!);
    raw.resetAndDestroy();
    expect((await within(ownerClosed, 'owner side closes after the client reset')).code).toBe(1006);

    // The owner resets: the client's socket closes.
    const b = client('/ws/matches/ABC123');
    await b.opened;
    await b.inbox.take(1);
    const bClosed = closeEvent(b.ws);
    targetRaw[1]!.resetAndDestroy();
    expect((await within(bClosed, 'client closes after the owner reset')).code).toBe(1006);
  });

  it('answers 503 UNAVAILABLE with Retry-After when nobody listens at the owner’s address', async () => {
    const port = await freePort(); // free a moment ago, and closed: a connect is refused
    relayTo = () => new URL(`http://127.0.0.1:${port}`);
    const res = await refused('/ws/matches/ABC123');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(res.body.error.code).toBe('UNAVAILABLE');
    expect(res.body.error.message).toMatch(/could not be reached/);
    expect(await within(outcomes[0]!, 'outcome')).toBe('unreachable');
    expect(logs.find((l) => l.reason === 'connect_failed')?.code).toBe('ECONNREFUSED');
  });

  it('speaks TLS to an https: owner: a plain-HTTP listener there fails the handshake and is answered 503', async () => {
    relayTo = () => new URL(targetUrl.replace('http:', 'https:'));
    const res = await refused('/ws/matches/ABC123');
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('UNAVAILABLE');
    expect(await within(outcomes[0]!, 'outcome')).toBe('unreachable');
    expect(logs.some((l) => l.reason === 'connect_failed')).toBe(true);
    expect(targetSeen).toEqual([]); // no upgrade request ever reached it in clear text
  });

  it('answers 503 for a target URL that is neither http: nor https:', async () => {
    relayTo = () => new URL(`ftp://127.0.0.1:${Number(new URL(targetUrl).port)}`);
    const res = await refused('/ws/matches/ABC123');
    expect(res.status).toBe(503);
    expect(await within(outcomes[0]!, 'outcome')).toBe('unreachable');
    expect(logs.some((l) => l.reason === 'bad_target')).toBe(true);
    expect(targetSeen).toEqual([]);
  });

  it('gives up after connectTimeoutMs on an owner whose connect never completes, and answers 503', async () => {
    const hanging = await hangingListener();
    cleanups.push(hanging.stop);
    relayTo = () => new URL(`http://127.0.0.1:${hanging.port}`);
    relayOpts = { connectTimeoutMs: 300 };
    const res = await refused('/ws/matches/ABC123');
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('UNAVAILABLE');
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(await within(outcomes[0]!, 'outcome')).toBe('unreachable');
    expect(logs.map((l) => l.reason).filter(Boolean)).toEqual(['connect_timeout']);
  });

  it('abandons the owner’s connect when the client resets before it completes', async () => {
    const hanging = await hangingListener();
    cleanups.push(hanging.stop);
    relayTo = () => new URL(`http://127.0.0.1:${hanging.port}`);
    relayOpts = { connectTimeoutMs: 60_000 }; // far beyond the bounded wait below: only the client's reset can settle it
    const raw = net.connect(frontPort, '127.0.0.1');
    raw.on('error', () => {});
    cleanups.push(() => void raw.destroy());
    raw.write(
      'GET /ws/matches/ABC123 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    while (outcomes.length === 0) await within(new Promise((r) => setTimeout(r, 10)), 'upgrade reached the front');
    raw.resetAndDestroy();
    expect(await within(outcomes[0]!, 'outcome after the client reset')).toBe('unreachable');
    expect(logs.map((l) => l.reason).filter(Boolean)).toEqual(['client_gone']);
  });

  it('closes a pipe that carried nothing for idleTimeoutMs, on both sides', async () => {
    relayOpts = { idleTimeoutMs: 300 };
    const a = client('/ws/matches/ABC123');
    const aClosed = closeEvent(a.ws);
    await a.opened;
    await a.inbox.take(1);
    const ownerClosed = closeEvent(targetSockets[0]!);
    expect((await within(aClosed, 'client closed by the idle timeout')).code).toBe(1006);
    expect((await within(ownerClosed, 'owner side closed by the idle timeout')).code).toBe(1006);
  });
});
