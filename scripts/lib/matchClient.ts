/**
 * A scripted match client over a real WebSocket: joins (or resumes) and then plays by a
 * policy — answers each question after a drawn delay — while recording what it measures in
 * a shared LoadStats. The host is the same client with no answer policy.
 *
 * Every wait is bounded: connect attempts, reconnects and timeouts are counted and capped,
 * and `stop()` ends everything (timers and socket) within about a second.
 */
import { performance } from 'node:perf_hooks';
import WebSocket, { type RawData } from 'ws';
import type { LoadStats } from './stats';
import { sleep } from './util';
import type { AnswerAckMsg, AnyServerMsg, ClientMsg, ErrorMsg, FinishedMsg, QuestionMsg, RevealMsg, WelcomeMsg } from './wire';

export type Hello = { type: 'join'; name: string } | { type: 'resume'; token: string };

export interface AnswerPolicy {
  /** Delay (ms) between receiving question `index` and answering it. */
  delayMs(index: number): number;
  /** The choice for question `index` offering `choices` options. */
  choose(index: number, choices: number): { choice: number; intendedCorrect: boolean };
}

export interface ClientEvents {
  /**
   * `welcome` arrived (performance.now() = `atMs`): `resumed` is false for the first one
   * (join, or the host's resume) and true for every welcome after a reconnect.
   */
  welcome?(client: ScriptedClient, msg: WelcomeMsg, resumed: boolean, atMs: number): void;
  /** A player received a question (`wallMs` = Date.now() at receipt). */
  question?(client: ScriptedClient, msg: QuestionMsg, wallMs: number): void;
  finished?(client: ScriptedClient, msg: FinishedMsg): void;
  /** Any other message, after the client handled it. */
  message?(client: ScriptedClient, msg: AnyServerMsg): void;
  /** The client is done for good: finished and closed, failed, kicked, or stopped. */
  done?(client: ScriptedClient): void;
}

export interface ScriptedClientOptions {
  /** Full ws:// URL of the match, e.g. ws://127.0.0.1:3001/ws/matches/ABC234. */
  url: string;
  hello: Hello;
  role: 'player' | 'host';
  stats: LoadStats;
  answer?: AnswerPolicy;
  events?: ClientEvents;
  /** Upgrade + welcome must arrive within this (default 10 s). */
  connectTimeoutMs?: number;
  /** Attempts per connect when the upgrade is refused with 503 or the socket resets (default 5). */
  maxAttempts?: number;
  /** Reconnects (with `resume`) after a joined socket drops unexpectedly (default 3). */
  maxReconnects?: number;
  /** Close the socket once `finished` arrives (default true). */
  closeOnFinish?: boolean;
}

type Phase = 'new' | 'connecting' | 'joined' | 'reconnecting' | 'done';

interface PendingAnswer {
  index: number;
  choice: number;
  /** performance.now() when sent; null while waiting for a socket. */
  sentAt: number | null;
  /** First sent once every expected player had joined. */
  afterRamp: boolean;
}

type AttemptResult = { ok: true } | { ok: false; retry: boolean; retryAfterMs?: number };

const RETRYABLE_CLOSE = new Set([1001, 1006, 1012, 1013]);

export class ScriptedClient {
  phase: Phase = 'new';
  token: string | null = null;
  playerId: string | null = null;
  finished = false;
  /** Why the client ended, when it did. */
  endReason: string | null = null;

  private ws: WebSocket | null = null;
  private stopping = false;
  private reconnectsLeft: number;
  private answerTimer: NodeJS.Timeout | null = null;
  private timerIndex = -1;
  private pending: PendingAnswer | null = null;
  /** Highest question index answered (acked or sent); -1 before any. */
  private lastAnswered = -1;
  private currentQuestion = -1;
  private readonly stats: LoadStats;

  constructor(readonly opts: ScriptedClientOptions) {
    this.stats = opts.stats;
    this.reconnectsLeft = opts.maxReconnects ?? 3;
  }

  get isOpen(): boolean {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /** Connects and says hello; true once `welcome` arrived. Never throws. */
  async connect(): Promise<boolean> {
    if (this.phase === 'done' || this.stopping) return false;
    this.phase = 'connecting';
    const maxAttempts = this.opts.maxAttempts ?? 5;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (this.stopping) break;
      const result = await this.attempt();
      if (result.ok) return true;
      if (!result.retry || this.stopping || attempt === maxAttempts) break;
      const backoff = result.retryAfterMs ?? Math.min(2000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2);
      await sleep(Math.min(backoff, 5000));
    }
    if (this.stopping) {
      this.end('stopped');
      return false;
    }
    // A player that never joined failed to connect; one that dropped and could not resume is
    // counted through its close code.
    if (this.opts.role === 'player' && this.token === null) this.stats.playersFailed++;
    this.end('connect failed');
    return false;
  }

  send(msg: ClientMsg): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    const text = JSON.stringify(msg);
    ws.send(text);
    this.stats.messagesOut++;
    this.stats.bytesOut += Buffer.byteLength(text);
    return true;
  }

  /** Ends the client: cancels timers, closes the socket (terminates it after `graceMs`). */
  stop(graceMs = 1000): Promise<void> {
    this.stopping = true;
    this.clearAnswerTimer();
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) {
      this.end('stopped');
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        ws.terminate();
        resolve();
      }, graceMs);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000, 'load test done');
    });
  }

  // ---- connection ------------------------------------------------------------------

  private attempt(): Promise<AttemptResult> {
    return new Promise<AttemptResult>((resolve) => {
      const created = performance.now();
      let openedAt = 0;
      let settled = false;
      let welcomed = false;
      const settle = (r: AttemptResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timeout);
        resolve(r);
      };
      const ws = new WebSocket(this.opts.url, {
        perMessageDeflate: false,
        handshakeTimeout: this.opts.connectTimeoutMs ?? 10_000,
        maxPayload: 1024 * 1024,
      });
      this.ws = ws;
      const timeout = setTimeout(() => {
        this.stats.error('connect:timeout');
        settle({ ok: false, retry: false });
        ws.terminate();
      }, this.opts.connectTimeoutMs ?? 10_000);

      ws.on('unexpected-response', (_req, res) => {
        const status = res.statusCode ?? 0;
        const retryAfter = Number(res.headers['retry-after']);
        this.stats.error(`upgrade:${status}`);
        res.resume();
        settle({
          ok: false,
          retry: status === 503,
          ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
        });
        ws.terminate();
      });
      ws.on('open', () => {
        openedAt = performance.now();
        this.stats.handshake.record(openedAt - created);
        this.send(this.opts.hello);
      });
      ws.on('message', (data: RawData, isBinary: boolean) => {
        const msg = this.decode(data, isBinary);
        if (!msg) return;
        if (msg.type === 'welcome' && !settled) {
          this.stats.connect.record(performance.now() - openedAt);
          welcomed = true;
          this.onWelcome(msg as unknown as WelcomeMsg);
          settle({ ok: true });
          return;
        }
        if (!settled && msg.type === 'error') {
          const err = msg as unknown as ErrorMsg;
          this.stats.error(`ws:${err.code}`);
          if (err.ref === 'join' || err.ref === 'resume') {
            // NAME_TAKEN, MATCH_FULL, TOKEN_INVALID…: retrying will not help.
            settle({ ok: false, retry: false });
            ws.close(1000);
          }
          return;
        }
        this.onMessage(msg);
      });
      ws.on('error', (err: Error & { code?: string }) => {
        if (!settled) {
          // Errors after unexpected-response/terminate are the echo of our own abort.
          this.stats.error(`connect:${err.code ?? 'error'}`);
          settle({ ok: false, retry: err.code === 'ECONNRESET' });
        }
      });
      ws.on('close', (code: number) => {
        if (!settled) {
          if (openedAt > 0) this.stats.error(`close:${code}`);
          settle({ ok: false, retry: RETRYABLE_CLOSE.has(code) && openedAt > 0 });
          return;
        }
        if (welcomed && this.ws === ws) this.onClose(code);
      });
    });
  }

  private decode(data: RawData, isBinary: boolean): AnyServerMsg | null {
    const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    this.stats.messagesIn++;
    this.stats.bytesIn += buf.length;
    if (isBinary) {
      this.stats.error('client:binary-frame');
      return null;
    }
    try {
      const msg = JSON.parse(buf.toString('utf8')) as AnyServerMsg;
      if (typeof msg !== 'object' || msg === null || typeof msg.type !== 'string') throw new Error('no type');
      return msg;
    } catch {
      this.stats.error('client:bad-json');
      return null;
    }
  }

  private onClose(code: number): void {
    this.markDisconnected();
    this.clearAnswerTimer();
    if (this.finished || this.stopping) {
      this.end(this.finished ? 'finished' : 'stopped');
      return;
    }
    this.stats.error(`close:${code}`);
    if (this.token && this.reconnectsLeft > 0 && code !== 1008 && code !== 1009) {
      this.reconnectsLeft--;
      this.phase = 'reconnecting';
      void this.reconnect();
      return;
    }
    this.end(`closed ${code}`);
  }

  private async reconnect(): Promise<void> {
    await sleep(100 + Math.random() * 400);
    if (this.stopping || !this.token) return this.end('stopped');
    this.opts.hello = { type: 'resume', token: this.token };
    this.stats.reconnects++;
    // connect() counts a failure and ends the client itself.
    await this.connect();
  }

  private end(reason: string): void {
    if (this.phase === 'done') return;
    this.markDisconnected();
    this.phase = 'done';
    this.endReason = reason;
    this.clearAnswerTimer();
    this.opts.events?.done?.(this);
  }

  private markDisconnected(): void {
    if (this.phase !== 'joined') return;
    if (this.opts.role === 'player') this.stats.playersConnected--;
    this.phase = 'connecting';
  }

  // ---- messages --------------------------------------------------------------------

  private onWelcome(msg: WelcomeMsg): void {
    const at = performance.now();
    const first = this.token === null;
    this.token = msg.token;
    this.playerId = msg.you.playerId ?? null;
    this.phase = 'joined';
    if (this.opts.role === 'player') {
      this.stats.playersConnected++;
      if (first) this.stats.playersJoined++;
    }
    this.opts.events?.welcome?.(this, msg, !first, at);
    const state = msg.state;
    if (state.phase === 'finished') {
      this.onFinished({ type: 'finished', standings: [] });
      return;
    }
    const q = state.question;
    if (state.phase !== 'question' || !q || !this.opts.answer) return;
    this.currentQuestion = q.index;
    const recorded = state.you?.answer;
    if (this.pending && this.pending.index === q.index) {
      // Sent before the drop, or waiting for a socket: send (again). The same answer is re-acked.
      if (this.pending.sentAt !== null) this.stats.answersResent++;
      this.transmit(this.pending);
    } else if (!recorded && q.index > this.lastAnswered && this.timerIndex !== q.index) {
      this.scheduleAnswer(q.index, q.choices.length);
    }
  }

  private onMessage(msg: AnyServerMsg): void {
    switch (msg.type) {
      case 'question':
        this.onQuestion(msg as unknown as QuestionMsg);
        break;
      case 'answer_ack':
        this.onAck(msg as unknown as AnswerAckMsg);
        break;
      case 'reveal':
        this.onReveal(msg as unknown as RevealMsg);
        break;
      case 'finished':
        this.onFinished(msg as unknown as FinishedMsg);
        break;
      case 'error': {
        const err = msg as unknown as ErrorMsg;
        this.stats.error(`ws:${err.code}`);
        if (err.ref === 'answer' && this.pending && this.pending.sentAt !== null) {
          this.stats.answersRejected++;
          this.pending = null;
        }
        break;
      }
      case 'kicked':
      case 'match_closed':
        this.stats.error(`ws:${msg.type}`);
        this.reconnectsLeft = 0;
        break;
      default:
        break;
    }
    this.opts.events?.message?.(this, msg);
  }

  private onQuestion(q: QuestionMsg): void {
    const wall = Date.now();
    this.currentQuestion = q.index;
    if (this.opts.role !== 'player') return;
    this.stats.questionsReceived++;
    this.stats.fanout.record(wall - q.startsAt);
    if (this.stats.rampDone) this.stats.fanoutAfterRamp.record(wall - q.startsAt);
    this.opts.events?.question?.(this, q, wall);
    if (this.opts.answer && q.index > this.lastAnswered) this.scheduleAnswer(q.index, q.choices.length);
  }

  private scheduleAnswer(index: number, choices: number): void {
    const policy = this.opts.answer;
    if (!policy) return;
    this.clearAnswerTimer();
    this.timerIndex = index;
    this.answerTimer = setTimeout(() => {
      this.answerTimer = null;
      this.timerIndex = -1;
      if (this.stopping || this.currentQuestion !== index) return;
      const { choice, intendedCorrect } = policy.choose(index, choices);
      if (intendedCorrect) this.stats.answersIntendedCorrect++;
      this.lastAnswered = index;
      this.pending = { index, choice, sentAt: null, afterRamp: false };
      this.transmit(this.pending);
    }, Math.max(0, policy.delayMs(index)));
  }

  private transmit(p: PendingAnswer): void {
    const first = p.sentAt === null;
    if (this.send({ type: 'answer', questionIndex: p.index, choice: p.choice })) {
      p.sentAt = performance.now();
      if (first) {
        this.stats.answersSent++;
        p.afterRamp = this.stats.rampDone;
      }
    }
  }

  private onAck(ack: AnswerAckMsg): void {
    const p = this.pending;
    if (!p || p.index !== ack.questionIndex || p.sentAt === null) return;
    const ms = performance.now() - p.sentAt;
    this.stats.ack.record(ms);
    if (p.afterRamp) this.stats.ackAfterRamp.record(ms);
    this.stats.answersAcked++;
    this.pending = null;
  }

  private onReveal(r: RevealMsg): void {
    if (this.timerIndex === r.questionIndex) {
      this.clearAnswerTimer();
      this.stats.answersMissed++;
    }
    if (this.pending && this.pending.index === r.questionIndex) {
      // The server acks before it reveals; an answer still unacked here was lost.
      this.stats.error('client:unacked-at-reveal');
      this.pending = null;
    }
  }

  private onFinished(msg: FinishedMsg): void {
    if (this.finished) return;
    this.finished = true;
    this.clearAnswerTimer();
    this.opts.events?.finished?.(this, msg);
    if (this.opts.closeOnFinish ?? true) this.ws?.close(1000, 'finished');
  }

  private clearAnswerTimer(): void {
    if (this.answerTimer) clearTimeout(this.answerTimer);
    this.answerTimer = null;
    this.timerIndex = -1;
  }
}
