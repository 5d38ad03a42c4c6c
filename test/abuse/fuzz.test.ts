/**
 * A fuzz test of the WebSocket protocol against a running pool: a few thousand random and
 * mutated messages from several sockets (bounded in count and time, seeded so a failure can
 * be replayed with FUZZ_SEED). Nothing may restart a worker, log an unhandled error, or change
 * the honest match that plays beside it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProcessGroup } from '../helpers/processes';
import { fetchWorkerStats } from '../../scripts/lib/matchServiceApi';
import { createMatch, type RunningService, startMatchService } from '../helpers/servers';
import { playHonestMatch } from '../helpers/honestMatch';
import { MatchSocket } from '../../scripts/lib/matchSocket';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const MESSAGES = 3000;
const SOCKETS = 6;
const TIME_LIMIT_MS = 30_000;

/** mulberry32: a small seeded PRNG, so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TYPES = ['join', 'resume', 'start', 'next', 'kick', 'lock', 'answer', 'ping', 'leave', 'dance', '', '__proto__', 'constructor'];
const FIELDS = ['name', 'token', 'playerId', 'locked', 'questionIndex', 'choice', 't', 'type', '__proto__', 'constructor', 'ref'];

function fuzzMessage(rand: () => number, tokens: string[]): string | Buffer {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const value = (depth = 0): unknown => {
    switch (Math.floor(rand() * 12)) {
      case 0: return Math.floor(rand() * 10) - 2;
      case 1: return rand() * 1e308 * (rand() < 0.5 ? -1 : 1);
      case 2: return pick(['', ' ', 'Ann', '\u3164', '\u0000', '<img src=x onerror=alert(1)>', 'x'.repeat(300), '🎉'.repeat(30)]);
      case 3: return pick(tokens.length ? tokens : ['t']);
      case 4: return rand() < 0.5;
      case 5: return null;
      case 6: return depth < 3 ? Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1)) : [];
      case 7: return depth < 3 ? Object.fromEntries(Array.from({ length: Math.floor(rand() * 4) }, () => [pick(FIELDS), value(depth + 1)])) : {};
      case 8: return Number.MAX_SAFE_INTEGER + 2;
      case 9: return -0;
      default: return Math.floor(rand() * 5);
    }
  };
  const kind = rand();
  if (kind < 0.05) return Buffer.from(Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)));
  if (kind < 0.1) return pick(['', '{', '[]', 'null', '"str"', '{"type":', '1e309', '{"type":"answer","questionIndex":0,"choice":0}'.slice(0, Math.floor(rand() * 40))]);
  const msg: Record<string, unknown> = { type: pick(TYPES) };
  for (let i = Math.floor(rand() * 4); i > 0; i--) msg[pick(FIELDS)] = value();
  let text = JSON.stringify(msg);
  if (rand() < 0.15) {
    // Mutate a byte of otherwise valid JSON.
    const at = Math.floor(rand() * text.length);
    text = text.slice(0, at) + String.fromCharCode(Math.floor(rand() * 128)) + text.slice(at + 1);
  }
  return text;
}

const DRAIN_PING_T = -1;

/** Resolves once the server has answered everything sent so far on `ws` (bounded at 10 s). */
function drained(ws: WebSocket): Promise<void> {
  if (ws.readyState !== WebSocket.OPEN) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', done);
      resolve();
    };
    const onMessage = (data: WebSocket.RawData): void => {
      const msg = JSON.parse(data.toString()) as { type?: unknown; t?: unknown };
      if (msg.type === 'pong' && msg.t === DRAIN_PING_T) done();
    };
    const timer = setTimeout(done, 10_000);
    ws.on('message', onMessage);
    ws.once('close', done);
    ws.send(JSON.stringify({ type: 'ping', t: DRAIN_PING_T }));
  });
}

const group = new ProcessGroup();
let service: RunningService;

beforeAll(async () => {
  // Generous per-connection and per-address limits so the fuzz reaches the handlers instead of
  // the rate limit (every socket here, the honest match's too, comes from 127.0.0.1).
  service = await startMatchService(group, 'pool', {
    MAX_WORKERS: '2',
    MAX_MATCHES: '3',
    MSG_RATE_PER_SEC: '2000',
    MSG_BURST: '4000',
    BAD_MESSAGE_BUDGET: '100000',
    ADDRESS_MSG_RATE_PER_SEC: '100000',
    ADDRESS_MSG_BURST: '100000',
    ADDRESS_BAD_MESSAGES_PER_MIN: '1000000',
  });
});
afterAll(() => group.stopAll());

describe(`protocol fuzz (FUZZ_SEED=${SEED})`, () => {
  it('survives thousands of random and mutated messages without a worker restart, with an honest match beside it', async () => {
    const rand = prng(SEED);
    const before = await fetchWorkerStats(service.url);
    const target = await createMatch(service);
    // The fuzz gets real tokens too: the host's and a player's, so it reaches host-only paths.
    const player = await MatchSocket.connect(service.wsUrl + target.wsPath);
    player.send({ type: 'join', name: 'Victim' });
    const tokens = [target.hostToken, (await player.next('welcome')).token];

    const honest = playHonestMatch(service, '198.51.100');
    const deadline = Date.now() + TIME_LIMIT_MS;
    let sent = 0;
    const replies = new Map<string, number>();
    await Promise.all(
      Array.from({ length: SOCKETS }, async () => {
        while (sent < MESSAGES && Date.now() < deadline) {
          const ws = new WebSocket(service.wsUrl + target.wsPath, { perMessageDeflate: false });
          ws.on('error', () => {});
          ws.on('message', (data) => {
            const msg = JSON.parse(data.toString()) as { type?: unknown; code?: unknown; t?: unknown };
            if (msg.type === 'pong' && msg.t === DRAIN_PING_T) return;
            const type = String(msg.code ?? 'reply');
            replies.set(type, (replies.get(type) ?? 0) + 1);
          });
          const opened = await new Promise<boolean>((resolve) => {
            ws.once('open', () => resolve(true));
            ws.once('close', () => resolve(false));
          });
          if (!opened) continue;
          // A burst per connection, then a fresh one (the server may close us for bad input).
          for (let i = 0; i < 100 && sent < MESSAGES && ws.readyState === WebSocket.OPEN; i++, sent++) {
            ws.send(fuzzMessage(rand, tokens));
            if (i % 20 === 0) await sleep(1);
          }
          // Replies still on their way would be lost to terminate(), and a busy machine leaves
          // more of them in flight: a ping is answered after everything sent before it, so its
          // pong (or the server closing us) means every reply of this burst has been counted.
          await drained(ws);
          ws.terminate();
        }
      }),
    );
    expect(sent).toBeGreaterThanOrEqual(Math.min(MESSAGES, 1000));
    // The fuzz reached the handlers, not only the parser: errors of several kinds came back.
    expect(replies.get('BAD_MESSAGE') ?? 0).toBeGreaterThan(50);
    expect(replies.get('UNKNOWN_TYPE') ?? 0).toBeGreaterThan(10);
    expect([...replies.keys()].length, JSON.stringify([...replies])).toBeGreaterThanOrEqual(4);
    await honest;

    const after = await fetchWorkerStats(service.url);
    expect(after.workers.map((w) => [w.workerId, w.pid, w.restarts])).toEqual(
      expect.arrayContaining(before.workers.map((w) => [w.workerId, w.pid, w.restarts])),
    );
    expect(after.workers.every((w) => w.restarts === 0)).toBe(true);
    const unhandled = service.proc.lines.filter((l) => /Unhandled|uncaught|"level":50|"level":60|TypeError|RangeError/.test(l));
    expect(unhandled).toEqual([]);
    player.close();
  });
});
