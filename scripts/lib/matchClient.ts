/**
 * A scripted match participant over a real WebSocket, the one the load tool, the benchmark
 * and the tests share: joins (or resumes), then plays by a policy, answering each question
 * after a drawn delay, and reconnects with its token when its connection drops (how hard it
 * tries is its `RetryPolicy`). What it measures goes to a `LoadStats`; what tests look at
 * (acks, welcomes, standings, the messages) is kept on the client. The host is the same
 * client without an answer policy.
 *
 * Every wait is bounded, and `stop()` ends everything (timers and socket) within about a second.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClientMessage, RankedPlayer, ServerMessage } from '../../src/protocol/messages';
import { type AnswerPolicy, Answerer } from './answerer';
import { ConnectFailed, type MatchSocket as Socket, MatchSocket, type MessageOf, UpgradeRefused } from './matchSocket';
import { type ConnectFailure, LOAD_RETRY, MAX_BACKOFF_MS, type RetryPolicy } from './retryPolicy';
import { LoadStats } from './stats';

export type Hello = { type: 'join'; name: string } | { type: 'resume'; token: string };
type Welcome = MessageOf<'welcome'>;

export interface ClientEvents {
  /**
   * `welcome` arrived (performance.now() = `atMs`): `resumed` is false for the first one
   * (join, or the host's resume) and true for every welcome after a reconnect.
   */
  welcome?(client: MatchClient, msg: Welcome, resumed: boolean, atMs: number): void;
  /** A player received a question (`wallMs` = Date.now() at receipt). */
  question?(client: MatchClient, msg: MessageOf<'question'>, wallMs: number): void;
  finished?(client: MatchClient, standings: RankedPlayer[]): void;
  /** Any message after `welcome`, once the client handled it. */
  message?(client: MatchClient, msg: ServerMessage): void;
  /** The client is done for good: finished and closed, failed, kicked, or stopped. */
  done?(client: MatchClient): void;
}

export interface MatchClientOptions {
  /** Full ws:// URL of the match, e.g. ws://127.0.0.1:3001/ws/matches/ABC234. */
  url: string;
  /**
   * The same match through other hosts (several hosts: any host reaches any match). An
   * attempt that got no upgrade answer at all (refused, reset, timed out: that host is gone)
   * moves the client to the next address, round robin; it stays there while it answers.
   */
  alternateUrls?: string[];
  hello: Hello;
  role: 'player' | 'host';
  /** Where the client's figures go (default: a stats of its own). */
  stats?: LoadStats;
  answer?: AnswerPolicy;
  /** Questions answered only once `release(index)` is called. */
  hold?: Iterable<number>;
  events?: ClientEvents;
  /** Upgrade, and then `welcome`, must each arrive within this (default 10 s). */
  connectTimeoutMs?: number;
  retry?: RetryPolicy;
  /** Close the socket once `finished` arrives (default true). */
  closeOnFinish?: boolean;
  /** Keep every message in `received` (default false: a load run has thousands of clients). */
  keepMessages?: boolean;
}

type Phase = 'new' | 'connecting' | 'joined' | 'reconnecting' | 'done';

export class MatchClient {
  phase: Phase = 'new';
  token: string | null = null;
  playerId: string | null = null;
  finished = false;
  /** Why the client ended, when it did. */
  endReason: string | null = null;
  /** The server's reason when it ended this client's part (`match_closed`, `kicked`). */
  closedReason: string | null = null;
  standings: RankedPlayer[] | null = null;
  readonly finalStandings: Promise<RankedPlayer[]>;
  readonly welcomes: Welcome[] = [];
  /** Every server message on every connection, in order (with `keepMessages`). */
  readonly received: ServerMessage[] = [];
  /** Welcomes after a reconnect. */
  resumes = 0;
  readonly name: string;

  private hello: Hello;
  /** `url`, then `alternateUrls`; `urlIndex` is the one the next attempt uses. */
  private readonly urls: string[];
  private urlIndex = 0;
  private socket: Socket | null = null;
  private stopping = false;
  private readonly abort = new AbortController();
  private reconnectsLeft: number;
  /** Null for a host, or a player with no answer policy. */
  private readonly answerer: Answerer | null;
  private readonly stats: LoadStats;
  private readonly retry: RetryPolicy;
  private resolveStandings!: (s: RankedPlayer[]) => void;

  constructor(readonly o: MatchClientOptions) {
    this.hello = o.hello;
    this.urls = [o.url, ...(o.alternateUrls ?? [])];
    this.name = o.hello.type === 'join' ? o.hello.name : o.role;
    this.stats = o.stats ?? new LoadStats();
    this.retry = o.retry ?? LOAD_RETRY;
    this.reconnectsLeft = this.retry.reconnects;
    this.answerer = o.answer ? new Answerer(o.answer, this.stats, (msg) => this.send(msg), o.hold) : null;
    this.finalStandings = new Promise((resolve) => (this.resolveStandings = resolve));
  }

  /** Connects and says hello; true once `welcome` arrived. Never throws. */
  async connect(): Promise<boolean> {
    if (this.phase === 'done' || this.stopping) return false;
    this.phase = 'connecting';
    const attempts = this.retry.attemptsPerConnect;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (this.stopping) break;
      const failure = await this.attempt();
      if (failure === null) return true;
      if (!this.retry.retryable(failure) || this.stopping || attempt === attempts) break;
      if (failure.kind === 'network') this.urlIndex = (this.urlIndex + 1) % this.urls.length;
      const retryAfter = failure.kind === 'upgrade' ? failure.retryAfterMs : undefined;
      await sleep(Math.min(retryAfter ?? this.retry.backoffMs(attempt), MAX_BACKOFF_MS));
    }
    if (this.stopping) {
      this.end('stopped');
      return false;
    }
    // A player that never joined failed to connect; one that dropped and could not resume is
    // counted through its close code.
    if (this.o.role === 'player' && this.token === null) this.stats.playersFailed++;
    this.end('connect failed');
    return false;
  }

  /** The address the client uses now (see `alternateUrls`). */
  get currentUrl(): string {
    return this.urls[this.urlIndex]!;
  }

  /** `connect()` for a test: throws unless the client got its `welcome`. */
  async connectOrThrow(): Promise<void> {
    if (!(await this.connect())) throw new Error(`${this.name}: could not connect (${this.endReason ?? '?'})`);
  }

  send(msg: ClientMessage): boolean {
    return this.socket?.send(msg) ?? false;
  }

  /** questionIndex → choice, from every `answer_ack` (empty without an answer policy). */
  get acks(): ReadonlyMap<number, number> {
    return this.answerer?.acks ?? new Map();
  }

  /** Answers a held question now (or once it comes, or right after the next resume). */
  release(questionIndex: number): void {
    this.answerer?.release(questionIndex);
  }

  waitForAck(questionIndex: number, timeoutMs = 15_000): Promise<void> {
    if (!this.answerer) return Promise.reject(new Error(`${this.name} does not answer`));
    return this.answerer.waitForAck(questionIndex, timeoutMs, this.name);
  }

  /** Ends the client: cancels timers and connects, closes the socket (terminated after `graceMs`). */
  async stop(graceMs = 1000): Promise<void> {
    this.stopping = true;
    this.answerer?.cancel();
    this.abort.abort();
    const socket = this.socket;
    if (socket && !socket.closeInfo) await socket.closeWithin(graceMs, 'load test done');
    this.end(this.finished ? 'finished' : 'stopped');
  }

  // ---- connection ------------------------------------------------------------------

  /** One upgrade and hello; null once welcomed, else why not. */
  private async attempt(): Promise<ConnectFailure | null> {
    const timeoutMs = this.o.connectTimeoutMs ?? 10_000;
    let settle!: (f: ConnectFailure | null) => void;
    const settled = new Promise<ConnectFailure | null>((resolve) => (settle = resolve));
    const at = { socket: null as Socket | null, welcomed: false, done: false };
    const finish = (f: ConnectFailure | null) => {
      if (at.done) return;
      at.done = true;
      settle(f);
    };
    let socket: Socket;
    try {
      socket = await MatchSocket.connect(this.urls[this.urlIndex]!, {
        handshakeTimeoutMs: timeoutMs,
        keepMessages: false,
        observer: this.stats,
        signal: this.abort.signal,
        onMessage: (msg) => {
          if (at.welcomed) {
            if (this.socket === at.socket) this.onMessage(msg);
          } else this.beforeWelcome(msg, at.socket, finish, () => (at.welcomed = true));
        },
        onClose: ({ code }) => {
          // A connect that failed before the upgrade is reported by MatchSocket.connect.
          if (!at.socket) return;
          if (!at.done) {
            this.stats.error(`close:${code}`);
            finish({ kind: 'closed', code });
          } else if (at.welcomed && this.socket === at.socket) this.onClose(code);
        },
      });
    } catch (err) {
      if (err instanceof UpgradeRefused) {
        this.stats.error(`upgrade:${err.status}`);
        return { kind: 'upgrade', status: err.status, ...(err.retryAfterMs ? { retryAfterMs: err.retryAfterMs } : {}) };
      }
      const code = err instanceof ConnectFailed ? err.code : 'ERROR';
      if (code !== 'ABORTED') this.stats.error(code === 'TIMEOUT' ? 'connect:timeout' : `connect:${code}`);
      return { kind: 'network', code };
    }
    at.socket = socket;
    this.stats.handshake.record(socket.handshakeMs);
    if (socket.closeInfo) {
      // Closed in the moment between the upgrade and this line.
      this.stats.error(`close:${socket.closeInfo.code}`);
      return { kind: 'closed', code: socket.closeInfo.code };
    }
    const openedAt = performance.now();
    const timer = setTimeout(() => {
      this.stats.error('connect:timeout');
      finish({ kind: 'network', code: 'TIMEOUT' });
      socket.terminate();
    }, timeoutMs);
    const onStop = () => socket.terminate();
    this.abort.signal.addEventListener('abort', onStop, { once: true });
    if (this.abort.signal.aborted) onStop(); // stopped while the upgrade completed
    socket.send(this.hello);
    const failure = await settled;
    clearTimeout(timer);
    this.abort.signal.removeEventListener('abort', onStop);
    if (failure === null) this.stats.connect.record(performance.now() - openedAt);
    return failure;
  }

  /** What arrives between hello and `welcome`: the welcome, or why there is none. */
  private beforeWelcome(msg: ServerMessage, socket: Socket | null, finish: (f: ConnectFailure | null) => void, welcomed: () => void): void {
    if (this.o.keepMessages) this.received.push(msg);
    if (msg.type === 'welcome' && socket) {
      welcomed();
      this.socket = socket;
      finish(null);
      this.onWelcome(msg);
      return;
    }
    if (msg.type === 'match_closed' || msg.type === 'kicked') {
      // A match closed for good answers a resume with this instead of a welcome.
      this.stats.error(`ws:${msg.type}`);
      this.closedReason = msg.reason;
      finish({ kind: 'refused', code: msg.type });
      return;
    }
    if (msg.type === 'error') {
      this.stats.error(`ws:${msg.code}`);
      if (msg.ref === 'join' || msg.ref === 'resume') {
        // Retrying will not help.
        finish({ kind: 'refused', code: msg.code });
        socket?.close(1000);
      }
    }
  }

  private onClose(code: number): void {
    this.markDisconnected();
    this.answerer?.cancel();
    if (this.finished || this.stopping) {
      this.end(this.finished ? 'finished' : 'stopped');
      return;
    }
    this.stats.error(`close:${code}`);
    // 1008/1009: the server closed us for what we sent; a resume would be closed the same way.
    if (this.token && this.reconnectsLeft > 0 && !this.closedReason && code !== 1008 && code !== 1009) {
      this.reconnectsLeft--;
      this.phase = 'reconnecting';
      void this.reconnect();
      return;
    }
    this.end(`closed ${code}`);
  }

  private async reconnect(): Promise<void> {
    await sleep(this.retry.reconnectDelayMs());
    if (this.stopping || !this.token) return this.end('stopped');
    this.hello = { type: 'resume', token: this.token };
    this.stats.reconnects++;
    // connect() counts a failure and ends the client itself.
    await this.connect();
  }

  private end(reason: string): void {
    if (this.phase === 'done') return;
    this.markDisconnected();
    this.phase = 'done';
    this.endReason = reason;
    this.answerer?.cancel();
    this.o.events?.done?.(this);
  }

  private markDisconnected(): void {
    if (this.phase !== 'joined') return;
    if (this.o.role === 'player') this.stats.playersConnected--;
    this.phase = 'connecting';
  }

  // ---- messages --------------------------------------------------------------------

  private onWelcome(msg: Welcome): void {
    const at = performance.now();
    const first = this.token === null;
    this.token = msg.token;
    this.playerId = msg.you.playerId ?? null;
    this.phase = 'joined';
    this.welcomes.push(msg);
    if (!first) this.resumes++;
    if (this.o.role === 'player') {
      this.stats.playersConnected++;
      if (first) this.stats.playersJoined++;
    }
    this.o.events?.welcome?.(this, msg, !first, at);
    const state = msg.state;
    if (state.phase === 'finished') {
      this.onFinished(state.standings ?? []);
      return;
    }
    this.answerer?.onWelcome(state);
  }

  private onMessage(msg: ServerMessage): void {
    if (this.o.keepMessages) this.received.push(msg);
    switch (msg.type) {
      case 'question':
        this.onQuestion(msg);
        break;
      case 'answer_ack':
        this.answerer?.onAck(msg);
        break;
      case 'reveal':
        this.answerer?.onReveal(msg);
        break;
      case 'finished':
        this.onFinished(msg.standings);
        break;
      case 'error':
        this.stats.error(`ws:${msg.code}`);
        if (msg.ref === 'answer') this.answerer?.onRejected();
        break;
      case 'kicked':
      case 'match_closed':
        this.stats.error(`ws:${msg.type}`);
        this.closedReason = msg.reason;
        break;
      default:
        break;
    }
    this.o.events?.message?.(this, msg);
  }

  private onQuestion(q: MessageOf<'question'>): void {
    const wall = Date.now();
    if (this.o.role !== 'player') return;
    this.stats.questionsReceived++;
    this.stats.fanout.record(wall - q.startsAt);
    if (this.stats.rampDone) this.stats.fanoutAfterRamp.record(wall - q.startsAt);
    this.o.events?.question?.(this, q, wall);
    this.answerer?.onQuestion(q);
  }

  private onFinished(standings: RankedPlayer[]): void {
    if (this.finished) return;
    this.finished = true;
    this.standings = standings;
    this.resolveStandings(standings);
    this.answerer?.cancel();
    this.o.events?.finished?.(this, standings);
    if (this.o.closeOnFinish ?? true) this.socket?.close(1000, 'finished');
  }
}
