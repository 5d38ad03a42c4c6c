/**
 * A player that follows an answer script and survives its server: when the connection
 * drops it reconnects with jittered backoff (tolerating refused connections, 404 while a
 * restarted master has not found the match yet, and 503 while the match moves) and resumes
 * with its token. After a resume it retries the answer the server says it already has, the
 * way a real client would after losing an ack.
 */
import WebSocket from 'ws';
import type { RankedPlayer, ServerMessage } from '../../src/protocol/messages';

export type Choose = (questionIndex: number) => number | null;

export class ScriptedPlayer {
  token: string | null = null;
  playerId: string | null = null;
  private ws: WebSocket | null = null;
  private currentQuestion = -1;
  private readonly answered = new Set<number>();
  private readonly held = new Set<number>();
  readonly acks = new Map<number, number>();
  readonly ackCounts = new Map<number, number>();
  resumes = 0;
  welcomes: Array<Extract<ServerMessage, { type: 'welcome' }>> = [];
  readonly received: ServerMessage[] = [];
  standings: RankedPlayer[] | null = null;
  closedReason: string | null = null;
  private stopped = false;
  private ackWaiters: Array<() => void> = [];
  readonly finished: Promise<RankedPlayer[]>;
  private resolveFinished!: (s: RankedPlayer[]) => void;

  constructor(
    private readonly wsUrl: string,
    readonly name: string,
    private readonly choose: Choose,
    holdQuestions: number[] = [],
  ) {
    for (const q of holdQuestions) this.held.add(q);
    this.finished = new Promise((r) => (this.resolveFinished = r));
  }

  async join(): Promise<void> {
    await this.connect();
    this.send({ type: 'join', name: this.name });
    await this.waitFor(() => this.token !== null, 10_000, 'welcome');
  }

  /** Answers a held question now (or right after the next resume). */
  release(questionIndex: number): void {
    this.held.delete(questionIndex);
    this.maybeAnswer();
  }

  waitForAck(questionIndex: number, timeoutMs = 15_000): Promise<void> {
    return this.waitFor(() => this.acks.has(questionIndex), timeoutMs, `ack of question ${questionIndex}`);
  }

  /** Sends a raw message on the current connection (for tests that poke a stale owner). */
  send(msg: object): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  stop(): void {
    this.stopped = true;
    this.ws?.terminate();
  }

  private connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.wsUrl, { perMessageDeflate: false });
      ws.once('open', () => {
        this.ws = ws;
        resolve();
      });
      ws.once('unexpected-response', (_req, res) => {
        reject(new Error(`upgrade ${res.statusCode}`));
        ws.terminate();
      });
      ws.once('error', reject);
      ws.on('message', (data) => this.onMessage(JSON.parse(data.toString()) as ServerMessage));
      ws.on('close', () => {
        if (this.ws === ws) {
          this.ws = null;
          if (!this.stopped && !this.standings && !this.closedReason) void this.reconnect();
        }
      });
    });
  }

  private async reconnect(): Promise<void> {
    for (let attempt = 0; attempt < 300 && !this.stopped; attempt++) {
      const delay = Math.min(1000, 50 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random() / 2);
      await new Promise((r) => setTimeout(r, delay));
      try {
        await this.connect();
        this.resumes++;
        this.send({ type: 'resume', token: this.token });
        return;
      } catch {
        // Refused, 404 or 503: the match service is on its way back; try again.
      }
    }
  }

  private onMessage(msg: ServerMessage): void {
    this.received.push(msg);
    switch (msg.type) {
      case 'welcome': {
        this.welcomes.push(msg);
        this.token = msg.token;
        this.playerId = msg.you.playerId ?? null;
        const q = msg.state.question;
        if (msg.state.phase === 'question' && q) {
          this.currentQuestion = q.index;
          const mine = msg.state.you?.answer;
          if (mine && mine.questionIndex === q.index) {
            // The server holds our answer; resend it as a client that lost the ack would.
            this.answered.add(q.index);
            this.send({ type: 'answer', questionIndex: q.index, choice: mine.choice });
          } else {
            this.answered.delete(q.index);
          }
        }
        if (msg.state.phase === 'finished' && msg.state.standings) this.finish(msg.state.standings);
        this.maybeAnswer();
        break;
      }
      case 'question':
        this.currentQuestion = msg.index;
        this.maybeAnswer();
        break;
      case 'answer_ack':
        this.acks.set(msg.questionIndex, msg.choice);
        this.ackCounts.set(msg.questionIndex, (this.ackCounts.get(msg.questionIndex) ?? 0) + 1);
        for (const w of this.ackWaiters) w();
        break;
      case 'finished':
        this.finish(msg.standings);
        break;
      case 'match_closed':
        this.closedReason = msg.reason;
        for (const w of this.ackWaiters) w();
        break;
      default:
        break;
    }
  }

  private finish(standings: RankedPlayer[]): void {
    if (this.standings) return;
    this.standings = standings;
    this.resolveFinished(standings);
  }

  private maybeAnswer(): void {
    const i = this.currentQuestion;
    if (i < 0 || this.answered.has(i) || this.held.has(i) || !this.ws) return;
    const choice = this.choose(i);
    if (choice === null) return;
    this.answered.add(i);
    this.send({ type: 'answer', questionIndex: i, choice });
  }

  private waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setInterval(() => {
        if (cond()) {
          clearInterval(timer);
          clearTimeout(limit);
          resolve();
        }
      }, 10);
      const limit = setTimeout(() => {
        clearInterval(timer);
        reject(new Error(`${this.name}: timed out waiting for ${what}`));
      }, timeoutMs);
    });
  }
}
