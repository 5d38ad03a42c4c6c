/**
 * One simulated match: creates it over HTTP, connects its players and host, starts it once
 * every player attempt has settled, and tracks it to the end. The load generator runs many
 * of these side by side; a benchmark script can reuse it directly.
 */
import { HttpFailure, expectStatus, requestJson } from './http';
import { type AnswerPolicy, keyedPolicy } from './answerer';
import { type ClientEvents, MatchClient } from './matchClient';
import type { RetryPolicy } from './retryPolicy';
import type { LoadStats } from './stats';
import type { Semaphore } from './util';
import { type CreatedMatch, type InlineQuiz, isCreatedMatch } from './wire';

export interface MatchRunOptions {
  /** Position of this match in the run; players are named p<index>-<i>. */
  index: number;
  httpBase: string;
  wsBase: string;
  players: number;
  /** Either an inline quiz (answer key known) or a built-in quiz id. */
  quiz: { inline: InlineQuiz } | { id: string };
  answerDelayMs: () => number;
  correctRatio: number;
  stats: LoadStats;
  connectLimiter: Semaphore;
  connectTimeoutMs?: number;
  /** Called once the match is over for this run (all its clients done). */
  onDone?: (run: MatchRun) => void;
  /** Every `welcome` a player receives (see ClientEvents.welcome), e.g. to time resumes. */
  onPlayerWelcome?: NonNullable<ClientEvents['welcome']>;
  /** A player's first connect begins now (it holds a slot of the limiter), e.g. to time it. */
  onPlayerConnecting?: (client: MatchClient) => void;
  /** How hard every client of the match retries (default: the client's, LOAD_RETRY). */
  retry?: RetryPolicy;
  /** The same service through other hosts: each client's `alternateUrls` (ws origins). */
  alternateWsBases?: string[];
}

export class MatchRun {
  created: CreatedMatch | null = null;
  started = false;
  finished = false;
  done = false;
  readonly players: MatchClient[] = [];
  host: MatchClient | null = null;
  /** Per question index: [first, last] Date.now() of receipt across players. */
  private readonly receipt = new Map<number, [number, number]>();
  private settledPlayers = 0;
  private hostReady = false;
  private liveClients = 0;

  constructor(private readonly o: MatchRunOptions) {}

  /** POST /matches; throws HttpFailure. */
  async create(): Promise<CreatedMatch> {
    const body = 'inline' in this.o.quiz ? { quiz: this.o.quiz.inline } : { quizId: this.o.quiz.id };
    const url = `${this.o.httpBase}/matches`;
    const res = await requestJson('POST', url, body);
    expectStatus('POST', url, res, 201);
    if (!isCreatedMatch(res.body)) throw new HttpFailure(`POST ${url}: unexpected body ${res.text.slice(0, 200)}`, 'http:bad-body');
    this.created = res.body;
    return res.body;
  }

  /** Connects the host and every player (through the shared limiter); starts the match when ready. */
  connectAll(): Promise<void> {
    const created = this.created;
    if (!created) throw new Error('create() first');
    const url = `${this.o.wsBase}${created.wsPath}`;
    const timeout = this.o.connectTimeoutMs ?? 10_000;
    const stats = this.o.stats;
    const shared = {
      ...(this.o.retry ? { retry: this.o.retry } : {}),
      ...(this.o.alternateWsBases ? { alternateUrls: this.o.alternateWsBases.map((b) => `${b}${created.wsPath}`) } : {}),
    };

    this.host = new MatchClient({
      url,
      hello: { type: 'resume', token: created.hostToken },
      role: 'host',
      stats,
      connectTimeoutMs: timeout,
      ...shared,
      events: { done: () => this.clientDone(), finished: () => this.markFinished() },
    });
    this.liveClients++;
    const policy = this.policy();
    for (let i = 0; i < this.o.players; i++) {
      this.players.push(
        new MatchClient({
          url,
          hello: { type: 'join', name: `p${this.o.index}-${i}` },
          role: 'player',
          stats,
          answer: policy,
          connectTimeoutMs: timeout,
          ...shared,
          events: {
            ...(this.o.onPlayerWelcome ? { welcome: this.o.onPlayerWelcome } : {}),
            question: (_c, q, wall) => this.onQuestion(q.index, wall),
            finished: () => this.markFinished(),
            done: () => this.clientDone(),
          },
        }),
      );
      this.liveClients++;
    }

    const limiter = this.o.connectLimiter;
    const host = this.host;
    const tasks: Array<Promise<void>> = [
      limiter.run(async () => {
        this.hostReady = await host.connect();
        if (!this.hostReady) {
          // Without a host nobody starts the match: give up on it.
          void this.stop();
          return;
        }
        this.maybeStart();
      }),
    ];
    for (const p of this.players) {
      tasks.push(
        limiter.run(async () => {
          this.o.onPlayerConnecting?.(p);
          await p.connect();
          this.settledPlayers++;
          this.maybeStart();
        }),
      );
    }
    return Promise.all(tasks).then(() => undefined);
  }

  /** Closes every socket of this match. */
  async stop(): Promise<void> {
    const all = [...this.players, ...(this.host ? [this.host] : [])];
    await Promise.all(all.map((c) => c.stop()));
  }

  /** Per-question receipt spread (ms), for the stats. */
  spreads(): number[] {
    return [...this.receipt.values()].map(([first, last]) => last - first);
  }

  private policy(): AnswerPolicy {
    const { quiz, correctRatio, answerDelayMs } = this.o;
    return keyedPolicy('inline' in quiz ? quiz.inline.questions.map((q) => q.correct) : null, correctRatio, answerDelayMs);
  }

  private maybeStart(): void {
    if (this.started || !this.hostReady || this.settledPlayers < this.o.players || !this.host) return;
    const joined = this.players.filter((p) => p.phase === 'joined').length;
    if (joined === 0) {
      this.o.stats.error('match:no-players');
      void this.stop();
      return;
    }
    this.started = this.host.send({ type: 'start' });
  }

  private onQuestion(index: number, wall: number): void {
    const r = this.receipt.get(index);
    if (!r) this.receipt.set(index, [wall, wall]);
    else {
      if (wall < r[0]) r[0] = wall;
      if (wall > r[1]) r[1] = wall;
    }
  }

  private markFinished(): void {
    this.finished = true;
  }

  private clientDone(): void {
    this.liveClients--;
    if (this.liveClients > 0 || this.done) return;
    this.done = true;
    for (const s of this.spreads()) this.o.stats.spread.record(s);
    this.o.onDone?.(this);
  }
}
