/**
 * The durable-before-visible outbox on its own, against the real in-memory store: effects
 * wait for the write of their revision, a burst costs one write, a failed write is retried,
 * and a write fenced off by a newer owner sends nothing.
 */
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { Outbox } from '../../src/hosting/outbox';
import { HostingMetrics } from '../../src/metrics';
import { type Effect, HOST_ID, Match, type MatchSnapshot } from '../../src/quiz/engine';
import { MemoryMatchStore } from '../../src/store/memoryStore';
import { StoreUnavailableError } from '../../src/store/store';

const HOST_TOKEN = 'host-token';

/** Counts writes; can hold them at a gate (after copying, as the store contract requires) or fail the first ones. */
class WatchedStore extends MemoryMatchStore {
  saves = 0;
  failuresLeft = 0;
  gate: Promise<void> | null = null;

  override async save(matchId: string, epoch: number, snapshot: Readonly<MatchSnapshot>): Promise<void> {
    this.saves++;
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new StoreUnavailableError('test outage');
    }
    const written = super.save(matchId, epoch, snapshot);
    if (this.gate) await this.gate;
    return written;
  }
}

const metricsToStop: HostingMetrics[] = [];
afterEach(() => {
  for (const m of metricsToStop.splice(0)) m.stop();
});

async function setup() {
  // One fake clock for the outbox and the store, which expires results by it.
  const store = new WatchedStore({ copy: true, clock: () => 0 });
  const match = Match.create({
    id: 'OUTBOX',
    quiz: { title: 'T', questions: [{ text: 'Q', choices: ['a', 'b'], correct: 0, timeLimitSec: 10 }] },
    settings: { lateJoin: false, maxPlayers: 10 },
    timing: { questionScale: 1, revealMs: 1_000, leaderboardMs: 1_000, reconnectGraceMs: 1_000, finishGraceMs: 1_000, lobbyIdleMs: 60_000 },
    now: 0,
    hostToken: HOST_TOKEN,
  });
  const epoch = await store.create(match.id, match.view());
  const metrics = new HostingMetrics(new Registry());
  metricsToStop.push(metrics);
  const sent: Effect[][] = [];
  const events: string[] = [];
  let onEvent = (): void => {};
  const outbox = new Outbox(
    match,
    epoch,
    { store, metrics, log: pino({ level: 'silent' }), clock: () => 0 },
    {
      send: (effects) => sent.push(effects),
      fenced: () => (events.push('fenced'), onEvent()),
      settled: () => (events.push('settled'), onEvent()),
    },
  );
  /** Resolves at the outbox's next `settled` or `fenced`. */
  const next = () => new Promise<void>((resolve) => (onEvent = resolve));
  const join = (name: string) => {
    const r = match.join(name, 0);
    if (!r.ok) throw new Error(r.code);
    outbox.deliver(r.effects);
    return r.participantId;
  };
  return { store, match, outbox, sent, events, next, join };
}

const types = (effects: Effect[]) => effects.map((e) => (e.kind === 'send' || e.kind === 'broadcast' ? e.msg.type : e.kind));

describe('Outbox', () => {
  it('holds effects until the store holds the revision that produced them', async () => {
    const { store, match, outbox, sent, next, join } = await setup();
    const settled = next();
    join('Ann');
    expect(sent, 'nothing visible before the write').toEqual([]);
    expect(outbox.behind).toBe(true);
    await settled;
    expect((await store.load(match.id))!.snapshot.revision).toBe(match.revision);
    expect(sent.map(types)).toEqual([['players']]);
    expect(outbox.idle).toBe(true);
  });

  it('sends at once what changed nothing durable', async () => {
    const { store, match, outbox, sent, next, join } = await setup();
    const settled = next();
    const ann = join('Ann');
    await settled;
    const writes = store.saves;
    outbox.deliver(match.disconnect(ann, 10));
    expect(sent.map(types)).toEqual([['players'], ['players']]);
    expect(store.saves).toBe(writes);
  });

  it('group-commits a burst into one write, and only the last roster update goes out', async () => {
    const { store, outbox, sent, next, join } = await setup();
    const settled = next();
    for (const name of ['Ann', 'Bob', 'Cid', 'Dee']) join(name);
    outbox.deliver([{ kind: 'send', to: HOST_ID, msg: { type: 'pong', t: 1, serverTime: 0 } }]);
    await settled;
    expect(store.saves).toBe(1);
    expect(sent.map(types)).toEqual([['players', 'pong']]);
    const players = sent[0]![0]!;
    expect(players.kind === 'broadcast' && players.msg.type === 'players' && players.msg.players.map((p) => p.name)).toEqual([
      'Ann',
      'Bob',
      'Cid',
      'Dee',
    ]);
  });

  it('puts what arrives during a write into the next single write', async () => {
    const { store, outbox, sent, next, join } = await setup();
    let open!: () => void;
    store.gate = new Promise<void>((resolve) => (open = resolve));
    const settled = next();
    join('Ann');
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.saves, 'the first write is in flight').toBe(1);
    join('Bob');
    join('Cid');
    store.gate = null;
    open();
    await settled;
    expect(store.saves).toBe(2);
    expect(sent.map(types)).toEqual([['players'], ['players']]);
    expect(outbox.idle).toBe(true);
  });

  it('retries a failed write with backoff and holds the effects meanwhile', async () => {
    const { store, sent, next, join } = await setup();
    store.failuresLeft = 1;
    const settled = next();
    join('Ann');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(store.saves).toBe(1);
    expect(sent).toEqual([]);
    await settled;
    expect(store.saves).toBe(2);
    expect(sent.map(types)).toEqual([['players']]);
  });

  it('sends nothing and reports fencing when a newer owner has claimed the match', async () => {
    const { store, match, sent, events, next, join } = await setup();
    await store.claim(match.id);
    const fenced = next();
    join('Ann');
    await fenced;
    expect(events).toEqual(['fenced']);
    expect(sent).toEqual([]);
  });

  it('after stop() writes and sends nothing more', async () => {
    const { store, outbox, sent, next, join } = await setup();
    const settled = next();
    join('Ann');
    outbox.stop();
    await settled;
    expect(store.saves).toBe(0);
    expect(sent).toEqual([]);
    expect(outbox.idle).toBe(true);
  });

  it('saves the results once, with the write that finishes the match', async () => {
    const { store, match, outbox, next, join } = await setup();
    let settled = next();
    const ann = join('Ann');
    await settled;
    expect(match.resume(HOST_TOKEN, 0).ok).toBe(true);
    const steps = [
      () => match.start(HOST_ID, 0),
      () => match.answer(ann, 0, 0, 100),
      () => match.next(HOST_ID, 200),
      () => match.next(HOST_ID, 300),
    ];
    for (const step of steps) {
      const r = step();
      if (!r.ok) throw new Error(r.code);
      settled = next();
      outbox.deliver(r.effects);
      await settled;
    }
    expect(match.status).toBe('finished');
    const results = await store.results(match.id);
    expect(results).toMatchObject({ matchId: 'OUTBOX', title: 'T', questionCount: 1 });
    expect(results!.standings.map((s) => s.name)).toEqual(['Ann']);
  });
});
