/**
 * Store writes in proportion to the change, seen from Redis itself: a real pool on a real
 * redis-server, matches of 10 and of 200 players, every answer watched with MONITOR. The
 * bytes Redis receives per answer must not grow with the match, while the match's whole
 * state (what every answer used to rewrite) does.
 */
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MatchSocket } from '../../scripts/lib/matchSocket';
import { ProcessGroup } from '../helpers/processes';
import { TestRedis } from '../helpers/redis';
import { RedisMonitor } from '../helpers/redisMonitor';
import { type RunningService, connectHost, createMatch, startMatchService, tinyQuiz } from '../helpers/servers';

const group = new ProcessGroup();
let redis: TestRedis;
let service: RunningService;

beforeAll(async () => {
  redis = await TestRedis.start(group);
  service = await startMatchService(group, 'pool', {
    REDIS_URL: redis.url,
    MAX_WORKERS: '1',
    MAX_PLAYERS: '300',
    // A question that stays open while the test answers one player at a time.
    MATCH_TIME_SCALE: '1',
    ADDRESS_MSG_BURST: '100000',
    ADDRESS_MSG_RATE_PER_SEC: '100000',
  });
  await service.proc.waitForLine('"Master connected to Redis"');
});
afterAll(async () => {
  await group.stopAll();
  redis.cleanup();
});

interface Measured {
  answers: number;
  bytesPerAnswer: number;
  /** Redis commands during the answers that wrote the whole state. */
  fullWrites: number;
  stateBytes: number;
}

/** Plays one question of a match of `players`; all but one answer, one at a time, under MONITOR. */
async function measure(players: number): Promise<Measured> {
  const match = await createMatch(service, { quiz: tinyQuiz(1, 120), settings: { maxPlayers: players } });
  const host = await connectHost(service, match);
  const sockets: MatchSocket[] = [];
  for (let i = 0; i < players; i += 25) {
    sockets.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(25, players - i) }, async (_, j) => {
          const c = await MatchSocket.connect(service.wsUrl + match.wsPath);
          c.send({ type: 'join', name: `Player ${String(i + j).padStart(3, '0')}` });
          await c.next('welcome');
          return c;
        }),
      )),
    );
  }
  host.send({ type: 'start' });
  await Promise.all(sockets.map((c) => c.next('question', undefined, 30_000)));

  const monitor = await RedisMonitor.start(redis.port);
  // Everyone but the last player answers, so the question stays open: no phase change.
  const answering = sockets.slice(0, -1);
  for (const c of answering) {
    c.send({ type: 'answer', questionIndex: 0, choice: 0 });
    await c.next('answer_ack');
  }
  // MONITOR lines arrive after the commands ran: a marker sent afterwards, once seen, orders them.
  const probe = new Redis(redis.url);
  const marker = `end-of-answers-${match.matchId}`;
  await probe.echo(marker);
  const stateBytes = (await probe.hstrlen(`qm:match:{${match.matchId}}`, 'state')) as number;
  probe.disconnect();
  await monitor.waitFor((args) => args[1] === marker);
  monitor.stop();

  const commands = monitor.commands().filter((args) => args[1] !== marker && args.some((a) => a.includes(match.matchId)));
  // Arguments are read as latin1, one character per byte.
  const bytes = commands.reduce((n, args) => n + args.reduce((m, a) => m + a.length, 0), 0);
  const fullWrites = commands.filter((args) => args.some((a) => a.startsWith('{') && a.includes('"players"'))).length;
  for (const c of [host, ...sockets]) c.terminate();
  return { answers: answering.length, bytesPerAnswer: bytes / answering.length, fullWrites, stateBytes };
}

describe('store writes per answer (Redis)', () => {
  it('do not grow with the number of players, while the match state does', async () => {
    const small = await measure(10);
    const large = await measure(200);
    console.log(`bytes per answer: ${small.bytesPerAnswer.toFixed(0)} (10 players), ${large.bytesPerAnswer.toFixed(0)} (200); state ${small.stateBytes} vs ${large.stateBytes} bytes`);
    expect(small.answers).toBe(9);
    expect(large.answers).toBe(199);
    expect(small.fullWrites, 'no answer rewrote the whole match').toBe(0);
    expect(large.fullWrites, 'no answer rewrote the whole match').toBe(0);
    // The same bytes per answer (ids and revisions may gain a digit).
    expect(large.bytesPerAnswer).toBeLessThan(small.bytesPerAnswer * 1.15);
    expect(large.bytesPerAnswer).toBeLessThan(400);
    // What a whole-state write costs grows with the players: 20 times the players, > 10 times the bytes.
    expect(large.stateBytes / small.stateBytes).toBeGreaterThan(10);
  });
});
