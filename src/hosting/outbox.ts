/**
 * Durable before visible (PROTOCOL.md: `answer_ack` means durable): the effects of a change
 * (acks, `welcome` after `join`, `question`, `reveal`…) leave the process only once the store
 * holds the revision that produced them.
 *
 * Writes are group-committed: one write per match in flight, and whatever arrives meanwhile
 * goes out in the next single write, so a burst of answers costs one store round trip. A
 * write is in proportion to the change: when answers are all that changed since the last
 * write, only they are appended (`Match.unsaved`); anything else writes the whole match. A
 * failed write is retried with backoff, in full, while the effects wait; a write refused for
 * an older epoch (fencing) means a newer owner has the match, and this host must let it go.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoff } from '../backoff';
import type { Logger } from '../log';
import type { HostingMetrics } from '../metrics';
import type { Effect, Match } from '../quiz/engine';
import { type MatchHostStore, StoreFencedError } from '../store/store';

const STORE_RETRY_BASE_MS = 100;
const STORE_RETRY_MAX_MS = 5000;

interface Pending {
  revision: number;
  effects: Effect[];
  /** performance.now() when the answer that produced these effects was received. */
  answerReceivedAt?: number;
}

export interface OutboxDeps {
  /** The writes a hosted match makes while it runs. */
  store: Pick<MatchHostStore, 'save' | 'appendAnswers' | 'saveResults'>;
  metrics: HostingMetrics;
  log: Logger;
  clock: () => number;
}

export interface OutboxHooks {
  /** Effects the store now holds (or that changed nothing durable): put them on the wire. */
  send(effects: Effect[]): void;
  /** The store refused a write for an older epoch: a newer owner has the match. */
  fenced(): void;
  /** A run of writes ended with everything written and sent. */
  settled(): void;
}

export class Outbox {
  private savedRevision: number;
  private pending: Pending[] = [];
  private flushing = false;
  private resultsSaved = false;
  private storeFailures = 0;
  /** The last write failed: the retry writes the whole match, whatever changed. */
  private retryInFull = false;
  /**
   * How many entries of the match's history (the revealed questions' answers) the store holds:
   * a full save writes only the ones after them (`MatchHostStore.save`'s `historyFrom`).
   */
  private savedHistory: number;
  private stopped = false;

  constructor(
    private readonly match: Match,
    private readonly epoch: number,
    private readonly deps: OutboxDeps,
    private readonly hooks: OutboxHooks,
  ) {
    this.savedRevision = match.revision;
    // A match is created, or restored from the store, with everything it has already stored.
    this.savedHistory = match.view().history?.length ?? 0;
  }

  /** Effects are waiting for the store: players have not seen the latest change yet. */
  get behind(): boolean {
    return this.pending.length > 0;
  }

  /** Nothing being written and nothing waiting. */
  get idle(): boolean {
    return !this.flushing && this.pending.length === 0;
  }

  /**
   * Resolves true once every change so far is in the store and nothing waits (false after
   * `timeoutMs`). Only a match being moved asks, once, so it polls rather than adding a hook
   * to the hot path of every write.
   */
  async settle(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!(this.idle && this.match.revision <= this.savedRevision)) {
      if (this.stopped || performance.now() > deadline) return false;
      await sleep(10);
    }
    return true;
  }

  /** Sends effects now, or after the store holds the revision that produced them. */
  deliver(effects: Effect[], answerReceivedAt?: number): void {
    if (effects.length === 0) return;
    const revision = this.match.revision;
    if (revision > this.savedRevision || this.pending.length > 0) {
      this.pending.push({ revision, effects, ...(answerReceivedAt !== undefined ? { answerReceivedAt } : {}) });
      this.scheduleFlush();
      return;
    }
    this.hooks.send(effects);
    if (answerReceivedAt !== undefined) this.observeAck(answerReceivedAt, performance.now());
  }

  /** The match left this host: what waits is never sent, and no write follows. */
  stop(): void {
    this.stopped = true;
    this.pending = [];
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = true;
    // setImmediate lets every message already read in this I/O phase join the same write.
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    const { metrics, log } = this.deps;
    const matchId = this.match.id;
    try {
      while (!this.stopped && (this.match.revision > this.savedRevision || this.pending.length > 0)) {
        const revision = this.match.revision;
        if (revision > this.savedRevision) {
          const started = performance.now();
          try {
            await this.write();
            if (!this.resultsSaved && this.match.status === 'finished') await this.saveResults();
          } catch (err) {
            if (this.stopped) return;
            this.retryInFull = true;
            if (err instanceof StoreFencedError) {
              metrics.storeWriteFailures.inc({ reason: 'fenced' });
              log.warn({ matchId, epoch: this.epoch }, 'Store refused a write from an older owner; dropping the match');
              this.hooks.fenced();
              return;
            }
            metrics.storeWriteFailures.inc({ reason: 'unavailable' });
            this.storeFailures++;
            const delay = backoff(this.storeFailures, STORE_RETRY_BASE_MS, STORE_RETRY_MAX_MS);
            log.warn({ matchId, err: (err as Error).message, retryInMs: delay }, 'Match store write failed; holding acks and retrying');
            await sleep(delay);
            continue;
          }
          metrics.storeWriteSeconds.observe((performance.now() - started) / 1000);
          if (this.storeFailures > 0) log.info({ matchId }, 'Match store writes succeed again');
          this.storeFailures = 0;
          this.retryInFull = false;
          this.match.markSaved(revision);
          this.savedRevision = Math.max(this.savedRevision, revision);
        }
        this.release();
      }
    } finally {
      this.flushing = false;
    }
    this.hooks.settled();
  }

  /**
   * Writes what the store lacks: the answers alone when nothing else changed, else the match
   * (after a failed write, with all of its history).
   */
  private async write(): Promise<void> {
    const change = this.match.unsaved();
    if (change.kind === 'answers' && !this.retryInFull) {
      this.deps.metrics.storeWrites.inc({ kind: 'answers' });
      await this.deps.store.appendAnswers(this.match.id, this.epoch, change.append);
      return;
    }
    this.deps.metrics.storeWrites.inc({ kind: 'full' });
    const view = this.match.view();
    // Read before the await: the store serializes the view before its first await, too.
    const history = view.history?.length ?? 0;
    await this.deps.store.save(this.match.id, this.epoch, view, this.retryInFull ? 0 : this.savedHistory);
    this.savedHistory = history;
  }

  private async saveResults(): Promise<void> {
    const standings = this.match.standings();
    const questions = this.match.questionResults();
    if (!standings || !questions) return;
    const { title, questionCount } = this.match.quizInfo;
    await this.deps.store.saveResults({ matchId: this.match.id, title, questionCount, finishedAt: this.deps.clock(), standings, questions });
    this.resultsSaved = true;
  }

  /** Sends every pending batch the store now holds, merging superseded updates. */
  private release(): void {
    const ready: Pending[] = [];
    while (this.pending.length > 0 && this.pending[0]!.revision <= this.savedRevision) ready.push(this.pending.shift()!);
    if (ready.length === 0) return;
    const effects = supersede(ready.flatMap((p) => p.effects));
    const answerTimes = ready.flatMap((p) => (p.answerReceivedAt !== undefined ? [p.answerReceivedAt] : []));
    this.hooks.send(effects);
    const now = performance.now();
    for (const t of answerTimes) this.observeAck(t, now);
  }

  private observeAck(receivedAt: number, now: number): void {
    this.deps.metrics.answerAckSeconds.observe((now - receivedAt) / 1000);
  }
}

/** Updates of which only the latest says anything (a list or a count replaces the one before). */
const REPLACEABLE = new Set(['players', 'answer_count', 'roster_count']);

/** What an update replaces: the same message to everyone, or to the same participant. */
function replaceKey(e: Effect): string | null {
  if (e.kind === 'broadcast' && REPLACEABLE.has(e.msg.type)) return `*:${e.msg.type}`;
  // A big match's player list for its host.
  if (e.kind === 'send' && e.msg.type === 'players') return `${e.to}:players`;
  return null;
}

/** Of several `players`, `answer_count` or `roster_count` updates in one batch, only the last says anything new. */
function supersede(effects: Effect[]): Effect[] {
  const lastIndex = new Map<string, number>();
  effects.forEach((e, i) => {
    const key = replaceKey(e);
    if (key !== null) lastIndex.set(key, i);
  });
  if (lastIndex.size === 0) return effects;
  return effects.filter((e, i) => {
    const key = replaceKey(e);
    return key === null || lastIndex.get(key) === i;
  });
}
