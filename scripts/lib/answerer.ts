/**
 * A player's answers: when to answer each question (the policy's delay, or held until
 * released), which answer is still waiting for its `answer_ack`, and sending it again after a
 * resume. Apart from `MatchClient` because it knows nothing of connections: it sends through
 * `send`, which says whether a socket took the message.
 */
import { performance } from 'node:perf_hooks';
import type { ClientMessage, ClientState } from '../../src/protocol/messages';
import type { MessageOf } from './matchSocket';
import type { LoadStats } from './stats';
import { randomInt } from './util';

export interface AnswerPolicy {
  /** Delay (ms) between receiving question `index` and answering it; 0 answers on receipt. */
  delayMs(index: number): number;
  /** The choice for question `index` offering `choices` options. */
  choose(index: number, choices: number): { choice: number; intendedCorrect: boolean };
}

/**
 * Answers after `delayMs()`, right with probability `correctRatio` when the answer key is
 * known (an inline quiz), at random otherwise.
 */
export function keyedPolicy(key: readonly number[] | null, correctRatio: number, delayMs: () => number): AnswerPolicy {
  return {
    delayMs: () => delayMs(),
    choose: (index, choices) => {
      const correct = key?.[index];
      if (correct === undefined || choices < 2) return { choice: randomInt(Math.max(choices, 1)), intendedCorrect: false };
      if (Math.random() < correctRatio) return { choice: correct, intendedCorrect: true };
      const wrong = randomInt(choices - 1);
      return { choice: wrong >= correct ? wrong + 1 : wrong, intendedCorrect: false };
    },
  };
}

interface PendingAnswer {
  index: number;
  choice: number;
  /** performance.now() when sent; null while waiting for a socket. */
  sentAt: number | null;
  /** First sent once every expected player had joined. */
  afterRamp: boolean;
}

export class Answerer {
  /** questionIndex → choice, from every `answer_ack`. */
  readonly acks = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;
  private timerIndex = -1;
  private pending: PendingAnswer | null = null;
  /** Highest question index answered (acked or sent); -1 before any. */
  private lastAnswered = -1;
  private currentQuestion = -1;
  private currentChoices = 0;
  private readonly held: Set<number>;
  private ackWaiters: Array<() => void> = [];

  constructor(
    private readonly policy: AnswerPolicy,
    private readonly stats: LoadStats,
    private readonly send: (msg: ClientMessage) => boolean,
    hold: Iterable<number> = [],
  ) {
    this.held = new Set(hold);
  }

  /** A (re)connected player's `welcome` during a question: answer it, or resend what is unacked. */
  onWelcome(state: ClientState): void {
    const q = state.question;
    if (state.phase !== 'question' || !q) return;
    this.currentQuestion = q.index;
    this.currentChoices = q.choices.length;
    const recorded = state.you?.answer;
    if (this.pending && this.pending.index === q.index) {
      // Sent before the drop, or waiting for a socket: send (again). The same answer is re-acked.
      if (this.pending.sentAt !== null) this.stats.answersResent++;
      this.transmit(this.pending);
    } else if (!recorded && q.index > this.lastAnswered && this.timerIndex !== q.index) {
      this.schedule(q.index, q.choices.length);
    }
  }

  onQuestion(q: MessageOf<'question'>): void {
    this.currentQuestion = q.index;
    this.currentChoices = q.choices.length;
    if (q.index > this.lastAnswered) this.schedule(q.index, q.choices.length);
  }

  onAck(ack: MessageOf<'answer_ack'>): void {
    this.acks.set(ack.questionIndex, ack.choice);
    for (const w of [...this.ackWaiters]) w();
    const p = this.pending;
    if (!p || p.index !== ack.questionIndex || p.sentAt === null) return;
    const ms = performance.now() - p.sentAt;
    this.stats.ack.record(ms);
    if (p.afterRamp) this.stats.ackAfterRamp.record(ms);
    this.stats.answersAcked++;
    this.pending = null;
  }

  /** An `error` answering our `answer` (QUESTION_CLOSED, ALREADY_ANSWERED…). */
  onRejected(): void {
    if (this.pending && this.pending.sentAt !== null) {
      this.stats.answersRejected++;
      this.pending = null;
    }
  }

  onReveal(r: MessageOf<'reveal'>): void {
    if (this.timerIndex === r.questionIndex) {
      this.cancel();
      this.stats.answersMissed++;
    }
    if (this.pending && this.pending.index === r.questionIndex) {
      // The server acks before it reveals; an answer still unacked here was lost.
      this.stats.error('client:unacked-at-reveal');
      this.pending = null;
    }
  }

  /** Answers a held question now (or once it comes, or right after the next resume). */
  release(index: number): void {
    this.held.delete(index);
    if (this.currentQuestion === index && index > this.lastAnswered && this.timerIndex !== index) this.answerNow(index, this.currentChoices);
  }

  waitForAck(index: number, timeoutMs: number, who: string): Promise<void> {
    if (this.acks.has(index)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = () => {
        if (!this.acks.has(index)) return;
        clearTimeout(timer);
        this.ackWaiters = this.ackWaiters.filter((w) => w !== waiter);
        resolve();
      };
      const timer = setTimeout(() => {
        this.ackWaiters = this.ackWaiters.filter((w) => w !== waiter);
        reject(new Error(`${who}: timed out waiting for the ack of question ${index}`));
      }, timeoutMs);
      this.ackWaiters.push(waiter);
    });
  }

  /** Drops a delayed answer not sent yet (the client stops or lost its socket). */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerIndex = -1;
  }

  private schedule(index: number, choices: number): void {
    if (this.held.has(index)) return;
    this.cancel();
    const delay = this.policy.delayMs(index);
    if (delay <= 0) return this.answerNow(index, choices);
    this.timerIndex = index;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerIndex = -1;
      if (this.currentQuestion === index) this.answerNow(index, choices);
    }, delay);
  }

  private answerNow(index: number, choices: number): void {
    const { choice, intendedCorrect } = this.policy.choose(index, choices);
    if (intendedCorrect) this.stats.answersIntendedCorrect++;
    this.lastAnswered = index;
    this.pending = { index, choice, sentAt: null, afterRamp: false };
    this.transmit(this.pending);
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
}
