/**
 * The hosting parts that need no store: a match's sessions (binding, replacement, leaving,
 * kicks), the fan-out (one serialization per broadcast, personal `you`, the answer_count
 * throttle) and the one deadline timer, on fake links and fake timers.
 */
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineTimer } from '../../src/hosting/deadlineTimer';
import { ANSWER_COUNT_INTERVAL_MS, FanOut, ROSTER_INTERVAL_MS, UPDATE_WRITES_PER_SEC } from '../../src/hosting/fanOut';
import { type ClientLink, MatchSessions, Session } from '../../src/hosting/sessions';
import { HostingMetrics } from '../../src/metrics';
import { CLOSE, CLOSE_REASONS } from '../../src/protocol/errors';
import type { ServerMessage } from '../../src/protocol/messages';
import { HOST_ID, Match, type MatchTiming } from '../../src/quiz/engine';

const TIMING: MatchTiming = { questionScale: 1, revealMs: 1, leaderboardMs: 1, reconnectGraceMs: 1, finishGraceMs: 1, lobbyIdleMs: 1 };

class FakeLink implements ClientLink {
  readonly frames: Array<string | Buffer> = [];
  closed: { code: number; reason: string } | null = null;
  send(data: string | Buffer): void {
    this.frames.push(data);
  }
  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }
  get texts(): string[] {
    return this.frames.map(String);
  }
}

function session(): { s: Session; link: FakeLink } {
  const link = new FakeLink();
  return { s: new Session(link, 'M'), link };
}

describe('MatchSessions', () => {
  it('a newer connection for the same participant replaces the older one, whose close then drops nobody', () => {
    const sessions = new MatchSessions();
    const a = session();
    const b = session();
    sessions.add(a.s);
    sessions.add(b.s);
    sessions.bind(a.s, 'p1');
    sessions.bind(b.s, 'p1');
    expect(a.link.closed).toEqual({ code: CLOSE.REPLACED, reason: CLOSE_REASONS[CLOSE.REPLACED] });
    expect(a.s.participantId).toBeNull();
    expect(sessions.bound.get('p1')).toBe(b.s);
    expect(sessions.remove(a.s)).toBeNull();
    expect(sessions.remove(b.s)).toBe('p1');
    expect(sessions.bound.size).toBe(0);
  });

  it('a participant who leaves keeps the connection, unbound; a kicked one is closed', () => {
    const sessions = new MatchSessions();
    const a = session();
    const b = session();
    sessions.add(a.s);
    sessions.add(b.s);
    sessions.bind(a.s, 'p1');
    sessions.bind(b.s, 'p2');
    sessions.unbind(a.s);
    expect(a.s.participantId).toBeNull();
    expect(a.link.closed).toBeNull();
    sessions.drop('p2', CLOSE.KICKED, 'kicked');
    expect(b.link.closed).toEqual({ code: CLOSE.KICKED, reason: 'kicked' });
    expect(sessions.bound.size).toBe(0);
    sessions.closeAll(CLOSE.GOING_AWAY, 'bye');
    expect(a.link.closed).toEqual({ code: CLOSE.GOING_AWAY, reason: 'bye' });
  });
});

describe('FanOut', () => {
  let now = 0;
  let metrics: HostingMetrics;
  beforeEach(() => {
    vi.useFakeTimers();
    now = 1_000;
    metrics = new HostingMetrics(new Registry());
  });
  afterEach(() => {
    vi.useRealTimers();
    metrics.stop();
  });

  function room(count: number) {
    const sessions = new MatchSessions();
    const links: FakeLink[] = [];
    for (let i = 1; i <= count; i++) {
      const { s, link } = session();
      sessions.add(s);
      sessions.bind(s, `p${i}`);
      s.welcomed = true;
      links.push(link);
    }
    const fanOut = new FanOut('M', sessions, { metrics, log: pino({ level: 'silent' }), clock: () => now });
    return { sessions, links, fanOut };
  }

  it('serializes a broadcast once for every welcomed session and splices each personal `you`', () => {
    const { sessions, links, fanOut } = room(3);
    sessions.bound.get('p3')!.welcomed = false;
    const msg: ServerMessage = { type: 'leaderboard', top: [] };
    fanOut.apply([{ kind: 'broadcast', msg, personal: new Map([['p1', { rank: 1, score: 10 }]]) }]);
    expect(links[0]!.texts).toEqual([JSON.stringify({ ...msg, you: { rank: 1, score: 10 } })]);
    expect(links[1]!.texts).toEqual([JSON.stringify(msg)]);
    expect(links[2]!.frames, 'not welcomed yet').toEqual([]);
    fanOut.apply([{ kind: 'broadcast', msg: { type: 'finished', standings: [] } }]);
    expect(links[1]!.frames[1], 'one shared buffer for everyone').toBe(links[0]!.frames[1]);
  });

  it('sends answer_count at most once per interval, the latest at its end; a new question drops a stale one', () => {
    const { links, fanOut } = room(1);
    const count = (answered: number): ServerMessage => ({ type: 'answer_count', questionIndex: 0, answered, total: 5 });
    fanOut.apply([{ kind: 'broadcast', msg: count(1) }]);
    fanOut.apply([{ kind: 'broadcast', msg: count(2) }]);
    fanOut.apply([{ kind: 'broadcast', msg: count(3) }]);
    expect(links[0]!.texts.map((t) => JSON.parse(t).answered)).toEqual([1]);
    now += ANSWER_COUNT_INTERVAL_MS;
    vi.advanceTimersByTime(ANSWER_COUNT_INTERVAL_MS);
    expect(links[0]!.texts.map((t) => JSON.parse(t).answered)).toEqual([1, 3]);

    fanOut.apply([{ kind: 'broadcast', msg: count(4) }]);
    fanOut.apply([{ kind: 'broadcast', msg: { type: 'reveal', questionIndex: 0, correct: 0, counts: [4], kind: 'choice' } }]);
    vi.advanceTimersByTime(ANSWER_COUNT_INTERVAL_MS);
    expect(links[0]!.texts.map((t) => JSON.parse(t).type)).toEqual(['answer_count', 'answer_count', 'reveal']);
  });

  it("a big match's roster_count goes out at most once per interval, the latest at its end, and a new question does not drop it", () => {
    const { links, fanOut } = room(2);
    const count = (players: number): ServerMessage => ({ type: 'roster_count', players, connected: players, locked: false });
    fanOut.apply([{ kind: 'broadcast', msg: count(201) }]);
    fanOut.apply([{ kind: 'broadcast', msg: count(202) }]);
    fanOut.apply([{ kind: 'broadcast', msg: count(203) }]);
    fanOut.apply([{ kind: 'broadcast', msg: { type: 'question', index: 0, total: 1, text: 'Q', choices: ['a'], startsAt: 0, endsAt: 1, kind: 'choice' } }]);
    const seen = () => links[0]!.texts.map((t) => JSON.parse(t) as ServerMessage).map((m) => (m.type === 'roster_count' ? m.players : m.type));
    expect(seen()).toEqual([201, 'question']);
    now += ROSTER_INTERVAL_MS - 1;
    vi.advanceTimersByTime(ROSTER_INTERVAL_MS - 1);
    expect(seen(), 'not before the interval is over').toEqual([201, 'question']);
    now += 1;
    vi.advanceTimersByTime(1);
    expect(seen()).toEqual([201, 'question', 203]);
    expect(links[1]!.texts).toEqual(links[0]!.texts);
  });

  it("a big match's player list goes to its host alone, throttled the same way, and only once the host is welcomed", () => {
    const { sessions, links, fanOut } = room(2);
    const host = session();
    sessions.add(host.s);
    sessions.bind(host.s, HOST_ID);
    const list = (n: number): ServerMessage => ({ type: 'players', players: [{ playerId: `p${n}`, name: `P${n}`, connected: true }], locked: false, playerCount: n });
    fanOut.apply([{ kind: 'send', to: HOST_ID, msg: list(201) }]);
    expect(host.link.frames, 'not welcomed yet: the welcome will carry the list').toEqual([]);
    host.s.welcomed = true;
    now += ROSTER_INTERVAL_MS;
    fanOut.apply([{ kind: 'send', to: HOST_ID, msg: list(202) }]);
    fanOut.apply([{ kind: 'send', to: HOST_ID, msg: list(203) }]);
    fanOut.apply([{ kind: 'send', to: HOST_ID, msg: { type: 'pong', t: 1, serverTime: 2 } }]);
    expect(host.link.texts.map((t) => JSON.parse(t) as ServerMessage).map((m) => (m.type === 'players' ? m.playerCount : m.type))).toEqual([202, 'pong']);
    now += ROSTER_INTERVAL_MS;
    vi.advanceTimersByTime(ROSTER_INTERVAL_MS);
    expect(host.link.texts.map((t) => JSON.parse(t) as ServerMessage).map((m) => (m.type === 'players' ? m.playerCount : m.type))).toEqual([202, 'pong', 203]);
    expect(links.map((l) => l.frames), 'players get no list').toEqual([[], []]);
    fanOut.apply([{ kind: 'send', to: HOST_ID, msg: list(204) }]);
    fanOut.stop();
    vi.advanceTimersByTime(10 * ROSTER_INTERVAL_MS);
    expect(host.link.frames, 'nothing after stop()').toHaveLength(3);
  });

  it('updates to everyone slow down in a match too big for four a second (UPDATE_WRITES_PER_SEC)', () => {
    const players = UPDATE_WRITES_PER_SEC / 2;
    const { links, fanOut } = room(players);
    const interval = (players * 1000) / UPDATE_WRITES_PER_SEC;
    expect(interval).toBeGreaterThan(ROSTER_INTERVAL_MS);
    const count = (answered: number): ServerMessage => ({ type: 'answer_count', questionIndex: 0, answered, total: players });
    fanOut.apply([{ kind: 'broadcast', msg: count(1) }]);
    fanOut.apply([{ kind: 'broadcast', msg: count(2) }]);
    now += ROSTER_INTERVAL_MS;
    vi.advanceTimersByTime(ROSTER_INTERVAL_MS);
    expect(links[0]!.texts.map((t) => JSON.parse(t).answered)).toEqual([1]);
    now += interval - ROSTER_INTERVAL_MS;
    vi.advanceTimersByTime(interval - ROSTER_INTERVAL_MS);
    expect(links[0]!.texts.map((t) => JSON.parse(t).answered)).toEqual([1, 2]);
    expect(links.at(-1)!.frames).toHaveLength(2);
  });

  it('personal messages reach their session before its welcome, which opens it to broadcasts; a drop closes the kicked one', () => {
    const { sessions, links, fanOut } = room(2);
    const p1 = sessions.bound.get('p1')!;
    p1.welcomed = false;
    const welcome = Match.create({ id: 'M', quiz: { title: 'T', questions: [] }, settings: { lateJoin: false, maxPlayers: 2 }, timing: TIMING, now: 0 }).welcome(HOST_ID, 0);
    fanOut.apply([
      { kind: 'send', to: 'p1', msg: { type: 'kicked', reason: 'x' } },
      { kind: 'broadcast', msg: { type: 'finished', standings: [] } },
    ]);
    expect(p1.welcomed).toBe(false);
    expect(links[0]!.texts).toEqual([JSON.stringify({ type: 'kicked', reason: 'x' })]);
    fanOut.apply([{ kind: 'send', to: 'p1', msg: welcome }]);
    expect(p1.welcomed).toBe(true);
    fanOut.apply([{ kind: 'drop', to: 'p2', reason: 'kicked' }]);
    expect(links[1]!.closed).toEqual({ code: CLOSE.KICKED, reason: 'kicked' });
    expect(sessions.bound.has('p2')).toBe(false);
  });
});

describe('DeadlineTimer', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  it('keeps one timer, re-armed for the latest deadline, and none for null', () => {
    const fired: number[] = [];
    const timer = new DeadlineTimer(Date.now, () => fired.push(Date.now()));
    timer.arm(1_000);
    timer.arm(500);
    vi.advanceTimersByTime(2_000);
    expect(fired).toEqual([500]);
    timer.arm(3_000);
    timer.arm(null);
    vi.advanceTimersByTime(5_000);
    expect(fired).toEqual([500]);
    timer.arm(0);
    vi.advanceTimersByTime(0);
    expect(fired, 'a deadline already past fires at once').toEqual([500, 7_000]);
  });
});
