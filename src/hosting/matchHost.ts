/**
 * Runs matches for real: the single process and every worker use it. It takes client
 * messages to the engine and the engine's effects to the clients, and drops a match when it
 * is over, moved to a newer owner, or the process shuts down.
 *
 * Each hosted match is made of parts, one concern each: its connections (`sessions.ts`), the
 * durable-before-visible outbox that writes every change to the store before any of its
 * effects leave the process (`outbox.ts`), the fan-out that puts effects on the wire
 * (`fanOut.ts`), and its one deadline timer (`deadlineTimer.ts`).
 */
import { performance } from 'node:perf_hooks';
import { CLOSE, CLOSE_REASONS, type CloseCode, WS_ERROR_MESSAGES, type WsErrorCode } from '../protocol/errors';
import type { ClientMessage } from '../protocol/messages';
import { Match, type MatchSettings, type MatchStatus, type MatchTiming } from '../quiz/engine';
import type { Quiz } from '../quiz/quizzes';
import type { Logger } from '../log';
import type { HostingMetrics } from '../metrics';
import { type MatchHostStore, StoreFencedError, type StoredMatch } from '../store/store';
import { DeadlineTimer } from './deadlineTimer';
import { FanOut, sendMessage } from './fanOut';
import { Outbox } from './outbox';
import { type ClientLink, MatchSessions, Session } from './sessions';

export interface HostEvents {
  /** The match left this host: finished and past its grace, closed, or lost to a newer owner. */
  matchGone(matchId: string, reason: 'over' | 'fenced' | 'shutdown' | 'moved'): void;
}

export interface MatchInfo {
  matchId: string;
  status: MatchStatus;
  players: number;
  quiz: { title: string; questionCount: number };
}

/** One match on this host: the engine and the parts that connect it to its clients and the store. */
interface HostedMatch {
  readonly match: Match;
  readonly epoch: number;
  readonly sessions: MatchSessions;
  readonly outbox: Outbox;
  readonly fanOut: FanOut;
  readonly timer: DeadlineTimer;
  gone: boolean;
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
    const match = Match.restore(claimed.snapshot, { moved: { now: this.clock(), lostMs: claimed.sinceWriteMs } });
    const hm = this.adopt(match, epoch);
    // Deadlines may have passed while the match had no host.
    hm.outbox.deliver(match.tick(this.clock()));
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

  /**
   * Lets the match go to another host at a safe point: its clock stops, its players are told
   * to reconnect at once (4010: the new owner serves them after a `resume`), and once every
   * change is in the store it leaves, with the epoch the next owner's claim must find. If the
   * store does not catch up within `timeoutMs`, the match stays and goes on (null).
   */
  async releaseMatch(matchId: string, timeoutMs: number): Promise<{ epoch: number } | null> {
    const hm = this.matches.get(matchId);
    if (!hm || hm.gone) return null;
    hm.timer.cancel();
    hm.sessions.closeAll(CLOSE.MATCH_MOVED, CLOSE_REASONS[CLOSE.MATCH_MOVED]);
    if (!(await hm.outbox.settle(timeoutMs)) || hm.gone) {
      this.rearm(hm);
      return null;
    }
    this.dropMatch(hm, CLOSE.MATCH_MOVED, 'moved');
    this.log.info({ matchId, epoch: hm.epoch, revision: hm.match.revision }, 'Match released to move');
    return { epoch: hm.epoch };
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
    hm.sessions.add(session);
    return session;
  }

  detach(session: Session): void {
    const hm = this.matches.get(session.matchId);
    if (!hm) return;
    const id = hm.sessions.remove(session);
    if (id === null) return;
    hm.outbox.deliver(hm.match.disconnect(id, this.clock()));
    this.rearm(hm);
  }

  handle(session: Session, msg: ClientMessage, receivedAt: number = performance.now()): void {
    const hm = this.matches.get(session.matchId);
    if (!hm || hm.gone) return;
    const now = this.clock();
    const match = hm.match;

    if (msg.type === 'ping') {
      sendMessage(session, { type: 'pong', t: msg.t, serverTime: now }, this.metrics);
      return;
    }
    if (msg.type === 'join' || msg.type === 'resume') {
      if (session.participantId !== null) return this.error(session, 'BAD_MESSAGE', msg.type, 'Already joined on this connection.');
      const result = msg.type === 'join' ? match.join(msg.name, now) : match.resume(msg.token, now);
      if (!result.ok) return this.error(session, result.code, msg.type);
      hm.sessions.bind(session, result.participantId);
      // welcome first: it carries the full state that the broadcasts after it update.
      hm.outbox.deliver([{ kind: 'send', to: result.participantId, msg: match.welcome(result.participantId, now) }, ...result.effects]);
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
        result = match.next(by, now, { phase: msg.phase, questionIndex: msg.questionIndex });
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
        if (result.ok) hm.sessions.unbind(session);
        break;
      default: {
        const unreachable: never = msg;
        return unreachable;
      }
    }
    if (!result.ok) return this.error(session, result.code, msg.type);
    hm.outbox.deliver(result.effects, msg.type === 'answer' ? receivedAt : undefined);
    this.rearm(hm);
  }

  /** An error reply never depends on durability, so it goes out at once. */
  error(session: Session, code: WsErrorCode, ref?: string, message: string = WS_ERROR_MESSAGES[code]): void {
    this.metrics.protocolErrors.inc({ code });
    sendMessage(session, { type: 'error', code, message, ...(ref ? { ref } : {}) }, this.metrics);
  }

  // ---- internals -------------------------------------------------------------------

  private adopt(match: Match, epoch: number): HostedMatch {
    const parts = { store: this.store, metrics: this.metrics, log: this.log, clock: this.clock };
    const sessions = new MatchSessions();
    const fanOut = new FanOut(match.id, sessions, parts);
    const hm: HostedMatch = {
      match,
      epoch,
      sessions,
      fanOut,
      outbox: new Outbox(match, epoch, parts, {
        send: (effects) => fanOut.apply(effects),
        fenced: () => this.dropMatch(hm, CLOSE.MATCH_MOVED, 'fenced'),
        settled: () => this.afterWrites(hm),
      }),
      timer: new DeadlineTimer(this.clock, () => this.onDeadline(hm)),
      gone: false,
    };
    this.matches.set(match.id, hm);
    this.rearm(hm);
    return hm;
  }

  /** The engine's next deadline may have moved with whatever just happened. */
  private rearm(hm: HostedMatch): void {
    if (hm.gone) return hm.timer.cancel();
    hm.timer.arm(hm.match.nextDeadline(this.clock()));
  }

  private onDeadline(hm: HostedMatch): void {
    if (hm.gone) return;
    if (hm.outbox.behind) {
      // The store is behind (slow, or down and being retried): players have not seen the
      // current phase yet, so its clock must not move on. Otherwise a question could start,
      // unseen, while the store is unreachable, and players would lose points to the outage.
      hm.timer.deferred = true;
      return;
    }
    const now = this.clock();
    hm.outbox.deliver(hm.match.tick(now));
    this.rearm(hm);
    if (hm.match.isOver(now) && hm.outbox.idle) this.finishMatch(hm);
  }

  /** The store caught up: run a deadline that waited for it, and let go of a match that is over. */
  private afterWrites(hm: HostedMatch): void {
    if (hm.timer.deferred && !hm.gone) {
      hm.timer.deferred = false;
      this.onDeadline(hm);
    }
    if (hm.match.isOver(this.clock())) this.finishMatch(hm);
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
  private dropMatch(hm: HostedMatch, code: CloseCode, why: 'over' | 'fenced' | 'shutdown' | 'moved', reason?: string): void {
    const text = reason ?? (code in CLOSE_REASONS ? CLOSE_REASONS[code as keyof typeof CLOSE_REASONS] : '');
    hm.gone = true;
    hm.timer.cancel();
    hm.fanOut.stop();
    hm.sessions.closeAll(code, text);
    hm.outbox.stop();
    this.matches.delete(hm.match.id);
    this.deps.events.matchGone(hm.match.id, why);
  }
}
