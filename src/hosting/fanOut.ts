/**
 * Puts a match's effects on the wire, once they may be seen: personal messages to one
 * session, broadcasts to every welcomed session, kicks, and the throttled updates
 * (`answer_count`, and a big match's `roster_count` and host list).
 *
 * This is the hot path of a busy worker: a broadcast is serialized once per match, not once
 * per socket, and a personal `you` is spliced onto that shared text.
 */
import type { Logger } from '../log';
import type { HostingMetrics } from '../metrics';
import { CLOSE } from '../protocol/errors';
import type { ServerMessage } from '../protocol/messages';
import type { Effect, ParticipantId } from '../quiz/engine';
import { LatestOnly } from './latestOnly';
import type { MatchSessions, Session } from './sessions';

/**
 * `answer_count` goes to every socket of a match on every answer: O(players²) messages per
 * question (a 50-player question sent 2,500 of them, most of a worker's socket writes). One
 * update per this interval, plus the latest at its end, says the same to a person.
 */
export const ANSWER_COUNT_INTERVAL_MS = 250;

/**
 * A big match's roster news (PROTOCOL.md Part 2, "Big matches"): `roster_count` to everyone
 * and the latest players to the host, each at most once per this interval. 10,000 players
 * joining within a minute would otherwise send 10^8 counts.
 */
export const ROSTER_INTERVAL_MS = 250;

/**
 * An update to everyone costs one socket write per player, and a big match's updates come
 * four times a second: past 2,500 players their interval grows so that they stay within this
 * many writes a second (one update a second at 10,000 players, still current enough for a
 * person watching a number).
 */
export const UPDATE_WRITES_PER_SEC = 10_000;

/** One message to one connection, whatever the match's state (replies, errors, welcomes). */
export function sendMessage(session: Session, msg: ServerMessage, metrics: HostingMetrics): void {
  session.link.send(JSON.stringify(msg));
  metrics.messagesOut.inc();
}

export class FanOut {
  private readonly answerCounts: LatestOnly<ServerMessage>;
  private readonly rosterCounts: LatestOnly<ServerMessage>;
  /** A big match's `players`, per participant it goes to (the host). */
  private readonly playerLists = new Map<ParticipantId, LatestOnly<ServerMessage>>();
  private stopped = false;

  constructor(
    private readonly matchId: string,
    private readonly sessions: MatchSessions,
    private readonly deps: { metrics: HostingMetrics; log: Logger; clock: () => number },
  ) {
    this.answerCounts = new LatestOnly(() => this.everyoneInterval(ANSWER_COUNT_INTERVAL_MS), deps.clock, (msg) => this.broadcast(msg));
    this.rosterCounts = new LatestOnly(() => this.everyoneInterval(ROSTER_INTERVAL_MS), deps.clock, (msg) => this.broadcast(msg));
  }

  apply(effects: readonly Effect[]): void {
    if (this.stopped) return;
    for (const effect of effects) {
      switch (effect.kind) {
        case 'send': {
          // Only a big match sends `players` to one participant: it is throttled like the counts.
          if (effect.msg.type === 'players') {
            this.playerListFor(effect.to).offer(effect.msg);
            break;
          }
          const session = this.sessions.bound.get(effect.to);
          if (!session) break;
          sendMessage(session, effect.msg, this.deps.metrics);
          if (effect.msg.type === 'welcome') session.welcomed = true;
          break;
        }
        case 'broadcast':
          if (effect.msg.type === 'answer_count') {
            this.answerCounts.offer(effect.msg);
            break;
          }
          if (effect.msg.type === 'roster_count') {
            this.rosterCounts.offer(effect.msg);
            break;
          }
          // A new phase makes a pending answer count stale.
          if (effect.msg.type === 'reveal' || effect.msg.type === 'question' || effect.msg.type === 'question_intro') this.answerCounts.cancel();
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
    this.answerCounts.cancel();
    this.rosterCounts.cancel();
    for (const list of this.playerLists.values()) list.cancel();
  }

  private playerListFor(to: ParticipantId): LatestOnly<ServerMessage> {
    let list = this.playerLists.get(to);
    if (!list) {
      list = new LatestOnly(() => ROSTER_INTERVAL_MS, this.deps.clock, (msg) => {
        const session = this.sessions.bound.get(to);
        if (session?.welcomed) sendMessage(session, msg, this.deps.metrics);
      });
      this.playerLists.set(to, list);
    }
    return list;
  }

  /** The interval of an update to everyone: `base`, or longer in a match too big for it (UPDATE_WRITES_PER_SEC). */
  private everyoneInterval(base: number): number {
    return Math.max(base, (this.sessions.bound.size * 1000) / UPDATE_WRITES_PER_SEC);
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
}
