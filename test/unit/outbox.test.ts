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
import { type AnswerAppend, type Effect, HOST_ID, Match, type MatchSnapshot } from '../../src/quiz/engine';
import { MemoryMatchStore } from '../../src/store/memoryStore';
import { StoreUnavailableError, stateToWrite } from '../../src/store/store';

const HOST_TOKEN = 'host-token';

/** Counts writes and their bytes; can hold them at a gate (after copying, as the store contract requires) or fail the first ones. */
class WatchedStore extends MemoryMatchStore {
  saves = 0;
  appends = 0;
  /** JSON bytes of each write, as a store that serializes would send them. */
  saveBytes: number[] = [];
  /** The `historyFrom` of each full save. */
  historyFroms: number[] = [];
  appendBytes: number[] = [];
  failuresLeft = 0;
  gate: Promise<void> | null = null;

  override async appendAnswers(matchId: string, epoch: number, append: AnswerAppend): Promise<void> {
    this.appends++;
    this.appendBytes.push(JSON.stringify(append).length);
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new StoreUnavailableError('test outage');
    }
    return super.appendAnswers(matchId, epoch, append);
  }

  override async save(matchId: string, epoch: number, snapshot: Readonly<MatchSnapshot>, historyFrom = 0): Promise<void> {
    this.saves++;
    this.historyFroms.push(historyFrom);
    this.saveBytes.push(JSON.stringify(stateToWrite(snapshot, historyFrom)).length);
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new StoreUnavailableError('test outage');
    }
    const written = super.save(matchId, epoch, snapshot, historyFrom);
    if (this.gate) await this.gate;
    return written;
  }
}

const metricsToStop: HostingMetrics[] = [];
afterEach(() => {
  for (const m of metricsToStop.splice(0)) m.stop();
});

async function setup(quiz = { title: 'T', questions: [{ text: 'Q', choices: ['a', 'b'], correct: 0, timeLimitSec: 10 }] }, maxPlayers = 10, playerListMax?: number) {
  // One fake clock for the outbox and the store, which expires results by it.
  const store = new WatchedStore({ copy: true, clock: () => 0 });
  const match = Match.create({
    id: 'OUTBOX',
    quiz,
    settings: { lateJoin: false, maxPlayers, ...(playerListMax !== undefined ? { playerListMax } : {}) },
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

  it('in a big match, a burst of joins is one append, and only the last count and host list go out', async () => {
    const { store, match, sent, next, join } = await setup(undefined, 10, 2);
    let settled = next();
    for (const name of ['Ann', 'Bob', 'Cid']) join(name);
    await settled;
    expect(store.saves, 'the joins that made the match big: a full write').toBe(1);
    settled = next();
    for (const name of ['Dee', 'Eve', 'Fay']) join(name);
    await settled;
    expect([store.saves, store.appends]).toEqual([1, 1]);
    expect((await store.load(match.id))!.snapshot).toEqual(match.snapshot());
    const last = sent.at(-1)!;
    expect(types(last)).toEqual(['roster_count', 'players']);
    const [count, list] = last;
    expect(count).toMatchObject({ kind: 'broadcast', msg: { type: 'roster_count', players: 6, connected: 6 } });
    expect(list).toMatchObject({ kind: 'send', to: HOST_ID, msg: { type: 'players', playerCount: 6 } });
    expect(list!.kind === 'send' && list!.msg.type === 'players' && list!.msg.players.map((p) => p.name)).toEqual(['Eve', 'Fay']);
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

describe('Outbox: writes in proportion to the change', () => {
  const QUIZ = { title: 'T', questions: [{ text: 'Q', choices: ['a', 'b'], correct: 0, timeLimitSec: 10 }] };

  /** A running question with `players` joined, everything written; returns the players' ids. */
  async function openQuestion(ctx: Awaited<ReturnType<typeof setup>>, players: number): Promise<string[]> {
    const ids: string[] = [];
    let settled = ctx.next();
    for (let i = 0; i < players; i++) ids.push(ctx.join(`Player ${i}`));
    await settled;
    expect(ctx.match.resume(HOST_TOKEN, 0).ok).toBe(true);
    const started = ctx.match.start(HOST_ID, 0);
    if (!started.ok) throw new Error(started.code);
    settled = ctx.next();
    ctx.outbox.deliver(started.effects);
    await settled;
    return ids;
  }

  async function answerOne(ctx: Awaited<ReturnType<typeof setup>>, id: string, at: number): Promise<void> {
    const r = ctx.match.answer(id, 0, 0, at);
    if (!r.ok) throw new Error(r.code);
    const settled = ctx.next();
    ctx.outbox.deliver(r.effects, 0);
    await settled;
  }

  it('appends answers alone, and the store gives back exactly the match', async () => {
    const ctx = await setup(QUIZ);
    const [ann, bob] = await openQuestion(ctx, 3);
    const saves = ctx.store.saves;
    await answerOne(ctx, ann!, 100);
    await answerOne(ctx, bob!, 200);
    expect(ctx.store.saves, 'no full write for an answer').toBe(saves);
    expect(ctx.store.appends).toBe(2);
    expect(ctx.sent.flat().filter((e) => e.kind === 'send' && e.msg.type === 'answer_ack')).toHaveLength(2);
    expect((await ctx.store.claim(ctx.match.id))!.snapshot).toEqual(ctx.match.snapshot());
  });

  it('an answer that closes the question writes the whole match (the reveal changed scores)', async () => {
    const ctx = await setup(QUIZ);
    const [ann, bob] = await openQuestion(ctx, 2);
    await answerOne(ctx, ann!, 100);
    const saves = ctx.store.saves;
    await answerOne(ctx, bob!, 200);
    expect(ctx.store.saves).toBe(saves + 1);
    expect(ctx.match.phase).toBe('reveal');
    expect((await ctx.store.load(ctx.match.id))!.snapshot).toEqual(ctx.match.snapshot());
  });

  it('writes the same bytes per answer in a match of 10 players and of 1,000', async () => {
    const bytesPerAnswer: number[] = [];
    const fullBytes: number[] = [];
    for (const players of [10, 1000]) {
      const ctx = await setup(QUIZ, players);
      const ids = await openQuestion(ctx, players);
      // Ids of the same length in both matches (p5 … p9), so the bytes can be compared exactly.
      for (const id of ids.slice(4, 9)) await answerOne(ctx, id, 100);
      expect(ctx.store.appends).toBe(5);
      bytesPerAnswer.push(Math.max(...ctx.store.appendBytes));
      fullBytes.push(Math.max(...ctx.store.saveBytes));
    }
    // Equal but for the digits of the match's revision (one per join: 15 against 1005).
    expect(bytesPerAnswer[1]! - bytesPerAnswer[0]!).toBeLessThanOrEqual(3);
    expect(bytesPerAnswer[0]).toBeLessThan(120);
    // What a whole-match write per answer would have cost grows with the players.
    expect(fullBytes[1]! / fullBytes[0]!).toBeGreaterThan(50);
  });

  it('retries a failed append as a full write, and holds the ack meanwhile', async () => {
    const ctx = await setup(QUIZ);
    const [ann] = await openQuestion(ctx, 3);
    const saves = ctx.store.saves;
    ctx.store.failuresLeft = 1;
    const sentBefore = ctx.sent.length;
    await answerOne(ctx, ann!, 100);
    expect(ctx.store.appends).toBe(1);
    expect(ctx.store.saves).toBe(saves + 1);
    expect(ctx.sent.slice(sentBefore).flat().some((e) => e.kind === 'send' && e.msg.type === 'answer_ack')).toBe(true);
    expect((await ctx.store.load(ctx.match.id))!.snapshot).toEqual(ctx.match.snapshot());
  });

  /** Every player answers the open question, then the host moves on to the next one (through reveal and leaderboard). */
  async function playQuestion(ctx: Awaited<ReturnType<typeof setup>>, ids: string[], index: number, at: number): Promise<void> {
    for (const id of ids) {
      const r = ctx.match.answer(id, index, 0, at);
      if (!r.ok) throw new Error(r.code);
      const settled = ctx.next();
      ctx.outbox.deliver(r.effects, 0);
      await settled;
    }
    expect(ctx.match.phase).toBe('reveal');
    for (let step = 0; step < 2; step++) {
      const r = ctx.match.next(HOST_ID, at);
      if (!r.ok) throw new Error(r.code);
      const settled = ctx.next();
      ctx.outbox.deliver(r.effects);
      await settled;
    }
  }

  const LONG_QUIZ = { title: 'T', questions: Array.from({ length: 6 }, (_, i) => ({ text: `Q${i}`, choices: ['a', 'b'], correct: 0, timeLimitSec: 10 })) };

  it('writes each revealed question\'s answers once: a phase change late in the match costs what one early on does', async () => {
    const ctx = await setup(LONG_QUIZ, 50);
    const ids = await openQuestion(ctx, 50);
    const bytesAt: number[] = [];
    for (let q = 0; q < 5; q++) {
      const before = ctx.store.saveBytes.length;
      await playQuestion(ctx, ids, q, 1000 * (q + 1));
      // The reveal's save carries that question's answers; the next two carry none.
      expect(ctx.store.historyFroms.slice(before)).toEqual([q, q + 1, q + 1]);
      bytesAt.push(Math.max(...ctx.store.saveBytes.slice(before + 1)));
    }
    // Without the split the fifth question's saves would carry four more questions of 50 answers.
    expect(bytesAt[4]! - bytesAt[0]!).toBeLessThan(400);
    const stored = (await ctx.store.claim(ctx.match.id))!.snapshot;
    expect(stored.history).toHaveLength(5);
    expect(stored).toEqual(ctx.match.snapshot());
  });

  it('after a failed write, the retry writes the whole history, and the store gives back exactly the match', async () => {
    const ctx = await setup(LONG_QUIZ, 5);
    const ids = await openQuestion(ctx, 5);
    await playQuestion(ctx, ids, 0, 1000);
    await playQuestion(ctx, ids, 1, 2000);
    const before = ctx.store.historyFroms.length;
    ctx.store.failuresLeft = 1;
    const r = ctx.match.answer(ids[0]!, 2, 0, 3000);
    if (!r.ok) throw new Error(r.code);
    const settled = ctx.next();
    ctx.outbox.deliver(r.effects, 0);
    await settled;
    // The append failed; its retry is a full save from the first history entry.
    expect(ctx.store.historyFroms.slice(before)).toEqual([0]);
    expect((await ctx.store.load(ctx.match.id))!.snapshot).toEqual(ctx.match.snapshot());
    await playQuestion(ctx, ids.slice(1), 2, 3500);
    expect(ctx.store.historyFroms.at(-1)).toBe(3);
    expect((await ctx.store.load(ctx.match.id))!.snapshot).toEqual(ctx.match.snapshot());
  });
});
