/**
 * Puts a match's effects on the wire, once they may be seen: personal messages to one
 * session, broadcasts to every welcomed session, kicks, and the throttled `answer_count`.
 *
 * This is the hot path of a busy worker: a broadcast is serialized once per match, not once
 * per socket, and a personal `you` is spliced onto that shared text.
 */
import type { Logger } from '../log';
import type { HostingMetrics } from '../metrics';
import { CLOSE } from '../protocol/errors';
import type { ServerMessage } from '../protocol/messages';
import type { Effect, ParticipantId } from '../quiz/engine';
import type { MatchSessions, Session } from './sessions';

/**
 * `answer_count` goes to every socket of a match on every answer: O(players²) messages per
 * question (a 50-player question sent 2,500 of them, most of a worker's socket writes). One
 * update per this interval, plus the latest at its end, says the same to a person.
 */
export const ANSWER_COUNT_INTERVAL_MS = 250;

/** One message to one connection, whatever the match's state (replies, errors, welcomes). */
export function sendMessage(session: Session, msg: ServerMessage, metrics: HostingMetrics): void {
  session.link.send(JSON.stringify(msg));
  metrics.messagesOut.inc();
}

export class FanOut {
  private lastCountSentAt = 0;
  private pendingCount: ServerMessage | null = null;
  private countTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly matchId: string,
    private readonly sessions: MatchSessions,
    private readonly deps: { metrics: HostingMetrics; log: Logger; clock: () => number },
  ) {}

  apply(effects: readonly Effect[]): void {
    for (const effect of effects) {
      switch (effect.kind) {
        case 'send': {
          const session = this.sessions.bound.get(effect.to);
          if (!session) break;
          sendMessage(session, effect.msg, this.deps.metrics);
          if (effect.msg.type === 'welcome') session.welcomed = true;
          break;
        }
        case 'broadcast':
          if (effect.msg.type === 'answer_count') {
            this.throttledCount(effect.msg);
            break;
          }
          // A new phase makes a pending answer count stale.
          if (effect.msg.type === 'reveal' || effect.msg.type === 'question') this.cancelCount();
          this.broadcast(effect.msg, effect.personal);
          break;
        case 'drop':
          this.sessions.drop(effect.to, CLOSE.KICKED, effect.reason);
          break;
        case 'closed':
          this.deps.log.info({ matchId: this.matchId, reason: effect.reason }, 'Match closed');
          break;
      }
    }
  }

  /** The match left this host: nothing more goes out, not even a count waiting for its turn. */
  stop(): void {
    this.stopped = true;
    this.cancelCount();
  }

  /** Serializes once per match; a personal `you` is spliced onto the shared text. */
  private broadcast(msg: ServerMessage, personal?: ReadonlyMap<ParticipantId, object>): void {
    const text = JSON.stringify(msg);
    const shared = Buffer.from(text);
    const head = personal ? text.slice(0, -1) : '';
    let sent = 0;
    for (const [id, session] of this.sessions.bound) {
      if (!session.welcomed) continue;
      const you = personal?.get(id);
      session.link.send(you ? `${head},"you":${JSON.stringify(you)}}` : shared);
      sent++;
    }
    this.deps.metrics.messagesOut.inc(sent);
  }

  private throttledCount(msg: ServerMessage): void {
    const now = this.deps.clock();
    const wait = this.lastCountSentAt + ANSWER_COUNT_INTERVAL_MS - now;
    if (wait <= 0 && !this.countTimer) {
      this.lastCountSentAt = now;
      this.broadcast(msg);
      return;
    }
    this.pendingCount = msg;
    this.countTimer ??= setTimeout(() => {
      this.countTimer = null;
      const pending = this.pendingCount;
      this.pendingCount = null;
      if (!pending || this.stopped) return;
      this.lastCountSentAt = this.deps.clock();
      this.broadcast(pending);
    }, Math.max(wait, 0));
  }

  private cancelCount(): void {
    if (this.countTimer) clearTimeout(this.countTimer);
    this.countTimer = null;
    this.pendingCount = null;
  }
}
