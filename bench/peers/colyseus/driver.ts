/**
 * The load generator's workload against the Colyseus peer (server.ts), driven by Colyseus'
 * own client SDK (colyseus.js): per match the host `create`s a "quiz" room with the quiz in
 * its options, the players `joinById`, the host sends `start` once every player is in, and
 * each player answers each question after a delay drawn from --answer-time.
 *
 *   node -r ts-node/register/transpile-only bench/peers/colyseus/driver.ts --url http://127.0.0.1:3102 --json
 *
 * Same options as scripts/loadtest.ts (--quiz aside) and the same summary (--json prints one
 * LoadSummary line), from the same parts: scripts/lib's LoadStats, Answerer and its answer
 * policy, ProcSampler and the inline quiz generator. What differs, because the SDK hides the
 * socket: "open → welcome" (connectMs) is the whole `joinById` (seat reservation over HTTP,
 * WebSocket upgrade, Colyseus' join handshake) and there is no separate handshake figure; a
 * player whose connection drops is counted (`close:<code>`), not reconnected.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, type Room } from 'colyseus.js';
import { LOAD_USAGE, type LoadOptions, UsageError, parseLoadArgs } from '../../../scripts/lib/args';
import { type AnswerPolicy, Answerer, keyedPolicy } from '../../../scripts/lib/answerer';
import { procAvailable } from '../../../scripts/lib/procfs';
import { ProcSampler } from '../../../scripts/lib/procSampler';
import { generateQuiz } from '../../../scripts/lib/quizGen';
import { type LoadSummary, type Outcome, configOf, formatTable, measured } from '../../../scripts/lib/report';
import { LoadStats } from '../../../scripts/lib/stats';
import { Semaphore } from '../../../scripts/lib/util';
import type { InlineQuiz } from '../../../scripts/lib/wire';

/** Rooms created at once (loadtest's CREATE_CONCURRENCY for `POST /matches`). */
const CREATE_CONCURRENCY = 8;
const LEAVE_TIMEOUT_MS = 2000;

interface Shared {
  client: Client;
  stats: LoadStats;
  policy: AnswerPolicy;
  onDone(): void;
}

/** Counts the frames of a room's WebSocket (the SDK's transport keeps it as `ws`). */
function observe(room: Room, stats: LoadStats): void {
  const transport = room.connection.transport as unknown as { ws?: { on?(e: 'message', f: (d: ArrayBuffer | Buffer) => void): void }; send(d: Uint8Array): void };
  transport.ws?.on?.('message', (d) => stats.frameIn(d.byteLength));
  const send = transport.send.bind(transport);
  transport.send = (d) => {
    stats.frameOut(d.byteLength);
    send(d);
  };
}

/** `join:4212`, `create:ECONNREFUSED`…: the step and the SDK's (or the socket's) error code. */
function errorKey(step: 'join' | 'create', err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return `${step}:${typeof code === 'number' || typeof code === 'string' ? code : 'ERROR'}`;
}

/** One match: its host's room, its players' rooms, and where it stands. */
class PeerMatch {
  roomId: string | null = null;
  started = false;
  finished = false;
  done = false;
  private host: Room | null = null;
  private readonly rooms: Room[] = [];
  private settled = 0;
  private live = 0;
  private stopping = false;
  /** Per question index: [first, last] Date.now() of receipt across players. */
  private readonly receipt = new Map<number, [number, number]>();

  constructor(
    private readonly index: number,
    private readonly players: number,
    private readonly s: Shared,
  ) {}

  /** The host creates the room (matchmaking `create`, then its WebSocket). Throws. */
  async create(quiz: InlineQuiz): Promise<void> {
    const host = await this.s.client.create('quiz', { role: 'host', quiz, players: this.players });
    this.host = host;
    this.roomId = host.roomId;
    this.live++;
    observe(host, this.s.stats);
    host.onMessage('finished', () => this.onFinished(host));
    host.onMessage('*', () => undefined);
    host.onLeave((code) => this.onLeave(code, false));
  }

  /** Joins every player through the shared limiter; the host starts once all have settled. */
  connectAll(limiter: Semaphore): Promise<void> {
    const tasks: Array<Promise<void>> = [];
    for (let i = 0; i < this.players; i++) {
      tasks.push(
        limiter.run(async () => {
          await this.join(`p${this.index}-${i}`);
          this.settled++;
          this.maybeStart();
        }),
      );
    }
    return Promise.all(tasks).then(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const open = [...this.rooms, ...(this.host ? [this.host] : [])].filter((r) => r.connection.isOpen);
    await Promise.all(open.map((r) => Promise.race([r.leave(true), sleep(LEAVE_TIMEOUT_MS)])));
  }

  spreads(): number[] {
    return [...this.receipt.values()].map(([first, last]) => last - first);
  }

  private async join(name: string): Promise<void> {
    const stats = this.s.stats;
    if (this.stopping || !this.roomId) return;
    const t0 = performance.now();
    let room: Room;
    try {
      room = await this.s.client.joinById(this.roomId, { name });
    } catch (err) {
      stats.error(errorKey('join', err));
      stats.playersFailed++;
      return;
    }
    stats.connect.record(performance.now() - t0);
    stats.playersJoined++;
    stats.playersConnected++;
    this.rooms.push(room);
    this.live++;
    observe(room, stats);
    const answerer = new Answerer(this.s.policy, stats, (msg) => {
      if (msg.type !== 'answer' || !room.connection.isOpen) return false;
      room.send('answer', { questionIndex: msg.questionIndex, choice: msg.choice });
      return true;
    });
    room.onMessage('question', (q: { index: number; choices: string[]; startsAt: number }) => {
      const wall = Date.now();
      stats.questionsReceived++;
      stats.fanout.record(wall - q.startsAt);
      if (stats.rampDone) stats.fanoutAfterRamp.record(wall - q.startsAt);
      const r = this.receipt.get(q.index);
      if (!r) this.receipt.set(q.index, [wall, wall]);
      else [r[0], r[1]] = [Math.min(r[0], wall), Math.max(r[1], wall)];
      answerer.onQuestion({ type: 'question', ...q } as Parameters<Answerer['onQuestion']>[0]);
    });
    room.onMessage('answer_ack', (ack: { questionIndex: number; choice: number }) => answerer.onAck({ type: 'answer_ack', ...ack }));
    room.onMessage('reveal', (msg: { questionIndex: number }) => answerer.onReveal({ type: 'reveal', ...msg } as Parameters<Answerer['onReveal']>[0]));
    room.onMessage('error', (e: { code?: string; ref?: string }) => {
      stats.error(`ws:${e.code ?? '?'}`);
      if (e.ref === 'answer') answerer.onRejected();
    });
    room.onMessage('finished', () => {
      answerer.cancel();
      this.onFinished(room);
    });
    room.onMessage('*', () => undefined);
    room.onError((code) => stats.error(`room-error:${code}`));
    room.onLeave((code) => {
      answerer.cancel();
      this.onLeave(code, true);
    });
  }

  private maybeStart(): void {
    if (this.started || this.settled < this.players || !this.host) return;
    if (this.rooms.length === 0) {
      this.s.stats.error('match:no-players');
      void this.stop();
      return;
    }
    this.host.send('start');
    this.started = true;
  }

  private onFinished(room: Room): void {
    this.finished = true;
    void room.leave(true);
  }

  private onLeave(code: number, player: boolean): void {
    if (player) this.s.stats.playersConnected--;
    if (!this.finished && !this.stopping) this.s.stats.error(`close:${code}`);
    if (--this.live > 0 || this.done) return;
    this.done = true;
    for (const s of this.spreads()) this.s.stats.spread.record(s);
    this.s.onDone();
  }
}

class PeerRun {
  private readonly stats = new LoadStats();
  private readonly matches: PeerMatch[] = [];
  private readonly setupErrors: string[] = [];
  private readonly sampler = procAvailable() ? new ProcSampler(1000) : null;
  private readonly t0 = performance.now();
  private outcome: Outcome | null = null;
  private resolveEnd!: () => void;
  private readonly ended = new Promise<void>((resolve) => (this.resolveEnd = resolve));

  constructor(private readonly o: LoadOptions) {
    this.stats.playersExpected = o.matches * o.players;
  }

  async main(): Promise<number> {
    const o = this.o;
    const hard = setTimeout(() => this.finish('duration'), o.durationSec * 1000);
    const onSignal = () => this.finish('interrupted');
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    if (this.sampler) {
      this.sampler.add([{ pid: process.pid, label: 'loadgen' }]);
      if (o.masterPid !== null) this.sampler.add([{ pid: o.masterPid, label: 'master' }]);
      if (o.pids !== null) this.sampler.add(o.pids.map((pid) => ({ pid, label: `pid ${pid}` })));
      this.sampler.start();
    }
    const setup = this.setup().then(
      () => {
        if (this.setupErrors.length > 0) this.finish('setup-failed');
      },
      (err: unknown) => {
        this.setupErrors.push((err as Error).message);
        this.finish('setup-failed');
      },
    );
    await Promise.race([setup, this.ended]);
    await this.ended;
    clearTimeout(hard);
    this.sampler?.sample();
    this.sampler?.stop();
    await Promise.all(this.matches.map((m) => m.stop()));

    const joinedNobody = this.stats.playersJoined === 0 && this.outcome !== 'interrupted';
    if (joinedNobody && this.setupErrors.length === 0) this.setupErrors.push('no player could join any match');
    const exitCode = this.outcome === 'setup-failed' || joinedNobody ? 1 : 0;
    const summary = this.summary(exitCode);
    process.stdout.write(o.json ? `${JSON.stringify(summary)}\n` : `${formatTable(summary)}\n`);
    return exitCode;
  }

  private async setup(): Promise<void> {
    const o = this.o;
    const quiz = generateQuiz(o.questions, o.questionTimeSec);
    const shared: Shared = {
      client: new Client(o.url),
      stats: this.stats,
      policy: keyedPolicy(quiz.questions.map((q) => q.correct), o.correctRatio, () => o.answerTime.sample()),
      onDone: () => {
        if (!this.outcome && this.matches.every((m) => m.done)) this.finish(this.matches.every((m) => m.finished) ? 'finished' : 'clients-gone');
      },
    };
    for (let m = 0; m < o.matches; m++) this.matches.push(new PeerMatch(m, o.players, shared));
    // 1. Every room first (as loadtest creates every match first); a failure stops the run.
    const creates = new Semaphore(CREATE_CONCURRENCY);
    await Promise.all(
      this.matches.map((m) =>
        creates.run(async () => {
          if (this.outcome || this.setupErrors.length > 0) return;
          try {
            await m.create(quiz);
          } catch (err) {
            this.stats.error(errorKey('create', err));
            this.setupErrors.push(`create: ${(err as Error).message}`);
          }
        }),
      ),
    );
    if (this.setupErrors.length > 0 || this.outcome) return;
    // 2. Every player through the shared limiter; each match starts when its players are in.
    const limiter = new Semaphore(o.connectConcurrency);
    await Promise.all(this.matches.map((m) => m.connectAll(limiter)));
  }

  private finish(outcome: Outcome): void {
    if (this.outcome) return;
    this.outcome = outcome;
    this.resolveEnd();
  }

  private summary(exitCode: number): LoadSummary {
    const o = this.o;
    const s = this.stats;
    const count = (f: (m: PeerMatch) => boolean) => this.matches.filter(f).length;
    return {
      target: o.url,
      config: configOf(o),
      outcome: this.outcome ?? 'interrupted',
      exitCode,
      elapsedMs: Math.round(performance.now() - this.t0),
      matches: { requested: o.matches, planned: o.matches, created: count((m) => m.roomId !== null), started: count((m) => m.started), finished: count((m) => m.finished) },
      players: { requested: o.matches * o.players, joined: s.playersJoined, failed: s.playersFailed, reconnects: 0 },
      ...measured(s),
      setupErrors: [...new Set(this.setupErrors)],
      notes: ['Colyseus peer driver (colyseus.js): connectMs is the whole joinById; no handshake figure; no reconnects'],
      capacity: null,
      cleanup: null,
      processes: this.sampler?.summary() ?? [],
    };
  }
}

async function main(): Promise<void> {
  let options: LoadOptions | null;
  try {
    options = parseLoadArgs(process.argv.slice(2));
    if (options?.quizId) throw new UsageError('--quiz: the Colyseus driver plays a generated quiz only.');
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`colyseus driver: ${err.message}\nRun with --help for the options.\n`);
      process.exit(2);
    }
    throw err;
  }
  if (options === null) {
    process.stdout.write(`${LOAD_USAGE.replace('scripts/loadtest.ts', 'bench/peers/colyseus/driver.ts')}\n`);
    return;
  }
  const code = await new PeerRun(options).main();
  // The SDK's sockets are closed by now; exit explicitly so nothing keeps the process open.
  process.stdout.write('', () => process.exit(code));
}

main().catch((err: unknown) => {
  process.stderr.write(`colyseus driver: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
