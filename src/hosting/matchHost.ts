/**
 * Runs matches for real: one timer per match, client sessions, ordered delivery, and the
 * durable-before-visible rule of PROTOCOL.md. The single process and every worker use it.
 *
 * Durability: every engine change that bumps the match's revision is written to the store
 * before any of its effects (answer_ack, welcome after join, question, reveal…) leave the
 * process. Writes are group-committed: whatever arrives while one write is in flight goes
 * out in the next single write, so a burst of answers costs one store round trip, and an
 * ack is never sent for something the store does not hold.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { backoff } from '../backoff';
import { performance } from 'node:perf_hooks';
import { CLOSE, CLOSE_REASONS, type CloseCode, WS_ERROR_MESSAGES, type WsErrorCode } from '../protocol/errors';
import type { ClientMessage, ServerMessage } from '../protocol/messages';
import { type Effect, HOST_ID, Match, type MatchSettings, type MatchStatus, type MatchTiming, type ParticipantId } from '../quiz/engine';
import type { Quiz } from '../quiz/quizzes';
import type { Logger } from '../log';
import type { HostingMetrics } from '../metrics';
import { type MatchHostStore, StoreFencedError, type StoredMatch } from '../store/store';

/** One client connection as the host sees it; the gateway adapts a `ws` socket to this. */
export interface ClientLink {
  /** A text frame; a Buffer is sent as text too (broadcasts encode once for all sockets). */
  send(data: string | Buffer): void;
  close(code: number, reason: string): void;
}

export class Session {
  participantId: ParticipantId | null = null;
  /**
   * Whether this participant's `welcome` has gone out. A `welcome` waits for the store like
   * everything else, while batches queued before the join are released to every bound
   * session: those would reach the client before the full state they update.
   */
  welcomed = false;
  constructor(
    readonly link: ClientLink,
    readonly matchId: string,
  ) {}
}

export interface HostEvents {
  /** The match left this host: finished and past its grace, closed, or lost to a newer owner. */
  matchGone(matchId: string, reason: 'over' | 'fenced' | 'shutdown'): void;
}

export interface MatchInfo {
  matchId: string;
  status: MatchStatus;
  players: number;
  quiz: { title: string; questionCount: number };
}

interface Pending {
  revision: number;
  effects: Effect[];
  /** performance.now() when the answer that produced these effects was received. */
  answerReceivedAt?: number;
}

const STORE_RETRY_BASE_MS = 100;
/**
 * `answer_count` goes to every socket of a match on every answer: O(players²) messages per
 * question (a 50-player question sent 2,500 of them, most of a worker's socket writes). One
 * update per this interval, plus the latest at its end, says the same to a person.
 */
const ANSWER_COUNT_INTERVAL_MS = 250;
const STORE_RETRY_MAX_MS = 5000;

class HostedMatch {
  readonly sessions = new Map<ParticipantId, Session>();
  readonly unbound = new Set<Session>();
  timer: NodeJS.Timeout | null = null;
  savedRevision: number;
  pending: Pending[] = [];
  flushing = false;
  resultsSaved = false;
  gone = false;
  /** A deadline passed while the store was behind; run it once the store catches up. */
  tickAfterFlush = false;
  lastCountSentAt = 0;
  pendingCount: ServerMessage | null = null;
  countTimer: NodeJS.Timeout | null = null;
  storeFailures = 0;

  constructor(
    readonly match: Match,
    readonly epoch: number,
  ) {
    this.savedRevision = match.revision;
  }
}

export interface MatchHostDeps {
  store: MatchHostStore;
  timing: MatchTiming;
  log: Logger;
  metrics: HostingMetrics;
  events: HostEvents;
  clock?: () => number;
}

export class MatchHost {
  private readonly matches = new Map<string, HostedMatch>();
  private readonly store: MatchHostStore;
  private readonly log: Logger;
  private readonly metrics: HostingMetrics;
  private readonly clock: () => number;

  constructor(private readonly deps: MatchHostDeps) {
    this.store = deps.store;
    this.log = deps.log;
    this.metrics = deps.metrics;
    this.clock = deps.clock ?? Date.now;
    deps.metrics.observeLoad(() => {
      const { matches, players } = this.load();
      return { matches: matches.length, players };
    });
  }

  // ---- matches ---------------------------------------------------------------------

  async createMatch(req: { matchId: string; quiz: Quiz; settings: MatchSettings }): Promise<{ hostToken: string }> {
    const match = Match.create({ id: req.matchId, quiz: req.quiz, settings: req.settings, timing: this.deps.timing, now: this.clock() });
    const epoch = await this.store.create(req.matchId, match.view());
    this.adopt(match, epoch);
    this.log.info({ matchId: req.matchId, title: req.quiz.title }, 'Match created');
    return { hostToken: match.hostToken };
  }

  /** Takes over a match at the epoch the master claimed for this host, with the snapshot that claim returned. */
  async restoreMatch(matchId: string, claimed: StoredMatch): Promise<void> {
    const epoch = claimed.epoch;
    const match = Match.restore(claimed.snapshot, { moved: { now: this.clock() } });
    const hm = this.adopt(match, epoch);
    // Deadlines may have passed while the match had no host.
    this.deliver(hm, match.tick(this.clock()));
    this.rearm(hm);
    this.log.info({ matchId, epoch, phase: match.phase, revision: match.revision }, 'Match restored');
  }

  hasMatch(matchId: string): boolean {
    return this.matches.has(matchId);
  }

  info(matchId: string): MatchInfo | null {
    const hm = this.matches.get(matchId);
    if (!hm) return null;
    return { matchId, status: hm.match.status, players: hm.match.playerCount, quiz: hm.match.quizInfo };
  }

  load(): { matches: string[]; players: number } {
    let players = 0;
    for (const hm of this.matches.values()) players += hm.match.connectedPlayers;
    return { matches: [...this.matches.keys()], players };
  }

  /** Stops hosting everything without touching the store (the state stays for a successor). */
  shutdown(reason: string): void {
    for (const hm of [...this.matches.values()]) this.dropMatch(hm, CLOSE.GOING_AWAY, 'shutdown', reason);
  }

  // ---- sessions --------------------------------------------------------------------

  /** A new connection for `matchId`; null when this host does not have the match. */
  attach(matchId: string, link: ClientLink): Session | null {
    const hm = this.matches.get(matchId);
    if (!hm) return null;
    const session = new Session(link, matchId);
    hm.unbound.add(session);
    return session;
  }

  detach(session: Session): void {
    const hm = this.matches.get(session.matchId);
    if (!hm) return;
    hm.unbound.delete(session);
    const id = session.participantId;
    if (id === null || hm.sessions.get(id) !== session) return;
    hm.sessions.delete(id);
    session.participantId = null;
    this.deliver(hm, hm.match.disconnect(id, this.clock()));
    this.rearm(hm);
  }

  handle(session: Session, msg: ClientMessage, receivedAt: number = performance.now()): void {
    const hm = this.matches.get(session.matchId);
    if (!hm || hm.gone) return;
    const now = this.clock();
    const match = hm.match;

    if (msg.type === 'ping') {
      this.sendTo(session, { type: 'pong', t: msg.t, serverTime: now });
      return;
    }
    if (msg.type === 'join' || msg.type === 'resume') {
      if (session.participantId !== null) return this.error(session, 'BAD_MESSAGE', msg.type, 'Already joined on this connection.');
      const result = msg.type === 'join' ? match.join(msg.name, now) : match.resume(msg.token, now);
      if (!result.ok) return this.error(session, result.code, msg.type);
      this.bind(hm, session, result.participantId);
      // welcome first: it carries the full state that the broadcasts after it update.
      this.deliver(hm, [{ kind: 'send', to: result.participantId, msg: match.welcome(result.participantId, now) }, ...result.effects]);
      this.rearm(hm);
      return;
    }

    const by = session.participantId;
    if (by === null) return this.error(session, 'NOT_JOINED', msg.type);
    let result;
    switch (msg.type) {
      case 'start':
        result = match.start(by, now);
        break;
      case 'next':
        result = match.next(by, now);
        break;
      case 'kick':
        result = match.kick(by, msg.playerId, now);
        break;
      case 'lock':
        result = match.lock(by, msg.locked);
        break;
      case 'answer':
        result = match.answer(by, msg.questionIndex, msg.choice, now);
        break;
      case 'leave':
        result = match.leave(by, now);
        if (result.ok) {
          hm.sessions.delete(by);
          session.participantId = null;
          hm.unbound.add(session);
        }
        break;
      default: {
        const unreachable: never = msg;
        return unreachable;
      }
    }
    if (!result.ok) return this.error(session, result.code, msg.type);
    this.deliver(hm, result.effects, msg.type === 'answer' ? receivedAt : undefined);
    this.rearm(hm);
  }

  /** An error reply never depends on durability, so it goes out at once. */
  error(session: Session, code: WsErrorCode, ref?: string, message: string = WS_ERROR_MESSAGES[code]): void {
    this.metrics.protocolErrors.inc({ code });
    this.sendTo(session, { type: 'error', code, message, ...(ref ? { ref } : {}) });
  }

  // ---- internals -------------------------------------------------------------------

  private adopt(match: Match, epoch: number): HostedMatch {
    const hm = new HostedMatch(match, epoch);
    this.matches.set(match.id, hm);
    this.rearm(hm);
    return hm;
  }

  private bind(hm: HostedMatch, session: Session, id: ParticipantId): void {
    const previous = hm.sessions.get(id);
    if (previous && previous !== session) {
      // PROTOCOL.md: a newer connection for the same token replaces the older one.
      previous.participantId = null;
      previous.link.close(CLOSE.REPLACED, CLOSE_REASONS[CLOSE.REPLACED]);
    }
    hm.unbound.delete(session);
    hm.sessions.set(id, session);
    session.participantId = id;
    session.welcomed = false;
  }

  /** Sends effects now, or after the store holds the revision that produced them. */
  private deliver(hm: HostedMatch, effects: Effect[], answerReceivedAt?: number): void {
    if (effects.length === 0) return;
    const revision = hm.match.revision;
    if (revision > hm.savedRevision || hm.pending.length > 0) {
      hm.pending.push({ revision, effects, ...(answerReceivedAt !== undefined ? { answerReceivedAt } : {}) });
      this.scheduleFlush(hm);
      return;
    }
    this.send(hm, effects, answerReceivedAt);
  }

  private scheduleFlush(hm: HostedMatch): void {
    if (hm.flushing) return;
    hm.flushing = true;
    // setImmediate lets every message already read in this I/O phase join the same write.
    setImmediate(() => void this.flush(hm));
  }

  private async flush(hm: HostedMatch): Promise<void> {
    try {
      while (!hm.gone && (hm.match.revision > hm.savedRevision || hm.pending.length > 0)) {
        const revision = hm.match.revision;
        if (revision > hm.savedRevision) {
          const started = performance.now();
          try {
            await this.store.save(hm.match.id, hm.epoch, hm.match.view());
            if (!hm.resultsSaved && hm.match.status === 'finished') await this.saveResults(hm);
          } catch (err) {
            if (hm.gone) return;
            if (err instanceof StoreFencedError) {
              this.metrics.storeWriteFailures.inc({ reason: 'fenced' });
              this.log.warn({ matchId: hm.match.id, epoch: hm.epoch }, 'Store refused a write from an older owner; dropping the match');
              this.dropMatch(hm, CLOSE.MATCH_MOVED, 'fenced');
              return;
            }
            this.metrics.storeWriteFailures.inc({ reason: 'unavailable' });
            hm.storeFailures++;
            const delay = backoff(hm.storeFailures, STORE_RETRY_BASE_MS, STORE_RETRY_MAX_MS);
            this.log.warn({ matchId: hm.match.id, err: (err as Error).message, retryInMs: delay }, 'Match store write failed; holding acks and retrying');
            await sleep(delay);
            continue;
          }
          this.metrics.storeWriteSeconds.observe((performance.now() - started) / 1000);
          if (hm.storeFailures > 0) this.log.info({ matchId: hm.match.id }, 'Match store writes succeed again');
          hm.storeFailures = 0;
          hm.savedRevision = Math.max(hm.savedRevision, revision);
        }
        this.release(hm);
      }
    } finally {
      hm.flushing = false;
    }
    if (hm.tickAfterFlush && !hm.gone) {
      hm.tickAfterFlush = false;
      this.onTimer(hm);
    }
    if (hm.match.isOver(this.clock())) this.finishMatch(hm);
  }

  private async saveResults(hm: HostedMatch): Promise<void> {
    const standings = hm.match.standings();
    if (!standings) return;
    const { title, questionCount } = hm.match.quizInfo;
    await this.store.saveResults({ matchId: hm.match.id, title, questionCount, finishedAt: this.clock(), standings });
    hm.resultsSaved = true;
  }

  /** Sends every pending batch the store now holds, merging superseded updates. */
  private release(hm: HostedMatch): void {
    const ready: Pending[] = [];
    while (hm.pending.length > 0 && hm.pending[0]!.revision <= hm.savedRevision) ready.push(hm.pending.shift()!);
    if (ready.length === 0) return;
    const effects = supersede(ready.flatMap((p) => p.effects));
    const answerTimes = ready.flatMap((p) => (p.answerReceivedAt !== undefined ? [p.answerReceivedAt] : []));
    this.send(hm, effects);
    const now = performance.now();
    for (const t of answerTimes) this.metrics.answerAckSeconds.observe((now - t) / 1000);
  }

  private send(hm: HostedMatch, effects: Effect[], answerReceivedAt?: number): void {
    for (const effect of effects) {
      switch (effect.kind) {
        case 'send': {
          const session = hm.sessions.get(effect.to);
          if (!session) break;
          this.sendTo(session, effect.msg);
          if (effect.msg.type === 'welcome') session.welcomed = true;
          break;
        }
        case 'broadcast':
          if (effect.msg.type === 'answer_count') {
            this.throttledCount(hm, effect.msg);
            break;
          }
          // A new phase makes a pending answer count stale.
          if (effect.msg.type === 'reveal' || effect.msg.type === 'question') this.cancelCount(hm);
          this.broadcast(hm, effect.msg, effect.personal);
          break;
        case 'drop': {
          const session = hm.sessions.get(effect.to);
          if (session) {
            hm.sessions.delete(effect.to);
            session.participantId = null;
            session.link.close(CLOSE.KICKED, effect.reason);
          }
          break;
        }
        case 'closed':
          this.log.info({ matchId: hm.match.id, reason: effect.reason }, 'Match closed');
          break;
      }
    }
    if (answerReceivedAt !== undefined) this.metrics.answerAckSeconds.observe((performance.now() - answerReceivedAt) / 1000);
  }

  /** Serializes once per match; a personal `you` is spliced onto the shared text. */
  private broadcast(hm: HostedMatch, msg: ServerMessage, personal?: ReadonlyMap<ParticipantId, object>): void {
    const text = JSON.stringify(msg);
    const shared = Buffer.from(text);
    const head = personal ? text.slice(0, -1) : '';
    let sent = 0;
    for (const [id, session] of hm.sessions) {
      if (!session.welcomed) continue;
      const you = personal?.get(id);
      session.link.send(you ? `${head},"you":${JSON.stringify(you)}}` : shared);
      sent++;
    }
    this.metrics.messagesOut.inc(sent);
  }

  private throttledCount(hm: HostedMatch, msg: ServerMessage): void {
    const now = this.clock();
    const wait = hm.lastCountSentAt + ANSWER_COUNT_INTERVAL_MS - now;
    if (wait <= 0 && !hm.countTimer) {
      hm.lastCountSentAt = now;
      this.broadcast(hm, msg);
      return;
    }
    hm.pendingCount = msg;
    hm.countTimer ??= setTimeout(() => {
      hm.countTimer = null;
      const pending = hm.pendingCount;
      hm.pendingCount = null;
      if (!pending || hm.gone) return;
      hm.lastCountSentAt = this.clock();
      this.broadcast(hm, pending);
    }, Math.max(wait, 0));
  }

  private cancelCount(hm: HostedMatch): void {
    if (hm.countTimer) clearTimeout(hm.countTimer);
    hm.countTimer = null;
    hm.pendingCount = null;
  }

  private sendTo(session: Session, msg: ServerMessage): void {
    session.link.send(JSON.stringify(msg));
    this.metrics.messagesOut.inc();
  }

  private rearm(hm: HostedMatch): void {
    if (hm.timer) clearTimeout(hm.timer);
    hm.timer = null;
    if (hm.gone) return;
    const deadline = hm.match.nextDeadline(this.clock());
    if (deadline === null) return;
    hm.timer = setTimeout(() => this.onTimer(hm), Math.max(0, deadline - this.clock()));
  }

  private onTimer(hm: HostedMatch): void {
    hm.timer = null;
    if (hm.gone) return;
    if (hm.pending.length > 0) {
      // The store is behind (slow, or down and being retried): players have not seen the
      // current phase yet, so its clock must not move on. Otherwise a question could start,
      // unseen, while the store is unreachable, and players would lose points to the outage.
      hm.tickAfterFlush = true;
      return;
    }
    const now = this.clock();
    this.deliver(hm, hm.match.tick(now));
    this.rearm(hm);
    if (hm.match.isOver(now) && !hm.flushing && hm.pending.length === 0) this.finishMatch(hm);
  }

  /** Over for good: the store forgets the live state (results stay) and the slot is freed. */
  private finishMatch(hm: HostedMatch): void {
    if (hm.gone) return;
    this.dropMatch(hm, hm.match.phase === 'closed' ? CLOSE.MATCH_CLOSED : CLOSE.MATCH_FINISHED, 'over');
    this.store.remove(hm.match.id, hm.epoch).catch((err: Error) => {
      this.log.warn({ matchId: hm.match.id, err: err.message }, 'Could not remove a finished match from the store');
    });
  }

  /** Closes every connection of the match with `code` (and its catalogued reason, unless given). */
  private dropMatch(hm: HostedMatch, code: CloseCode, why: 'over' | 'fenced' | 'shutdown', reason?: string): void {
    const text = reason ?? (code in CLOSE_REASONS ? CLOSE_REASONS[code as keyof typeof CLOSE_REASONS] : '');
    hm.gone = true;
    if (hm.timer) clearTimeout(hm.timer);
    hm.timer = null;
    this.cancelCount(hm);
    for (const session of [...hm.sessions.values(), ...hm.unbound]) {
      session.participantId = null;
      session.link.close(code, text);
    }
    hm.sessions.clear();
    hm.unbound.clear();
    hm.pending = [];
    this.matches.delete(hm.match.id);
    this.deps.events.matchGone(hm.match.id, why);
  }
}

/** Of several `players` or `answer_count` broadcasts in one batch, only the last says anything new. */
function supersede(effects: Effect[]): Effect[] {
  const lastIndex = new Map<string, number>();
  effects.forEach((e, i) => {
    if (e.kind === 'broadcast' && (e.msg.type === 'players' || e.msg.type === 'answer_count')) lastIndex.set(e.msg.type, i);
  });
  if (lastIndex.size === 0) return effects;
  return effects.filter(
    (e, i) => !(e.kind === 'broadcast' && (e.msg.type === 'players' || e.msg.type === 'answer_count') && lastIndex.get(e.msg.type) !== i),
  );
}

export { HOST_ID };
